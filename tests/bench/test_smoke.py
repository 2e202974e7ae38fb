"""A small run of the benchmark harness (bench/) against servers it starts itself: the app on
this run's MariaDB database with a private Redis and the SQLite chat log, and the baseline.
The full scenarios are `bench/run` (bench/README.md); this only keeps the harness working."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from bench import machine, report
from bench.stack import ROOT, Stack, StackConfig
from tests.support.servers import server_env

CLIENTS, ROOMS = 6, 2


def run_loadgen(stack: Stack) -> dict:
    argv = [sys.executable, "-m", "bench.loadgen", "run", "--target", stack.target, "--label", "smoke"]
    argv += ["--clients", str(CLIENTS), "--rooms", str(ROOMS), "--rate", "2", "--duration", "2", "--drain", "10"]
    argv += ["--warmup", "1"]
    argv += [f"--url={url}" for url in stack.urls]
    argv += [f"--watch={name}={pid}" for name, pid in stack.pids.items()]
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, result.stdout
    return lines[0]


@pytest.fixture
def config(tmp_path) -> StackConfig:
    # Not pinned: the suite shares the machine; pinning is for measurements.
    return StackConfig(database_url="unused", log_dir=tmp_path, server_cpus=None)


def assert_nothing_lost(line: dict) -> None:
    assert line["offered"] > 0
    assert line["acked"] == line["offered"]
    assert line["errors"] == {}
    assert line["unanswered"] == 0
    # Every member of the room gets every message, the sender included.
    assert line["deliveries_expected"] == line["offered"] * (CLIENTS // ROOMS)
    assert line["deliveries_received"] == line["deliveries_expected"]
    assert line["lost"] == line["duplicated"] == line["out_of_order"] == 0
    assert line["latency_ms"]["p50"] is not None


def test_a_small_run_of_the_app_loses_nothing_and_stores_each_message_once(transactional_db, config):
    config.database_url = server_env()["DATABASE_URL"]
    with Stack(config, target="app", processes=1) as stack:
        line = run_loadgen(stack)

    assert_nothing_lost(line)
    assert line["seq_regressions"] == 0
    assert line["chatlog_check"] == {
        "ok": True,
        "stored": line["acked"],
        "seq_gaps": 0,
        "acked_missing": 0,
        "stored_twice": 0,
        "seq_mismatch": 0,
        "stored_unacked": 0,
    }
    assert line["processes"]["app-0"]["rss_mb"] > 0
    assert "loadgen" in line["processes"]

    meta = machine.machine_and_versions(
        args=argparse.Namespace(chatlog="sqlite", layer="core", server="daphne", server_cpus="", loadgen_cpus="",
                                server_policy="other", env=[]),
        argv=["--quick"], started="now", database_url=config.database_url,
    )  # fmt: skip
    text = report.render(meta=meta, results={("steady", "app"): [line]}, quick=True, run_dir=config.log_dir)
    assert "| app |" in text and "ok, " in text


@pytest.mark.parametrize("target, layer", [("baseline", "pubsub"), ("tutorial", "core")])
def test_the_references_answer_the_same_load_generator(config, target, layer):
    config.layer = layer
    with Stack(config, target=target, processes=1) as stack:
        line = run_loadgen(stack)

    assert_nothing_lost(line)
    assert line["target"] == target
    assert line["chatlog_check"] is None  # the tutorial's consumer stores nothing


def test_the_report_compares_the_app_with_both_references_and_shows_the_disk(tmp_path):
    def capacity(target: str, deliveries: float) -> dict:
        return {
            "kind": "capacity", "target": target, "clients": 200, "rooms": 20, "servers": 1, "max_p99_ms": 100,
            "capacity_deliveries_per_s": deliveries, "capacity_messages_per_s": deliveries / 10,
            "capacity_rate_per_client": deliveries / 2000,
        }  # fmt: skip

    meta = machine.machine_and_versions(
        args=argparse.Namespace(chatlog="sqlite", layer="pubsub", server="daphne", server_cpus="0", loadgen_cpus="1",
                                server_policy="batch", env=[]),
        argv=[], started="now", database_url="unused",
    )  # fmt: skip
    meta["chatlog_dir"] = str(tmp_path)
    meta["fsync_ms"] = {"disk": machine.fsync_latency(tmp_path, samples=5, pause=0)}
    results = {("capacity-1", t): [capacity(t, d)] for t, d in (("app", 9000), ("baseline", 3000), ("tutorial", 1800))}
    text = report.render(meta=meta, results=results, quick=False, run_dir=tmp_path)
    assert (
        "| capacity, 1 process | deliveries/s (p99 <= 100 ms, nothing lost) | 9000 | 3000 | 3.00x | 1800 | 5.00x |"
        in text
    )
    assert "fsync of a 4 KiB append | this machine's disk" in text
    assert "servers under the batch scheduling policy" in text
