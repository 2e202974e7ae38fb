"""The chat-log repository: the one interface every chat-log backend implements.

Messages live outside the ORM (MongoDB or MariaDB in production, an embedded SQLite file
by default). Callers get plain typed objects back, never raw documents or ObjectIds.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime


class ChatLogUnavailable(Exception):
    """The store could not be reached or refused the write: the caller should retry later."""


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message of a room's log.

    `seq` is the message's position in its room: 1, 2, 3, ... with no gaps.
    A deleted message stays in the log as a tombstone (`deleted_at` set, `body` None)
    so that `seq` stays gap-free.
    """

    id: str
    room_id: int
    seq: int
    author_id: int
    author_username: str
    client_id: str
    body: str | None
    created_at: datetime  # timezone-aware UTC
    deleted_at: datetime | None = None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True, slots=True)
class AppendResult:
    message: StoredMessage
    created: bool  # False when `client_id` had already been stored: an idempotent resend


class ChatLog(abc.ABC):
    """A room-partitioned, append-only message log with per-room sequence numbers.

    Every method may raise `ChatLogUnavailable` when the store is down.
    """

    @abc.abstractmethod
    async def append(
        self,
        *,
        room_id: int,
        author_id: int,
        author_username: str,
        client_id: str,
        body: str,
    ) -> AppendResult:
        """Store a message as the room's next `seq` (last seq + 1, gap-free).

        Idempotent by (room_id, author_id, client_id): when that triple is already
        stored, nothing is written and the original message is returned with
        `created=False`. Safe under concurrent appends from many processes.
        """

    @abc.abstractmethod
    async def page_after(self, *, room_id: int, after_seq: int, limit: int) -> list[StoredMessage]:
        """Up to `limit` messages with seq > after_seq, oldest first."""

    @abc.abstractmethod
    async def page_before(self, *, room_id: int, before_seq: int | None, limit: int) -> list[StoredMessage]:
        """Up to `limit` messages with seq < before_seq (the newest ones when None), oldest first."""

    @abc.abstractmethod
    async def find_by_client_id(self, *, room_id: int, author_id: int, client_id: str) -> StoredMessage | None:
        """The message this author stored in this room under `client_id`, if any."""

    @abc.abstractmethod
    async def get(self, *, room_id: int, seq: int) -> StoredMessage | None:
        """The message at `seq` in the room, if any."""

    @abc.abstractmethod
    async def search(
        self,
        *,
        room_id: int,
        author_username: str | None = None,
        text: str | None = None,
        before_seq: int | None = None,
        limit: int,
    ) -> list[StoredMessage]:
        """Moderation search, NEWEST first: up to `limit` messages with seq < before_seq (no
        bound when None), written by `author_username` (exact, case-insensitive) and whose
        body contains `text` (case-insensitive; tombstones never match a text)."""

    @abc.abstractmethod
    async def last_seq(self, *, room_id: int) -> int:
        """The room's highest stored seq, 0 for an empty room."""

    @abc.abstractmethod
    async def delete(self, *, room_id: int, seq: int) -> StoredMessage | None:
        """Tombstone the message at `seq`: body cleared, `deleted_at` set, seq kept.

        Returns the tombstone (the existing one when already deleted), None when there is
        no such message.
        """

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise `ChatLogUnavailable` when the store does not answer."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections. The instance must not be used afterwards."""
