"""A server process (chatproject.serve) runs daphne on the event loop CHAT_EVENT_LOOP names."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# A fresh interpreter: daphne installs Twisted's reactor, and creates its loop, when imported.
REACTOR_LOOP = """
from chatproject import serve
serve.load_daphne()
from twisted.internet import reactor
loop = reactor._asyncioEventloop
print(type(loop).__module__ + "." + type(loop).__name__)
"""


def reactor_loop_type(**env: str) -> str:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("CHAT_")}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    environment.update(env)
    result = subprocess.run(
        [sys.executable, "-c", REACTOR_LOOP], env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_uvloop_by_default() -> None:
    assert reactor_loop_type() == "uvloop.Loop"


@pytest.mark.parametrize(
    ("setting", "loop_type"), [("uvloop", "uvloop.Loop"), ("asyncio", "asyncio.unix_events._UnixSelectorEventLoop")]
)
def test_the_setting_chooses_the_loop(setting: str, loop_type: str) -> None:
    assert reactor_loop_type(CHAT_EVENT_LOOP=setting) == loop_type
