"""The house rules that keep the design easy to see, checked on every module (ast, no imports executed).

- Imports go one way: tuyabot -> bot -> rag -> storage -> scraper; only ``tuyabot.settings`` may be read
  from any room.
- No function in non-test code is longer than 60 lines (the Alembic migrations excepted).
- Chat adapters (``bot/<platform>/``) import only from ``bot`` (the core's façade), never from the rooms below.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ROOMS = ["scraper", "storage", "rag", "bot", "tuyabot"]  # lowest first
MAX_FUNCTION_LINES = 60


def modules(*rooms: str) -> Iterator[tuple[str, Path]]:
    for room in rooms:
        for path in sorted((REPO / room).rglob("*.py")):
            if "migrations" not in path.parts:
                yield room, path


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def upward_imports(room: str, tree: ast.AST) -> list[str]:
    found = []
    for line, name in imported_modules(tree):
        target = name.split(".")[0]
        if target not in ROOMS or name == "tuyabot.settings" or name.startswith("tuyabot.settings."):
            continue
        if ROOMS.index(target) > ROOMS.index(room):
            found.append(f"line {line}: {name}")
    return found


@pytest.mark.parametrize(("room", "path"), list(modules(*ROOMS)), ids=lambda v: str(v).split("main/")[-1])
def test_imports_go_one_way(room: str, path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert upward_imports(room, tree) == [], f"{path.relative_to(REPO)} imports a room above {room}"


def test_the_rule_catches_an_upward_import() -> None:
    tree = ast.parse("from rag.chat import Answer\nfrom tuyabot.settings import Settings\nimport scraper.page\n")
    assert upward_imports("storage", tree) == ["line 1: rag.chat"]
    assert upward_imports("rag", ast.parse("def f():\n    from tuyabot.components import Components\n")) == [
        "line 2: tuyabot.components"]


def test_chat_adapters_import_only_from_bot() -> None:
    for path in sorted((REPO / "bot").glob("*/*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        below = [name for _, name in imported_modules(tree) if name.split(".")[0] in ("rag", "storage", "scraper")]
        assert below == [], f"{path.relative_to(REPO)} reaches past the core: {below}"


def long_functions(tree: ast.AST) -> list[str]:
    return [f"{node.name} ({node.end_lineno - node.lineno + 1} lines, line {node.lineno})"
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def test_no_function_is_longer_than_sixty_lines() -> None:
    offenders = {str(path.relative_to(REPO)): long_functions(ast.parse(path.read_text(encoding="utf-8")))
                 for _, path in modules(*ROOMS, "bench")}
    assert {p: f for p, f in offenders.items() if f} == {}
