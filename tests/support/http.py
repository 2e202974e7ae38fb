"""A plain HTTP client for the API of a real daphne process."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


def api(server, method: str, path: str, token: str | None = None, body: dict | None = None) -> tuple[int, object]:
    """Call `path` on the server (as the token's user when given); the status and the JSON body."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{server.http_url}{path}",
        method=method,
        headers=headers,
        data=json.dumps(body).encode() if body is not None else None,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
