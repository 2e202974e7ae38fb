"""RoomOrder: a room's broadcasts handed to the process's sockets in seq order, gaps read once.

A fake log and a short wait; the end-to-end guarantees (a lossy, reordering layer between
real daphne processes) are in tests/realtime/test_guarantees.py.
"""

import asyncio

from messages.realtime.room_order import RoomOrder

GAP_WAIT = 0.02


def event(seq: int, *, source: str = "live") -> dict:
    return {"type": "chat.message", "room_id": 1, "seq": seq, "text": f"{source} {seq}"}


class FakeLog:
    def __init__(self, stored: int, *, down: bool = False) -> None:
        self.stored = stored
        self.down = down
        self.reads: list[tuple[int, int]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def fetch(self, after: int, through: int) -> list[dict]:
        self.reads.append((after, through))
        await self.release.wait()
        if self.down:
            raise ConnectionError("log down")
        return [event(seq, source="log") for seq in range(after + 1, min(through, self.stored) + 1)]


def room_order(log: FakeLog) -> tuple[RoomOrder, list[dict]]:
    handed_out: list[dict] = []
    return RoomOrder(hand_out=handed_out.append, fetch_stored=log.fetch, gap_wait=GAP_WAIT), handed_out


def seqs(events: list[dict]) -> list[int]:
    return [e["seq"] for e in events]


async def settle() -> None:
    await asyncio.sleep(GAP_WAIT * 3)


async def test_messages_in_order_pass_straight_through():
    log = FakeLog(stored=3)
    order, out = room_order(log)
    for seq in (1, 2, 3):
        order.push(event(seq))
        assert seqs(out) == list(range(1, seq + 1))  # at once, not after a wait
    await settle()
    assert log.reads == []


async def test_a_message_that_overtook_the_one_before_it_waits_for_it():
    log = FakeLog(stored=4)
    order, out = room_order(log)
    order.push(event(1))
    order.push(event(3))
    order.push(event(4))
    assert seqs(out) == [1]
    order.push(event(2))
    assert seqs(out) == [1, 2, 3, 4]
    await settle()
    assert log.reads == []  # it came in time: nothing read from the log


async def test_a_missing_message_is_read_from_the_log_once_and_handed_out_in_its_place():
    log = FakeLog(stored=4)
    order, out = room_order(log)
    order.push(event(1))
    order.push(event(3))
    order.push(event(4))
    await settle()
    assert seqs(out) == [1, 2, 3, 4]
    assert out[1]["text"] == "log 2"
    assert log.reads == [(1, 2)]
    order.push(event(2))  # the lost broadcast turns up after all: the sockets drop it
    assert seqs(out) == [1, 2, 3, 4, 2]


async def test_when_the_log_has_not_got_it_the_held_messages_go_out_and_sockets_fill_the_gap():
    log = FakeLog(stored=1)
    order, out = room_order(log)
    order.push(event(1))
    order.push(event(3))
    await settle()
    assert seqs(out) == [1, 3]
    order.push(event(4))
    assert seqs(out) == [1, 3, 4]


async def test_a_log_that_fails_does_not_keep_messages_back():
    log = FakeLog(stored=3, down=True)
    order, out = room_order(log)
    order.push(event(1))
    order.push(event(3))
    await settle()
    assert seqs(out) == [1, 3]


async def test_a_message_arriving_while_the_log_is_read_is_not_handed_out_twice():
    log = FakeLog(stored=5)
    log.release.clear()
    order, out = room_order(log)
    order.push(event(1))
    order.push(event(3))
    await asyncio.sleep(GAP_WAIT * 2)
    assert log.reads == [(1, 2)]  # reading, and stuck there
    order.push(event(2))
    order.push(event(5))  # ahead of 4: waits its own turn, not the read's
    assert seqs(out) == [1, 2, 3]
    log.release.set()
    await asyncio.sleep(0)
    assert seqs(out) == [1, 2, 3]
    order.push(event(4))
    assert seqs(out) == [1, 2, 3, 4, 5]


async def test_the_tail_checks_catch_up_moves_the_order_on():
    log = FakeLog(stored=5)
    order, out = room_order(log)
    order.push(event(1))
    order.push(event(4))
    order.caught_up(3)  # every socket reads 2 and 3 from the log itself
    assert seqs(out) == [1, 4]
    order.push(event(5))
    assert seqs(out) == [1, 4, 5]


async def test_the_highest_seq_heard_counts_messages_held_back():
    order, _ = room_order(FakeLog(stored=5))
    assert order.highest_seq == 0
    order.push(event(1))
    order.push(event(4))  # held for 2 and 3
    assert order.highest_seq == 4
    order.caught_up(5)
    assert order.highest_seq == 5
    order.close()


async def test_closing_stops_the_wait():
    log = FakeLog(stored=3)
    order, out = room_order(log)
    order.push(event(1))
    order.push(event(3))
    order.close()
    await settle()
    assert seqs(out) == [1]
    assert log.reads == []
