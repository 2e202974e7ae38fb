"""The JSON schema of every frame the server sends (docs/protocol.md), by frame type.

The tests check every frame each endpoint sends against these (tests/realtime/test_schemas.py):
the JSON endpoint's frames as they are, a STOMP subscription's MESSAGE bodies as the frames
they carry. Every kind in `protocol.ROOM_FRAME_KINDS` has one.
"""

from __future__ import annotations

from typing import Any

ISO_UTC = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$"}
SEQ = {"type": "integer", "minimum": 0}


def _object(properties: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _frame(kind: str, **properties: Any) -> dict[str, Any]:
    return _object({"type": {"const": kind}, **properties})


USER = _object({"id": {"type": "integer"}, "username": {"type": "string", "minLength": 1}})
ROOM = _object(
    {
        "slug": {"type": "string", "minLength": 1},
        "name": {"type": "string"},
        "topic": {"type": "string"},
        "is_private": {"type": "boolean"},
        "is_locked": {"type": "boolean"},
        "is_archived": {"type": "boolean"},
        "read_only": {"type": "boolean"},
    }
)
MESSAGE = _object(
    {
        "id": {"type": "string", "minLength": 1},
        "seq": {"type": "integer", "minimum": 1},
        "room": {"type": "string", "minLength": 1},
        "author": USER,
        "body": {"type": ["string", "null"]},
        "created_at": ISO_UTC,
        "client_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "deleted_at": {"anyOf": [ISO_UTC, {"type": "null"}]},
    }
)
MEMBER = _object({**USER["properties"], "role": {"enum": ["owner", "moderator", "member"]}})
ONLINE = {"type": "array", "items": USER}

FRAMES: dict[str, dict[str, Any]] = {
    "hello": _frame("hello", room=ROOM, user=USER, last_seq=SEQ, online=ONLINE),
    "message.ack": _frame("message.ack", client_id={"type": "string"}, message=MESSAGE),
    "message.new": _frame("message.new", message=MESSAGE),
    "message.deleted": _frame("message.deleted", id={"type": "string", "minLength": 1}, seq=SEQ),
    "presence": _frame("presence", online=ONLINE),
    "typing": _frame("typing", user=USER, active={"type": "boolean"}),
    "room.updated": _frame("room.updated", room=ROOM),
    "member.updated": _frame("member.updated", member=MEMBER),
    "member.left": _frame("member.left", user=USER),
    "resume.truncated": _frame("resume.truncated", after_seq=SEQ, first_seq=SEQ, last_seq=SEQ),
    "resume.done": _frame("resume.done", last_seq=SEQ),
    "error": {
        **_frame(
            "error",
            code={"enum": ["invalid_frame", "unknown_type", "too_large", "rate_limited", "forbidden", "unavailable"]},
            detail={"type": "string", "minLength": 1},
            client_id={"type": ["string", "null"]},
            retry_after={"type": "number", "minimum": 0},
            limit={"type": "integer"},
            muted_until=ISO_UTC,
        ),
        "required": ["type", "code", "detail", "client_id"],
    },
}
