"""A mongoeco MongoDB wire server running in a background thread, for tests and scripts.

The server needs its own running event loop to answer: as an async fixture it would
only serve while that one test's loop runs. A daemon thread with `asyncio.run` keeps it
answering for every test loop (and for subprocesses) until `stop()`.

    with running_mongoeco_server() as server:
        client = pymongo.MongoClient(server.uri)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from mongoeco.engines import MemoryEngine
from mongoeco.wire import AsyncMongoEcoProxyServer

_START_TIMEOUT_S = 15.0
_STOP_TIMEOUT_S = 15.0


class MongoEcoServer:
    """A started server: connect to `uri`, call `stop()` when done."""

    def __init__(
        self, uri: str, loop: asyncio.AbstractEventLoop, stopped: asyncio.Event, thread: threading.Thread
    ) -> None:
        self.uri = uri
        self._loop = loop
        self._stopped = stopped
        self._thread = thread

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            self._loop.call_soon_threadsafe(self._stopped.set)
        except RuntimeError:  # the loop already closed
            return
        self._thread.join(_STOP_TIMEOUT_S)

    def __enter__(self) -> MongoEcoServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_mongoeco_server(host: str = "127.0.0.1", port: int = 0) -> MongoEcoServer:
    """Start an in-memory mongoeco server on `host:port` (0 = a free port) and return it."""
    ready = threading.Event()
    handoff: dict[str, object] = {}

    async def serve() -> None:
        try:
            stopped = asyncio.Event()
            async with AsyncMongoEcoProxyServer(engine=MemoryEngine(), host=host, port=port) as server:
                handoff.update(uri=server.address.uri, loop=asyncio.get_running_loop(), stopped=stopped)
                ready.set()
                await stopped.wait()
        except BaseException as error:
            handoff["error"] = error
            raise
        finally:
            ready.set()

    def run() -> None:
        # A failure is reported to the starting thread through `handoff`.
        with suppress(BaseException):
            asyncio.run(serve())

    thread = threading.Thread(target=run, name="mongoeco-server", daemon=True)
    thread.start()
    if not ready.wait(_START_TIMEOUT_S):
        raise RuntimeError("mongoeco server did not start in time")
    if "error" in handoff:
        raise RuntimeError("mongoeco server failed to start") from handoff["error"]  # type: ignore[arg-type]
    return MongoEcoServer(
        uri=handoff["uri"],  # type: ignore[arg-type]
        loop=handoff["loop"],  # type: ignore[arg-type]
        stopped=handoff["stopped"],  # type: ignore[arg-type]
        thread=thread,
    )


@contextmanager
def running_mongoeco_server(host: str = "127.0.0.1", port: int = 0) -> Iterator[MongoEcoServer]:
    server = start_mongoeco_server(host, port)
    try:
        yield server
    finally:
        server.stop()


if __name__ == "__main__":
    # Standalone: `python -m tests.support.mongoeco_server` serves until Ctrl-C.
    import time

    with running_mongoeco_server() as srv:
        print(srv.uri, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
