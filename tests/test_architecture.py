"""Tests that take the whole repository as input, to keep the architecture honest."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_DIRS = ["accounts", "chatproject", "messages", "rooms"]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_mongo_backend_imports_pymongo():
    importers = {
        str(path.relative_to(ROOT))
        for directory in APP_DIRS
        for path in (ROOT / directory).rglob("*.py")
        if {"pymongo", "bson", "motor"} & _imports(path)
    }
    assert importers == {"messages/chatlog/mongo.py"}


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_code_is_formatted():
    # ruff also formats the Python samples inside docs/*.md.
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
