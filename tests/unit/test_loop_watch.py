"""LoopWatch on a real event loop: a callback that holds the loop is logged, with where it was."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from chatproject.loop_watch import LoopWatch

THRESHOLD = 0.05


def hold_the_loop_for(seconds: float) -> None:
    time.sleep(seconds)  # a blocking call where an await belonged


def work_for(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@pytest.fixture
def watched(caplog):
    caplog.set_level(logging.WARNING, logger="chatproject.loop_watch")
    loops = []

    def watched_loop(threshold: float) -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        watch = LoopWatch(loop, threshold=threshold)
        watch.start()
        loops.append((loop, watch))
        return loop

    yield watched_loop
    for loop, watch in loops:
        watch.stop()
        loop.close()


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "chatproject.loop_watch"]


def test_a_loop_held_by_a_blocking_call_is_logged_with_its_stack_and_duration(watched, caplog):
    async def scenario():
        await asyncio.sleep(THRESHOLD)  # the watch is running
        hold_the_loop_for(THRESHOLD * 5)
        await asyncio.sleep(THRESHOLD)  # the next heartbeat reports the length

    watched(THRESHOLD).run_until_complete(scenario())

    logged = warnings(caplog)
    stacks = [m for m in logged if "so far, at:" in m]
    assert stacks and "hold_the_loop_for" in stacks[0]
    held = [m for m in logged if m.startswith("event loop held for") and "so far" not in m]
    assert held
    assert int(held[0].split()[4]) >= THRESHOLD * 1000 * 3


def test_a_loop_that_keeps_turning_logs_nothing(watched, caplog):
    threshold = 0.2  # well above a busy test machine's scheduling hiccups

    async def busy_but_responsive():
        deadline = time.monotonic() + threshold * 4
        while time.monotonic() < deadline:
            work_for(0.001)  # short pieces of work, each followed by a turn of the loop
            await asyncio.sleep(0)

    watched(threshold).run_until_complete(busy_but_responsive())

    assert warnings(caplog) == []


def test_a_threshold_must_be_positive():
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(ValueError, match="positive"):
            LoopWatch(loop, threshold=0)
    finally:
        loop.close()
