"""The consumer loop: both sources read, their events handled one at a time, endings raised."""

import asyncio

import pytest
from channels.exceptions import StopConsumer

from messages.realtime.consumer_loop import dispatch_in_turn


def source_of(queue: asyncio.Queue):
    return queue.get


async def test_events_of_both_sources_are_handled_one_at_a_time_in_arrival_order():
    client, channel = asyncio.Queue(), asyncio.Queue()
    handled, running = [], []

    async def dispatch(event):
        running.append(event)
        assert len(running) == 1, f"{event} handled while {running[0]} was"
        await asyncio.sleep(0.01)  # a handler that waits, as one that stores a message does
        handled.append(event["n"])
        running.remove(event)
        if event["n"] == 5:
            raise StopConsumer

    loop = asyncio.create_task(dispatch_in_turn([source_of(client), source_of(channel)], dispatch))
    for n in range(1, 5):
        (client if n % 2 else channel).put_nowait({"n": n})
        await asyncio.sleep(0)
    client.put_nowait({"n": 5})
    with pytest.raises(StopConsumer):  # ends the loop; the consumer's __call__ suppresses it
        await asyncio.wait_for(loop, 2)
    assert handled == [1, 2, 3, 4, 5]


async def test_a_source_is_read_again_only_once_its_event_is_handled():
    client = asyncio.Queue()
    release = asyncio.Event()
    handled = []

    async def dispatch(event):
        handled.append(event)
        await release.wait()

    loop = asyncio.create_task(dispatch_in_turn([source_of(client)], dispatch))
    client.put_nowait("first")
    client.put_nowait("second")
    await asyncio.sleep(0.02)
    assert handled == ["first"]
    assert client.qsize() == 1  # the second frame stays with the server until the first is done
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop


async def test_an_error_of_the_channel_ends_the_loop_and_stops_reading_the_client():
    client = asyncio.Queue()
    reads = []

    async def read_client():
        reads.append("client")
        return await client.get()

    async def broken_channel():
        await asyncio.sleep(0.01)
        raise ConnectionError("the channel layer went away")

    async def dispatch(event):
        pass

    with pytest.raises(ConnectionError, match="went away"):
        await asyncio.wait_for(dispatch_in_turn([read_client, broken_channel], dispatch), 2)
    client.put_nowait("late")
    await asyncio.sleep(0.01)
    assert client.qsize() == 1, "the client's reader must be cancelled with the loop"
    assert reads == ["client"]


async def test_cancelling_the_consumer_cancels_both_readers():
    readers = []

    async def waits_forever():
        readers.append(asyncio.current_task())
        await asyncio.Event().wait()

    async def dispatch(event):
        pass

    loop = asyncio.create_task(dispatch_in_turn([waits_forever, waits_forever], dispatch))
    await asyncio.sleep(0.01)
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert len(readers) == 2 and all(reader.cancelled() for reader in readers)


async def test_once_a_handler_stops_the_consumer_no_other_event_is_handled():
    client, channel = asyncio.Queue(), asyncio.Queue()
    handled = []

    async def dispatch(event):
        handled.append(event)
        if event == "disconnect":
            await asyncio.sleep(0.01)  # meanwhile the channel's event waits for its turn
            raise StopConsumer

    loop = asyncio.create_task(dispatch_in_turn([source_of(client), source_of(channel)], dispatch))
    client.put_nowait("disconnect")
    await asyncio.sleep(0)
    channel.put_nowait("room.updated")
    with pytest.raises(StopConsumer):
        await asyncio.wait_for(loop, 2)
    assert handled == ["disconnect"]


async def test_an_event_in_hand_when_the_channel_fails_is_handled_to_its_end():
    client = asyncio.Queue()
    finished = []

    async def failing_channel():
        await asyncio.sleep(0.01)
        raise ConnectionError("the channel layer went away")

    async def dispatch(event):
        await asyncio.sleep(0.05)  # a send being stored when the channel fails
        finished.append(event)

    client.put_nowait("message.send")
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(dispatch_in_turn([source_of(client), failing_channel], dispatch), 2)
    assert finished == ["message.send"]
