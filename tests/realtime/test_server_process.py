"""A real daphne process (`python -m chatproject.serve`): what holds its event loop."""

from __future__ import annotations

import time
import urllib.request

WATCH_MS = "100"


def test_the_first_http_requests_do_not_hold_the_event_loop(servers_with):
    # The URLconf (DRF, the API schema, the admin) used to be imported by the first request,
    # on the loop: 150-200 ms during which no socket of the process was served.
    server = servers_with("first-request", CHAT_LOOP_STALL_MS=WATCH_MS)  # its readiness check is the first
    for path in ("/", "/api/schema/", "/admin/login/"):
        urllib.request.urlopen(f"{server.http_url}{path}", timeout=10).read()
    time.sleep(0.5)  # a held loop reports at its next heartbeat

    assert "event loop held" not in server.log_path.read_text()
