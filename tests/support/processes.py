"""Real server processes for the integration tests: the mongoeco wire server and daphne."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / "var" / "test-logs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MongoEcoProcess:
    """mongoeco in its own process, so its work never competes with the tests for the GIL."""

    def __init__(self, process: subprocess.Popen, uri: str) -> None:
        self.process = process
        self.uri = uri

    @classmethod
    def start(cls) -> MongoEcoProcess:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.mongoeco_server"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        uri = process.stdout.readline().strip()
        if not uri.startswith("mongodb://"):
            process.kill()
            process.wait()
            process.stdout.close()
            raise RuntimeError(f"mongoeco server did not start (said {uri!r})")
        return cls(process, uri)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()  # the pipe its URI came through


class RedisProcess:
    """A private redis-server on a free port (never the shared one), for tests that stop it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def started(cls) -> RedisProcess:
        redis = cls()
        redis.start()
        return redis

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def restart(self) -> None:
        """Stop and start again on the same port, empty: every client connection is dropped."""
        self.stop()
        self.start()


class DaphneProcess:
    """daphne (as `python -m chatproject.serve`, the production command) on a free port,
    logging to var/test-logs/."""

    def __init__(self, *, env: dict[str, str], name: str) -> None:
        self.port = free_port()
        self.name = name
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{name}-{self.port}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "chatproject.serve", "-b", "127.0.0.1", "-p", str(self.port)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"daphne exited early; see {self.log_path}:\n{self.log_path.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{self.http_url}/accounts/login/", timeout=2).read()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"daphne did not answer within {timeout} s; see {self.log_path}")

    def kill(self) -> None:
        """Die at once, as a crashed process would (no disconnect handlers run)."""
        self.process.kill()
        self.process.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()
