"""One refresh per process keeps every socket online (messages.realtime.presence), on the real Redis
when REDIS_URL is set, else on the in-memory store."""

import asyncio
import uuid

from chatproject import redis_clients as redis_client
from messages.realtime import presence


async def test_the_process_keeps_its_sockets_online_and_tells_a_room_once_when_a_ghost_expires(settings, monkeypatch):
    settings.CHAT_PRESENCE_TTL_SECONDS = 0.6
    told = []

    def broadcast(room_id, online):
        told.append((room_id, [user["username"] for user in online]))

    monkeypatch.setattr(presence, "broadcast_presence", broadcast)
    room_a, room_b = (int(uuid.uuid4().int % 10**9) for _ in range(2))
    trackers = [
        presence.PresenceTracker(room_id=room, user={"id": n, "username": name}, connection_id=f"c{n}")
        for n, (room, name) in enumerate([(room_a, "ann"), (room_a, "bob"), (room_b, "cat")])
    ]
    for tracker in trackers:
        await tracker.join()
    # A socket of a process that died: nobody refreshes it.
    await presence._touch(room_a, entry=presence._entry(99, "ghost", "gone"))
    told.clear()

    await asyncio.sleep(1.5)  # over twice the TTL: only refreshes keep anyone online

    entries, _ = await presence._touch(room_a)
    assert sorted(presence._users(entries), key=lambda u: u["id"]) == [
        {"id": 0, "username": "ann"},
        {"id": 1, "username": "bob"},
    ]
    assert presence._users((await presence._touch(room_b))[0]) == [{"id": 2, "username": "cat"}]
    assert told == [(room_a, ["ann", "bob"])]  # once, for the room that lost the ghost

    for tracker in trackers:
        await tracker.leave()
    assert presence._users((await presence._touch(room_a))[0]) == []
    assert presence.get_keeper().rooms == {}
    presence.get_keeper()._task.cancel()
    await redis_client.close_redis()
