"""What a SEND frame asks for, checked by the JSON protocol's own rules (messages.protocol)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from messages.realtime import protocol
from messages.stomp import destinations
from messages.stomp.errors import INVALID_FRAME, UNSUPPORTED, StompError, extra_headers
from messages.stomp.frames import Frame


@dataclass(frozen=True, slots=True)
class SendRequest:
    room_slug: str
    client_id: str
    body: str

    @classmethod
    def of(cls, frame: Frame) -> SendRequest:
        room_slug = destinations.app_slug(frame.header("destination") or "")
        if frame.header("transaction") is not None:
            raise StompError(UNSUPPORTED, "Transactions are not supported: every SEND stands alone.")
        _check_content_type(frame.header("content-type"))
        try:
            text = frame.body.decode("utf-8")
        except UnicodeDecodeError:
            raise StompError(INVALID_FRAME, "The body must be UTF-8 text.") from None
        # Without a client-id a resend is a new message: idempotence is the client's choice.
        client_id = frame.header("client-id") or uuid.uuid4().hex
        try:
            client_id = protocol.validate_client_id(client_id)
            body = protocol.validate_body(text, client_id=client_id)
        except protocol.ProtocolError as error:
            raise StompError(error.code, error.detail, **extra_headers(error.extra, client_id=client_id)) from None
        return cls(room_slug=room_slug, client_id=client_id, body=body)


def _check_content_type(value: str | None) -> None:
    """The body is the message text. JSON is refused rather than stored as its own source."""
    if value is None:
        return
    media_type, *params = (part.strip().lower() for part in value.split(";"))
    charset_ok = all(p.replace(" ", "") in {"charset=utf-8", 'charset="utf-8"'} for p in params if p)
    if media_type != "text/plain" or not charset_ok:
        raise StompError(INVALID_FRAME, "The body must be the message as text/plain (UTF-8), not " + value[:60])
