"""The configured chat-log repository, one instance per running event loop.

PyMongo's async client is bound to the loop that created it, so each loop (daphne's, a
test's, the sync bridge's) gets its own repository, closed with `close_chatlogs()`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from django.conf import settings

from chatproject.per_loop import PerLoop
from messages.chatlog.base import AppendResult, ChatLog, ChatLogUnavailable, StoredMessage

__all__ = ["AppendResult", "ChatLog", "ChatLogUnavailable", "StoredMessage", "get_chatlog", "run_sync"]


def build_chatlog() -> ChatLog:
    config = settings.CHAT_LOG
    if config["BACKEND"] == "mongo":
        from messages.chatlog.mongo import MongoChatLog

        return MongoChatLog(
            url=config["MONGO_URL"], db_name=config["MONGO_DB"], write_concern=config["MONGO_WRITE_CONCERN"]
        )
    if config["BACKEND"] == "mysql":
        from messages.chatlog.mysql import MySQLChatLog

        return MySQLChatLog(url=config["MYSQL_URL"])
    from messages.chatlog.sqlite import SQLiteChatLog

    return SQLiteChatLog(path=config["SQLITE_PATH"])


_chatlogs = PerLoop(build_chatlog)


def get_chatlog() -> ChatLog:
    """The repository for the running event loop."""
    return _chatlogs.get()


async def close_chatlogs() -> None:
    """Close the running loop's repository (at shutdown, or at the end of a test)."""
    chatlog = _chatlogs.pop()
    if chatlog is not None:
        await chatlog.close()


class _BridgeLoop:
    """One long-lived loop thread for sync callers (views, the admin, management commands),
    so they share one repository instead of opening a client per call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="chatlog-bridge", daemon=True).start()
            return self._loop


_bridge = _BridgeLoop()


def run_sync[T](call: Callable[[ChatLog], Awaitable[T]], timeout: float = 30) -> T:
    """Run `call(chatlog)` from synchronous code and return its result."""

    async def runner() -> T:
        return await call(get_chatlog())

    return asyncio.run_coroutine_threadsafe(runner(), _bridge.loop()).result(timeout)


def close_sync_chatlog() -> None:
    """Close the sync bridge's repository (at process exit)."""
    if _bridge._loop is not None:
        asyncio.run_coroutine_threadsafe(close_chatlogs(), _bridge._loop).result(10)
