"""Unmasking client frames (chatproject/frame_unmask.py) gives what RFC 6455 says."""

from __future__ import annotations

import itertools
import os
import random

import autobahn.websocket.protocol as autobahn_protocol
import pytest

from chatproject import frame_unmask
from chatproject.frame_unmask import SMALL_FRAME, SmallFrameMasker, create_xor_masker


def unmasked(data: bytes, key: bytes) -> bytes:
    # RFC 6455, 5.3: octet i of the payload is XOR-ed with octet i MOD 4 of the masking key.
    return bytes(octet ^ key[i % 4] for i, octet in enumerate(data))


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 100, 333, SMALL_FRAME])
def test_a_whole_payload_is_unmasked(length: int) -> None:
    key, data = os.urandom(4), os.urandom(length)

    masker = SmallFrameMasker(key)

    assert masker.process(data) == unmasked(data, key)
    assert masker.pointer() == length


def test_a_payload_arriving_in_pieces_is_unmasked_where_each_piece_starts() -> None:
    rng = random.Random(7)
    for _ in range(200):
        key, data = os.urandom(4), os.urandom(rng.randrange(1, 600))
        cuts = sorted(rng.sample(range(1, len(data)), k=min(len(data) - 1, rng.randrange(0, 6))))
        bounds = [0, *cuts, len(data)]
        pieces = [data[start:end] for start, end in itertools.pairwise(bounds)]
        masker = SmallFrameMasker(key)

        assert b"".join(masker.process(piece) for piece in pieces) == unmasked(data, key)


def test_reset_starts_the_key_over() -> None:
    key, data = os.urandom(4), os.urandom(10)
    masker = SmallFrameMasker(key)
    masker.process(data[:3])

    masker.reset()

    assert masker.pointer() == 0 and masker.process(data) == unmasked(data, key)


def test_long_frames_keep_autobahns_masker_and_agree() -> None:
    key, data = os.urandom(4), os.urandom(SMALL_FRAME + 1)

    masker = create_xor_masker(key, len(data))

    assert not isinstance(masker, SmallFrameMasker)
    assert masker.process(data) == unmasked(data, key)
    assert isinstance(create_xor_masker(key, 20), SmallFrameMasker)


def test_install_makes_autobahn_unmask_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(autobahn_protocol, "create_xor_masker", autobahn_protocol.create_xor_masker)

    frame_unmask.install()

    assert autobahn_protocol.create_xor_masker is create_xor_masker
