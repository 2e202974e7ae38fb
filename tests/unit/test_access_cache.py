"""The send path's cache of room and membership (messages.access_cache): when it reads the
database, and that a busy server's sends do not wait for its safety-net reads."""

import asyncio
from types import SimpleNamespace

import pytest

from messages.posting import access_cache

STAMPS = ("room-stamp", "membership-stamp")


class FakeDatabase:
    """Stands in for the ORM read; each read answers with a new version number, and can be
    held back to see whether a send waits for it."""

    def __init__(self) -> None:
        self.reads = 0
        self.open = asyncio.Event()
        self.open.set()

        self.room_reads: list[tuple[int, list[int]]] = []  # the safety net's reads: room, users
        self.room_open = asyncio.Event()  # holds back the safety net's reads only
        self.room_open.set()

    async def __call__(self, *, user_id: int, pk: int):
        self.reads += 1
        version = self.reads
        await self.open.wait()
        return f"room v{version}", f"membership v{version}"

    async def room_and_memberships(self, *, room_id: int, user_ids: list[int]):
        self.reads += 1
        self.room_reads.append((room_id, sorted(user_ids)))
        version = self.reads
        await self.open.wait()
        await self.room_open.wait()
        return f"room v{version}", {user_id: f"membership v{version}" for user_id in user_ids}


@pytest.fixture
def database(monkeypatch):
    database = FakeDatabase()
    monkeypatch.setattr(access_cache, "aroom_and_membership", database)
    monkeypatch.setattr(access_cache, "aroom_and_memberships", database.room_and_memberships)
    monkeypatch.setattr(access_cache, "_entries", access_cache.OrderedDict())
    monkeypatch.setattr(access_cache, "_room_users", {})
    monkeypatch.setattr(access_cache, "_refreshing", {})
    return database


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = 1000.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    monkeypatch.setattr(access_cache, "time", SimpleNamespace(monotonic=clock))  # the cache's clock only
    return clock


async def lookup(stamps=STAMPS, *, room_id=1, user_id=1):
    return await access_cache.room_and_membership_for_send(room_id=room_id, user_id=user_id, stamps=stamps)


async def test_an_entry_is_read_once_and_reused_while_its_stamps_hold(database, clock):
    assert await lookup() == ("room v1", "membership v1")
    clock.now += 1
    assert await lookup() == ("room v1", "membership v1")
    assert database.reads == 1


async def test_changed_stamps_are_read_before_the_send_goes_on(database, clock):
    await lookup()
    database.open.clear()
    send = asyncio.create_task(lookup(("room-stamp", "changed")))
    await asyncio.sleep(0.01)
    assert not send.done()  # a mute or ban must apply to this very send
    database.open.set()
    assert await send == ("room v2", "membership v2")


async def test_a_due_entry_is_read_beside_the_send_not_before_it(database, clock):
    await lookup()
    clock.now += access_cache.MAX_AGE_SECONDS  # due, not yet expired
    database.open.clear()
    assert await asyncio.wait_for(lookup(), 1) == ("room v1", "membership v1")
    assert await asyncio.wait_for(lookup(), 1) == ("room v1", "membership v1")
    await asyncio.sleep(0.01)
    assert database.reads == 2  # one read, in the background, for both sends
    database.open.set()
    await asyncio.sleep(0.01)
    assert await lookup() == ("room v2", "membership v2")


async def test_an_entry_twice_as_old_as_the_limit_is_read_before_the_send(database, clock):
    await lookup()
    clock.now += 2 * access_cache.MAX_AGE_SECONDS
    database.open.clear()
    send = asyncio.create_task(lookup())
    await asyncio.sleep(0.01)
    assert not send.done()
    database.open.set()
    assert await send == ("room v2", "membership v2")


async def test_entries_read_together_come_due_apart(database, clock):
    for user_id in range(200):
        await lookup(user_id=user_id)
    due = sorted(entry.due_at - clock.now for entry in access_cache._entries.values())
    assert due[0] >= access_cache.MAX_AGE_SECONDS / 2 and due[-1] <= access_cache.MAX_AGE_SECONDS
    assert due[-1] - due[0] > access_cache.MAX_AGE_SECONDS / 4


async def test_a_rooms_entries_coming_due_are_read_again_together_in_one_read(database, clock):
    for user_id in range(10):
        await lookup(user_id=user_id)
    await lookup(room_id=2, user_id=1)
    clock.now += access_cache.MAX_AGE_SECONDS  # every entry due (each is due by then)
    assert await lookup(user_id=3) == ("room v4", "membership v4")  # served at once, as before
    await asyncio.sleep(0.01)
    assert database.room_reads == [(1, list(range(10)))]  # one read for the room's ten senders
    for user_id in range(10):
        assert await lookup(user_id=user_id) == ("room v12", "membership v12")
    assert database.reads == 12  # 11 first reads, one room read; room 2 is not due on its own
    assert await lookup(room_id=2, user_id=1) == ("room v11", "membership v11")


async def test_an_entry_read_again_under_newer_stamps_meanwhile_keeps_that_read(database, clock):
    await lookup(user_id=1)
    await lookup(user_id=2)
    clock.now += access_cache.MAX_AGE_SECONDS
    database.room_open.clear()
    await lookup(user_id=1)  # due: the room's read (read 3) starts, and is held
    await asyncio.sleep(0.01)
    newer = ("room-stamp", "muted since")
    assert await lookup(newer, user_id=2) == ("room v4", "membership v4")  # a read of its own
    database.room_open.set()
    await asyncio.sleep(0.01)  # the room's read ends, older than what user 2's entry holds
    assert await lookup(newer, user_id=2) == ("room v4", "membership v4")
    assert await lookup(user_id=1) == ("room v3", "membership v3")
    assert database.reads == 4


async def test_a_failed_room_read_leaves_the_entries_due_for_the_next_send(database, clock, monkeypatch):
    await lookup(user_id=1)
    clock.now += access_cache.MAX_AGE_SECONDS

    async def database_down(**kwargs):
        raise ConnectionError("database down")

    monkeypatch.setattr(access_cache, "aroom_and_memberships", database_down)
    assert await lookup(user_id=1) == ("room v1", "membership v1")
    await asyncio.sleep(0.01)
    assert access_cache._refreshing == {}
    monkeypatch.setattr(access_cache, "aroom_and_memberships", database.room_and_memberships)
    await lookup(user_id=1)
    await asyncio.sleep(0.01)
    assert database.room_reads == [(1, [1])]
