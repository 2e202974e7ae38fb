"""A consumer's event loop for sockets whose client sends far more than its channel receives.

Channels' `AsyncConsumer.__call__` waits on the client and on the consumer's channel with
`await_many_dispatch`: for every event, an `asyncio.wait` over both and a new task to read
the next one. On a chat socket nearly every event is a client frame, and that machinery
costs more than the wait itself (docs/performance-analysis.md).

Here each source has one long-lived task that reads it and dispatches what it reads, and a
lock keeps Channels' guarantee that a consumer handles one event at a time. A source is read
again only once its last event is handled, as before; an exception from either task (the
consumer's `StopConsumer` included) ends both and comes out of `__call__`, as it did from
`await_many_dispatch`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer

Source = Callable[[], Awaitable[dict]]
Dispatch = Callable[[dict], Awaitable[None]]


async def dispatch_in_turn(sources: list[Source], dispatch: Dispatch) -> None:
    """Read every source in a task of its own and dispatch its events one at a time, across
    all sources, until one task ends (always by an exception, which this raises).

    As with `await_many_dispatch`, nothing is dispatched once a dispatch has raised (a
    consumer that stopped handles no more events), and an event being handled when a source
    fails is handled to its end first."""
    turn = asyncio.Lock()
    ended = False

    async def pump(source: Source) -> None:
        nonlocal ended
        while True:
            event = await source()
            async with turn:
                if ended:
                    return
                try:
                    await dispatch(event)
                except BaseException:
                    ended = True  # before the lock is let go to the other reader
                    raise

    tasks = [asyncio.ensure_future(pump(source)) for source in sources]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        ended = True
        async with turn:  # the other reader's event in hand, if any, is handled to its end
            pass
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class InTurnDispatchMixin:
    """For AsyncConsumer subclasses: Channels' `__call__`, with `dispatch_in_turn` for its
    loop. It sets what Channels' own `__call__` sets, by the names Channels documents for
    consumers (`scope`, `channel_layer`, `channel_name`) and uses for sending (`base_send`).
    Async consumers only (Channels' sync consumers wrap `send` differently)."""

    async def __call__(self, scope, receive, send):
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await dispatch_in_turn(sources, self.dispatch)
