"""ORM access from async code."""

from channels.consumer import get_handler_name
from channels.db import DatabaseSyncToAsync

from rooms.selectors import room_and_membership, room_and_memberships


def db_call(func):
    """Run sync ORM code in a pool thread, closing stale connections around it.

    Not Django's single thread-sensitive thread: a sync view may be blocked in that thread
    waiting for the chat-log bridge loop (messages.chatlog.run_sync), which would deadlock,
    and one thread would also serialise every socket's queries.
    """
    return DatabaseSyncToAsync(func, thread_sensitive=False)


# The room and the user's membership, read from async code (rooms.selectors.room_and_membership).
aroom_and_membership = db_call(room_and_membership)
aroom_and_memberships = db_call(room_and_memberships)


class OrmFreeDispatchMixin:
    """For consumers that reach the ORM only through db_call.

    Channels closes stale database connections before every event, a thread hop each time
    (every delivered message). db_call opens and closes connections in its own worker threads,
    so a consumer that never uses the ORM on the event loop can skip that.
    """

    def handler_for(self, message: dict):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        return handler

    async def dispatch(self, message: dict) -> None:
        await self.handler_for(message)(message)
