"""The benchmark runner (`bench/run` calls it): for each scenario, start fresh servers of the
app and of the baseline, run the load generator against each, and write one markdown report.

Scenarios (full size; `--quick` shrinks them to seconds, to check the harness):
  steady       200 clients in 20 rooms, 1 message/s each, 30 s
  steady-2     the same over 2 processes sharing the rooms: what a second process costs per delivery
  steady-2-apart  the same over 2 processes that share no room: what taking turns on one core costs
  capacity-1   the highest deliveries/s with p99 <= 100 ms and nothing lost, one server process
  capacity-2   the same with two processes sharing the rooms through Redis
  own-core-1   one process alone on CPU 0 (Redis beside the load generator), below capacity
  own-core-2   two processes sharing the rooms, one per core, each with own-core-1's load: what a
               process that has a core of its own pays for a second one (scale-out, per core)
  own-core-2-apart  the control: the same with no room shared
  idle-1000    1,000 idle sockets: memory per 1,000, then does every socket still receive?
  idle-10000   the same with 10,000 sockets
  overload     twice capacity-1's rate for 30 s: what senders see; nothing acknowledged lost
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from bench import machine, report
from bench.stack import (
    PYTHON,
    ROOT,
    Stack,
    StackConfig,
    create_database,
    drop_database,
    env_pairs,
    mariadb_pid,
    pinned,
)

# app: this project. baseline: the Channels tutorial's consumer on the app's server and layer.
# tutorial: the same consumer exactly as the tutorial runs it, on channels-redis' core layer.
TARGETS = ("app", "baseline", "tutorial")
EVERY_TARGET, APP_AND_BASELINE, APP_ONLY = TARGETS, ("app", "baseline"), ("app",)
PYSPY = str(Path(PYTHON).with_name("py-spy"))
PROFILE_AFTER_SECONDS = 10
TMPFS = Path("/dev/shm")  # noqa: S108 (only ever a parent of mkdtemp)


@dataclass(frozen=True)
class Scenario:
    name: str
    mode: str  # loadgen mode
    processes: int
    options: dict  # loadgen options
    timeout: float  # seconds before the load generator is considered stuck
    targets: tuple[str, ...] = APP_AND_BASELINE
    chatlog_on_disk: bool = False  # the app's SQLite chat log in the run directory even without --chatlog-on-disk
    own_cores: bool = False  # server i on --own-cores[i]; Redis and mongoeco with the load generator


def scenarios(
    *,
    quick: bool,
    step_seconds: float,
    steady_seconds: float,
    overload_seconds: float,
    steady_rate: float = 1,
    own_core_rate: float = 1.5,
) -> list[Scenario]:
    if quick:
        crowd = {"clients": 20, "rooms": 4, "warmup": 1}
        capacity = {**crowd, "start-rate": 1, "duration": 2, "drain": 5, "max-steps": 4}
        idle = {"hold": 3, "duration": 1, "drain": 10}
        steady = {**crowd, "rate": 1, "duration": 3, "drain": 5}
        two = {**steady, "clients": 40, "rooms": 8}
        return [
            Scenario("steady", "run", 1, steady, 120, EVERY_TARGET),
            Scenario("steady-disk", "run", 1, steady, 120, APP_ONLY, True),
            Scenario("steady-2", "run", 2, steady, 120, APP_ONLY),
            Scenario("steady-2-apart", "run", 2, {**steady, "spread": "rooms"}, 120, APP_ONLY),
            Scenario("capacity-1", "capacity", 1, capacity, 300, EVERY_TARGET),
            Scenario("capacity-2", "capacity", 2, capacity, 300),
            Scenario("own-core-1", "run", 1, steady, 120, APP_ONLY, own_cores=True),
            Scenario("own-core-2", "run", 2, two, 120, APP_ONLY, own_cores=True),
            Scenario("own-core-2-apart", "run", 2, {**two, "spread": "rooms"}, 120, APP_ONLY, own_cores=True),
            Scenario("idle-1000", "idle", 1, {"clients": 100, "rooms": 5, **idle}, 300),
            Scenario("idle-10000", "idle", 1, {"clients": 300, "rooms": 10, **idle}, 300),
            Scenario("overload", "run", 1, {**crowd, "duration": 3, "drain": 30}, 300),
        ]
    crowd = {"clients": 200, "rooms": 20}
    capacity = {**crowd, "start-rate": 0.5, "duration": step_seconds, "drain": 15, "max-steps": 12}
    # Idle longer than redis-py 8's 5 s socket timeout (docs/dependencies.md), then one message per room.
    idle = {"hold": 15, "duration": 2}
    steady = {**crowd, "rate": steady_rate, "duration": steady_seconds, "drain": 10}
    own_core = {**steady, "rate": own_core_rate}
    own_core_2 = {**own_core, "clients": 400, "rooms": 40}
    return [
        Scenario("steady", "run", 1, steady, 600, EVERY_TARGET),
        Scenario("steady-disk", "run", 1, steady, 600, APP_ONLY, chatlog_on_disk=True),
        # Beside steady: what a second process that shares the rooms costs per delivery, and what
        # two processes cost that share no room (only the core: the other half of the cost).
        Scenario("steady-2", "run", 2, steady, 600, APP_ONLY),
        Scenario("steady-2-apart", "run", 2, {**steady, "spread": "rooms"}, 600, APP_ONLY),
        Scenario("capacity-1", "capacity", 1, capacity, 1800, EVERY_TARGET),
        Scenario("capacity-2", "capacity", 2, capacity, 1800),
        # Per-process load equal in both: own-core-2 has twice the clients and rooms, so each of
        # its processes makes as many deliveries as own-core-1's one, and app-0 has CPU 0 alone.
        Scenario("own-core-1", "run", 1, own_core, 600, APP_ONLY, own_cores=True),
        Scenario("own-core-2", "run", 2, own_core_2, 600, APP_ONLY, own_cores=True),
        # The control: app-0 does own-core-1's work exactly; only the other CPU's load differs.
        Scenario("own-core-2-apart", "run", 2, {**own_core_2, "spread": "rooms"}, 600, APP_ONLY, own_cores=True),
        Scenario("idle-1000", "idle", 1, {"clients": 1000, "rooms": 10, **idle, "drain": 30}, 900),
        Scenario("idle-10000", "idle", 1, {"clients": 10000, "rooms": 100, **idle, "drain": 60}, 1800),
        Scenario("overload", "run", 1, {**crowd, "duration": overload_seconds, "drain": 180}, 1200),
    ]


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def profiled(stack: Stack, scenario: Scenario, *, run_dir: Path, enabled: bool) -> Iterator[None]:
    """Sample every server process with py-spy while the load runs, from PROFILE_AFTER_SECONDS
    on (collapsed stacks, one file per process: `profile-<scenario>-<server>.txt`; read them
    with `python -m bench.profile_summary`). Sampling pauses the process: latencies measured
    in a profiled run are not comparable to others."""
    if not enabled:
        yield
        return
    spies: list[subprocess.Popen] = []

    def start() -> None:
        for server in stack.servers:
            output = run_dir / f"profile-{scenario.name}-{server.name}.txt"
            # --gil: samples of Python at work only. Without it a sample inside a syscall counts
            # too, and a send to Redis pinned to the same CPU then absorbs Redis's own work.
            argv = [PYSPY, "record", "--gil", "--format", "raw", "--rate", "100", "--pid", str(server.pid)]
            argv += ["-o", str(output)]
            spies.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))  # noqa: S603

    # Sign-ups and connects come first; sample the load, not the set-up.
    timer = threading.Timer(PROFILE_AFTER_SECONDS, start)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
        for spy in spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for spy in spies:
            spy.wait(timeout=60)


def run_loadgen(
    stack: Stack, scenario: Scenario, *, options: dict, cpus: str | None, run_dir: Path, profile: bool = False
) -> list[dict]:
    kind = "app" if stack.is_app else stack.target
    argv = [PYTHON, "-m", "bench.loadgen", scenario.mode, "--target", kind, "--label", scenario.name]
    for url in stack.urls:
        argv += ["--url", url]
    watched = dict(stack.pids)
    if stack.is_app and stack.config.database_url.startswith(("mysql", "mariadb")) and mariadb_pid():
        watched["mariadb"] = mariadb_pid()
    for name, pid in watched.items():
        argv += ["--watch", f"{name}={pid}"]
    for key, value in options.items():
        argv += [f"--{key}", str(value)]
    log(f"{scenario.name} / {stack.target}: {' '.join(argv[3:])}")
    with profiled(stack, scenario, run_dir=run_dir, enabled=profile and stack.target == "app"):
        result = subprocess.run(  # noqa: S603 (our own argv)
            pinned(argv, cpus), cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=scenario.timeout, check=False
        )
    lines = [
        {**json.loads(line), "target": stack.target} for line in result.stdout.splitlines() if line.startswith("{")
    ]
    with open(run_dir / "results.jsonl", "a") as out:
        for line in lines:
            stack_info = {"server": stack.config.server, "layer": stack.config.layer, "chatlog": stack.config.chatlog}
            out.write(json.dumps({"scenario": scenario.name, **stack_info, **line}) + "\n")
    if result.returncode != 0 or not lines:
        raise RuntimeError(f"load generator failed ({scenario.name}, {stack.target}): exit {result.returncode}")
    return lines


def overload_options(scenario: Scenario, results: dict, target: str) -> dict | None:
    capacity = results.get(("capacity-1", target))
    rate = capacity and capacity[-1].get("capacity_rate_per_client")
    if not rate:
        return None
    return {**scenario.options, "rate": round(2 * rate, 3)}


def stack_config(
    config: StackConfig, scenario: Scenario, target: str, *, own_cores: tuple[str, ...], service_cpus: str | None
) -> StackConfig:
    if scenario.own_cores:
        config = replace(config, own_cores=own_cores, service_cpus=service_cpus)
    if target == "tutorial":
        return replace(config, layer="core", extra_env={})
    if target == "baseline":
        return replace(config, extra_env={})
    return replace(config, chatlog_dir=None) if scenario.chatlog_on_disk else config


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    every = (
        "steady,steady-disk,steady-2,steady-2-apart,capacity-1,capacity-2,own-core-1,own-core-2,own-core-2-apart,"
        "idle-1000,idle-10000,overload"
    )
    parser.add_argument("--scenarios", default=every)
    parser.add_argument("--chatlog", choices=["sqlite", "mongo", "mysql"], default="sqlite",
                        help="the embedded SQLite file, MongoDB on the mongoeco wire server, or MariaDB")  # fmt: skip
    parser.add_argument("--layer", choices=["core", "pubsub"], default="pubsub", help="channels-redis layer")
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--chatlog-on-disk", action="store_true",
                        help="the app's SQLite chat log in the run directory in every scenario; by default "
                             "it is on tmpfs (the server's cost, not the disk's fsync) but in steady-disk")  # fmt: skip
    parser.add_argument("--server-cpus", default="0", help="taskset CPU list for servers ('' for none)")
    parser.add_argument("--loadgen-cpus", default="1", help="taskset CPU list for the load generator")
    parser.add_argument("--own-cores", default="0,1",
                        help="own-core-*: the CPU of each server process, in turn (Redis: --loadgen-cpus)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="tiny scenarios: checks the harness, measures nothing")
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help="any of app,baseline,tutorial (default: all; each scenario runs those it has)",
    )
    parser.add_argument("--compare", metavar="REV",
                        help="also run the app as of git revision REV (a worktree in the run dir) wherever the app "
                             "runs: the report's `previous` column")  # fmt: skip
    parser.add_argument("--server-python", default=os.environ.get("BENCH_SERVER_PYTHON", PYTHON),
                        help="the servers' interpreter (bench/run: .venv-serve, requirements.txt only)")  # fmt: skip
    parser.add_argument("--tunings", default="all",
                        help="CHAT_SERVER_TUNINGS for the app's servers (chatproject.server_tunings): all, none, "
                             "or a list")  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="py-spy every app server; files in the run dir")
    parser.add_argument("--out", type=Path, help="report path (default docs/performance.md; --quick: the run dir)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="a database to create, migrate and drop (bench/run sets one)")  # fmt: skip
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--step-seconds", type=float, default=10, help="length of each capacity step")
    parser.add_argument("--steady-seconds", type=float, default=30)
    parser.add_argument("--steady-rate", type=float, default=1,
                        help="messages/s per client in `steady` (profile near capacity with 2)")  # fmt: skip
    parser.add_argument("--own-core-rate", type=float, default=1.5,
                        help="messages/s per client in the own-core-* scenarios")  # fmt: skip
    parser.add_argument("--overload-seconds", type=float, default=30)
    parser.add_argument("--server-policy", choices=["other", "batch"], default="other",
                        help="the servers' scheduling policy (batch: chrt --batch 0), every target's")  # fmt: skip
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for the app's servers, e.g. DATABASE_CONN_MAX_AGE=60")  # fmt: skip
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or BENCH_DATABASE_URL) is required; bench/run sets it")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    run_dir = ROOT / "var" / "bench" / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    out = args.out or (run_dir / "performance.md" if args.quick else ROOT / "docs" / "performance.md")
    wanted = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    if "overload" in wanted and "capacity-1" not in wanted:
        wanted.insert(0, "capacity-1")  # overload runs at twice its rate
    plan = [s for s in scenarios(quick=args.quick, step_seconds=args.step_seconds,
                                 steady_seconds=args.steady_seconds, overload_seconds=args.overload_seconds,
                                 steady_rate=args.steady_rate, own_core_rate=args.own_core_rate)
            if s.name in wanted]  # fmt: skip
    config = StackConfig(
        database_url=args.database_url,
        log_dir=run_dir,
        chatlog=args.chatlog,
        layer=args.layer,
        server=args.server,
        server_cpus=args.server_cpus or None,
        server_policy=args.server_policy,
        extra_env={"CHAT_SERVER_TUNINGS": args.tunings, **env_pairs(args.env)},
        previous_root=checkout(args.compare, run_dir) if args.compare else None,
        server_python=args.server_python,
    )
    with tmpfs_directory(enabled=args.chatlog == "sqlite" and not args.chatlog_on_disk) as chatlog_dir:
        config = replace(config, chatlog_dir=chatlog_dir)
        return run_plan(args, plan=plan, config=config, run_dir=run_dir, stamp=stamp, out=out)


def checkout(revision: str, run_dir: Path) -> Path:
    """A worktree of `revision` in the run directory, for the `previous` target. It runs with this
    checkout's virtualenv, so the revision must work with today's requirements."""
    path = run_dir / f"previous-{revision}"
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(path), revision], cwd=ROOT, check=True)  # noqa: S603, S607
    return path


def targets_of(scenario: Scenario, args: argparse.Namespace) -> list[str]:
    """The targets a scenario runs: those it has and `--targets` names, with `previous` after
    the app when comparing with another revision."""
    wanted = args.targets.split(",")
    targets = [name for name in scenario.targets if name in wanted]
    if args.compare and "app" in targets:
        targets.insert(targets.index("app") + 1, "previous")
    return targets


@contextlib.contextmanager
def tmpfs_directory(*, enabled: bool) -> Iterator[Path | None]:
    """A private directory in memory (/dev/shm) for the chat log, removed at the end; None when
    not enabled or there is no /dev/shm."""
    if not enabled or not TMPFS.is_dir():
        yield None
        return
    # mkdtemp: a new directory only this user can enter, so a shared /dev/shm is no risk.
    with tempfile.TemporaryDirectory(dir=TMPFS, prefix="chat-bench-") as directory:
        yield Path(directory)


def run_plan(args: argparse.Namespace, *, plan: list[Scenario], config: StackConfig, run_dir: Path, stamp: str,
             out: Path) -> int:  # fmt: skip
    meta = machine.machine_and_versions(args=args, argv=sys.argv[1:], started=stamp, database_url=args.database_url)
    meta["chatlog_dir"] = str(config.chatlog_dir or "")
    # What a durable commit waits for on this machine's disk, and where the chat log is.
    meta["fsync_ms"] = {"disk": machine.fsync_latency(run_dir)}
    if config.chatlog_dir is not None:
        meta["fsync_ms"]["chatlog"] = machine.fsync_latency(config.chatlog_dir)
    (run_dir / "meta.json").write_text(json.dumps(meta, indent=1))
    log(f"writing logs and raw results to {run_dir}")
    create_database(args.database_url, log_dir=run_dir)
    results: dict[tuple[str, str], list[dict]] = {}
    own_cores = tuple(cpu.strip() for cpu in args.own_cores.split(","))
    try:
        for scenario in plan:
            for target in targets_of(scenario, args):
                options = scenario.options
                if scenario.name == "overload":
                    options = overload_options(scenario, results, target)
                    if options is None:
                        log(f"overload / {target}: no capacity to double; skipped")
                        continue
                target_config = stack_config(
                    config, scenario, target, own_cores=own_cores, service_cpus=args.loadgen_cpus or None
                )
                with Stack(target_config, target=target, processes=scenario.processes) as stack:
                    results[(scenario.name, target)] = run_loadgen(
                        stack,
                        scenario,
                        options=options,
                        cpus=args.loadgen_cpus or None,
                        run_dir=run_dir,
                        profile=args.profile,
                    )
    finally:
        if not args.keep_database:
            drop_database(args.database_url)
        if config.previous_root is not None:
            remove = ["git", "worktree", "remove", "--force", str(config.previous_root)]
            subprocess.run(remove, cwd=ROOT, check=False)  # noqa: S603
        text = report.render(meta=meta, results=results, quick=args.quick, run_dir=run_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        log(f"report: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
