"""A lean, pipelined Redis connection for the commands every message costs.

Each message makes two Redis commands (the rate-limit script, the room's PUBLISH). Through
redis-py's asyncio client each costs ~120 µs of CPU: a pool checkout, a pipeline object, and a
reply parser that awaits a stream reader for every line. Here one connection per event loop
writes commands as they come and resolves their futures in reply order, straight from the
bytes Redis sends back (Redis answers every connection's commands in order).

Replies are what redis-py gives with `decode_responses=True` (strings, ints, lists, None);
errors are redis-py's exception classes, so callers handle them as before. Everything else
(presence, access stamps, the channel layer's own traffic) keeps using redis-py.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

CONNECT_TIMEOUT_SECONDS = 5

_INCOMPLETE = object()


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


def _error(message: str) -> ResponseError:
    return NoScriptError(message) if message.startswith("NOSCRIPT") else ResponseError(message)


def parse_reply(buffer: bytes | bytearray, start: int, *, decode: bool = True) -> tuple[Any, int]:
    """One RESP2 reply from `buffer` at `start`: (reply, end), or (_INCOMPLETE, start) when the
    buffer does not hold all of it yet. An error reply is returned as an exception instance.
    Bulk strings are str, or bytes with `decode=False` (binary payloads)."""
    line_end = buffer.find(b"\r\n", start)
    if line_end < 0:
        return _INCOMPLETE, start
    kind, line, pos = buffer[start], buffer[start + 1 : line_end], line_end + 2
    if kind == 0x24:  # $ bulk string
        size = int(line)
        if size < 0:
            return None, pos
        if len(buffer) < pos + size + 2:
            return _INCOMPLETE, start
        data = buffer[pos : pos + size]
        return (data.decode() if decode else bytes(data)), pos + size + 2
    if kind == 0x3A:  # : integer
        return int(line), pos
    if kind == 0x2A:  # * array
        size = int(line)
        if size < 0:
            return None, pos
        items = []
        for _ in range(size):
            item, pos = parse_reply(buffer, pos, decode=decode)
            if item is _INCOMPLETE:
                return _INCOMPLETE, start
            items.append(item)
        return items, pos
    if kind == 0x2B:  # + simple string
        return line.decode(), pos
    if kind == 0x2D:  # - error
        return _error(line.decode()), pos
    raise RedisConnectionError(f"unexpected reply from Redis: {bytes(buffer[start:line_end])[:80]!r}")


class PipeProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiters: deque[asyncio.Future] = deque()
        self.buffer = bytearray()
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, commands: Sequence[Sequence[Any]], waiters: Sequence[asyncio.Future]) -> None:
        if self.lost is not None:
            raise self.lost
        self.waiters.extend(waiters)
        self.transport.write(b"".join(encode_command(command) for command in commands))

    # Bulk strings as str; a subclass that carries binary payloads reads bytes.
    decode_replies = True

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        pos = 0
        try:
            while True:
                reply, end = parse_reply(buffer, pos, decode=self.decode_replies)
                if reply is _INCOMPLETE:
                    break
                pos = end
                self.reply_received(reply)
        except RedisConnectionError as error:  # not Redis speaking: give up this connection
            self.transport.close()
            self._fail(error)
            return
        del buffer[:pos]

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
