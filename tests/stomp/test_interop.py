"""STOMP and JSON clients share rooms: the same messages, in the same seq order, on every process."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from tests.realtime.conftest import room_url
from tests.stomp.conftest import stomp_url
from tests.support.lossy_layer import fate
from tests.support.servers import start_daphne
from tests.support.stomp import StompClient
from tests.support.ws import ChatClient

PER_SENDER = 6
DELAY_GRACE = 0.6  # longer than the lossy layer's delay: a late copy must not be shown again


async def _stomp(server, user, room, sub_id: str = "s") -> StompClient:
    client = await StompClient.open(stomp_url(server))
    await client.connect(login=user.username, passcode=user.token)
    await client.subscribe(sub_id, room.slug)
    return client


async def test_stomp_and_json_clients_on_two_processes_see_one_order(server_a, server_b, room, make_user):
    stomp_users = [await sync_to_async(make_user)() for _ in range(2)]
    json_users = [await sync_to_async(make_user)() for _ in range(2)]
    stomps = [await _stomp(server, user, room) for server, user in zip((server_a, server_b), stomp_users, strict=True)]
    jsons = [
        await ChatClient.open(room_url(server, room), token=user.token)
        for server, user in zip((server_b, server_a), json_users, strict=True)
    ]
    expected = PER_SENDER * 4
    try:

        async def stomp_sends(index: int, client: StompClient) -> None:
            for n in range(PER_SENDER):
                # No receipt: SENDs go out back to back, interleaving with everyone else's.
                await client.send_frame(
                    "SEND",
                    {"destination": f"/app/rooms.{room.slug}", "client-id": f"s{index}-{n}"},
                    f"stomp {index}.{n}",
                )

        async def json_sends(index: int, client: ChatClient) -> None:
            for n in range(PER_SENDER):
                await client.send_message(f"j{index}-{n}", f"json {index}.{n}")

        receivers = [asyncio.create_task(c.messages(expected, timeout=20)) for c in stomps]
        receivers += [asyncio.create_task(c.collect_messages(expected)) for c in jsons]
        await asyncio.gather(
            *(stomp_sends(i, c) for i, c in enumerate(stomps)), *(json_sends(i, c) for i, c in enumerate(jsons))
        )
        received = await asyncio.gather(*receivers)
    finally:
        for client in (*stomps, *jsons):
            await client.close()

    reference = received[0]
    assert [m["seq"] for m in reference] == list(range(1, expected + 1))
    for messages in received:
        assert messages == reference, "every client, STOMP or JSON, sees the same message objects in one order"
    assert {m["body"] for m in reference} == {
        f"{kind} {i}.{n}" for kind in ("stomp", "json") for i in range(2) for n in range(PER_SENDER)
    }


@pytest.fixture
def lossy_server(transactional_db):
    server = start_daphne("stomp-lossy", CHAT_TEST_LOSSY_LAYER="1")
    yield server
    server.stop()


async def test_a_lossy_channel_layer_never_shows_a_stomp_subscription_a_gap(lossy_server, room, make_user):
    reader, *writers = [await sync_to_async(make_user)() for _ in range(3)]
    stomp = await _stomp(lossy_server, reader, room, "lossy")
    senders = []
    for writer in writers:  # not subscribed: they only get their receipts
        senders.append(await StompClient.open(stomp_url(lossy_server)))
        await senders[-1].connect(login=writer.username, passcode=writer.token)
    count = 12  # two senders: each stays within the rate limit's burst
    assert {fate(seq) for seq in range(1, count + 1)} == {"send", "drop", "delay"} and fate(count) == "send"
    for n in range(count):
        await senders[n % 2].post(room.slug, f"lossy {n}")
    # The last one (seq 12) is sent, so every earlier drop is filled from the log before it.
    messages = await stomp.messages(count, subscription="lossy", timeout=20)
    assert [m["seq"] for m in messages] == list(range(1, count + 1))
    await stomp.assert_silent(DELAY_GRACE)
    await stomp.close()
    for sender in senders:
        await sender.close()
