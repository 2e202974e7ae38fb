"""PresencePacer: a room's presence lists handed out at most once per interval, the latest one.

Who sees which list end to end (real daphne processes) is in tests/realtime/test_protocol.py.
"""

import asyncio

from messages.realtime.presence_pacer import PresencePacer

INTERVAL = 0.05


def presence(room_id: int, *names: str) -> dict:
    return {"type": "chat.presence", "room_id": room_id, "online": [{"username": name} for name in names]}


def pacer() -> tuple[PresencePacer, list[dict]]:
    handed_out: list[dict] = []
    return PresencePacer(hand_out=handed_out.append, interval=INTERVAL), handed_out


async def test_a_change_in_a_quiet_room_goes_out_at_once():
    pace, handed_out = pacer()
    pace.push(presence(1, "ann"))
    assert handed_out == [presence(1, "ann")]
    await asyncio.sleep(INTERVAL * 1.5)
    pace.push(presence(1, "ann", "bob"))
    assert handed_out[-1] == presence(1, "ann", "bob")


async def test_a_burst_of_changes_ends_with_the_latest_list_once():
    pace, handed_out = pacer()
    for count in range(1, 6):
        pace.push(presence(1, *[f"user{i}" for i in range(count)]))
    assert handed_out == [presence(1, "user0")]
    await asyncio.sleep(INTERVAL * 2)
    assert handed_out == [presence(1, "user0"), presence(1, "user0", "user1", "user2", "user3", "user4")]


async def test_rooms_are_paced_apart():
    pace, handed_out = pacer()
    pace.push(presence(1, "ann"))
    pace.push(presence(2, "bob"))
    pace.push(presence(1, "ann", "cid"))
    assert handed_out == [presence(1, "ann"), presence(2, "bob")]
    await asyncio.sleep(INTERVAL * 2)
    assert handed_out[-1] == presence(1, "ann", "cid")


async def test_a_forgotten_room_drops_its_waiting_list():
    pace, handed_out = pacer()
    pace.push(presence(1, "ann"))
    pace.push(presence(1, "ann", "bob"))
    pace.forget(1)
    await asyncio.sleep(INTERVAL * 2)
    assert handed_out == [presence(1, "ann")]
    pace.push(presence(1, "cid"))  # a socket joins again: a fresh start
    assert handed_out[-1] == presence(1, "cid")
