"""Redis commands of concurrent sends share one write on a lean connection
(chatproject.redis_clients.batch and .pipe), on the real Redis; the reply parser on its own."""

import asyncio
import uuid
from unittest.mock import Mock

import pytest
import redis.asyncio as redis
from django.conf import settings
from redis.exceptions import NoScriptError

from chatproject import redis_clients as redis_client
from chatproject.redis_clients import batch as redis_batch
from chatproject.redis_clients.pipe import PipeProtocol, encode_command
from messages.posting.ratelimit import send_rate_hit

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")


@pytest.fixture
async def key():
    name = f"{settings.CHAT_REDIS_PREFIX}:test:{uuid.uuid4().hex}"
    yield name
    await redis_client.get_redis().delete(name)
    await redis_client.close_redis()


async def test_each_caller_gets_its_own_result_in_the_order_issued(key):
    results = await asyncio.gather(*(redis_batch.batched("RPUSH", key, n) for n in range(10)))
    assert results == list(range(1, 11))
    assert await redis_client.get_redis().lrange(key, 0, -1) == [str(n) for n in range(10)]


async def test_a_failing_command_fails_only_its_own_caller(key):
    await redis_client.get_redis().set(key, "not a number")
    good, bad = await asyncio.gather(
        redis_batch.batched("GET", key), redis_batch.batched("INCR", key), return_exceptions=True
    )
    assert good == "not a number"
    assert isinstance(bad, redis.ResponseError)


async def test_several_commands_of_one_caller_run_in_order_in_one_write(key):
    replies = await redis_batch.batched_all(("RPUSH", key, "a"), ("RPUSH", key, "b"), ("LRANGE", key, 0, -1))
    assert replies == [1, 2, ["a", "b"]]


async def test_several_commands_raise_the_first_failure_once_all_have_run(key):
    await redis_client.get_redis().set(key, "not a number")
    with pytest.raises(redis.ResponseError):
        await redis_batch.batched_all(("INCR", key), ("APPEND", key, "!"))
    assert await redis_client.get_redis().get(key) == "not a number!"  # the second still ran


async def test_with_redis_down_every_caller_hears_of_it(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    outcomes = await asyncio.gather(*(redis_batch.batched("PING") for _ in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, redis_client.REDIS_ERRORS) for outcome in outcomes), outcomes
    redis_batch.close_batcher()


async def test_the_rate_limit_works_on_a_redis_that_lost_its_scripts(key):
    await redis_client.get_redis().script_flush()  # as after a restart
    first = await send_rate_hit(user_id=1, room_id=int(uuid.uuid4().int % 10**9))
    assert first.allowed and first.retry_after == 0
    await redis_client.close_redis()


async def test_binary_payloads_reach_subscribers_byte_for_byte(key):
    payload = bytes(range(256)) + b"\r\n$3\r\n*1\r\n"  # msgpack is binary: nothing may be read into it
    raw = redis.Redis.from_url(settings.REDIS_URL)  # not decoding: the bytes as they are
    subscriber = raw.pubsub()
    await subscriber.subscribe(key)
    assert await redis_batch.batched("PUBLISH", key, payload) == 1
    message = None
    while message is None:
        message = await subscriber.get_message(timeout=1, ignore_subscribe_messages=True)
    assert message["data"] == payload
    await subscriber.aclose()
    await raw.aclose()


async def test_after_redis_drops_the_connection_the_next_command_reconnects(key):
    connection_id = await redis_batch.batched("CLIENT", "ID")
    await redis_client.get_redis().client_kill_filter(_id=connection_id)
    await asyncio.sleep(0.2)  # the close reaches the client
    assert await redis_batch.batched("SET", key, "after") == "OK"
    assert await redis_batch.batched("CLIENT", "ID") != connection_id
    assert await redis_client.get_redis().get(key) == "after"


class RecordingPipe(PipeProtocol):
    def __init__(self) -> None:
        super().__init__()
        self.replies = []

    def reply_received(self, reply) -> None:
        self.replies.append(reply)


def test_replies_split_anywhere_are_read_whole():
    replies = (
        b"+OK\r\n:42\r\n$-1\r\n*3\r\n$6\r\nh\xc3\xa9llo\r\n*0\r\n:-7\r\n$0\r\n\r\n-NOSCRIPT no script\r\n-ERR wrong\r\n"
    )
    expected = ["OK", 42, None, ["héllo", [], -7], ""]
    for cut in range(len(replies) + 1):
        pipe = RecordingPipe()
        pipe.data_received(replies[:cut])
        pipe.data_received(replies[cut:])
        assert pipe.replies[:5] == expected, cut
        assert type(pipe.replies[5]) is NoScriptError
        assert type(pipe.replies[6]) is redis.ResponseError and str(pipe.replies[6]) == "ERR wrong"
        assert len(pipe.replies) == 7


async def test_bytes_that_are_not_redis_fail_the_waiting_commands():
    loop = asyncio.get_running_loop()
    pipe = RecordingPipe()
    pipe.transport = Mock()
    waiter = loop.create_future()
    pipe.waiters.append(waiter)
    pipe.data_received(b"HTTP/1.1 400 Bad Request\r\n")
    pipe.transport.close.assert_called_once()
    with pytest.raises(redis.ConnectionError):
        await waiter
    assert pipe.replies == []


def test_commands_are_encoded_as_redis_py_would():
    assert (
        encode_command(["EVALSHA", "ab", 1, "k", 0.5])
        == b"*5\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n1\r\n$1\r\nk\r\n$3\r\n0.5\r\n"
    )
    assert encode_command(["SET", "é", b"\x00"]) == b"*3\r\n$3\r\nSET\r\n$2\r\n\xc3\xa9\r\n$1\r\n\x00\r\n"
