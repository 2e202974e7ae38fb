"""Each log line once: Django's own default handler and the root's must not both print it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_django_log_record_is_printed_once_under_the_local_settings(tmp_path):
    script = (
        "import logging, django; django.setup();"
        "logging.getLogger('django.channels.server').info('HTTP GET /x 200');"
        "logging.getLogger('chatproject.x').warning('app line')"
    )
    env = {"DJANGO_SETTINGS_MODULE": "chatproject.settings.local", "CHAT_VAR_DIR": str(tmp_path), "PATH": ""}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("HTTP GET /x 200") == 1
    assert result.stderr.count("app line") == 1
