"""ORM access from async code."""

from channels.db import DatabaseSyncToAsync


def db_call(func):
    """Run sync ORM code in a pool thread, closing stale connections around it.

    Not Django's single thread-sensitive thread: a sync view may be blocked in that thread
    waiting for the chat-log bridge loop (messages.chatlog.run_sync), which would deadlock,
    and one thread would also serialise every socket's queries.
    """
    return DatabaseSyncToAsync(func, thread_sensitive=False)
