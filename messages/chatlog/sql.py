"""What the two SQL backends (SQLite, MariaDB) share: group-committed appends, and the reads,
written once against each backend's statements."""

from __future__ import annotations

import abc

from .base import AppendResult, ChatLog, StoredMessage
from .batching import AppendRequest, GroupCommit


class SQLChatLog(ChatLog):
    """A subclass sets `_appends` (a GroupCommit of its batch function), the statements below in
    its dialect, and `_fetch`."""

    _appends: GroupCommit[AppendRequest, AppendResult]
    _BY_CLIENT_ID: str
    _BY_SEQ: str
    _AFTER: str
    _BEFORE: str
    _NEWEST: str
    # search(): the query up to its WHERE, a parameter placeholder, and two case-insensitive
    # conditions, each with one placeholder: the author is, and the body contains.
    _SELECT: str
    _PARAM: str
    _AUTHOR_IS: str
    _BODY_CONTAINS: str

    @abc.abstractmethod
    async def _fetch(self, sql: str, params: tuple) -> list[StoredMessage]:
        """The messages the statement selects (all of the table's columns, in order)."""

    def _client_id_param(self, client_id: str) -> object:
        """`client_id` as the store compares it."""
        return client_id

    async def append(
        self,
        *,
        room_id: int,
        author_id: int,
        author_username: str,
        client_id: str,
        body: str,
    ) -> AppendResult:
        return await self._appends.submit(
            AppendRequest(
                room_id=room_id,
                author_id=author_id,
                author_username=author_username,
                client_id=client_id,
                body=body,
            )
        )

    async def close(self) -> None:
        """Ends the appends' worker thread; a subclass then releases its connections."""
        self._appends.close()

    async def page_after(self, *, room_id: int, after_seq: int, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []
        return await self._fetch(self._AFTER, (room_id, after_seq, limit))

    async def page_before(self, *, room_id: int, before_seq: int | None, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []
        if before_seq is None:
            newest_first = await self._fetch(self._NEWEST, (room_id, limit))
        else:
            newest_first = await self._fetch(self._BEFORE, (room_id, before_seq, limit))
        return newest_first[::-1]

    async def find_by_client_id(self, *, room_id: int, author_id: int, client_id: str) -> StoredMessage | None:
        rows = await self._fetch(self._BY_CLIENT_ID, (room_id, author_id, self._client_id_param(client_id)))
        return rows[0] if rows else None

    async def get(self, *, room_id: int, seq: int) -> StoredMessage | None:
        rows = await self._fetch(self._BY_SEQ, (room_id, seq))
        return rows[0] if rows else None

    async def search(
        self,
        *,
        room_id: int,
        author_username: str | None = None,
        text: str | None = None,
        before_seq: int | None = None,
        limit: int,
    ) -> list[StoredMessage]:
        if limit <= 0:
            return []
        clauses, params = [f"room_id = {self._PARAM}"], [room_id]
        if author_username is not None:
            clauses.append(self._AUTHOR_IS)
            params.append(author_username)
        if text is not None:
            clauses.append(self._BODY_CONTAINS)
            params.append(text)
        if before_seq is not None:
            clauses.append(f"seq < {self._PARAM}")
            params.append(before_seq)
        where = " AND ".join(clauses)
        return await self._fetch(
            f"{self._SELECT} WHERE {where} ORDER BY seq DESC LIMIT {self._PARAM}", (*params, limit)
        )
