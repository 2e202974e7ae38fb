"""Start and stop what a benchmark measures: a private Redis, the chat-log store when asked for
(the mongoeco server, or a MariaDB database), and N server processes of the app or of the
baseline, each pinned with taskset.

Every `Stack` is fresh: its own Redis, its own chat log, new server processes, so one
measurement's memory, queues and stored messages never carry into the next.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
# chatproject.serve gives daphne 4 x CHAT_MAX_FRAME_BYTES (16 KiB); uvicorn gets the same.
WS_MAX_BYTES = 4 * 16 * 1024
# Anything inherited with these prefixes would change the app under test: dropped.
CONFIG_PREFIXES = ("CHAT_", "MONGO_", "DJANGO_", "DATABASE_", "REDIS_")
# Benchmarks measure delivery, not the per-user send limit or the sign-up throttle.
UNLIMITED = {
    "CHAT_RATE_MESSAGES": "1000000",
    "CHAT_RATE_WINDOW_SECONDS": "1",
    "CHAT_AUTH_THROTTLE_RATE": "1000000/min",
}
MARIADB_COLLATION = "utf8mb4_uca1400_ai_ci"
# Private and in memory only; room for two servers' connection pools.
REDIS_ARGV = ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxclients", "20000"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(argv: list[str], cpus: str | None) -> list[str]:
    """`taskset -c CPUS argv` (taskset execs the command: the pid stays the server's)."""
    return ["taskset", "-c", cpus, *argv] if cpus else argv


def env_pairs(pairs: list[str]) -> dict[str, str]:
    """`--env NAME=VALUE` arguments as a dict."""
    return dict(pair.split("=", 1) for pair in pairs)


def base_env(**overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(CONFIG_PREFIXES)}
    env.update(overrides)
    return env


class Managed:
    """One started process, logging to a file."""

    def __init__(
        self, name: str, argv: list[str], *, env: dict[str, str], log_dir: Path, stdout_pipe=False, cwd: Path = ROOT
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(  # noqa: S603 (our own argv)
            argv,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE if stdout_pipe else self._log,
            stderr=self._log,
            text=True,
        )
        self.url = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_http(self, url: str, timeout: float = 90) -> None:
        """Wait until `url` answers anything over HTTP."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(url, timeout=5).close()  # noqa: S310 (our own server)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout} s; see {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


@dataclass
class StackConfig:
    database_url: str  # mysql://… (or sqlite:///…), already migrated
    log_dir: Path
    chatlog: str = "sqlite"  # or "mongo": the mongoeco wire server; "mysql": MariaDB
    layer: str = "pubsub"  # or "core"
    server: str = "daphne"  # or "uvicorn"
    server_cpus: str | None = "0"
    # A core per process: server i on own_cores[i], Redis and mongoeco on service_cpus. Without
    # own_cores, every server, Redis and mongoeco run on server_cpus.
    own_cores: tuple[str, ...] | None = None
    service_cpus: str | None = None
    # The servers' scheduling policy: "other" (Linux's default) or "batch" (`chrt --batch 0`:
    # a woken server does not preempt the task running on its core).
    server_policy: str = "other"
    extra_env: dict[str, str] = field(default_factory=dict)
    # Where the SQLite chat log lives (None: the stack's own directory, on the disk).
    chatlog_dir: Path | None = None
    # The checkout the `previous` target runs the app from (bench/run --compare).
    previous_root: Path | None = None
    # The interpreter of the daphne servers: a virtualenv of requirements.txt only, as in
    # production (bench/run makes .venv-serve), not the benchmark's own with the dev tools.
    server_python: str = PYTHON


# The targets that run the app: this checkout, or another commit's (bench/run --compare).
APP_TARGETS = ("app", "previous")


class Stack:
    """`with Stack(config, target="app", processes=2) as stack:` stack.urls, stack.pids."""

    def __init__(self, config: StackConfig, *, target: str, processes: int) -> None:
        self.config = config
        self.target = target
        self.is_app = target in APP_TARGETS
        self.root = config.previous_root if target == "previous" else ROOT
        self.processes = processes
        self.run_id = uuid.uuid4().hex[:8]
        self.dir = config.log_dir / f"{target}-{processes}p-{self.run_id}"
        self.started: list[Managed] = []
        self.servers: list[Managed] = []
        self.chatlog_database_url: str | None = None
        self.chatlog_path: Path | None = None

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    @property
    def pids(self) -> dict[str, int]:
        return {managed.name: managed.pid for managed in self.started}

    def __enter__(self) -> Stack:
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _server_cpus(self, index: int) -> str | None:
        own = self.config.own_cores
        return own[index % len(own)] if own else self.config.server_cpus

    def _start(self) -> None:
        cpus = self.config.service_cpus if self.config.own_cores else self.config.server_cpus
        redis_port = free_port()
        redis = Managed(
            "redis",
            pinned([*REDIS_ARGV, "--port", str(redis_port)], cpus),
            env=base_env(),
            log_dir=self.dir,
        )
        self.started.append(redis)
        _wait_port(redis_port, redis)
        env = base_env(REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", CHAT_CHANNEL_LAYER=self.config.layer)
        if self.is_app:
            env.update(self._app_env(cpus))
        env.update(self.config.extra_env)
        for index in range(self.processes):
            port = free_port()
            argv = pinned(self._server_argv(port), self._server_cpus(index))
            if self.config.server_policy == "batch":
                argv = ["chrt", "--batch", "0", *argv]
            server = Managed(f"{self.target}-{index}", argv, env=env, log_dir=self.dir, cwd=self.root)
            self.started.append(server)
            server.url = f"http://127.0.0.1:{port}"
            server.wait_http(f"{server.url}/")
            self.servers.append(server)

    def _app_env(self, cpus: str | None) -> dict[str, str]:
        env = {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": self.config.database_url,
            "CHAT_VAR_DIR": str(self.dir / "var"),
            **UNLIMITED,
        }
        if self.config.chatlog == "mongo":
            mongo = Managed(
                "mongoeco",
                pinned([PYTHON, "-m", "tests.support.mongoeco_server"], cpus),
                env=base_env(),
                log_dir=self.dir,
                stdout_pipe=True,
            )
            self.started.append(mongo)
            uri = mongo.process.stdout.readline().strip()
            if not uri.startswith("mongodb://"):
                raise RuntimeError(f"mongoeco did not start (said {uri!r}); see {mongo.log_path}")
            env.update(MONGO_URL=uri, MONGO_DB=f"bench_{self.run_id}", MONGO_WRITE_CONCERN="1")
        elif self.config.chatlog == "mysql":
            self.chatlog_database_url = create_chatlog_database(self.config.database_url, run_id=self.run_id)
            env.update(CHAT_LOG_BACKEND="mysql", CHAT_LOG_MYSQL_URL=self.chatlog_database_url)
        else:
            where = self.config.chatlog_dir or self.dir
            self.chatlog_path = where / f"chatlog-{self.run_id}.sqlite3"
            env.update(MONGO_URL="", CHAT_LOG_SQLITE_PATH=str(self.chatlog_path))
        return env

    def _server_argv(self, port: int) -> list[str]:
        app = "chatproject.asgi:application" if self.is_app else "bench.baseline.asgi:application"
        if self.config.server == "uvicorn":
            return [PYTHON, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
                    "--ws", "websockets-sansio", "--ws-max-size", str(WS_MAX_BYTES), "--no-access-log",
                    "--lifespan", "off", "--log-level", "warning"]  # fmt: skip
        if self.is_app:  # the production command: daphne with the app's frame limits
            return [self.config.server_python, "-m", "chatproject.serve", "-b", "127.0.0.1", "-p", str(port)]
        return [self.config.server_python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app]

    def stop(self) -> None:
        for managed in reversed(self.started):
            managed.stop(signal.SIGINT if managed.name == "mongoeco" else signal.SIGTERM)
        if self.chatlog_database_url is not None:
            drop_database(self.chatlog_database_url)
            self.chatlog_database_url = None
        if self.chatlog_path is not None and self.config.chatlog_dir is not None:
            # Outside the run directory (tmpfs, by default): memory, not a record to keep.
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.chatlog_path}{suffix}").unlink(missing_ok=True)
            self.chatlog_path = None


def _wait_port(port: int, managed: Managed, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if managed.process.poll() is not None:
            raise RuntimeError(f"{managed.name} exited; see {managed.log_path}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{managed.name} did not listen on {port} within {timeout} s")


def mariadb_pid() -> int | None:
    """The local MariaDB server's pid: not ours to pin, but its CPU is part of the cost."""
    found = subprocess.run(["pidof", "mariadbd"], capture_output=True, text=True, check=False)  # noqa: S607
    pids = found.stdout.split()
    return int(pids[0]) if pids else None


# --- The ORM database of a benchmark run ------------------------------------------------


def _mysql_connect(url: str):
    import MySQLdb

    parts = urlsplit(url)
    return MySQLdb.connect(
        host=unquote(parts.hostname or "127.0.0.1"),
        port=parts.port or 3306,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        charset="utf8mb4",
    )


def _database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def create_database(url: str, *, log_dir: Path) -> None:
    """Create the database (MariaDB: with the app's charset and collation) and migrate it."""
    if url.startswith(("mysql://", "mariadb://")):
        connection = _mysql_connect(url)
        try:
            name = _database_name(url).replace("`", "")
            connection.cursor().execute(
                f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE {MARIADB_COLLATION}"
            )
        finally:
            connection.close()
    log_dir.mkdir(parents=True, exist_ok=True)
    env = base_env(DJANGO_SETTINGS_MODULE="bench.settings", DATABASE_URL=url, CHAT_VAR_DIR=str(log_dir / "var"))
    with open(log_dir / "migrate.log", "w") as log:
        subprocess.run(  # noqa: S603
            [PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, stdout=log, stderr=log, check=True
        )


def create_chatlog_database(orm_url: str, *, run_id: str) -> str:
    """An empty database for one stack's chat log, next to the ORM's and named after it (the
    benchmark user may only touch `bench_chat_*`); returns its URL."""
    if not orm_url.startswith(("mysql://", "mariadb://")):
        raise RuntimeError("--chatlog mysql needs a MariaDB --database-url")
    name = f"{_database_name(orm_url).replace('`', '')}_log_{run_id}"
    connection = _mysql_connect(orm_url)
    try:
        connection.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE {MARIADB_COLLATION}")
    finally:
        connection.close()
    return urlunsplit(urlsplit(orm_url)._replace(path=f"/{name}"))


def drop_database(url: str) -> None:
    if url.startswith(("mysql://", "mariadb://")):
        connection = _mysql_connect(url)
        try:
            connection.cursor().execute(f"DROP DATABASE IF EXISTS `{_database_name(url).replace('`', '')}`")
        finally:
            connection.close()


def mariadb_version(url: str) -> str | None:
    if not url.startswith(("mysql://", "mariadb://")):
        return None
    connection = _mysql_connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT VERSION()")
        return cursor.fetchone()[0]
    finally:
        connection.close()
