"""STOMP 1.0/1.1/1.2 frames: a parser and an encoder, with no Django and no I/O.

    frame = command EOL *( header EOL ) EOL *OCTET NUL *( EOL )        EOL = [CR] LF

Over a WebSocket, every message holds whole frames (one or more) and may hold heart-beats
(bare EOLs) before, between and after them. A message that ends inside a frame is an error
rather than the start of a frame to be continued: WebSocket messages are already framed,
the clients we know never split frames, and a missing NUL is then reported at once instead
of after a heart-beat timeout.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

VERSIONS = ("1.0", "1.1", "1.2")

CLIENT_COMMANDS = frozenset(
    {"CONNECT", "STOMP", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK", "BEGIN", "COMMIT", "ABORT", "DISCONNECT"}
)
SERVER_COMMANDS = frozenset({"CONNECTED", "MESSAGE", "RECEIPT", "ERROR"})
# Their headers are never escaped, so that a 1.0 peer can read them before any version is agreed.
UNESCAPED_COMMANDS = frozenset({"CONNECT", "STOMP", "CONNECTED"})

HEARTBEAT = b"\n"

# Error codes (the `message` header of the ERROR frame); the same words as messages.protocol's.
INVALID_FRAME = "invalid_frame"
TOO_LARGE = "too_large"
UNKNOWN_COMMAND = "unknown_command"

MAX_HEADERS = 32
MAX_HEADER_BYTES = 1024  # one header line, escaped, without its EOL

_ESCAPES = {
    "1.1": {"n": "\n", "c": ":", "\\": "\\"},
    "1.2": {"r": "\r", "n": "\n", "c": ":", "\\": "\\"},
}
_UNESCAPES = {version: {value: "\\" + key for key, value in table.items()} for version, table in _ESCAPES.items()}


class FrameError(Exception):
    """A frame that cannot be accepted. STOMP has no way to skip one: the connection ends."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Frame:
    command: str
    headers: tuple[tuple[str, str], ...] = ()  # in order, repeats kept
    body: bytes = b""

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of a header: STOMP says a repeated header's first entry wins."""
        for key, value in self.headers:
            if key == name:
                return value
        return default


class FrameParser:
    """Parses the frames of one WebSocket message at a time.

    `version` selects header unescaping; set it once CONNECT is answered. It is read frame by
    frame, so a CONNECT and the frames after it may share one message.
    """

    def __init__(
        self,
        *,
        commands: frozenset[str] = CLIENT_COMMANDS,
        max_frame_bytes: int,
        max_headers: int = MAX_HEADERS,
        max_header_bytes: int = MAX_HEADER_BYTES,
        version: str = "1.2",
    ) -> None:
        self.commands = commands
        self.max_frame_bytes = max_frame_bytes
        self.max_headers = max_headers
        self.max_header_bytes = max_header_bytes
        self.version = version

    def parse(self, data: bytes) -> Iterator[Frame]:
        """Yield the message's frames in order; raise FrameError at the first bad one."""
        pos = _skip_eols(data, 0)
        while pos < len(data):
            frame, pos = self._frame(data, pos)
            yield frame
            pos = _skip_eols(data, pos)

    def _frame(self, data: bytes, start: int) -> tuple[Frame, int]:
        limit = start + self.max_frame_bytes
        line, pos = self._line(data, start, limit)
        command = _text(line, "command")
        if command not in self.commands:
            raise FrameError(UNKNOWN_COMMAND, f"Unknown command {command[:40]!r}.")
        headers: list[tuple[str, str]] = []
        while True:
            line, pos = self._line(data, pos, limit)
            if not line:
                break
            if len(headers) == self.max_headers:
                raise FrameError(TOO_LARGE, f"A frame may have at most {self.max_headers} headers.")
            headers.append(self._header(line, command))
        frame = Frame(command, tuple(headers))
        length = frame.header("content-length")
        if length is not None:
            if not (length.isascii() and length.isdigit()):
                raise FrameError(INVALID_FRAME, "content-length must be a non-negative decimal integer.")
            end = pos + int(length)
            if end >= limit:
                raise FrameError(TOO_LARGE, f"Frames are limited to {self.max_frame_bytes} bytes.")
            if end >= len(data) or data[end] != 0:
                raise FrameError(INVALID_FRAME, "The body is not followed by a NUL where content-length says.")
        else:
            end = data.find(b"\0", pos, limit)
            if end < 0:
                if len(data) >= limit:
                    raise FrameError(TOO_LARGE, f"Frames are limited to {self.max_frame_bytes} bytes.")
                raise FrameError(INVALID_FRAME, "The frame does not end with a NUL octet.")
        return Frame(command, frame.headers, bytes(data[pos:end])), end + 1

    def _line(self, data: bytes, pos: int, limit: int) -> tuple[bytes, int]:
        end = data.find(b"\n", pos)
        if end < 0:
            if len(data) >= limit:
                raise FrameError(TOO_LARGE, f"Frames are limited to {self.max_frame_bytes} bytes.")
            raise FrameError(INVALID_FRAME, "The frame ends before its headers do.")
        line = data[pos : end - 1] if end > pos and data[end - 1] == 0x0D else data[pos:end]
        if len(line) > self.max_header_bytes:
            raise FrameError(TOO_LARGE, f"A header line is limited to {self.max_header_bytes} bytes.")
        if end >= limit:
            raise FrameError(TOO_LARGE, f"Frames are limited to {self.max_frame_bytes} bytes.")
        if b"\0" in line:
            raise FrameError(INVALID_FRAME, "The frame ends before its headers do.")
        return line, end + 1

    def _header(self, line: bytes, command: str) -> tuple[str, str]:
        name, colon, value = _text(line, "header").partition(":")
        if not colon or not name:
            raise FrameError(INVALID_FRAME, f"A header must be 'name:value', not {line[:40]!r}.")
        if command in UNESCAPED_COMMANDS or self.version == "1.0":
            return name, value
        return _unescape(name, self.version), _unescape(value, self.version)


def encode(
    command: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    version: str = "1.2",
) -> bytes:
    """One frame, NUL-terminated, with `content-length` whenever there is a body."""
    items = list(headers.items() if isinstance(headers, Mapping) else headers)
    if body and not any(name == "content-length" for name, _ in items):
        items.append(("content-length", str(len(body))))
    raw = command not in UNESCAPED_COMMANDS and version != "1.0"
    lines = [command]
    for name, value in items:
        if raw:
            name, value = _escape(name, version), _escape(value, version)
        else:  # no escaping exists here: keep the frame well-formed rather than faithful
            name, value = _flatten(name).replace(":", "_"), _flatten(value)
        lines.append(f"{name}:{value}")
    return ("\n".join(lines) + "\n\n").encode() + body + b"\0"


def _skip_eols(data: bytes, pos: int) -> int:
    """Skip heart-beats: bare EOLs before, between and after frames."""
    while pos < len(data):
        if data[pos] == 0x0A:
            pos += 1
        elif data[pos] == 0x0D and data[pos + 1 : pos + 2] == b"\n":
            pos += 2
        else:
            break
    return pos


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FrameError(INVALID_FRAME, f"The {what} is not valid UTF-8.") from None


def _unescape(text: str, version: str) -> str:
    if "\\" not in text:
        return text
    table = _ESCAPES[version]
    out, chars = [], iter(text)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        escaped = table.get(next(chars, ""))
        if escaped is None:  # the spec makes an undefined escape a fatal protocol error
            raise FrameError(INVALID_FRAME, f"Undefined escape sequence in header {text[:40]!r}.")
        out.append(escaped)
    return "".join(out)


def _escape(text: str, version: str) -> str:
    if version == "1.1":
        text = text.replace("\r", " ")  # 1.1 has no escape for CR, and a trailing one would vanish
    table = _UNESCAPES[version]
    if not any(char in table for char in text):
        return text
    return "".join(table.get(char, char) for char in text)


def _flatten(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")
