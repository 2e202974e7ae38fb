"""The measured phases the load generator runs on a set of connected clients."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from dataclasses import dataclass

from bench import webapi
from bench.client import BenchClient
from bench.procstat import Watch, rss_bytes
from bench.tally import Tally, percentiles_ms

# A load generator above this share of its core may be what limits the run.
LOADGEN_BOUND_PCT = 90.0
SETTLE_QUIET_S = 0.5
SETTLE_MAX_S = 300


@dataclass
class Fleet:
    clients: list[BenchClient]
    rooms: int
    seq_ordered: bool
    pids: dict[str, int]  # server processes to watch, by name

    def members(self) -> dict[int, set[int]]:
        members: dict[int, set[int]] = {room: set() for room in range(self.rooms)}
        for client in self.clients:
            if client.is_open:
                members[client.room].add(client.index)
        return members

    def attach(self, tally: Tally | None) -> None:
        for client in self.clients:
            client.tally = tally

    def watch(self) -> Watch:
        return Watch({**self.pids, "loadgen": os.getpid()})


async def connect_all(clients: list[BenchClient], *, concurrency: int) -> dict:
    """Connect every client, at most `concurrency` handshakes at once."""
    gate = asyncio.Semaphore(concurrency)
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def one(client: BenchClient) -> None:
        async with gate:
            await client.connect()

    outcomes = await asyncio.gather(*(one(client) for client in clients), return_exceptions=True)
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    times = [client.connect_ns for client in clients if client.connect_ns]
    return {
        "connections": len(clients) - len(failures),
        "failed": len(failures),
        "first_failure": repr(failures[0]) if failures else None,
        "total_s": round(loop.time() - started, 2),
        "handshake_ms": percentiles_ms(times),
        "retries": sum(max(client.connect_attempts - 1, 0) for client in clients),
    }


async def settle(fleet: Fleet) -> None:
    """Wait until no frame has arrived for a moment, so one phase's stragglers do not land in the next."""
    deadline = asyncio.get_running_loop().time() + SETTLE_MAX_S
    while asyncio.get_running_loop().time() < deadline:
        before = sum(client.frames for client in fleet.clients)
        await asyncio.sleep(SETTLE_QUIET_S)
        if sum(client.frames for client in fleet.clients) == before:
            return


async def send_phase(
    fleet: Fleet, *, senders: list[BenchClient], rate: float, duration: float, drain: float
) -> tuple[dict, Tally]:
    """Every sender sends at `rate`/s for `duration` s; then wait up to `drain` s for every
    answer and delivery. One result dict (see Tally.summary) plus resource use."""
    tally = Tally(members=fleet.members(), seq_ordered=fleet.seq_ordered)
    fleet.attach(tally)
    loop = asyncio.get_running_loop()
    watch = fleet.watch()
    watch.start()
    start = loop.time() + 0.1
    lags: list[float] = []
    await asyncio.gather(
        *(client.send_loop(rate=rate, start=start, end=start + duration, lag=lags) for client in senders)
    )
    sent_at = loop.time()
    deadline = sent_at + drain
    # Polling costs less than checking for completion on every frame.
    while tally.pending > 0 and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    drain_s = loop.time() - sent_at
    usage = watch.stop()
    result = tally.summary(send_seconds=duration)
    loadgen_pct = usage["processes"]["loadgen"].get("cpu_pct", 0)
    result.update(
        intended_per_s=round(rate * len(senders), 1),
        send_lag_max_ms=round(max(lags, default=0) * 1000, 1),
        drain_s=round(drain_s, 2),
        closed=sum(1 for client in fleet.clients if not client.is_open),
        loadgen_bound=loadgen_pct >= LOADGEN_BOUND_PCT,
        **usage,
    )
    await settle(fleet)
    fleet.attach(None)
    return result, tally


async def check_chatlog(*, base_url: str, token: str, slugs: list[str], tally: Tally, cursors: dict[int, int]) -> dict:
    """Read the rooms' stored logs after `cursors` (advanced here) through the history API:
    every acknowledged message stored once, at its acknowledged seq, and no seq missing."""
    acked = tally.acked_by_room()
    ours = {client_id for client_id in tally.records}
    counts: Counter = Counter()
    for room, slug in enumerate(slugs):
        after = cursors.get(room, 0)
        log = await asyncio.to_thread(webapi.read_room_log, base_url, token=token, slug=slug, after=after)
        expected = after + 1
        for seq in log.seqs:
            if seq != expected:
                counts["seq_gaps"] += 1
            expected = seq + 1
        counts["stored"] += len(log.seqs)
        cursors[room] = log.seqs[-1] if log.seqs else after
        for client_id, acked_seq in acked.get(room, {}).items():
            stored = log.client_ids.get(client_id, [])
            if not stored:
                counts["acked_missing"] += 1
            elif len(stored) > 1:
                counts["stored_twice"] += 1
            elif stored[0] != acked_seq:
                counts["seq_mismatch"] += 1
        counts["stored_unacked"] += sum(
            1 for client_id in log.client_ids if client_id in ours and client_id not in acked.get(room, {})
        )
    problems = ("seq_gaps", "acked_missing", "stored_twice", "seq_mismatch")
    return {
        "ok": not any(counts[name] for name in problems),
        **{name: counts[name] for name in ("stored", *problems, "stored_unacked")},
    }


def server_rss(pids: dict[str, int]) -> dict[str, float]:
    return {name: round((rss_bytes(pid) or 0) / 2**20, 1) for name, pid in pids.items()}


async def hold_idle(fleet: Fleet, seconds: float) -> dict:
    """Keep every socket open and silent; the servers' CPU meanwhile (presence upkeep)."""
    watch = fleet.watch()
    watch.start()
    await asyncio.sleep(seconds)
    usage = watch.stop()
    return {
        "hold_s": seconds,
        "cpu_pct": {name: proc.get("cpu_pct") for name, proc in usage["processes"].items()},
        "still_open": sum(1 for client in fleet.clients if client.is_open),
    }
