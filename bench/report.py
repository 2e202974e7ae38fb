"""docs/performance.md from the load generator's JSON lines: set-up, a summary with the
app-to-baseline ratios, then the details of every scenario."""

from __future__ import annotations

from pathlib import Path

from bench.stack import ROOT, env_pairs

# More than this (% of one core, on average) used by processes outside the benchmark: not quiet.
QUIET_LIMIT_PCT = 10.0
SERVER_PREFIXES = ("app-", "previous-", "baseline-", "tutorial-")


# --- figures from one JSON line -------------------------------------------------------------


def _servers(line: dict) -> list[dict]:
    return [proc for name, proc in line.get("processes", {}).items() if name.startswith(SERVER_PREFIXES)]


def server_cpu_pct(line: dict) -> float:
    return round(sum(proc.get("cpu_pct", 0) for proc in _servers(line)), 1)


def cpu_us_per_delivery(line: dict) -> float | None:
    deliveries = line.get("deliveries_received") or 0
    if not deliveries:
        return None
    return round(sum(proc.get("cpu_s", 0) for proc in _servers(line)) * 1e6 / deliveries, 1)


def first_server_us_per_delivery(line: dict) -> float | None:
    """µs of CPU the first server process (`app-0`) spent per delivery it made. Every room has
    the same size and rate, so a server's share of the deliveries is its share of the clients."""
    placed = line.get("clients_per_server")
    proc = line.get("processes", {}).get(f"{line.get('target')}-0")
    deliveries = line.get("deliveries_received") or 0
    if not placed or not proc or not deliveries:
        return None
    return round(proc["cpu_s"] * 1e6 / (deliveries * placed[0] / sum(placed)), 1)


def kept_per_core(alone: dict | None, apart: dict | None, shared: dict | None) -> str:
    """`own-core-1`, `own-core-2-apart` and `own-core-2`: the CPU per delivery of the process that
    has a core to itself, and the share of its per-core capacity that two processes sharing the
    rooms keep. The share is against `apart` when there is one: the same load on the other CPU,
    so only the shared rooms differ (against `alone`, a busier other CPU changes what `app-0`
    spends, either way: bigger batches from the load generator, caches shared with it)."""
    figures = [first_server_us_per_delivery(line) if line else None for line in (alone, apart, shared)]
    reference = figures[1] or figures[0]
    kept = f" ({100 * reference / figures[2]:.0f}%)" if reference and figures[2] else ""
    return " / ".join(str(figure or "-") for figure in figures) + kept


def other_load_pct(line: dict) -> float:
    """CPU (% of one core) busy during the phase with anything but the processes the benchmark
    watches: other processes, the kernel's own work, and the hypervisor's steal."""
    busy = sum(line.get("cpu_busy_pct", {}).values())
    ours = sum(proc.get("cpu_pct", 0) for proc in line.get("processes", {}).values())
    return round(max(busy - ours, 0), 1)


def steal_pct(line: dict) -> float:
    """CPU (% of one core) the hypervisor gave to other machines during the phase."""
    return round(sum(line.get("cpu_steal_pct", {}).values()), 1)


def _other(line: dict) -> str:
    steal = steal_pct(line)
    return f"{other_load_pct(line)}%" + (f" (steal {steal}%)" if steal else "")


def _pct(name: str, line: dict) -> str:
    proc = line.get("processes", {}).get(name)
    return "-" if not proc or "cpu_pct" not in proc else f"{proc['cpu_pct']:.0f}%"


def _services(line: dict) -> str:
    """CPU of Redis, MariaDB and mongoeco: the shared services behind the servers."""
    names = {"redis": "Redis", "mariadb": "MariaDB", "mongoeco": "mongoeco"}
    parts = [f"{label} {_pct(name, line)}" for name, label in names.items() if name in line.get("processes", {})]
    return ", ".join(parts) or "-"


def _ms(latency: dict | None, key: str) -> str:
    value = (latency or {}).get(key)
    return "-" if value is None else f"{value:g}"


def _ratio(app: float | None, baseline: float | None) -> str:
    if not app or not baseline:
        return "-"
    return f"{app / baseline:.2f}x"


def _faults(line: dict) -> str:
    names = ("lost", "duplicated", "out_of_order", "seq_regressions", "unanswered", "closed")
    parts = [f"{name} {line[name]}" for name in names if line.get(name)]
    if line.get("errors"):
        parts.append(f"errors {line['errors']}")
    return ", ".join(parts) or "none"


def _log_check(line: dict) -> str:
    check = line.get("chatlog_check")
    if check is None:
        return "n/a (no storage)"
    problems = {key: value for key, value in check.items() if key not in ("ok", "stored", "stored_unacked") and value}
    return f"ok, {check['stored']} stored" if check["ok"] else f"FAILED {problems}"


# --- the report -----------------------------------------------------------------------------------


def render(*, meta: dict, results: dict, quick: bool, run_dir: Path) -> str:
    lines_all = [line for lines in results.values() for line in lines]
    other = max((other_load_pct(line) for line in lines_all if "cpu_busy_pct" in line), default=0.0)
    steal = max((steal_pct(line) for line in lines_all if "cpu_steal_pct" in line), default=0.0)
    out = ["# Performance", ""]
    where = run_dir.relative_to(ROOT) if run_dir.is_relative_to(ROOT) else run_dir
    out += [
        f"Generated by `{meta['command']}` at {meta['started']} UTC; raw JSON lines and server logs in",
        f"`{where}/`. Do not edit by hand: rerun `bench/run` (see bench/README.md).",
        "",
    ]
    if quick:
        out += ["> **`--quick` run: tiny scenarios that check the harness. These numbers measure nothing.**", ""]
    if other > QUIET_LIMIT_PCT:
        out += [f"> **Not a quiet machine**: work outside the benchmark took up to {other:.0f}% of a core",
                f"> during a measurement (of which the hypervisor's steal: up to {steal:.0f}%). Rerun on a quiet",
                "> machine before trusting these numbers.", ""]  # fmt: skip
    out += _setup(meta)
    out += _summary(results, meta)
    out += _details(results)
    return "\n".join(out) + "\n"


def _setup(meta: dict) -> list[str]:
    chatlog = {
        "sqlite": "embedded SQLite file (messages/chatlog/sqlite.py), committed with fsync",
        "mongo": "MongoDB protocol on the **mongoeco** wire server, a slow stand-in written in Python: "
        "results with it are bounded by that server, not by the app",
        "mysql": "MariaDB (messages/chatlog/mysql.py): a fresh database per stack on the ORM's MariaDB server",
    }[meta["chatlog"]]
    if meta.get("chatlog_dir"):
        chatlog += f", on tmpfs ({meta['chatlog_dir']}) in every scenario but steady-disk"
    versions = ", ".join(f"{name} {version}" for name, version in meta["versions"].items())
    return [
        "## Set-up",
        "",
        "| | |",
        "| --- | --- |",
        f"| Machine | {meta['cpu']}, {meta['memory']} RAM; {meta['os']}; load average before: {meta['load_before']} |",
        f"| Pinning | servers, Redis, mongoeco: CPU {meta['server_cpus']} (taskset); load generator: CPU "
        f"{meta['loadgen_cpus']}; MariaDB unpinned (a shared system service)"
        f"{_own_cores_pinning(meta)}"
        f"{'; servers under the batch scheduling policy' if meta.get('server_policy') == 'batch' else ''} |",
        f"| Server | {_server(meta)}; app settings `bench.settings` |",
        f"| Channel layer | channels-redis `{meta['layer']}` on a private redis-server ({meta['redis_server']}); "
        "the tutorial: `core` |",
        f"| ORM database | MariaDB {meta['mariadb']} |",
        f"| Chat log | {chatlog} |",
        *_fsync_rows(meta),
        f"| Server tunings | `CHAT_SERVER_TUNINGS={meta.get('tunings', 'all')}` for the app "
        "(chatproject.server_tunings) |",
        *_previous_rows(meta),
        f"| Extra app environment | {', '.join(meta['extra_env']) or 'none'} (rate limits raised for every run) |",
        f"| Versions | Python {meta['python']}; {versions} |",
        f"| Commit | {meta['commit']} |",
        "",
        "Two references run the Channels tutorial's consumer (bench/baseline/: `group_send`, no",
        "authentication, no storage): **baseline** on the app's server and layer, and **tutorial** exactly",
        "as the tutorial runs it, on plain daphne and channels-redis' `core` layer. Both run on plain",
        "daphne's event loop (asyncio's), as the tutorial does; the app runs on the loop its settings",
        "choose (`CHAT_EVENT_LOOP`). Every scenario starts fresh servers for each target.",
        "",
    ]


def _previous_rows(meta: dict) -> list[str]:
    if not meta.get("compare"):
        return []
    return [f"| Previous | **previous**: the app as of `{meta['compare']}` (`--compare`), beside the app wherever "
            "it runs, with the same settings, virtualenv and pinning |"]  # fmt: skip


def _server(meta: dict) -> str:
    if meta["server"] != "daphne":
        return f"{meta['server']} for the app and the references, one process per server in the scenario"
    loop = env_pairs(meta["extra_env"]).get("CHAT_EVENT_LOOP", "uvloop")
    return (f"daphne, one process per server in the scenario: the app as `python -m chatproject.serve` on "
            f"{loop}, the references as `python -m daphne` on asyncio's loop")  # fmt: skip


def _fsync_rows(meta: dict) -> list[str]:
    names = {"disk": "this machine's disk (the run directory)", "chatlog": "the chat log's tmpfs"}
    rows = [
        f"| fsync of a 4 KiB append | {names[key]}: p50 {probe['p50']} / p99 {probe['p99']} / max {probe['max']} ms |"
        for key, probe in meta.get("fsync_ms", {}).items()
    ]
    return rows


def _get(results: dict, scenario: str, target: str) -> dict | None:
    lines = results.get((scenario, target))
    return lines[-1] if lines else None


REFERENCES = ("previous", "baseline", "tutorial")
HEADINGS = {
    "previous": ("App at the previous revision", "App / previous"),
    "baseline": ("Baseline (app's layer)", "App / baseline"),
    "tutorial": ("Tutorial as written", "App / tutorial"),
}
# The process alone, beside one sharing no room (the control), beside one sharing the rooms:
# the order kept_per_core takes them in.
OWN_CORE_SCENARIOS = ("own-core-1", "own-core-2-apart", "own-core-2")


def _summary_row(label: str, figure: str, values: dict[str, float | str | None], references) -> str:
    """One summary row: the app's figure, then each reference's and the app's ratio to it."""
    app = values.get("app")
    cells = [label, figure, "-" if app is None else str(app)]
    for reference in references:
        value = values.get(reference)
        ratio = _ratio(app, value) if isinstance(app, (int, float)) and isinstance(value, (int, float)) else ""
        cells += ["-" if value is None else str(value), ratio]
    return "| " + " | ".join(cells) + " |"


def _summary(results: dict, meta: dict) -> list[str]:
    references = REFERENCES if meta.get("compare") else REFERENCES[1:]
    headings = [heading for reference in references for heading in HEADINGS[reference]]
    out = [
        "## Summary",
        "",
        "| Scenario | Figure | App | " + " | ".join(headings) + " |",
        "| --- | --- | --- |" + " --- |" * len(headings),
    ]

    def _row(label: str, figure: str, values: dict) -> str:
        return _summary_row(label, figure, values, references)

    def lines(scenario: str) -> dict[str, dict]:
        found = {target: _get(results, scenario, target) for target in ("app", *REFERENCES)}
        return {target: line for target, line in found.items() if line}

    steady = lines("steady")
    if "app" in steady:
        app = steady["app"]
        label = f"steady: {app['clients']} clients, {app['rooms']} rooms, {app['rate_per_client']:g} msg/s each"
        for figure, key in (("p50 latency, ms", "p50"), ("p99 latency, ms", "p99")):
            out.append(_row(label, figure, {t: line["latency_ms"][key] for t, line in steady.items()}))
            label = ""
        out.append(_row("", "server CPU per delivery, µs", {t: cpu_us_per_delivery(ln) for t, ln in steady.items()}))
        out.append(_row("", "faults", {t: _faults(line) for t, line in steady.items()}))
    shared, apart = _get(results, "steady-2", "app"), _get(results, "steady-2-apart", "app")
    if shared or apart:
        cpu = " / ".join(str(cpu_us_per_delivery(line) or "-") if line else "-" for line in (shared, apart))
        out.append(_row("steady over 2 processes", "server CPU per delivery, µs: rooms shared / none shared",
                        {"app": cpu}))  # fmt: skip
    own = [_get(results, scenario, "app") for scenario in OWN_CORE_SCENARIOS]
    if own[2]:
        out.append(_row("a core per process", "µs CPU per delivery of the process alone on its core: one process "
                        "/ two sharing no room / two sharing the rooms (per-core capacity kept)",
                        {"app": kept_per_core(*own)}))  # fmt: skip
    disk = _get(results, "steady-disk", "app")
    if disk:
        lat, ack = disk["latency_ms"], disk["ack_latency_ms"]
        out.append(_row("steady, chat log on disk", "latency p50 / p99 / max, ms",
                        {"app": f"{_ms(lat, 'p50')} / {_ms(lat, 'p99')} / {_ms(lat, 'max')}"}))  # fmt: skip
        out.append(_row("", "ack p99 / max, ms; faults", {"app": f"{_ms(ack, 'p99')} / {_ms(ack, 'max')}; "
                                                                   f"{_faults(disk)}"}))  # fmt: skip
    for scenario, label in (("capacity-1", "capacity, 1 process"), ("capacity-2", "capacity, 2 processes")):
        found = lines(scenario)
        if "app" in found:
            limit = found["app"]["max_p99_ms"]
            out.append(_row(label, f"deliveries/s (p99 <= {limit:g} ms, nothing lost)",
                            {t: line["capacity_deliveries_per_s"] for t, line in found.items()}))  # fmt: skip
            out.append(_row("", "messages/s stored and sent",
                            {t: line["capacity_messages_per_s"] for t, line in found.items()}))  # fmt: skip
    for scenario in ("idle-1000", "idle-10000"):
        found = lines(scenario)
        if "app" in found:
            label = f"{found['app']['connect']['connections']:,} idle sockets"
            rss = {t: _mean(line["rss_per_1000_mb"].values()) for t, line in found.items()}
            out.append(_row(label, "RSS per 1,000 sockets, MB", rss))
            out.append(_row("", "every socket still receives",
                            {t: _yes(line["every_socket_received"]) for t, line in found.items()}))  # fmt: skip
    found = lines("overload")
    if "app" in found:
        label = f"overload: 2x capacity for {found['app']['duration_s']:g} s"
        out.append(_row(label, "what senders see", {t: _sender_view(line) for t, line in found.items()}))
        out.append(_row("", "acknowledged but lost; stored log",
                        {t: f"{line['lost']}; {_log_check(line)}" for t, line in found.items()}))  # fmt: skip
    out.append("")
    if meta["chatlog"] == "mongo":
        out += ["Chat log on mongoeco: the app's figures are bounded by that stand-in server.", ""]
    return out


def _sender_view(line: dict) -> str:
    return (
        f"{line['acked']}/{line['offered']} acked, errors {line['errors'] or 'none'}, "
        f"ack p99 {_ms(line['ack_latency_ms'], 'p99')} ms"
    )


def _mean(values) -> float | None:
    values = [value for value in values if value is not None]
    return round(sum(values) / len(values), 1) if values else None


def _yes(value) -> str:
    return "-" if value is None else ("yes" if value else "**no**")


def _run_table(rows: list[tuple[str, dict]]) -> list[str]:
    out = [
        "| Target | offered/s | deliveries/s | latency p50 / p95 / p99 / max, ms | ack p50 / p99, ms | faults | "
        "server CPU | µs CPU per delivery | services CPU | load generator CPU | other load | stored log |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for target, line in rows:
        lat, ack = line["latency_ms"], line["ack_latency_ms"]
        out.append(
            f"| {target} | {line['offered_per_s']} | {line['deliveries_per_s']} | "
            f"{_ms(lat, 'p50')} / {_ms(lat, 'p95')} / {_ms(lat, 'p99')} / {_ms(lat, 'max')} | "
            f"{_ms(ack, 'p50')} / {_ms(ack, 'p99')} | {_faults(line)} | {server_cpu_pct(line)}% | "
            f"{cpu_us_per_delivery(line) or '-'} | {_services(line)} | "
            f"{_pct('loadgen', line)}"
            f"{' (bound)' if line.get('loadgen_bound') else ''} | {_other(line)} | {_log_check(line)} |"
        )
    return out


def _details(results: dict) -> list[str]:
    out = ["## Details", ""]
    steady = [(t, _get(results, "steady", t)) for t in ("app", *REFERENCES) if _get(results, "steady", t)]
    if steady:
        first = steady[0][1]
        out += [f"### steady: {first['clients']} clients, {first['rooms']} rooms, {first['rate_per_client']:g} "
                f"msg/s each, {first['duration_s']:g} s", ""]  # fmt: skip
        out += [*_run_table(steady), ""]
    two = [(label, line) for label, scenario in (("app, 2 processes", "steady-2"),
                                                 ("app, 2 processes, no room shared", "steady-2-apart"))
           if (line := _get(results, scenario, "app"))]  # fmt: skip
    if two:
        out += [
            "### steady-2 and steady-2-apart: the app's steady load over 2 processes on one core",
            "",
            "Beside the app's `steady` row: what a second process costs per delivery at the same load.",
            "In `steady-2` every room has members on both processes; in `steady-2-apart` each room",
            "lives on one process, so the processes share only the core (and the chat log's file).",
            "",
        ]
        out += [*_run_table(two), ""]
    own = {scenario: _get(results, scenario, "app") for scenario in OWN_CORE_SCENARIOS}
    if any(own.values()):
        out += _own_cores(own)
    disk = _get(results, "steady-disk", "app")
    if disk:
        out += [
            "### steady-disk: the same, with the app's chat log on this machine's disk",
            "",
            "Every acknowledgement waits for the fsync of the commit that stored the message (group",
            "commit: one fsync for every append waiting). The set-up table gives this disk's fsync.",
            "",
        ]
        out += [*_run_table([("app", disk)]), ""]
    for scenario in ("capacity-1", "capacity-2"):
        for target in ("app", *REFERENCES):
            lines = results.get((scenario, target))
            if lines:
                out += _capacity(scenario, target, lines)
    idle = [(s, t, _get(results, s, t)) for s in ("idle-1000", "idle-10000") for t in ("app", *REFERENCES)]
    idle = [row for row in idle if row[2]]
    if idle:
        out += ["### Idle sockets", "",
                "| Scenario | Target | sockets (accounts) | connect time, s (retries) | RSS before -> after, MB | "
                "RSS per 1,000 | idle server CPU | every socket received | latency p99, ms |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
        for scenario, target, line in idle:
            servers = [name for name in line["rss_per_1000_mb"]]
            before = " + ".join(str(line["rss_before_mb"][name]) for name in servers)
            after = " + ".join(str(line["rss_after_mb"][name]) for name in servers)
            cpu = ", ".join(f"{name} {pct}%" for name, pct in line["idle"]["cpu_pct"].items() if name != "loadgen")
            out.append(
                f"| {scenario} | {target} | {line['connect']['connections']:,} ({line['users'] or '-'}) | "
                f"{line['connect']['total_s']} ({line['connect']['retries']}) | {before} -> {after} | "
                f"{_mean(line['rss_per_1000_mb'].values())} MB | {cpu} | {_yes(line['every_socket_received'])} "
                f"({line['deliveries_received']}/{line['deliveries_expected']}) | {_ms(line['latency_ms'], 'p99')} |"
            )
        out.append("")
    overload = [(t, _get(results, "overload", t)) for t in ("app", *REFERENCES) if _get(results, "overload", t)]
    if overload:
        out += ["### overload: twice the capacity-1 rate", "",
                "Senders keep sending on schedule (open loop). What a sender sees: acknowledgements, errors",
                "(`rate_limited`, `unavailable`), or silence; then whether everything acknowledged was delivered",
                "to every socket and is in the stored log once, in a gap-free sequence.", ""]  # fmt: skip
        out += _run_table(overload)
        out.append("")
        for target, line in overload:
            out.append(f"- {target}: {line['rate_per_client']:g} msg/s per client, {line['offered']} offered, "
                       f"{line['acked']} acknowledged, errors {line['errors'] or 'none'}, {line['unanswered']} "
                       f"unanswered; drained in {line['drain_s']} s after sending stopped.")  # fmt: skip
        out.append("")
    return out


def _own_cores_pinning(meta: dict) -> str:
    if not meta.get("own_cores"):
        return ""
    return f"; in `own-core-*`, one server on each of CPUs {meta['own_cores']}, Redis with the load generator"


def _own_cores(lines: dict[str, dict | None]) -> list[str]:
    labels = {"own-core-1": "app, 1 process", "own-core-2-apart": "app, 2 processes, no room shared",
              "own-core-2": "app, 2 processes, rooms shared"}  # fmt: skip
    rows = [(labels[scenario], line) for scenario, line in lines.items() if line]
    first = rows[0][1]
    out = [
        "### own-core-1, own-core-2-apart and own-core-2: a core per process",
        "",
        f"The same load on each process: {first['rate_per_client']:g} msg/s per client, "
        f"{first['clients'] // first['servers']} clients in {first['rooms'] // first['servers']} rooms.",
        "`app-0` has a CPU to itself; `app-1`, Redis and the load generator share the other. What",
        "`app-0` spends per delivery it makes beside a second process, against the same alone, is",
        "what a deployment with a core per process pays for scale-out: the share of one process's",
        "per-core capacity that two keep. `own-core-2-apart` is the control: `app-0` does",
        "`own-core-1`'s work exactly, but the other CPU is as busy as in `own-core-2`, which changes",
        "what `app-0` spends (bigger batches from the load generator, caches shared with it); so",
        "the share kept is taken against it. Measured below capacity (the other CPU would saturate",
        "first), where fewer messages share each wake-up.",
        "",
        *_run_table(rows),
        "",
    ]
    for label, line in rows:
        busy = ", ".join(f"CPU {name[3:]} {pct}%" for name, pct in line.get("cpu_busy_pct", {}).items())
        out.append(f"- {label}: `app-0` {_pct('app-0', line)} of its CPU, {first_server_us_per_delivery(line)} µs "
                   f"per delivery it made; busy: {busy}.")  # fmt: skip
    if lines.get("own-core-2"):
        out.append(f"- µs per delivery of `app-0`, alone / beside a process sharing no room / sharing the rooms "
                   f"(per-core capacity kept): {kept_per_core(*lines.values())}.")  # fmt: skip
    return [*out, ""]


def _capacity(scenario: str, target: str, lines: list[dict]) -> list[str]:
    final = lines[-1]
    out = [f"### {scenario} / {target}: {final['capacity_deliveries_per_s']} deliveries/s "
           f"({final['capacity_messages_per_s']} messages/s, {final['capacity_rate_per_client']} msg/s per client)",
           "",
           f"{final['clients']} clients in {final['rooms']} rooms over {final['servers']} process(es). A step "
           f"passes with p99 <= {final['max_p99_ms']:g} ms, nothing lost, duplicated or reordered, no errors.",
           "",
           "| rate/client | offered/s | deliveries/s | p50 / p99 ms | server CPU | services CPU | load gen | other "
           "| passed |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for step in lines[:-1]:
        why = "yes" if step["passed"] else "no: " + "; ".join(step["why_not"])
        out.append(
            f"| {step['rate_per_client']:.3g} | {step['offered_per_s']} | {step['deliveries_per_s']} | "
            f"{_ms(step['latency_ms'], 'p50')} / {_ms(step['latency_ms'], 'p99')} | {server_cpu_pct(step)}% | "
            f"{_services(step)} | {_pct('loadgen', step)} | {_other(step)} | "
            f"{why} |"
        )
    return [*out, ""]
