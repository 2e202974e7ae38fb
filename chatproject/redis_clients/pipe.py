"""A lean, pipelined Redis connection for the command every message costs.

Every message runs the rate-limit script (chatproject.redis_clients.batch sends the commands
of a loop turn together). Through redis-py's asyncio client each command is a pool checkout,
a pipeline object and a reply parser that awaits a stream reader: several times the cost of
the command itself (docs/performance-analysis.md). Here one connection per event loop writes
commands as they come and resolves their futures in reply order, straight from the bytes
Redis sends back (Redis answers every connection's commands in order), parsed in C by hiredis.

Replies are what redis-py gives with `decode_responses=True` (strings, ints, lists, None);
errors are redis-py's exception classes, so callers handle them as before. The channel
layer's traffic is channels-redis' own, through its public interface.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import hiredis
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

CONNECT_TIMEOUT_SECONDS = 5


def encode_command(args: Sequence[Any]) -> bytes:
    """RESP: an array of bulk strings. str as UTF-8; numbers as redis-py writes them (repr)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, (int, float)):
            arg = repr(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(parts)


def reply_error(message: str) -> ResponseError:
    """An error reply as the exception redis-py would raise for it."""
    return NoScriptError(message) if message.startswith("NOSCRIPT") else ResponseError(message)


def reply_reader() -> hiredis.Reader:
    """A RESP2 reader: `feed(bytes)`, then `gets()` gives each whole reply (False: none yet).
    Error replies come out as exceptions (not raised); bulk strings as str. hiredis parses in C."""
    return hiredis.Reader(protocolError=RedisConnectionError, replyError=reply_error, encoding="utf-8")


class PipeProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiters: deque[asyncio.Future] = deque()
        self.reader = reply_reader()
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, commands: Sequence[Sequence[Any]], waiters: Sequence[asyncio.Future]) -> None:
        if self.lost is not None:
            raise self.lost
        self.waiters.extend(waiters)
        self.transport.write(b"".join(encode_command(command) for command in commands))

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        try:
            while (reply := reader.gets()) is not False:
                self.reply_received(reply)
        except RedisConnectionError as error:  # not Redis speaking: give up this connection
            self.transport.close()
            self._fail(error)

    def reply_received(self, reply: Any) -> None:
        """Each reply answers the oldest command waiting (Redis answers in order)."""
        if not self.waiters:
            return
        waiter = self.waiters.popleft()
        if waiter.done():  # its caller stopped waiting
            return
        if isinstance(reply, Exception):
            waiter.set_exception(reply)
        else:
            waiter.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisConnectionError(f"connection to Redis lost: {exc or 'closed'}"))

    def _fail(self, error: Exception) -> None:
        self.lost = self.lost or error
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RedisConnectionError(str(error)))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_pipe[P: PipeProtocol](url: str, protocol: Callable[[], P] = PipeProtocol) -> P:
    """Connect to the Redis of `url` (redis://, rediss://, unix://), authenticate and select
    its database. Raises redis.exceptions.ConnectionError (or the server's ResponseError)."""
    options = parse_url(url)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_SECONDS):
            if options.get("connection_class") is UnixDomainSocketConnection:
                _, pipe = await loop.create_unix_connection(protocol, options["path"])
            else:
                tls = ssl.create_default_context() if options.get("connection_class") is SSLConnection else None
                _, pipe = await loop.create_connection(
                    protocol, options.get("host", "localhost"), options.get("port", 6379), ssl=tls
                )
    except (OSError, TimeoutError) as error:
        raise RedisConnectionError(f"cannot connect to Redis: {error}") from error
    setup = []
    if options.get("password") is not None:
        setup.append(["AUTH", *filter(None, [options.get("username")]), options["password"]])
    if options.get("db"):
        setup.append(["SELECT", options["db"]])
    if setup:
        waiters = [loop.create_future() for _ in setup]
        pipe.send(setup, waiters)
        try:
            await asyncio.gather(*waiters)
        except BaseException:
            pipe.close()
            raise
    return pipe
