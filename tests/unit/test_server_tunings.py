"""The server tunings are used only with the versions they were written for, and only when asked."""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from chatproject import server_tunings
from chatproject.env import env_choices


def test_with_the_pinned_versions_the_requested_tunings_are_used():
    assert server_tunings.usable_tunings(["direct-writes", "gc-freeze"]) == {"direct-writes", "gc-freeze"}
    assert server_tunings.usable_tunings([]) == frozenset()


def test_with_any_other_version_none_is_used_and_one_warning_says_why(monkeypatch, caplog):
    real = server_tunings.metadata.version
    monkeypatch.setattr(server_tunings.metadata, "version", lambda name: "99.0" if name == "autobahn" else real(name))
    with caplog.at_level(logging.WARNING, logger="chatproject.server_tunings"):
        assert server_tunings.usable_tunings(list(server_tunings.TUNINGS)) == frozenset()
    [record] = caplog.records
    assert "autobahn 99.0" in record.getMessage() and "plain daphne" in record.getMessage()


def test_the_setting_takes_names_all_or_none_and_refuses_anything_else(monkeypatch):
    choices = list(server_tunings.TUNINGS)
    for value, expected in (
        ("all", choices),
        ("none", []),
        ("", []),
        ("gc-freeze, direct-writes", ["gc-freeze", "direct-writes"]),
    ):
        monkeypatch.setenv("CHAT_SERVER_TUNINGS", value)
        assert env_choices("CHAT_SERVER_TUNINGS", choices, []) == expected
    monkeypatch.setenv("CHAT_SERVER_TUNINGS", "turbo")
    with pytest.raises(ImproperlyConfigured, match="turbo"):
        env_choices("CHAT_SERVER_TUNINGS", choices, [])
