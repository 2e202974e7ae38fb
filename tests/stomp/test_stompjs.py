"""@stomp/stompjs, the STOMP client browsers use, under Node against live daphne processes.

The client is tests/stomp/node/client.mjs; its packages are pinned by package-lock.json and
installed with `npm ci` the first time (and again whenever the lock file changes).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.realtime.conftest import room_url
from tests.stomp.conftest import stomp_url
from tests.support.ws import ChatClient

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="session")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail(
            "Node.js (18 or later) and npm are needed for the stompjs test (Debian: apt-get install nodejs npm)"
        )
    lock = (NODE_DIR / "package-lock.json").read_bytes()
    stamp = NODE_DIR / "node_modules" / f".installed-{hashlib.sha256(lock).hexdigest()[:16]}"
    if not stamp.exists():
        # `npm ci` installs exactly the lock file (and empties node_modules first).
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True, timeout=300
        )
        stamp.touch()
    return node


async def _run_client(node: str, config: dict) -> dict:
    process = await asyncio.create_subprocess_exec(
        node,
        "client.mjs",
        cwd=NODE_DIR,
        env={**os.environ, "STOMP_TEST_CONFIG": json.dumps(config)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 40)
    output = stdout.decode().strip().splitlines()
    assert process.returncode == 0 and output, f"stompjs client failed: {stdout.decode()}\n{stderr.decode()}"
    return json.loads(output[-1])


async def test_stompjs_connects_subscribes_sends_receives_with_receipts_and_heartbeats(
    node, server_a, server_b, room, alice, bob
):
    result = await _run_client(
        node,
        {
            "url": stomp_url(server_a),
            "room": room.slug,
            "alice": {"username": "alice", "token": alice.token},
            "bob": {"token": bob.token},
        },
    )
    assert result["subprotocol"] == "v12.stomp"
    assert result["connected"]["version"] == "1.2" and result["connected"]["user-name"] == "alice"

    receipt = result["sendReceipt"]
    assert receipt["receipt-id"] == "send-1" and receipt["seq"] == "1"
    for name, sub_id in (("alice", "js-alice"), ("bob", "js-bob")):
        messages = result["messages"][name]
        assert [m["body"]["body"] for m in messages] == ["hello from stompjs ✨", "hello back"]
        assert [m["headers"]["seq"] for m in messages] == ["1", "2"]
        assert {m["headers"]["subscription"] for m in messages} == {sub_id}
        assert messages[0]["headers"]["message-id"] == receipt["message-id"]
        assert messages[0]["body"]["client_id"] == "js-1"
        assert messages[1]["body"]["author"]["username"] == "bob"

    assert result["heartbeatsReceived"] >= 2 and result["stillConnected"] is True
    assert result["error"]["message"] == "not_found" and result["error"]["receipt-id"] == "send-2"
    assert result["closeCode"] == 4404
    assert result["bobCloseCode"] == 1000

    # What stompjs sent is what the JSON protocol serves, on the other process too.
    json_client = await ChatClient.open(room_url(server_b, room) + "?after_seq=0", token=bob.token)
    replayed = await json_client.messages(2)
    await json_client.expect("resume.done")
    await json_client.close()
    assert replayed == [m["body"] for m in result["messages"]["alice"]]
