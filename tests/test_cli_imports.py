"""The quick commands import only what they use (issue 16, point 3): `check`, `sources` and
`match` run on the shipped config in a fresh interpreter, and what they leave in `sys.modules`
must not hold the heavy libraries that only polling, extracting, storing or scheduling need.
Start-up time is imports; this guards it without timing anything (the figures come from
benchmarks/bench_cli.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.topic_cache import CACHE_ENV
from tests.conftest import REPO

# Runs the real CLI entry point in this interpreter, then writes what it imported.
PROBE = """
import json, sys
out, args = sys.argv[1], sys.argv[2:]
sys.argv = ["monitor", *args]
from monitor.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
with open(out, "w", encoding="utf-8") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""

# Needed by none of the three: the HTTP clients' transports, page and feed parsers, the PDF
# reader, the database layer, the scheduler, the digest's templates, the metrics registry.
HEAVY = {
    "aiohttp", "trafilatura", "lxml", "feedparser", "pypdf", "sqlalchemy", "apscheduler",
    "jinja2", "datasketch", "numpy", "prometheus_client", "charset_normalizer", "pygments",
}  # fmt: skip
# `check` and `sources` only learn whether the topics compile, which the topic cache answers
# without loading the compiler, its dictionaries or its automata.
TOPIC_COMPILER = {"simplemma", "luqum", "ply", "ahocorasick", "monitor.topics"}


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    """The shipped config.toml and seeds/ in a scratch folder, with its own cache, filled by a
    first `check` (the one that compiles the topics)."""
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    first = run(tmp_path, "check")
    assert first["code"] == 0
    return tmp_path


def run(folder: Path, *args: str, text: str | None = None) -> dict[str, object]:
    out = folder / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), "--config", str(folder / "config.toml"), *args],
        cwd=folder,
        input=text,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, CACHE_ENV: str(folder / "cache")},
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return result


def loaded(result: dict[str, object], names: set[str]) -> set[str]:
    """Which of `names` (packages, with their submodules) the run imported."""
    modules = result["modules"]
    assert isinstance(modules, list)
    return {n for n in names if any(m == n or m.startswith(n + ".") for m in modules)}


def test_check_imports_neither_the_pipeline_nor_the_topic_compiler(shipped: Path) -> None:
    result = run(shipped, "check")
    assert result["code"] == 0
    assert loaded(result, HEAVY | TOPIC_COMPILER | {"asyncio", "rich"}) == set()


def test_sources_without_state_imports_no_database_layer(shipped: Path) -> None:
    result = run(shipped, "sources", "--json")
    assert result["code"] == 0
    assert not (shipped / "state").exists()
    assert loaded(result, HEAVY | TOPIC_COMPILER | {"asyncio"}) == set()


def test_sources_table_imports_only_the_table_from_rich(shipped: Path) -> None:
    result = run(shipped, "sources")
    assert result["code"] == 0
    assert loaded(result, HEAVY | TOPIC_COMPILER | {"rich.progress", "rich.syntax"}) == set()


def test_sources_with_state_reads_it(shipped: Path) -> None:
    # With a state database the health comes from the store, which needs SQLAlchemy: that much,
    # and nothing else heavy.
    from monitor.store import Store

    Store(shipped / "state").close()
    result = run(shipped, "sources", "--json")
    assert result["code"] == 0
    assert loaded(result, {"sqlalchemy"}) == {"sqlalchemy"}
    assert loaded(result, (HEAVY - {"sqlalchemy"}) | TOPIC_COMPILER) == set()


def test_match_imports_the_matcher_but_no_fetching_parsing_or_storing(shipped: Path) -> None:
    result = run(shipped, "match", "-", text="Nordkoreanische Soldaten in der Region Kursk.\n")
    assert result["code"] == 0
    assert loaded(result, {"simplemma", "monitor.topics"}) == {"simplemma", "monitor.topics"}
    assert loaded(result, HEAVY) == set()
