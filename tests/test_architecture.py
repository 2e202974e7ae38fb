"""Tests that take the whole repository as input, to keep the architecture honest."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_DIRS = ["accounts", "chatproject", "messages", "rooms"]
# The packages whose private names (a leading underscore) the app must not touch: their next
# release may rename or remove any of them without notice.
LIBRARIES = {"django", "channels", "channels_redis", "daphne", "autobahn", "twisted", "redis", "asgiref", "txaio"}
# Underscore names those libraries document as public.
DOCUMENTED = {
    "_meta",  # Django's Model _meta API (ref/models/meta)
    "_current_frames",  # the standard library's sys._current_frames(), documented
}


def _app_files() -> list[Path]:
    return [
        path
        for directory in APP_DIRS
        for path in (ROOT / directory).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    ]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, by its full dotted name."""
    modules = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def _own_private_names() -> set[str]:
    """Every underscore name the app itself defines (functions, classes, attributes, variables)."""
    names = set()
    for path in _app_files():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return {name for name in names if name.startswith("_")}


def test_only_the_mongo_backend_imports_pymongo():
    importers = {str(path.relative_to(ROOT)) for path in _app_files() if {"pymongo", "bson", "motor"} & _imports(path)}
    assert importers == {"messages/chatlog/mongo.py"}


def test_the_app_touches_no_private_name_of_a_library():
    own = _own_private_names()
    found = []
    for path in _app_files():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in LIBRARIES:
                found += [f"{path.relative_to(ROOT)}: from {node.module} import {alias.name}"
                          for alias in node.names if alias.name.startswith("_")]  # fmt: skip
                if any(part.startswith("_") for part in node.module.split(".")):
                    found.append(f"{path.relative_to(ROOT)}: from {node.module}")
            elif isinstance(node, ast.Attribute):
                name = node.attr
                private = name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
                if private and name not in own and name not in DOCUMENTED:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{name}")
    assert found == []


def test_no_module_assigns_into_another_packages_module():
    found = []
    for path in _app_files():
        tree = _tree(path)
        modules = set()  # names bound to imported modules in this file
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules.update(alias.asname or alias.name for alias in node.names)
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for target in targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name | ast.Attribute):
                    base = target.value
                    while isinstance(base, ast.Attribute):
                        base = base.value
                    if isinstance(base, ast.Name) and base.id in modules and base.id not in {"self", "cls"}:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(target)}")
    assert found == []


def test_rooms_reaches_messages_only_through_its_interface():
    found = {
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "rooms").rglob("*.py")
        for module in _imported_modules(path)
        if module.split(".")[0] == "messages"
        and module not in {"messages", "messages.interface"}
        and not module.startswith("messages.interface.")
    }
    assert found == set()


def test_the_two_socket_endpoints_are_thin():
    # Each is a codec over messages.realtime.session; what they share lives there.
    for path in ("messages/json_endpoint.py", "messages/stomp/subscriptions.py"):
        assert len((ROOT / path).read_text().splitlines()) < 150, path


def test_the_project_points_nowhere_outside_itself():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    found = [
        name
        for name in tracked.split()
        if (ROOT / name).is_file()
        and name != "tests/test_architecture.py"
        and "shared/STACK-NOTES" in (ROOT / name).read_text(errors="ignore")
    ]
    assert found == []


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_code_is_formatted():
    # ruff also formats the Python samples inside docs/*.md.
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
