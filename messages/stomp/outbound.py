"""The frames the server sends: CONNECTED, MESSAGE, RECEIPT, ERROR.

A room subscription's MESSAGE frames carry what the JSON protocol sends on /ws/rooms/, named
by a `type` header: for `message.new` the body is the message object itself; for every other
type it is the JSON protocol's frame of that type.
"""

from __future__ import annotations

from messages.realtime import protocol
from messages.stomp import frames
from messages.stomp.errors import StompError

SERVER = "chat-stomp/1"
JSON = "application/json"
TEXT = "text/plain"


def connected(*, version: str, heartbeat: str, session: str, username: str) -> bytes:
    headers = {"version": version, "heart-beat": heartbeat, "server": SERVER, "session": session, "user-name": username}
    return frames.encode("CONNECTED", headers, version=version)


def receipt(receipt_id: str, *, version: str, **extra: str) -> bytes:
    return frames.encode("RECEIPT", {"receipt-id": receipt_id, **extra}, version=version)


def error(err: StompError, *, version: str) -> bytes:
    headers = {"message": err.code, "content-type": TEXT, **err.headers}
    if err.receipt_id is not None:
        headers["receipt-id"] = err.receipt_id
    return frames.encode("ERROR", headers, err.detail.encode(), version=version)


def room_message(frame: dict, *, destination: str, subscription: str, message_id: str, version: str) -> bytes:
    """A MESSAGE for a room subscription. `message_id` is used for frames that are not a
    stored message; a stored message is named by its own id (the same on a replay)."""
    headers = {"destination": destination, "subscription": subscription, "message-id": message_id}
    if frame["type"] == "message.new":
        message = frame["message"]
        headers.update({"message-id": message["id"], "seq": str(message["seq"])})
        body = protocol.encode(message)
    else:
        if "seq" in frame:
            headers["seq"] = str(frame["seq"])
        body = protocol.encode(frame)
    headers.update({"type": frame["type"], "content-type": JSON})
    return frames.encode("MESSAGE", headers, body.encode(), version=version)
