"""The room protocol: frame types, validation, error codes (docs/protocol.md).

Both endpoints speak it: the JSON endpoint (`/ws/rooms/<slug>/`) sends these frames as they
are, and a STOMP subscription carries the same frames in MESSAGE frames (messages.stomp).
Client frames are decoded with `parse_client_frame`; server frames are built with the
`*_frame` functions, and every kind a room session sends is listed in `ROOM_FRAME_KINDS`
(with its JSON schema in messages.realtime.schemas). A new kind is added here and in the
session (messages.realtime.session), and both endpoints carry it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from chatproject.shared_frames import SharedFrame
from messages.chatlog import StoredMessage
from rooms.models import Room

# Error codes of `{"type": "error"}` frames.
INVALID_FRAME = "invalid_frame"
UNKNOWN_TYPE = "unknown_type"
TOO_LARGE = "too_large"
RATE_LIMITED = "rate_limited"
FORBIDDEN = "forbidden"
UNAVAILABLE = "unavailable"

# Close codes.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_SESSION_ENDED = 4001
# "Try again later" (1013 in RFC 6455, which daphne's autobahn cannot send: only 1000, 3000-4999).
CLOSE_TRY_AGAIN_LATER = 4503

CLIENT_ID_MAX_LENGTH = 64
# Beyond any room's size, and inside a JSON-safe integer: the bound of every seq a client gives.
SEQ_MAX = 2**53
# Replays are costly to serve and cheap to ask for: per socket (JSON) or per room (STOMP).
RESUMES_PER_WINDOW, RESUME_WINDOW_SECONDS = 3, 10


class ProtocolError(Exception):
    """A frame the server refuses; the socket stays open."""

    def __init__(self, code: str, detail: str, *, client_id: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.client_id = client_id
        self.extra = extra

    def frame(self) -> dict[str, Any]:
        return error_frame(self.code, self.detail, client_id=self.client_id, **self.extra)


@dataclass(frozen=True, slots=True)
class SendFrame:
    client_id: str
    body: str


@dataclass(frozen=True, slots=True)
class ResumeFrame:
    after_seq: int


@dataclass(frozen=True, slots=True)
class TypingFrame:
    active: bool


ClientFrame = SendFrame | ResumeFrame | TypingFrame


def parse_client_frame(text: str | None, binary: bytes | None = None) -> ClientFrame:
    """Decode one client frame or raise ProtocolError."""
    if text is None:
        raise ProtocolError(INVALID_FRAME, "Frames must be JSON text; binary frames are not accepted.")
    size = len(text.encode("utf-8"))
    if size > settings.CHAT_MAX_FRAME_BYTES:
        raise ProtocolError(
            TOO_LARGE, f"Frames are limited to {settings.CHAT_MAX_FRAME_BYTES} bytes; this one has {size}."
        )
    try:
        data = json.loads(text)
    except ValueError:
        raise ProtocolError(INVALID_FRAME, "The frame is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ProtocolError(INVALID_FRAME, "A frame must be a JSON object.")
    frame_type = data.get("type")
    if not isinstance(frame_type, str):
        raise ProtocolError(INVALID_FRAME, "A frame needs a string field 'type'.")
    parser = _PARSERS.get(frame_type)
    if parser is None:
        raise ProtocolError(UNKNOWN_TYPE, f"Unknown frame type {frame_type[:40]!r}.")
    return parser(data)


def validate_client_id(client_id: Any) -> str:
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= CLIENT_ID_MAX_LENGTH:
        raise ProtocolError(INVALID_FRAME, f"'client_id' must be a string of 1 to {CLIENT_ID_MAX_LENGTH} characters.")
    if not client_id.isprintable():
        raise ProtocolError(INVALID_FRAME, "'client_id' must not contain control characters.")
    return client_id


def validate_body(body: Any, *, client_id: str | None = None) -> str:
    """The body as it is stored: trimmed, 1 to CHAT_MAX_BODY_CHARS characters."""
    if not isinstance(body, str):
        raise ProtocolError(INVALID_FRAME, "'body' must be a string.", client_id=client_id)
    body = body.strip()
    if not body:
        raise ProtocolError(INVALID_FRAME, "'body' must not be empty.", client_id=client_id)
    limit = settings.CHAT_MAX_BODY_CHARS
    if len(body) > limit:
        raise ProtocolError(
            TOO_LARGE,
            f"Messages are limited to {limit} characters; this one has {len(body)}.",
            client_id=client_id,
            limit=limit,
        )
    return body


def _parse_send(data: dict) -> SendFrame:
    client_id = validate_client_id(data.get("client_id"))
    return SendFrame(client_id=client_id, body=validate_body(data.get("body"), client_id=client_id))


def _parse_resume(data: dict) -> ResumeFrame:
    after_seq = data.get("after_seq")
    if not isinstance(after_seq, int) or isinstance(after_seq, bool) or not 0 <= after_seq <= SEQ_MAX:
        raise ProtocolError(INVALID_FRAME, f"'after_seq' must be an integer from 0 to {SEQ_MAX}.")
    return ResumeFrame(after_seq=after_seq)


def parse_after_seq_text(value: str) -> int:
    """An `after_seq` given as text (the JSON endpoint's query string, STOMP's x-after-seq):
    ASCII digits only (isdigit() also takes characters such as "²" that int() refuses), at
    most SEQ_MAX. Raises ProtocolError."""
    if not (value.isascii() and value.isdigit() and len(value) <= len(str(SEQ_MAX)) and int(value) <= SEQ_MAX):
        raise ProtocolError(INVALID_FRAME, f"after_seq must be an integer from 0 to {SEQ_MAX}.")
    return int(value)


def _parse_typing(data: dict) -> TypingFrame:
    active = data.get("active")
    if not isinstance(active, bool):
        raise ProtocolError(INVALID_FRAME, "'active' must be true or false.")
    return TypingFrame(active=active)


_PARSERS = {"message.send": _parse_send, "resume": _parse_resume, "typing": _parse_typing}


# --- Server frames ---------------------------------------------------------------------


def user_payload(user_id: int, username: str) -> dict[str, Any]:
    return {"id": user_id, "username": username}


def message_payload(message: StoredMessage, *, room_slug: str) -> dict[str, Any]:
    return {
        "id": message.id,
        "seq": message.seq,
        "room": room_slug,
        "author": user_payload(message.author_id, message.author_username),
        "body": message.body,
        "created_at": iso_utc(message.created_at),
        "client_id": message.client_id,
        "deleted_at": iso_utc(message.deleted_at) if message.deleted_at else None,
    }


def iso_utc(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def error_frame(code: str, detail: str, *, client_id: str | None = None, **extra: Any) -> dict[str, Any]:
    frame = {"type": "error", "code": code, "detail": detail, "client_id": client_id}
    frame.update(extra)
    return frame


def hello_frame(*, room: dict, user: dict, last_seq: int, online: list[dict]) -> dict[str, Any]:
    return {"type": "hello", "room": room, "user": user, "last_seq": last_seq, "online": online}


def ack_frame(*, client_id: str, message: dict) -> dict[str, Any]:
    return {"type": "message.ack", "client_id": client_id, "message": message}


def new_message_frame(message: dict) -> dict[str, Any]:
    return {"type": "message.new", "message": message}


def presence_frame(online: list[dict]) -> dict[str, Any]:
    return {"type": "presence", "online": online}


def typing_frame(*, user: dict, active: bool) -> dict[str, Any]:
    return {"type": "typing", "user": user, "active": active}


def message_deleted_frame(*, message_id: str, seq: int) -> dict[str, Any]:
    return {"type": "message.deleted", "id": message_id, "seq": seq}


def room_updated_frame(room: dict) -> dict[str, Any]:
    return {"type": "room.updated", "room": room}


def resume_truncated_frame(*, after_seq: int, first_seq: int, last_seq: int) -> dict[str, Any]:
    """Replay skipped seqs after_seq+1 .. first_seq-1: the client pages them from the history API."""
    return {"type": "resume.truncated", "after_seq": after_seq, "first_seq": first_seq, "last_seq": last_seq}


def resume_done_frame(*, last_seq: int) -> dict[str, Any]:
    return {"type": "resume.done", "last_seq": last_seq}


def member_updated_frame(*, user_id: int, username: str, role: str) -> dict[str, Any]:
    """Someone became a member of the room, or their role changed."""
    return {"type": "member.updated", "member": {**user_payload(user_id, username), "role": role}}


def member_left_frame(*, user_id: int, username: str) -> dict[str, Any]:
    """Someone is no longer a member: they left, were removed or were banned."""
    return {"type": "member.left", "user": user_payload(user_id, username)}


def room_payload(room: Room) -> dict[str, Any]:
    """The room object of `hello` and `room.updated`."""
    return {
        "slug": room.slug,
        "name": room.name,
        "topic": room.topic,
        "is_private": room.is_private,
        "is_locked": room.is_locked,
        "is_archived": room.is_archived,
        "read_only": room.is_read_only,  # locked or archived: nobody can post
    }


# Every frame kind a room session sends. `True`: every STOMP subscription receives it; `False`:
# only those that ask for it with `x-events` (the JSON endpoint sends every kind).
ROOM_FRAME_KINDS: dict[str, bool] = {
    "message.new": True,
    "message.deleted": True,
    "resume.truncated": True,
    "resume.done": True,
    "presence": False,
    "typing": False,
    "room.updated": False,
    "member.updated": False,
    "member.left": False,
}
OPTIONAL_ROOM_FRAME_KINDS = frozenset(kind for kind, always in ROOM_FRAME_KINDS.items() if not always)


# One encoder for every frame: json.dumps with options builds a new encoder per call. Frames
# are plain trees of dicts and lists, so the check for cycles is skipped too.
_FRAME_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def encode(frame: dict[str, Any]) -> str:
    return _FRAME_ENCODER.encode(frame)


class ServerFrame(SharedFrame):
    """One server frame, encoded once however many sockets it goes to (its `text`); its
    `data` (the frame as a dict) is decoded from the text only if an endpoint asks for it."""

    __slots__ = ("_data", "kind")

    def __init__(self, kind: str, text: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(text)
        self.kind = kind
        self._data = data

    @classmethod
    def of(cls, frame: dict[str, Any]) -> ServerFrame:
        return cls(frame["type"], encode(frame), frame)

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = json.loads(self.text)
        return self._data
