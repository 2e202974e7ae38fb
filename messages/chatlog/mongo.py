"""MongoDB chat-log backend (PyMongo's native async client).

The only module that imports pymongo. One document per message, `_id` is our own hex id.
"""

from __future__ import annotations

import asyncio
import re
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.write_concern import WriteConcern

from .base import AppendResult, ChatLog, ChatLogUnavailable, StoredMessage

# Each collision means another writer took that seq; the loser re-reads and retries.
_MAX_APPEND_ATTEMPTS = 50
# The cache only saves a query; dropping it is always safe.
_MAX_CACHED_ROOMS = 10_000


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    try:
        yield
    except DuplicateKeyError:
        raise
    except PyMongoError as error:
        raise ChatLogUnavailable(f"chat log store error: {error}") from error


def _now() -> datetime:
    # BSON dates keep milliseconds: truncate so append() returns what a read returns.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _to_message(doc: dict[str, Any]) -> StoredMessage:
    return StoredMessage(
        id=doc["_id"],
        room_id=doc["room_id"],
        seq=doc["seq"],
        author_id=doc["author_id"],
        author_username=doc["author_username"],
        client_id=doc["client_id"],
        body=doc.get("body"),
        created_at=doc["created_at"],
        deleted_at=doc.get("deleted_at"),
    )


class MongoChatLog(ChatLog):
    """Chat log in one MongoDB collection. Use one instance per event loop."""

    def __init__(
        self,
        *,
        url: str,
        db_name: str,
        write_concern: str | int = 1,
        collection: str = "messages",
        timeout_ms: int = 3000,
    ) -> None:
        if write_concern == 0:
            # Unacknowledged writes would hide the duplicate-key errors that keep seq unique.
            raise ValueError("write_concern 0 is not supported")
        self._url = url
        self._db_name = db_name
        self._write_concern = WriteConcern(w=write_concern)
        self._collection_name = collection
        self._timeout_ms = timeout_ms
        self._client: AsyncMongoClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._indexes_ready = False
        self._init_lock = asyncio.Lock()
        self._closed = False
        # Serialises this process's appends per room; unused locks are garbage-collected.
        self._room_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()
        self._last_seq: dict[int, int] = {}

    def _get_client(self) -> AsyncMongoClient:
        if self._closed:
            raise ChatLogUnavailable("chat log is closed")
        loop = asyncio.get_running_loop()
        if self._client is None:
            self._client = AsyncMongoClient(
                self._url,
                tz_aware=True,
                tzinfo=UTC,
                serverSelectionTimeoutMS=self._timeout_ms,
                connectTimeoutMS=self._timeout_ms,
                # Bounds a hung server; generous because a slow insert is not an outage.
                socketTimeoutMS=max(10 * self._timeout_ms, 10_000),
            )
            self._loop = loop
        elif loop is not self._loop:
            raise RuntimeError("MongoChatLog used from another event loop: create one instance per loop")
        return self._client

    async def _collection(self) -> AsyncCollection:
        client = self._get_client()
        collection = client.get_database(self._db_name, write_concern=self._write_concern)[self._collection_name]
        if not self._indexes_ready:
            async with self._init_lock:
                if not self._indexes_ready:
                    with _unavailable_on_error():
                        await collection.create_index(
                            [("room_id", ASCENDING), ("seq", ASCENDING)], unique=True, name="room_seq"
                        )
                        await collection.create_index(
                            [("room_id", ASCENDING), ("author_id", ASCENDING), ("client_id", ASCENDING)],
                            unique=True,
                            name="room_author_client",
                        )
                    self._indexes_ready = True
        return collection

    def _room_lock(self, room_id: int) -> asyncio.Lock:
        lock = self._room_locks.get(room_id)
        if lock is None:
            lock = asyncio.Lock()
            self._room_locks[room_id] = lock
        return lock

    def _remember_seq(self, room_id: int, seq: int) -> None:
        if len(self._last_seq) >= _MAX_CACHED_ROOMS:
            self._last_seq.clear()
        self._last_seq[room_id] = seq

    async def _find_client_id(
        self, collection: AsyncCollection, room_id: int, author_id: int, client_id: str
    ) -> StoredMessage | None:
        with _unavailable_on_error():
            doc = await collection.find_one({"room_id": room_id, "author_id": author_id, "client_id": client_id})
        return _to_message(doc) if doc else None

    async def _max_seq(self, collection: AsyncCollection, room_id: int) -> int:
        with _unavailable_on_error():
            doc = await collection.find_one({"room_id": room_id}, {"seq": 1}, sort=[("seq", DESCENDING)])
        return doc["seq"] if doc else 0

    async def append(
        self,
        *,
        room_id: int,
        author_id: int,
        author_username: str,
        client_id: str,
        body: str,
    ) -> AppendResult:
        collection = await self._collection()
        async with self._room_lock(room_id):
            existing = await self._find_client_id(collection, room_id, author_id, client_id)
            if existing is not None:
                return AppendResult(existing, created=False)
            last = self._last_seq.get(room_id)
            if last is None:
                last = await self._max_seq(collection, room_id)
            for _ in range(_MAX_APPEND_ATTEMPTS):
                message = StoredMessage(
                    id=uuid.uuid4().hex,
                    room_id=room_id,
                    seq=last + 1,
                    author_id=author_id,
                    author_username=author_username,
                    client_id=client_id,
                    body=body,
                    created_at=_now(),
                )
                doc = {
                    "_id": message.id,
                    "room_id": room_id,
                    "seq": message.seq,
                    "author_id": author_id,
                    "author_username": author_username,
                    "client_id": client_id,
                    "body": body,
                    "created_at": message.created_at,
                    "deleted_at": None,
                }
                try:
                    with _unavailable_on_error():
                        await collection.insert_one(doc)
                except DuplicateKeyError:
                    # Either another process stored this client_id meanwhile (a concurrent
                    # resend) or it took our seq: the first is an answer, the second a retry.
                    existing = await self._find_client_id(collection, room_id, author_id, client_id)
                    if existing is not None:
                        return AppendResult(existing, created=False)
                    last = await self._max_seq(collection, room_id)
                    continue
                self._remember_seq(room_id, message.seq)
                return AppendResult(message, created=True)
            self._last_seq.pop(room_id, None)
            raise ChatLogUnavailable(f"room {room_id}: no free seq after {_MAX_APPEND_ATTEMPTS} attempts")

    async def page_after(self, *, room_id: int, after_seq: int, limit: int) -> list[StoredMessage]:
        if limit <= 0:  # Mongo reads limit 0 as "no limit"
            return []
        collection = await self._collection()
        with _unavailable_on_error():
            cursor = (
                collection.find({"room_id": room_id, "seq": {"$gt": after_seq}}).sort("seq", ASCENDING).limit(limit)
            )
            docs = await cursor.to_list()
        return [_to_message(doc) for doc in docs]

    async def page_before(self, *, room_id: int, before_seq: int | None, limit: int) -> list[StoredMessage]:
        if limit <= 0:
            return []
        collection = await self._collection()
        query: dict[str, Any] = {"room_id": room_id}
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        with _unavailable_on_error():
            docs = await collection.find(query).sort("seq", DESCENDING).limit(limit).to_list()
        return [_to_message(doc) for doc in reversed(docs)]

    async def find_by_client_id(self, *, room_id: int, author_id: int, client_id: str) -> StoredMessage | None:
        collection = await self._collection()
        return await self._find_client_id(collection, room_id, author_id, client_id)

    async def get(self, *, room_id: int, seq: int) -> StoredMessage | None:
        collection = await self._collection()
        with _unavailable_on_error():
            doc = await collection.find_one({"room_id": room_id, "seq": seq})
        return _to_message(doc) if doc else None

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
        query: dict[str, Any] = {"room_id": room_id}
        if author_username is not None:
            query["author_username"] = {"$regex": f"^{re.escape(author_username)}$", "$options": "i"}
        if text is not None:
            query["body"] = {"$regex": re.escape(text), "$options": "i"}
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        collection = await self._collection()
        with _unavailable_on_error():
            docs = await collection.find(query).sort("seq", DESCENDING).limit(limit).to_list()
        return [_to_message(doc) for doc in docs]

    async def last_seq(self, *, room_id: int) -> int:
        collection = await self._collection()
        return await self._max_seq(collection, room_id)

    async def delete(self, *, room_id: int, seq: int) -> StoredMessage | None:
        collection = await self._collection()
        with _unavailable_on_error():
            doc = await collection.find_one_and_update(
                {"room_id": room_id, "seq": seq, "deleted_at": None},
                {"$set": {"body": None, "deleted_at": _now()}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:  # already a tombstone, or no such message
                doc = await collection.find_one({"room_id": room_id, "seq": seq})
        return _to_message(doc) if doc else None

    async def ping(self) -> None:
        client = self._get_client()
        with _unavailable_on_error():
            await client.admin.command("ping")

    async def close(self) -> None:
        self._closed = True
        client, self._client = self._client, None
        if client is not None:
            if asyncio.get_running_loop() is not self._loop:
                raise RuntimeError("MongoChatLog closed from another event loop than the one it used")
            await client.close()
