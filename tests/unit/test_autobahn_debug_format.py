"""autobahn's per-connection debug message: its options become text only when it is written."""

import logging
import pprint

import pytest

from chatproject import daphne_server

OPTIONS = [("openHandshakeTimeout", 5, "WebSocketServerFactory"), ("autoPingInterval", 20.0, "Factory")]


@pytest.fixture
def pformat_calls(monkeypatch):
    calls = []
    real = pprint.pformat

    def counting(value, *args, **kwargs):
        calls.append(value)
        return real(value, *args, **kwargs)

    monkeypatch.setattr(pprint, "pformat", counting)
    return calls


def test_the_options_list_is_not_formatted_unless_the_message_is_written(pformat_calls, caplog):
    logger = logging.getLogger("autobahn-like")
    with caplog.at_level(logging.INFO, logger="autobahn-like"):
        logger.debug("\n%s", daphne_server._pformat_for_autobahn(OPTIONS))
    assert pformat_calls == []
    with caplog.at_level(logging.DEBUG, logger="autobahn-like"):
        logger.debug("\n%s", daphne_server._pformat_for_autobahn(OPTIONS))
    assert caplog.messages == ["\n" + pprint.pformat(OPTIONS)]


def test_written_through_str_format_as_autobahn_does_it_reads_as_pformat():
    text = "\n{attrs}".format(attrs=daphne_server._pformat_for_autobahn(OPTIONS))  # noqa: UP032 (as txaio formats)
    assert text == "\n" + pprint.pformat(OPTIONS)


def test_other_values_are_formatted_at_once():
    timings = {"connect": 0.5}
    assert daphne_server._pformat_for_autobahn(timings) == pprint.pformat(timings)
    assert isinstance(daphne_server._pformat_for_autobahn(timings), str)
