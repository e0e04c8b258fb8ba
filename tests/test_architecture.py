"""The layout of docs/ARCHITECTURE.md, checked: which room may import which, no import
circles, the pure rooms load without Flask or SQLAlchemy, few modules at the top."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "opencx_bridge"
TOP_LEVEL = {"__init__", "factory", "config", "extensions", "http_sessions"}
WEB_FRAMEWORK = {"flask", "flask_login", "flask_migrate", "flask_sqlalchemy", "flask_wtf",
                 "htmx_flask", "werkzeug", "wtforms", "sqlalchemy", "alembic", "click"}
LOWER = {"freshchat", "ai", "engine.rules", "http_sessions", "config", "extensions"}
EVERY_ROOM = LOWER | {"store", "kb", "outbox", "engine", "scheduler", "worker", "intake",
                      "web", "cli", "standin", "sandbox", "factory", "__init__", "outcomes"}
# room -> the rooms it may import (itself always). Keep in step with docs/ARCHITECTURE.md.
MAY_IMPORT = {
    "freshchat": set(),
    "ai": {"http_sessions"},
    "engine.rules": {"ai", "freshchat"},
    "http_sessions": set(),
    "config": set(),
    "extensions": set(),
    "standin": {"freshchat"},  # a stand-in for Freshchat follows its docs, not our code
    "store": {"extensions", "freshchat", "ai", "http_sessions"},
    "kb": {"extensions", "store", "ai"},
    "outbox": {"extensions", "store", "freshchat", "http_sessions"},
    "engine": {"extensions", "store", "outbox", "engine.rules", "ai", "kb", "freshchat"},
    "scheduler": {"extensions", "store", "outbox", "engine", "engine.rules", "freshchat", "ai",
                  "kb"},
    "outcomes": {"extensions", "store", "engine.rules"},  # read-only figures of the sessions
    "worker": {"extensions", "store", "outbox", "engine", "scheduler", "ai"},
    "intake": {"extensions", "store", "freshchat"},  # it wakes the worker by its app key
    "sandbox": {"extensions", "store", "outbox", "kb", "freshchat", "standin"},
    "web": EVERY_ROOM - {"cli", "sandbox", "standin", "factory", "__init__"},
    "cli": EVERY_ROOM - {"web", "factory", "__init__"},
    "factory": EVERY_ROOM - {"__init__"},
    "__init__": {"factory"},
}
# Third-party code the pure rooms must not load: they are plain functions over plain data.
MAY_NOT_LOAD = {
    "freshchat": WEB_FRAMEWORK,
    "ai": WEB_FRAMEWORK,
    "engine.rules": WEB_FRAMEWORK | {"requests"},
    "standin": {"sqlalchemy", "flask_sqlalchemy"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(("opencx_bridge", *parts)).removesuffix(".__init__")


def room_of(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts:
        return "__init__"
    if parts[:2] == ["engine", "rules"]:
        return "engine.rules"
    return parts[0]


def imports_of(path: Path, top_only: bool = False,
               known: frozenset[str] = frozenset()) -> list[tuple[str, int]]:
    """(imported module, line) for each import; top_only: those run when the module loads."""
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if top_only else ast.walk(tree)
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}:{node.lineno}: relative import (ruff TID252)"
            for alias in node.names:  # `from opencx_bridge.x import y`: y may be a module
                candidate = f"{node.module}.{alias.name}"
                module = candidate if candidate in known or is_module(candidate) else node.module
                found.append((module, node.lineno))
    return found


def is_module(name: str) -> bool:
    if not name.startswith("opencx_bridge."):
        return False
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative).is_dir()


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def forbidden_imports(source: dict[str, Path]) -> list[str]:
    problems = []
    for module, path in source.items():
        room = room_of(module)
        allowed = MAY_IMPORT[room] | {room}
        for imported, line in imports_of(path):
            where = f"{path.name}:{line}"
            if imported.startswith("opencx_bridge"):
                target = room_of(imported)
                if target not in allowed:
                    problems.append(f"{where}: {room} may not import {target} ({imported})")
            elif imported.split(".")[0] in MAY_NOT_LOAD.get(room, ()):
                problems.append(f"{where}: {room} is pure and may not import {imported}")
    return problems


def cycles(source: dict[str, Path]) -> list[list[str]]:
    graph = defaultdict(set)
    for module, path in source.items():
        for imported, _line in imports_of(path, top_only=True, known=frozenset(source)):
            if imported in source and imported != module:
                graph[module].add(imported)
    found, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for module in sorted(source):
        if module not in state:
            visit(module, [module])
    return found


def test_every_room_is_known_and_the_top_level_stays_small():
    source = modules()
    assert {room_of(m) for m in source} <= set(MAY_IMPORT), "a new room: add it to the rules"
    top = {path.stem for path in PACKAGE.glob("*.py")}
    assert top == TOP_LEVEL and len(top) <= 8


def test_no_room_imports_what_the_architecture_forbids():
    assert forbidden_imports(modules()) == []


def test_no_import_circles():
    assert cycles(modules()) == []


def test_the_checks_find_a_forbidden_import_and_a_circle(tmp_path):
    """The rules themselves can fail: a pure rule importing the store, a circle."""
    pure = tmp_path / "routing.py"
    pure.write_text("import flask\nfrom opencx_bridge.store import models\n")
    source = {"opencx_bridge.engine.rules.routing": pure}
    assert [p.split(": ", 1)[1] for p in forbidden_imports(source)] == [
        "engine.rules is pure and may not import flask",
        "engine.rules may not import store (opencx_bridge.store.models)"]
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text("import opencx_bridge.store.b\n")
    second.write_text("from opencx_bridge.store import a\n")
    circle = {"opencx_bridge.store.a": first, "opencx_bridge.store.b": second}
    assert cycles(circle) == [["opencx_bridge.store.a", "opencx_bridge.store.b",
                               "opencx_bridge.store.a"]]


# Views and commands change state only through write functions (store/writes.py).
FRONT_DOORS = ("web", "cli", "sandbox", "intake/view.py")
SESSION_WRITES = {"commit", "rollback", "add", "add_all", "delete", "flush"}


def session_writes(path: Path) -> list[str]:
    """`db.session.commit()` and friends called in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in SESSION_WRITES
                and ast.unparse(node.func.value) == "db.session"):
            found.append(f"{path.name}:{node.lineno}: db.session.{node.func.attr}()")
    return found


def test_views_and_commands_write_only_through_write_functions(tmp_path):
    doors = [path for door in FRONT_DOORS for path in
             ([PACKAGE / door] if door.endswith(".py") else (PACKAGE / door).rglob("*.py"))]
    assert [found for path in doors for found in session_writes(path)] == []
    bad = tmp_path / "view.py"
    bad.write_text("def save():\n    db.session.add(1)\n    db.session.commit()\n")
    assert session_writes(bad) == ["view.py:2: db.session.add()", "view.py:3: db.session.commit()"]


def test_the_pure_rooms_load_without_flask_or_sqlalchemy():
    """Per import, not only per module: importing them loads no web framework or database."""
    code = ("import sys, opencx_bridge.engine.rules, opencx_bridge.freshchat.client, "
            "opencx_bridge.freshchat.events, opencx_bridge.freshchat.signature, "
            "opencx_bridge.ai.summary, opencx_bridge.ai.office_hours; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'sqlalchemy', "
            "'werkzeug', 'flask_sqlalchemy'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
