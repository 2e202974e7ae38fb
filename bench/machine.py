"""What the report says about the machine and the software it measured."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import time
from pathlib import Path

from bench.stack import ROOT, mariadb_version

PACKAGES = ["Django", "channels", "channels-redis", "redis", "hiredis", "daphne", "Twisted", "uvloop", "uvicorn",
            "websockets", "pymongo", "mongoeco", "mysqlclient"]  # fmt: skip


def _command(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False).stdout.strip()  # noqa: S603
    except OSError:
        return ""


def _first(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[-1].split("=", 1)[-1].strip().strip('"')
    except OSError:
        pass
    return "?"


def fsync_latency(directory: Path, *, samples: int = 300, pause: float = 0.01) -> dict:
    """What a durable commit waits for there: append 4 KiB and fsync, `samples` times, `pause`
    apart (like a steady trickle of commits). p50/p99/max in ms."""
    path = Path(directory) / f".fsync-probe-{os.getpid()}"
    waits = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for _ in range(samples):
            os.write(fd, b"\0" * 4096)
            started = time.perf_counter()
            os.fsync(fd)
            waits.append(time.perf_counter() - started)
            time.sleep(pause)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    waits.sort()

    def ms(q: float) -> float:
        return round(waits[min(len(waits) - 1, int(q * len(waits)))] * 1000, 2)

    return {"directory": str(directory), "p50": ms(0.5), "p99": ms(0.99), "max": round(waits[-1] * 1000, 2)}


def _not_the_report(args) -> list[str]:
    """A git pathspec leaving out the report this run rewrites: an earlier run's copy of it is
    not a change to what is measured (it made a report say "+ local changes" of itself)."""
    report = (getattr(args, "out", None) or ROOT / "docs" / "performance.md").resolve()
    if not report.is_relative_to(ROOT):
        return []
    return [f":(exclude){report.relative_to(ROOT)}"]


def machine_and_versions(*, args, argv: list[str], started: str, database_url: str) -> dict:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    dirty = _command(["git", "-C", str(ROOT), "status", "--porcelain", "--", ".", *_not_the_report(args)])
    try:
        mariadb = mariadb_version(database_url)
    except Exception as error:  # the report still says what it can
        mariadb = f"? ({error})"
    return {
        "started": started,
        "command": " ".join(["bench/run", *argv]),
        "cpu": f"{_first('/proc/cpuinfo', 'model name')} x {os.cpu_count()}",
        "memory": f"{int(_first('/proc/meminfo', 'MemTotal').split()[0]) / 2**20:.0f} GB",
        "os": f"{_first('/etc/os-release', 'PRETTY_NAME')}, Linux {platform.release()}",
        "load_before": " ".join(f"{value:.2f}" for value in os.getloadavg()),
        "python": platform.python_version(),
        "versions": versions,
        "redis_server": _command(["redis-server", "--version"]).split(" sha=")[0],
        "mariadb": mariadb,
        "commit": _command(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
        + (" + local changes" if dirty else ""),
        "chatlog": args.chatlog,
        "layer": args.layer,
        "server": args.server,
        "server_cpus": args.server_cpus or "not pinned",
        "loadgen_cpus": args.loadgen_cpus or "not pinned",
        "own_cores": getattr(args, "own_cores", None),
        "server_policy": args.server_policy,
        "extra_env": args.env,
        "tunings": getattr(args, "tunings", "all"),
        "compare": getattr(args, "compare", None),
    }
