"""The shape of the code, read off its imports: no cycles between the parts of `monitor`, no
stage importing a stage after it, and the config free of stages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "monitor"
# The pipeline's stages in order: data flows one way, so a stage may import earlier stages
# (their types and helpers), never a later one.
STAGES = ["fetch", "extract", "detect", "topics", "digest", "notify"]
# What ties the stages together; these may import any stage.
WIRING = {
    "wiring", "pipeline", "daemon", "cli", "outbox", "dispatch", "web", "__main__", "preload",
}  # fmt: skip


def part(module: str) -> str:
    """`monitor.fetch.client` -> `fetch`; `monitor.config` -> `config`."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else pieces[0]


def type_only(tree: ast.Module) -> set[int]:
    """Ids of the import nodes under `if TYPE_CHECKING:`: they never run, so they make no
    import cycle (they name a type for the checker)."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    return hidden


def imports() -> dict[str, set[str]]:
    """For every part of `monitor`, the other parts it imports anywhere (function-level
    imports included: a cycle hidden inside a function is still a cycle; imports for the type
    checker only are not)."""
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(
            ".__init__"
        )
        source = part(module)
        targets = graph.setdefault(source, set())
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hidden = type_only(tree)
        for node in ast.walk(tree):
            if id(node) in hidden:
                continue
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
                if node.module == "monitor":
                    names = [f"monitor.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("monitor.") and part(name) != source:
                    targets.add(part(name))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_parts_of_monitor_import_each_other_without_cycles() -> None:
    assert cycles(imports()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("stage", STAGES)
def test_no_stage_imports_a_later_one(stage: str) -> None:
    later = set(STAGES[STAGES.index(stage) + 1 :])
    assert imports().get(stage, set()) & later == set()


def test_the_config_imports_no_stage_and_nothing_that_wires_them() -> None:
    assert imports()["config"] & (set(STAGES) | WIRING | {"store", "sources"}) == set()


def test_only_the_wiring_builds_pipelines() -> None:
    """The Poller is constructed in one place (the wiring), not by the daemon or the CLI."""
    builders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Poller"
            ):
                builders.append(path.relative_to(PACKAGE).as_posix())
    assert builders == ["wiring.py"]


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    """The graph reader sees module-level, function-level and `from monitor import x` imports."""
    assert "topics" in imports()["wiring"]  # function body and module level alike
    assert "models" in imports()["topics"]
    # monitor/topics/matcher.py names the config models for the type checker only.
    assert "config" not in imports()["topics"]
