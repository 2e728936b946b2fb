"""The type checker is part of `make test`, strict, and every silenced error says why."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO

_IGNORE = re.compile(r"#\s*type:\s*ignore(\[[^\]]*\])?(.*)$")



def test_make_test_runs_a_strict_type_checker_over_monitor() -> None:
    make = (REPO / "Makefile").read_text()
    target = re.search(r"^test:.*\n((?:\t.*\n)+)", make, re.M)
    assert target, "no test target in the Makefile"
    assert "\t$(BIN)/mypy\n" in target.group(1)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert any(r.startswith("mypy>=") for r in project["project"]["optional-dependencies"]["test"])
    mypy = project["tool"]["mypy"]
    assert mypy["files"] == ["monitor"]
    for flag in ("disallow_untyped_defs", "warn_unused_ignores", "check_untyped_defs"):
        assert mypy[flag] is True, flag
    assert "ignore-without-code" in mypy["enable_error_code"]
    # Missing imports are ignored per library (each with its reason), never for all of them.
    assert "ignore_missing_imports" not in mypy


def _unexplained_ignores(path: str) -> list[str]:
    lines = (REPO / path).read_text().splitlines()
    bad = []
    for number, line in enumerate(lines, 1):
        found = _IGNORE.search(line)
        if not found:
            continue
        code, rest = found.group(1), found.group(2)
        explained = rest.strip().startswith("#") or (
            number > 1 and lines[number - 2].strip().startswith("#")
        )
        if not code or not explained:
            bad.append(f"{path}:{number}: {line.strip()}")
    return bad


def test_every_type_ignore_names_its_error_and_its_reason() -> None:
    """`# type: ignore[code]` with a comment saying why, on the line or just above it."""
    files = sorted(str(p.relative_to(REPO)) for p in (REPO / "monitor").rglob("*.py"))
    bad = [b for path in files for b in _unexplained_ignores(path)]
    assert not bad, "\n".join(bad)
