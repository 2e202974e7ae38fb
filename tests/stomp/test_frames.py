"""The STOMP frame parser and encoder (messages/stomp/frames.py), without any server."""

from __future__ import annotations

import pytest

from messages.stomp.frames import (
    CLIENT_COMMANDS,
    INVALID_FRAME,
    SERVER_COMMANDS,
    TOO_LARGE,
    UNKNOWN_COMMAND,
    Frame,
    FrameError,
    FrameParser,
    encode,
)

LIMIT = 1024


def parse(data: bytes, *, version: str = "1.2", commands=CLIENT_COMMANDS, **limits) -> list[Frame]:
    parser = FrameParser(
        commands=commands, max_frame_bytes=limits.pop("max_frame_bytes", LIMIT), version=version, **limits
    )
    return list(parser.parse(data))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            b"SEND\ndestination:/app/rooms.a\n\nhi\0", [("SEND", [("destination", "/app/rooms.a")], b"hi")], id="basic"
        ),
        pytest.param(b"DISCONNECT\n\n\0", [("DISCONNECT", [], b"")], id="no headers, no body"),
        pytest.param(b"SEND\r\ndestination:x\r\n\r\nhi\0", [("SEND", [("destination", "x")], b"hi")], id="CRLF"),
        pytest.param(b"SEND\na:1\na:2\n\n\0", [("SEND", [("a", "1"), ("a", "2")], b"")], id="repeated header kept"),
        pytest.param(b"SEND\nempty:\n\n\0", [("SEND", [("empty", "")], b"")], id="empty value"),
        pytest.param(
            b"SEND\nurl:ws://h:1/x\n\n\0", [("SEND", [("url", "ws://h:1/x")], b"")], id="colons after the first"
        ),
        pytest.param(b"SEND\n x : y \n\n\0", [("SEND", [(" x ", " y ")], b"")], id="spaces are significant"),
        pytest.param(
            b"SEND\ncontent-length:5\n\na\0b\0c\0",
            [("SEND", [("content-length", "5")], b"a\0b\0c")],
            id="content-length with NULs in the body",
        ),
        pytest.param(
            b"SEND\ncontent-length:0\n\n\0", [("SEND", [("content-length", "0")], b"")], id="content-length 0"
        ),
        pytest.param(
            "SEND\nc:é\n\n😀\0".encode(), [("SEND", [("c", "é")], "😀".encode())], id="UTF-8 headers and body"
        ),
        pytest.param(
            b"SEND\na:1\n\nx\0SUBSCRIBE\nid:0\n\n\0",
            [("SEND", [("a", "1")], b"x"), ("SUBSCRIBE", [("id", "0")], b"")],
            id="two frames in one message",
        ),
        pytest.param(
            b"\n\r\n\nSEND\n\n1\0\n\n\r\nSEND\n\n2\0\n",
            [("SEND", [], b"1"), ("SEND", [], b"2")],
            id="heart-beat EOLs before, between and after",
        ),
        pytest.param(b"\n", [], id="a heart-beat alone"),
        pytest.param(b"\r\n\n\r\n", [], id="several heart-beats"),
        pytest.param(b"", [], id="nothing"),
    ],
)
def test_valid_frames(data, expected):
    assert [(f.command, list(f.headers), f.body) for f in parse(data)] == expected


@pytest.mark.parametrize(
    ("raw", "value", "version"),
    [
        (r"a\cb", "a:b", "1.2"),
        (r"line\nbreak", "line\nbreak", "1.2"),
        (r"cr\rhere", "cr\rhere", "1.2"),
        (r"back\\slash", "back\\slash", "1.2"),
        (r"\\n", "\\n", "1.2"),  # an escaped backslash, then a plain n
        (r"a\cb\nc", "a:b\nc", "1.1"),
        (r"a\cb", r"a\cb", "1.0"),  # 1.0 has no escapes
    ],
)
def test_header_unescaping(raw, value, version):
    [frame] = parse(f"SEND\nk{raw}:{raw}\n\n\0".encode(), version=version)
    assert frame.headers == (("k" + value, value),)


@pytest.mark.parametrize("command", ["CONNECT", "STOMP"])
def test_connect_headers_are_never_unescaped(command):
    [frame] = parse(f"{command}\npasscode:a\\cb\\x\n\n\0".encode())
    assert frame.header("passcode") == "a\\cb\\x"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(b"SEND\ndestination:x\n\nno terminator", INVALID_FRAME, id="no NUL"),
        pytest.param(b"SEND\ndestination:x\n", INVALID_FRAME, id="headers never end"),
        pytest.param(b"SEND", INVALID_FRAME, id="command only"),
        pytest.param(b"SEND\ndestination:x\0", INVALID_FRAME, id="NUL inside the headers"),
        pytest.param(b"SEND\nno-colon\n\n\0", INVALID_FRAME, id="header without colon"),
        pytest.param(b"SEND\n:value\n\n\0", INVALID_FRAME, id="empty header name"),
        pytest.param(b"SEND\nk:bad\\t\n\n\0", INVALID_FRAME, id="undefined escape"),
        pytest.param(b"SEND\nk:trailing\\\n\n\0", INVALID_FRAME, id="escape at the end"),
        pytest.param(b"SEND\nk:\xff\n\n\0", INVALID_FRAME, id="header not UTF-8"),
        pytest.param(b"SEND\ncontent-length:x\n\n\0", INVALID_FRAME, id="content-length not a number"),
        pytest.param(b"SEND\ncontent-length:-1\n\n\0", INVALID_FRAME, id="content-length negative"),
        pytest.param(b"SEND\ncontent-length:3\n\nab\0", INVALID_FRAME, id="content-length beyond the NUL"),
        pytest.param(b"SEND\ncontent-length:1\n\nabc\0", INVALID_FRAME, id="content-length short of the NUL"),
        pytest.param(b"SHOUT\n\n\0", UNKNOWN_COMMAND, id="unknown command"),
        pytest.param(b"send\n\n\0", UNKNOWN_COMMAND, id="commands are upper case"),
        pytest.param(b"MESSAGE\n\n\0", UNKNOWN_COMMAND, id="a server command from a client"),
        pytest.param(b"SEND\n\n" + b"x" * LIMIT + b"\0", TOO_LARGE, id="body over the frame limit"),
        pytest.param(b"SEND\n\n" + b"x" * (LIMIT + 50), TOO_LARGE, id="over the limit and no NUL"),
        pytest.param(b"SEND\ncontent-length:99999\n\nx\0", TOO_LARGE, id="content-length over the limit"),
        pytest.param(b"SEND\n" + b"h:v\n" * 33 + b"\n\0", TOO_LARGE, id="33 headers"),
        pytest.param(b"SEND\nh:" + b"v" * 600 + b"\n\n\0", TOO_LARGE, id="header line too long"),
    ],
)
def test_malformed_frames_raise(data, code):
    with pytest.raises(FrameError) as error:
        parse(data, max_header_bytes=512)
    assert error.value.code == code and error.value.detail


def test_exactly_the_limits_pass():
    headers = b"".join(f"h{n}:v\n".encode() for n in range(32))
    [frame] = parse(b"SEND\n" + headers + b"\n\0")
    assert len(frame.headers) == 32
    body = b"x" * (LIMIT - len(b"SEND\n\n\0"))
    [frame] = parse(b"SEND\n\n" + body + b"\0")
    assert frame.body == body


def test_frames_before_a_bad_one_are_yielded_first():
    parser = FrameParser(max_frame_bytes=LIMIT)
    frames = parser.parse(b"SEND\n\nok\0SHOUT\n\n\0")
    assert next(frames).body == b"ok"
    with pytest.raises(FrameError):
        next(frames)


def test_the_version_can_change_between_frames_of_one_message():
    parser = FrameParser(max_frame_bytes=LIMIT, version="1.0")
    seen = []
    for frame in parser.parse(b"CONNECT\naccept-version:1.2\n\n\0SEND\nk:a\\cb\n\n\0"):
        seen.append(frame.header("k"))
        parser.version = "1.2"  # what the consumer does once it has answered CONNECT
    assert seen == [None, "a:b"]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
@pytest.mark.parametrize("value", ["plain", "a:b", "line\nbreak", "back\\slash", "all:\n\\:"])
def test_encode_then_parse_round_trips_headers(version, value):
    data = encode("MESSAGE", {"k:" + value: value}, b"body", version=version)
    [frame] = parse(data, version=version, commands=SERVER_COMMANDS)
    assert frame.header("k:" + value) == value and frame.body == b"body"


def test_encode_escapes_as_the_spec_shows():
    assert encode("MESSAGE", {"a": "x:y\\z\n\r"}) == b"MESSAGE\na:x\\cy\\\\z\\n\\r\n\n\0"
    assert encode("MESSAGE", {"a": "\r"}, version="1.1") == b"MESSAGE\na: \n\n\0"  # 1.1 cannot escape CR


def test_encode_never_escapes_connected_and_flattens_for_1_0():
    assert encode("CONNECTED", {"version": "1.2", "server": "a:b"}) == b"CONNECTED\nversion:1.2\nserver:a:b\n\n\0"
    assert encode("ERROR", {"message": "two\nlines"}, version="1.0") == b"ERROR\nmessage:two lines\n\n\0"


def test_encode_adds_content_length_for_a_body_with_nuls():
    data = encode("MESSAGE", {"destination": "/topic/x"}, "é\0x".encode())
    assert data == b"MESSAGE\ndestination:/topic/x\ncontent-length:4\n\n\xc3\xa9\0x\0"
    [frame] = parse(data, commands=SERVER_COMMANDS)
    assert frame.body == "é\0x".encode()


def test_first_header_wins():
    frame = Frame("SEND", (("a", "1"), ("a", "2")))
    assert frame.header("a") == "1" and frame.header("b") is None and frame.header("b", "d") == "d"


def test_the_frame_module_needs_no_django():
    """frames.py is the pure part: any STOMP tool could reuse it."""
    import ast
    from pathlib import Path

    import messages.stomp.frames as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "collections", "dataclasses"}, imported
