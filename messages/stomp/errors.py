"""Why a STOMP connection ends: the ERROR frame's `message` header and the close code after it.

STOMP 1.2 has no error that leaves a connection open: the server "MUST then close the
connection just after sending the ERROR frame". So every refusal is an ERROR and a close,
and the close code repeats the reason for clients that only see the close.
"""

from __future__ import annotations

from messages.realtime import protocol
from messages.stomp import frames

# Codes shared with the JSON protocol keep its meaning (docs/protocol.md).
INVALID_FRAME = frames.INVALID_FRAME
TOO_LARGE = frames.TOO_LARGE
UNKNOWN_COMMAND = frames.UNKNOWN_COMMAND
RATE_LIMITED = protocol.RATE_LIMITED
FORBIDDEN = protocol.FORBIDDEN
UNAVAILABLE = protocol.UNAVAILABLE
# STOMP only.
UNSUPPORTED_VERSION = "unsupported_version"
UNSUPPORTED = "unsupported"
UNAUTHENTICATED = "unauthenticated"
NOT_FOUND = "not_found"
TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
HEARTBEAT_TIMEOUT = "heartbeat_timeout"
SESSION_ENDED = "session_ended"

CLOSE_PROTOCOL_ERROR = 4400
CLOSE_TIMEOUT = 4408
CLOSE_RATE_LIMITED = 4429

CLOSE_CODES = {
    INVALID_FRAME: CLOSE_PROTOCOL_ERROR,
    TOO_LARGE: CLOSE_PROTOCOL_ERROR,
    UNKNOWN_COMMAND: CLOSE_PROTOCOL_ERROR,
    UNSUPPORTED_VERSION: CLOSE_PROTOCOL_ERROR,
    UNSUPPORTED: CLOSE_PROTOCOL_ERROR,
    TOO_MANY_SUBSCRIPTIONS: CLOSE_PROTOCOL_ERROR,
    UNAUTHENTICATED: protocol.CLOSE_UNAUTHENTICATED,
    FORBIDDEN: protocol.CLOSE_FORBIDDEN,
    NOT_FOUND: protocol.CLOSE_NOT_FOUND,
    HEARTBEAT_TIMEOUT: CLOSE_TIMEOUT,
    RATE_LIMITED: CLOSE_RATE_LIMITED,
    UNAVAILABLE: protocol.CLOSE_TRY_AGAIN_LATER,
    SESSION_ENDED: protocol.CLOSE_SESSION_ENDED,
}


class StompError(Exception):
    """Refuse a frame: send ERROR (with `headers`), then close with the code's close code."""

    def __init__(self, code: str, detail: str, **headers: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.headers = headers
        self.receipt_id: str | None = None  # the refused frame's `receipt`, echoed as `receipt-id`

    @property
    def close_code(self) -> int:
        return CLOSE_CODES[self.code]


def extra_headers(extra: dict, **more: str) -> dict[str, str]:
    """An error's extra fields (messages.protocol, messages.services) as ERROR headers:
    `retry_after` becomes `retry-after`, `client_id` becomes `client-id`."""
    return {key.replace("_", "-"): str(value) for key, value in {**extra, **more}.items()}
