"""CPU time and memory of processes and CPUs, read from /proc (Linux only, no dependency).

A `Watch` samples named processes during a measured phase: CPU seconds used (as % of one
core), resident memory at the end and at its highest. It also samples each CPU's busy time,
so a report can tell when something outside the benchmark shared its cores.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_INTERVAL_S = 0.5


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds the process has used, None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces or parentheses: fields start after the last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_times() -> dict[str, tuple[float, float, float]]:
    """Per CPU ("cpu0", ...): (busy, total, steal) jiffies since boot. Steal is time the
    hypervisor gave this virtual CPU to someone else: busy, but not with anything of ours."""
    times = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if not name.startswith("cpu") or name == "cpu":
            continue
        numbers = [int(value) for value in values[:8]]
        idle = numbers[3] + numbers[4]  # idle + iowait
        total = sum(numbers)
        times[name] = (total - idle, total, numbers[7])
    return times


@dataclass
class _Tracked:
    pid: int
    cpu_start: float
    rss_max: int = 0


@dataclass
class Watch:
    """Sample `pids` (name -> pid) between `start()` and `stop()`."""

    pids: dict[str, int]
    _tracked: dict[str, _Tracked] = field(default_factory=dict)
    _cpus_start: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    _started: float = 0.0
    _task: asyncio.Task | None = None

    def start(self) -> None:
        self._started = time.monotonic()
        self._cpus_start = cpu_times()
        self._tracked = {
            name: _Tracked(pid=pid, cpu_start=cpu_seconds(pid) or 0.0, rss_max=rss_bytes(pid) or 0)
            for name, pid in self.pids.items()
        }
        with contextlib.suppress(RuntimeError):  # no running loop: no sampling of the peak
            self._task = asyncio.get_running_loop().create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_INTERVAL_S)
            for tracked in self._tracked.values():
                tracked.rss_max = max(tracked.rss_max, rss_bytes(tracked.pid) or 0)

    def stop(self) -> dict:
        """{"processes": {name: {cpu_s, cpu_pct, rss_mb, rss_max_mb}}, "cpu_busy_pct": {cpuN: pct},
        "cpu_steal_pct": {cpuN: pct}} (steal is part of busy)."""
        if self._task is not None:
            self._task.cancel()
        elapsed = max(time.monotonic() - self._started, 1e-9)
        processes = {}
        for name, tracked in self._tracked.items():
            cpu = cpu_seconds(tracked.pid)
            rss = rss_bytes(tracked.pid)
            if cpu is None or rss is None:
                processes[name] = {"pid": tracked.pid, "gone": True}
                continue
            used = cpu - tracked.cpu_start
            processes[name] = {
                "pid": tracked.pid,
                "cpu_s": round(used, 2),
                "cpu_pct": round(100 * used / elapsed, 1),
                "rss_mb": round(rss / 2**20, 1),
                "rss_max_mb": round(max(tracked.rss_max, rss) / 2**20, 1),
            }
        busy, steal = {}, {}
        for name, end in cpu_times().items():
            start = self._cpus_start.get(name, end)
            total = max(end[1] - start[1], 1)
            busy[name] = round(100 * (end[0] - start[0]) / total, 1)
            steal[name] = round(100 * (end[2] - start[2]) / total, 1)
        return {"elapsed_s": round(elapsed, 2), "processes": processes, "cpu_busy_pct": busy, "cpu_steal_pct": steal}
