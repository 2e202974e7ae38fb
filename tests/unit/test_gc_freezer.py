"""GcFreezer: full collections walk only what arrived since the last one; a thaw frees the cycles.

The loop holds it removes are measured in bench's idle-10000 (docs/performance-analysis.md).
"""

import asyncio
import gc

import pytest

from chatproject.gc_freezer import GcFreezer


@pytest.fixture
def freezer():
    freezers = []

    def start(**options) -> GcFreezer:
        freezer = GcFreezer(asyncio.get_running_loop(), **options)
        freezer.start()
        freezers.append(freezer)
        return freezer

    yield start
    for freezer in freezers:
        freezer.stop()
    gc.unfreeze()


class Cycle:
    def __init__(self) -> None:
        self.me = self


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def test_the_survivors_of_a_full_collection_are_frozen(freezer):
    freezer(thaw_every=60)
    frozen_at_start = gc.get_freeze_count()
    survivors = [Cycle() for _ in range(1000)]
    gc.collect()
    await settle()
    assert gc.get_freeze_count() >= frozen_at_start + 1000
    assert survivors  # alive, and no longer walked by the next full collection


async def test_a_thaw_lets_the_next_full_collection_free_frozen_cycles(freezer):
    freezer(thaw_every=0.5)  # start() froze everything: the collections before it are quick
    garbage = [Cycle() for _ in range(1000)]
    gc.collect()
    await settle()
    assert gc.get_freeze_count() > 0
    del garbage  # cycles, frozen: reference counting cannot free them, nor can a collection
    assert gc.collect() < 1000
    await asyncio.sleep(0.7)  # the thaw
    assert gc.collect() >= 1000
