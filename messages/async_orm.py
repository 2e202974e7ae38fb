"""The ORM from async code (the sockets, the send path): in pool threads, never on the loop."""

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
