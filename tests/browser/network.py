"""A TCP link between the browser and daphne that the test can cut, as a network drop would.

`cut()` resets every open connection (the browser sees its WebSocket fail with 1006, daphne
sees a vanished client) and refuses new ones until `restore()`: the page has to notice,
back off, reconnect and resume by itself.
"""

from __future__ import annotations

import asyncio
import contextlib


class FlakyLink:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.up = True
        self.server: asyncio.Server | None = None
        self.connections: set[asyncio.StreamWriter] = set()

    async def start(self) -> FlakyLink:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    def cut(self) -> None:
        self.up = False
        for writer in list(self.connections):
            writer.transport.abort()  # RST, not a polite FIN: the line just went dead
        self.connections.clear()

    def restore(self) -> None:
        self.up = True

    async def stop(self) -> None:
        self.cut()
        self.server.close()
        await self.server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if not self.up:
            client_writer.transport.abort()
            return
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.transport.abort()
            return
        self.connections.update((client_writer, server_writer))
        await asyncio.gather(self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer))
        self.connections.discard(client_writer)
        self.connections.discard(server_writer)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            writer.close()
