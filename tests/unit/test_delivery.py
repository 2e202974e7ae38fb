"""RoomStream's ordering rules and the session's fast path, against an in-memory log (the real
log: tests/realtime)."""

import asyncio
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from messages.chatlog import ChatLogUnavailable, StoredMessage
from messages.realtime import events, protocol
from messages.realtime.delivery import RoomStream
from messages.realtime.protocol import ServerFrame
from messages.realtime.session import RoomSession


class MemoryLog:
    def __init__(self, count: int) -> None:
        self.reads = 0
        self.down = False
        self.messages = [
            StoredMessage(
                id=f"m{seq}",
                room_id=1,
                seq=seq,
                author_id=1,
                author_username="a",
                client_id=f"c{seq}",
                body=f"body {seq}",
                created_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
            for seq in range(1, count + 1)
        ]

    async def page_after(self, *, room_id, after_seq, limit):
        self.reads += 1
        if self.down:
            raise ChatLogUnavailable("down")
        return [m for m in self.messages if m.seq > after_seq][:limit]

    async def last_seq(self, *, room_id):
        return len(self.messages)


def live_text(seq: int) -> ServerFrame:
    return ServerFrame("message.new", json.dumps({"type": "message.new", "message": {"seq": seq, "live": True}}))


@pytest.fixture
def sent():
    return []


GAP_WAIT = 0.02


class Output:
    """A session's output: `shared` says whether frames can be written at once (the server's
    shared frames, chatproject.shared_frames)."""

    def __init__(self, sent, *, shared=False, open_socket=True) -> None:
        self.sent, self.shared, self.open_socket = sent, shared, open_socket

    def write_now(self, frames):
        if not (self.shared and self.open_socket):
            return False
        self.sent.extend({**json.loads(frame.text), "shared": True} for frame in frames)
        return True

    async def write(self, frames):
        if not self.write_now(frames):
            self.sent.extend(json.loads(frame.text) for frame in frames)


def stream(log, sent, delivered_seq=0, output=None):
    async def on_unavailable():
        sent.append({"type": "unavailable"})

    return RoomStream(
        chatlog=log,
        room_id=1,
        room_slug="r",
        output=output or Output(sent),
        delivered_seq=delivered_seq,
        on_unavailable=on_unavailable,
        gap_wait=GAP_WAIT,
    )


async def settle():
    await asyncio.sleep(GAP_WAIT * 3)


def seqs(frames):
    return [f["message"]["seq"] for f in frames if f["type"] == "message.new"]


async def test_a_jump_is_filled_from_the_log_before_the_live_message(sent):
    room = stream(MemoryLog(5), sent)
    await room.deliver(seq=1, frame=live_text(1))
    await room.deliver(seq=4, frame=live_text(4))
    assert seqs(sent) == [1]  # 4 waits a moment for 2 and 3
    await settle()
    assert seqs(sent) == [1, 2, 3, 4]
    assert [f["message"].get("live", False) for f in sent] == [True, False, False, True]


async def test_a_reordered_broadcast_is_put_back_in_order_without_reading_the_log(sent):
    log = MemoryLog(4)
    room = stream(log, sent)
    for seq in (2, 1, 4, 3):
        await room.deliver(seq=seq, frame=live_text(seq))
    assert seqs(sent) == [1, 2, 3, 4]
    await settle()
    assert log.reads == 0 and seqs(sent) == [1, 2, 3, 4]


async def test_a_gap_the_log_cannot_fill_asks_the_socket_to_close(sent):
    log = MemoryLog(3)
    log.down = True
    room = stream(log, sent)
    await room.deliver(seq=3, frame=live_text(3))
    await settle()
    assert sent == [{"type": "unavailable"}]


async def test_a_closed_stream_reads_nothing_more(sent):
    log = MemoryLog(3)
    room = stream(log, sent)
    await room.deliver(seq=3, frame=live_text(3))
    room.close()
    await settle()
    assert log.reads == 0 and sent == []


async def test_late_and_repeated_messages_are_dropped(sent):
    room = stream(MemoryLog(5), sent)
    for seq in (2, 1, 2, 3, 3, 1):
        await room.deliver(seq=seq, frame=live_text(seq))
    await settle()
    assert seqs(sent) == [1, 2, 3]


async def test_resume_past_the_cap_announces_the_skipped_range(sent):
    room = stream(MemoryLog(10), sent, delivered_seq=10)
    await room.resume(after_seq=2, cap=3)
    assert sent[0] == protocol.resume_truncated_frame(after_seq=2, first_seq=8, last_seq=10)
    assert seqs(sent) == [8, 9, 10]
    assert sent[-1] == protocol.resume_done_frame(last_seq=10)


async def test_after_resume_live_delivery_continues_without_a_duplicate(sent):
    log = MemoryLog(3)
    room = stream(log, sent)
    await room.resume(after_seq=0, cap=100)
    await room.deliver(seq=3, frame=live_text(3))  # the live copy of a replayed message
    log.messages += MemoryLog(4).messages[3:]
    await room.deliver(seq=4, frame=live_text(4))
    assert seqs(sent) == [1, 2, 3, 4]


async def test_the_rooms_copy_of_my_message_waits_for_my_ack(sent):
    room = stream(MemoryLog(1), sent)

    async def post_ack_and_show():
        async with room.own_send() as deliver:
            await asyncio.sleep(0.01)  # storing takes a while; meanwhile the room's copy arrives
            sent.append({"type": "message.ack"})
            await deliver(1, live_text(1))

    await asyncio.gather(post_ack_and_show(), room.deliver(seq=1, frame=live_text(1)))
    assert [f["type"] for f in sent] == ["message.ack", "message.new"]


async def test_my_message_ahead_of_one_still_on_its_way_is_left_to_the_rooms_copy(sent):
    log = MemoryLog(2)
    room = stream(log, sent)
    async with room.own_send() as deliver:
        sent.append({"type": "message.ack"})
        await deliver(2, live_text(2))  # 1, from another process, has not arrived yet
    await asyncio.sleep(GAP_WAIT * 3)  # and takes longer than a gap's wait
    assert [f["type"] for f in sent] == ["message.ack"]
    assert log.reads == 0  # nothing held, so nothing read from the log: the room's copies come
    await room.deliver(seq=1, frame=live_text(1))
    await room.deliver(seq=2, frame=live_text(2))
    assert seqs(sent) == [1, 2]


# --- the hub's synchronous fast path (RoomSession._deliver_now, RoomListener) ----------


def shared_session(log, sent, *, open_socket=True, shared=True):
    output = Output(sent, shared=shared, open_socket=open_socket)
    session = RoomSession(room=SimpleNamespace(pk=1, slug="r"), user={"id": 1, "username": "a"}, output=output)
    session.stream = stream(log, sent, output=output)
    return session


def shared(seq):
    return [{**events.message_posted(seq=seq, text=live_text(seq).text), "frame": live_text(seq)}]


async def test_the_next_message_is_written_at_once(sent):
    session = shared_session(MemoryLog(2), sent)
    assert session._deliver_now(shared(1))
    assert session._deliver_now(shared(2))
    assert session._deliver_now(shared(2))  # a repeat: taken, not written
    assert seqs(sent) == [1, 2]


async def test_a_message_out_of_turn_is_left_to_the_ordered_path_which_still_shares_the_frame(sent):
    log = MemoryLog(3)
    session = shared_session(log, sent)
    room = session.stream
    assert not session._deliver_now(shared(2))
    await room.deliver(seq=2, frame=live_text(2))  # held for 1
    assert not session._deliver_now(shared(1))  # 2 is held: 1 goes the ordered way too
    await room.deliver(seq=1, frame=live_text(1))
    assert seqs(sent) == [1, 2] and log.reads == 0
    assert all(frame.get("shared") for frame in sent)


async def test_nothing_is_written_at_once_while_my_own_send_is_in_progress(sent):
    session = shared_session(MemoryLog(1), sent)
    async with session.stream.own_send() as deliver:
        assert not session._deliver_now(shared(1))
        sent.append({"type": "message.ack"})
        await deliver(1, live_text(1))
    assert [f["type"] for f in sent] == ["message.ack", "message.new"]


async def test_without_the_servers_shared_frames_everything_takes_the_ordered_path(sent):
    session = shared_session(MemoryLog(1), sent, shared=False)
    assert not session._deliver_now(shared(1))
    await session.stream.deliver(seq=1, frame=live_text(1))
    assert seqs(sent) == [1]


async def test_a_socket_that_cannot_take_a_shared_frame_leaves_it_to_the_ordered_path(sent):
    session = shared_session(MemoryLog(1), sent, open_socket=False)
    assert not session._deliver_now(shared(1))
    assert session.stream.delivered_seq == 0


async def test_a_batch_of_messages_that_come_next_is_written_at_once(sent):
    session = shared_session(MemoryLog(3), sent)
    assert session._deliver_now(shared(1) + shared(2) + shared(3))
    assert seqs(sent) == [1, 2, 3] and session.stream.delivered_seq == 3


async def test_a_batch_with_a_gap_is_not_written_at_once_at_all(sent):
    session = shared_session(MemoryLog(3), sent)
    assert not session._deliver_now(shared(1) + shared(3))
    assert sent == [] and session.stream.delivered_seq == 0


async def test_the_listener_takes_the_fast_path_only_with_nothing_queued_before():
    from messages.realtime.hub import RoomListener

    handled, offered = [], []
    release = asyncio.Event()

    async def handle(batch):
        handled.append(batch[0]["n"])
        if batch[0]["n"] == 1:
            await release.wait()  # a slow event in hand

    def deliver_now(batch):
        offered.append(batch[0]["n"])
        return batch[0]["n"] != 1  # 1 needs the ordered path

    listener = RoomListener(handle, deliver_now=deliver_now)
    listener.put([{"n": 0}])  # before start(): kept for the ordered path
    listener.start()
    await asyncio.sleep(0)
    assert handled == [0] and offered == []
    listener.put([{"n": 1}])
    await asyncio.sleep(0)
    listener.put([{"n": 2}])  # 1 is in hand: 2 must wait behind it, not overtake it
    release.set()
    await asyncio.sleep(0.01)
    assert handled == [0, 1, 2] and offered == [1]
    listener.put([{"n": 3}])  # idle again: taken at once
    assert handled == [0, 1, 2] and offered == [1, 3]
    listener.close()
