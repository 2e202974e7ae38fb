"""The app's public HTTP interface, as the load generator uses it: sign-up, room creation and
the history API. Plain urllib (blocking): callers run it in threads, never in a measured phase.

Rooms have no API endpoint: they are created through the room page's form, the way a person
does (log in, POST /rooms/new/), so the load generator needs nothing but the servers' URLs.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

TIMEOUT_S = 30


class SetupError(RuntimeError):
    """The app refused a set-up step (sign-up, log-in, room creation)."""


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    token: str
    user_id: int


def _no_redirects() -> urllib.request.OpenerDirector:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    return urllib.request.build_opener(NoRedirect)


def _json_request(url: str, *, data: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Accept": "application/json"}
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 (http URLs we were given)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            detail = json.loads(error.read() or b"{}")
        except ValueError:
            detail = {}
        return error.code, detail


def signup(base_url: str, *, username: str, password: str) -> Account:
    status, reply = _json_request(f"{base_url}/api/auth/signup/", data={"username": username, "password": password})
    if status != 201:
        hint = " (raise CHAT_AUTH_THROTTLE_RATE on the server)" if status == 429 else ""
        raise SetupError(f"sign-up of {username} failed: HTTP {status} {reply}{hint}")
    return Account(username=username, password=password, token=reply["token"], user_id=reply["user"]["id"])


class BrowserSession:
    """A cookie session through the HTML pages, to reach what has no API (creating rooms)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        self.no_redirect = _no_redirects()
        self.no_redirect.add_handler(urllib.request.HTTPCookieProcessor(self.cookies))

    def _csrf_token(self, page_path: str) -> str:
        with self.opener.open(f"{self.base_url}{page_path}", timeout=TIMEOUT_S) as response:
            html = response.read().decode("utf-8", "replace")
        for cookie in self.cookies:
            if cookie.name == "csrftoken":
                return cookie.value
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        if match is None:
            raise SetupError(f"no CSRF token on {page_path}")
        return match.group(1)

    def _post_form(self, path: str, fields: dict[str, str], *, csrf_from: str) -> tuple[int, str]:
        fields = {**fields, "csrfmiddlewaretoken": self._csrf_token(csrf_from)}
        request = urllib.request.Request(  # noqa: S310
            f"{self.base_url}{path}",
            data=urllib.parse.urlencode(fields).encode(),
            headers={"Referer": f"{self.base_url}{csrf_from}"},
        )
        try:
            with self.no_redirect.open(request, timeout=TIMEOUT_S) as response:
                return response.status, ""
        except urllib.error.HTTPError as error:  # a redirect arrives as an "error" without a handler
            return error.code, error.headers.get("Location", "")

    def log_in(self, account: Account) -> None:
        fields = {"username": account.username, "password": account.password}
        status, _ = self._post_form("/accounts/login/", fields, csrf_from="/accounts/login/")
        if status != 302:
            raise SetupError(f"log-in of {account.username} failed: HTTP {status}")

    def create_room(self, name: str) -> str:
        """Create a public room; its slug."""
        status, location = self._post_form("/rooms/new/", {"name": name, "topic": ""}, csrf_from="/rooms/new/")
        match = re.search(r"/rooms/([^/]+)/$", location)
        if status != 302 or match is None:
            raise SetupError(f"creating room {name!r} failed: HTTP {status} {location}")
        return match.group(1)


@dataclass
class LogCheck:
    """What the stored chat log of one room holds, read through the history API."""

    seqs: list[int]
    client_ids: dict[str, list[int]]  # client_id -> the seqs stored under it


def read_room_log(base_url: str, *, token: str, slug: str, after: int = 0) -> LogCheck:
    """Every message of the room after `after`, paged 100 at a time."""
    check = LogCheck(seqs=[], client_ids={})
    while True:
        query = urllib.parse.urlencode({"after": after, "limit": 100})
        status, page = _json_request(f"{base_url}/api/rooms/{slug}/messages/?{query}", token=token)
        if status != 200:
            raise SetupError(f"history of {slug} after {after}: HTTP {status} {page}")
        for message in page["results"]:
            check.seqs.append(message["seq"])
            check.client_ids.setdefault(message["client_id"], []).append(message["seq"])
            after = message["seq"]
        if not page["results"] or not page.get("next"):
            return check
