"""A small run of the benchmark harness (bench/) against servers it starts itself: the app on
this run's MariaDB database with a private Redis and the SQLite chat log, and the baseline.
The full scenarios are `bench/run` (bench/README.md); this only keeps the harness working."""

from __future__ import annotations

import argparse
import json
import os
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


def report_meta(tmp_path, *, server_policy: str = "other", chatlog_dir: str = "") -> dict:
    """The set-up of a full run on the default pinning, as bench/run gives it to the report."""
    meta = machine.machine_and_versions(
        args=argparse.Namespace(chatlog="sqlite", layer="pubsub", server="daphne", server_cpus="0", loadgen_cpus="1",
                                server_policy=server_policy, env=[]),
        argv=[], started="now", database_url="unused",
    )  # fmt: skip
    meta["chatlog_dir"] = chatlog_dir
    meta["fsync_ms"] = {"disk": machine.fsync_latency(tmp_path, samples=5, pause=0)}
    return meta


def test_the_report_compares_the_app_with_both_references_and_shows_the_disk(tmp_path):
    def capacity(target: str, deliveries: float) -> dict:
        return {
            "kind": "capacity", "target": target, "clients": 200, "rooms": 20, "servers": 1, "max_p99_ms": 100,
            "capacity_deliveries_per_s": deliveries, "capacity_messages_per_s": deliveries / 10,
            "capacity_rate_per_client": deliveries / 2000,
        }  # fmt: skip

    meta = report_meta(tmp_path, server_policy="batch", chatlog_dir=str(tmp_path))
    results = {("capacity-1", t): [capacity(t, d)] for t, d in (("app", 9000), ("baseline", 3000), ("tutorial", 1800))}
    text = report.render(meta=meta, results=results, quick=False, run_dir=tmp_path)
    assert (
        "| capacity, 1 process | deliveries/s (p99 <= 100 ms, nothing lost) | 9000 | 3000 | 3.00x | 1800 | 5.00x |"
        in text
    )
    assert "fsync of a 4 KiB append | this machine's disk" in text
    assert "servers under the batch scheduling policy" in text


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="a core per process needs two CPUs")
def test_a_core_per_process_pins_each_server_to_its_own_cpu_and_shares_the_rooms(transactional_db, config):
    first, second = sorted(os.sched_getaffinity(0))[:2]
    config.database_url = server_env()["DATABASE_URL"]
    config.own_cores, config.service_cpus = (str(first), str(second)), str(second)
    with Stack(config, target="app", processes=2) as stack:
        pinned_to = {name: os.sched_getaffinity(pid) for name, pid in stack.pids.items()}
        line = run_loadgen(stack)

    assert pinned_to == {"redis": {second}, "app-0": {first}, "app-1": {second}}
    # Each room's 3 members alternate between the servers: 2 of each room's on app-0.
    assert line["clients_per_server"] == [4, 2]
    assert_nothing_lost(line)
    # app-0's CPU per delivery: its CPU over the deliveries its clients received, 2 in 3.
    own = line["deliveries_received"] * 4 / 6
    assert report.first_server_us_per_delivery(line) == round(line["processes"]["app-0"]["cpu_s"] * 1e6 / own, 1)


def test_the_report_gives_the_per_core_capacity_two_processes_keep(tmp_path):
    def run(scenario: str, servers: int, app0_cpu_s: float) -> dict:
        return {
            "kind": "run", "target": "app", "label": scenario, "servers": servers, "clients": 200 * servers,
            "rooms": 20 * servers, "clients_per_server": [200] * servers, "rate_per_client": 3,
            "offered_per_s": 600 * servers, "deliveries_per_s": 6000 * servers,
            "deliveries_received": 180_000 * servers, "processes": {"app-0": {"cpu_s": app0_cpu_s, "cpu_pct": 40}},
            "latency_ms": {}, "ack_latency_ms": {}, "lost": 0, "duplicated": 0, "out_of_order": 0, "errors": {},
            "chatlog_check": None, "cpu_busy_pct": {"cpu0": 40.0, "cpu1": 80.0},
        }  # fmt: skip

    meta = report_meta(tmp_path)
    # app-0's 180,000 deliveries: alone in 9 s (50 µs each); beside a process that shares no room
    # in 9.5 s; beside one that shares the rooms in 10 s. Kept: against the control, 9.5 / 10.
    results = {
        ("own-core-1", "app"): [run("own-core-1", 1, 9.0)],
        ("own-core-2-apart", "app"): [run("own-core-2-apart", 2, 9.5)],
        ("own-core-2", "app"): [run("own-core-2", 2, 10.0)],
    }
    text = report.render(meta=meta, results=results, quick=False, run_dir=tmp_path)
    assert "| a core per process |" in text and "| 50.0 / 52.8 / 55.6 (95%) |" in text
    assert "(per-core capacity kept): 50.0 / 52.8 / 55.6 (95%)." in text
    # Without the control, against the process alone.
    del results[("own-core-2-apart", "app")]
    text = report.render(meta=meta, results=results, quick=False, run_dir=tmp_path)
    assert "| 50.0 / - / 55.6 (90%) |" in text
