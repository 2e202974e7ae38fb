"""The load generator: one asyncio process, many WebSocket clients, one JSON line per run.

    python -m bench.loadgen run      --url http://127.0.0.1:8001 --clients 200 --rooms 20 --rate 1 --duration 30
    python -m bench.loadgen capacity --url ... --clients 200 --rooms 20 --start-rate 0.5
    python -m bench.loadgen idle     --url ... --clients 1000 --rooms 10 --users 200 --hold 15

`--target app` signs up accounts through the API, creates public rooms through the room form
and checks the stored chat log through the history API after each run. `--target baseline`
talks to bench/baseline (no accounts, no storage). `--watch NAME=PID` adds a server process
to the CPU/RSS figures. See bench/README.md for every field of the output.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench import phases, webapi
from bench.client import BenchClient

SIGNUP_THREADS = 8
WARMUP_RATE = 0.5  # messages/s per client during the warm-up


def log(message: str) -> None:
    print(f"[loadgen] {message}", file=sys.stderr, flush=True)


def emit(line: dict) -> None:
    print(json.dumps(line), flush=True)


def raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def ws_url(http_url: str, slug: str) -> str:
    return f"{http_url.replace('http', 'ws', 1)}/ws/rooms/{slug}/"


class Setup:
    """Accounts and rooms for one invocation; `tag` keeps names and client_ids unique."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.tag = args.tag or secrets.token_hex(4)
        self.accounts: list[webapi.Account] = []
        self.slugs: list[str] = []

    def prepare(self) -> None:
        args = self.args
        if args.target != "app":  # the tutorial consumers: no accounts, any room name
            self.slugs = [f"b{self.tag}-{room}" for room in range(args.rooms)]
            return
        users = args.users or args.clients
        password = f"Bench-{secrets.token_hex(8)}"
        started = time.monotonic()

        def sign_up(index: int) -> webapi.Account:
            url = args.url[index % len(args.url)]
            return webapi.signup(url, username=f"b{self.tag}u{index}", password=password)

        with ThreadPoolExecutor(SIGNUP_THREADS) as pool:
            self.accounts = list(pool.map(sign_up, range(users)))
        session = webapi.BrowserSession(args.url[0])
        session.log_in(self.accounts[0])
        self.slugs = [session.create_room(f"bench {self.tag} {room}") for room in range(args.rooms)]
        log(f"signed up {users} accounts and created {args.rooms} rooms in {time.monotonic() - started:.1f} s")

    def clients(self, count: int) -> list[BenchClient]:
        """Client i joins room i % R. With `--spread members` the members of a room alternate
        between the servers (every room is shared); with `--spread rooms` room r lives on
        server r % P (the servers share no room)."""
        args = self.args
        clients = []
        for index in range(count):
            room = index % args.rooms
            server = args.url[self.server_of(index)]
            token = self.accounts[index % len(self.accounts)].token if self.accounts else None
            clients.append(
                BenchClient(index=index, room=room, url=ws_url(server, self.slugs[room]), token=token, tag=self.tag)
            )
        return clients

    def server_of(self, index: int) -> int:
        """Which --url client `index` talks to (see `clients`)."""
        args = self.args
        room = index % args.rooms
        return (room if args.spread == "rooms" else index // args.rooms) % len(args.url)

    def describe(self) -> dict:
        args = self.args
        placed = [self.server_of(index) for index in range(args.clients)]
        return {
            "label": args.label,
            "target": args.target,
            "servers": len(args.url),
            "clients": args.clients,
            "rooms": args.rooms,
            "clients_per_server": [placed.count(server) for server in range(len(args.url))],
            "users": len(self.accounts) or None,
        }


async def open_fleet(setup: Setup, args: argparse.Namespace) -> tuple[phases.Fleet, dict]:
    await asyncio.to_thread(setup.prepare)
    clients = setup.clients(args.clients)
    pids = dict(pair.split("=", 1) for pair in args.watch)
    fleet = phases.Fleet(
        clients=clients, rooms=args.rooms, seq_ordered=args.target == "app", pids={k: int(v) for k, v in pids.items()}
    )
    connect = await phases.connect_all(clients, concurrency=args.connect_concurrency)
    log(f"connected {connect['connections']}/{len(clients)} in {connect['total_s']} s")
    return fleet, connect


async def checked_phase(setup: Setup, fleet: phases.Fleet, *, rate: float, args, cursors: dict) -> dict:
    result, tally = await phases.send_phase(
        fleet, senders=fleet.clients, rate=rate, duration=args.duration, drain=args.drain
    )
    result["rate_per_client"] = rate
    if args.target == "app" and not args.no_log_check:
        result["chatlog_check"] = await phases.check_chatlog(
            base_url=args.url[0], token=setup.accounts[0].token, slugs=setup.slugs, tally=tally, cursors=cursors
        )
    else:
        result["chatlog_check"] = None
    return result


def failures(result: dict, *, max_p99_ms: float) -> list[str]:
    """Why a step does not count toward capacity (empty when it does)."""
    reasons = []
    for field in ("lost", "duplicated", "out_of_order", "unanswered", "closed"):
        if result[field]:
            reasons.append(f"{field}={result[field]}")
    if result["seq_regressions"]:
        reasons.append(f"seq_regressions={result['seq_regressions']}")
    if result["errors"]:
        reasons.append(f"errors={result['errors']}")
    p99 = result["latency_ms"]["p99"]
    if p99 is None or p99 > max_p99_ms:
        reasons.append(f"p99={p99}ms")
    if result["offered_per_s"] < 0.95 * result["intended_per_s"]:
        reasons.append("could not offer the intended rate")
    check = result.get("chatlog_check")
    if check is not None and not check["ok"]:
        reasons.append("chat log check failed")
    return reasons


async def warm_up(setup: Setup, fleet: phases.Fleet, *, args: argparse.Namespace, cursors: dict) -> None:
    """An unmeasured phase first, for both targets alike: a server's first messages pay for
    cold caches, connection pools and script loading, which a running server has long paid."""
    if args.warmup <= 0:
        return
    warm = argparse.Namespace(**{**vars(args), "duration": args.warmup, "drain": max(args.drain, 10.0)})
    result = await checked_phase(setup, fleet, rate=WARMUP_RATE, args=warm, cursors=cursors)
    log(f"warm-up: {result['deliveries_received']}/{result['deliveries_expected']} deliveries, not measured")


async def mode_run(args: argparse.Namespace) -> int:
    setup = Setup(args)
    fleet, connect = await open_fleet(setup, args)
    cursors: dict[int, int] = {}
    try:
        await warm_up(setup, fleet, args=args, cursors=cursors)
        result = await checked_phase(setup, fleet, rate=args.rate, args=args, cursors=cursors)
    finally:
        await asyncio.gather(*(client.close() for client in fleet.clients))
    emit({"kind": "run", **setup.describe(), "duration_s": args.duration, "connect": connect, **result})
    return 0


async def mode_capacity(args: argparse.Namespace) -> int:
    """Ramp the per-client rate by `--factor` while steps pass, then bisect between the last
    pass and the first failure. Capacity: the best passing step's deliveries/s."""
    setup = Setup(args)
    fleet, connect = await open_fleet(setup, args)
    cursors: dict[int, int] = {}
    best, first_failure, steps = None, None, []
    low, high, rate = None, None, args.start_rate
    try:
        await warm_up(setup, fleet, args=args, cursors=cursors)
        for step in range(args.max_steps):
            result = await checked_phase(setup, fleet, rate=rate, args=args, cursors=cursors)
            reasons = failures(result, max_p99_ms=args.max_p99_ms)
            line = {"kind": "step", **setup.describe(), "step": step, "duration_s": args.duration,
                    "passed": not reasons, "why_not": reasons, **result}  # fmt: skip
            emit(line)
            steps.append({key: line[key] for key in ("rate_per_client", "passed", "deliveries_per_s", "why_not")})
            if not reasons:
                low = rate
                if best is None or result["deliveries_per_s"] > best["deliveries_per_s"]:
                    best = line
            else:
                high = rate
                if first_failure is None or rate < first_failure["rate_per_client"]:
                    first_failure = line
                if result["loadgen_bound"] and low is not None:
                    break
            if low is not None and high is not None:
                if (high - low) / low <= args.precision:
                    break
                rate = (low + high) / 2
            else:
                rate = rate * args.factor if high is None else rate / args.factor
    finally:
        await asyncio.gather(*(client.close() for client in fleet.clients))
    emit(
        {
            "kind": "capacity",
            **setup.describe(),
            "max_p99_ms": args.max_p99_ms,
            "connect": connect,
            "capacity_deliveries_per_s": best["deliveries_per_s"] if best else 0,
            "capacity_messages_per_s": best["messages_per_s"] if best else 0,
            "capacity_rate_per_client": best["rate_per_client"] if best else None,
            "best": best,
            "first_failure": first_failure,
            "steps": steps,
        }
    )
    return 0


async def mode_idle(args: argparse.Namespace) -> int:
    """Open many sockets, hold them idle, then send one message per room: does every socket
    still receive? Memory per 1,000 sockets from the servers' RSS before and after."""
    setup = Setup(args)
    await asyncio.to_thread(setup.prepare)
    clients = setup.clients(args.clients)
    pids = {name: int(pid) for name, pid in (pair.split("=", 1) for pair in args.watch)}
    fleet = phases.Fleet(clients=clients, rooms=args.rooms, seq_ordered=args.target == "app", pids=pids)
    # One socket per server first, so what every socket shares (imports, pools) is loaded.
    warm = clients[: len(args.url) * args.rooms : args.rooms] or clients[:1]
    await phases.connect_all(warm, concurrency=len(warm))
    await asyncio.sleep(1)
    rss_before = phases.server_rss(pids)
    rest = [client for client in clients if client not in warm]
    connect = await phases.connect_all(rest, concurrency=args.connect_concurrency)
    log(f"connected {connect['connections'] + len(warm)}/{len(clients)} in {connect['total_s']} s")
    await asyncio.sleep(1)
    rss_after = phases.server_rss(pids)
    opened = connect["connections"] + len(warm)
    per_1000 = {
        name: round((rss_after[name] - rss_before[name]) * 1000 / max(opened, 1), 1)
        for name in pids
        if name.startswith(("app-", "baseline-"))
    }
    hold = await phases.hold_idle(fleet, args.hold)
    senders = clients[: args.rooms]  # one per room
    try:
        result, tally = await phases.send_phase(fleet, senders=senders, rate=1 / args.duration,
                                                duration=args.duration, drain=args.drain)  # fmt: skip
        if args.target == "app" and not args.no_log_check:
            result["chatlog_check"] = await phases.check_chatlog(
                base_url=args.url[0], token=setup.accounts[0].token, slugs=setup.slugs, tally=tally, cursors={}
            )
        else:
            result["chatlog_check"] = None
    finally:
        await asyncio.gather(*(client.close() for client in clients))
    emit(
        {
            "kind": "idle",
            **setup.describe(),
            "connect": {**connect, "connections": opened},
            "rss_before_mb": rss_before,
            "rss_after_mb": rss_after,
            "rss_per_1000_mb": per_1000,
            "idle": hold,
            "every_socket_received": result["lost"] == 0 and result["deliveries_expected"] == opened,
            **result,
        }
    )
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("mode", choices=["run", "capacity", "idle"])
    parser.add_argument("--url", action="append", required=True, help="server base URL (repeat for several)")
    parser.add_argument("--target", choices=["app", "baseline", "tutorial"], default="app")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--users", type=int, default=0, help="accounts to sign up (default: one per client)")
    parser.add_argument("--rate", type=float, default=1.0, help="messages/s per client (run)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of sending per run or step")
    parser.add_argument("--drain", type=float, default=10.0, help="seconds to wait for stragglers after sending")
    spread_help = "over several --url: each room's members alternate between them (members), or each room on one"
    parser.add_argument("--spread", choices=["members", "rooms"], default="members", help=spread_help)
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--watch", action="append", default=[], metavar="NAME=PID")
    parser.add_argument("--label", default="")
    parser.add_argument("--tag", default="", help="unique names for accounts, rooms and client_ids")
    parser.add_argument("--no-log-check", action="store_true", help="skip the chat-log check (app)")
    parser.add_argument("--warmup", type=float, default=5.0, help=f"unmeasured seconds at {WARMUP_RATE} msg/s first")
    capacity = parser.add_argument_group("capacity")
    capacity.add_argument("--start-rate", type=float, default=0.5)
    capacity.add_argument("--factor", type=float, default=1.5)
    capacity.add_argument("--precision", type=float, default=0.1, help="stop bisecting within this ratio")
    capacity.add_argument("--max-steps", type=int, default=12)
    capacity.add_argument("--max-p99-ms", type=float, default=100.0)
    idle = parser.add_argument_group("idle")
    idle.add_argument("--hold", type=float, default=15.0, help="seconds every socket stays silent")
    args = parser.parse_args(argv)
    args.url = [url.rstrip("/") for url in args.url]
    if args.mode == "idle" and not args.users:
        args.users = min(args.clients, 200)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_open_files_limit()
    modes = {"run": mode_run, "capacity": mode_capacity, "idle": mode_idle}
    return asyncio.run(modes[args.mode](args))


if __name__ == "__main__":
    sys.exit(main())
