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
    # A None entry is a module marked absent (httpx's command line: monitor/gate.py).
    json.dump({"code": code, "modules": sorted(k for k, v in sys.modules.items() if v)}, fh)
"""

# Needed by none of the three: the HTTP transport, page and feed parsers, the PDF reader, the
# database layer, the digest's templates, httpx's own command line (rich's progress bars,
# pygments). APScheduler stays (a channel's crontab is checked with it, and it imports
# asyncio), and so do the metrics for `match` (its parser process counts its start).
HEAVY = {
    "aiohttp", "trafilatura", "lxml", "feedparser", "pypdf", "sqlalchemy", "jinja2",
    "datasketch", "numpy", "charset_normalizer", "pygments", "httpx._main",
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
    assert loaded(result, HEAVY | TOPIC_COMPILER | {"rich", "prometheus_client"}) == set()


def test_sources_without_state_imports_no_database_layer(shipped: Path) -> None:
    result = run(shipped, "sources", "--json")
    assert result["code"] == 0
    assert not (shipped / "state").exists()
    assert loaded(result, HEAVY | TOPIC_COMPILER | {"rich", "prometheus_client"}) == set()


def test_sources_table_imports_only_the_table_from_rich(shipped: Path) -> None:
    result = run(shipped, "sources")
    assert result["code"] == 0
    assert loaded(result, HEAVY | TOPIC_COMPILER | {"rich.progress", "rich.syntax"}) == set()
    assert loaded(result, {"rich.table"}) == {"rich.table"}  # what it prints with


def test_sources_with_state_reads_it_without_the_store(shipped: Path) -> None:
    # With a state database at this release's schema the health is read from the file itself
    # (read-only sqlite3): no SQLAlchemy, and the health shown is the store's.
    import sqlite3

    from monitor.config import load_config
    from monitor.sources import load_sources
    from monitor.store import Store

    config = load_config(shipped / "config.toml")
    store = Store(shipped / "state")
    try:
        store.sync_sources(load_sources(config))
    finally:
        store.close()
    with sqlite3.connect(shipped / "state" / "monitor.db") as conn:
        url = conn.execute("SELECT url FROM sources ORDER BY name LIMIT 1").fetchone()[0]
        conn.execute(
            "UPDATE sources SET state = 'failing', state_since = '2026-11-30 06:00:00.000000', "
            "last_error = 'HTTP 503' WHERE url = ?",
            (url,),
        )
    result = run(shipped, "sources", "--json")
    assert result["code"] == 0
    assert loaded(result, HEAVY | TOPIC_COMPILER) == set()
    shown = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(shipped / "config.toml"), "sources",
         "--json"],
        cwd=shipped, capture_output=True, text=True, timeout=300,
        env={**os.environ, CACHE_ENV: str(shipped / "cache")},
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    rows = {r["url"]: r for r in json.loads(shown.stdout)}
    assert rows[url]["state"] == "failing"
    assert "HTTP 503" in json.dumps(rows[url])
    assert {r["state"] for u, r in rows.items() if u != url} <= {"new", "refused"}


def test_the_quick_health_read_knows_this_release_schema() -> None:
    from monitor.source_health import SCHEMA_VERSION
    from monitor.store.migrations import LATEST

    assert SCHEMA_VERSION == LATEST


def test_sources_falls_back_to_the_store_for_an_older_state(tmp_path: Path) -> None:
    # A state file of an older release is migrated by the store, not misread.
    shutil.copy(REPO / "config.toml", tmp_path / "config.toml")
    shutil.copytree(REPO / "seeds", tmp_path / "seeds")
    shutil.copytree(REPO / "tests" / "data" / "state-v0.1.0", tmp_path / "state")
    result = run(tmp_path, "sources", "--json")
    assert result["code"] == 0
    assert loaded(result, {"sqlalchemy"}) == {"sqlalchemy"}


def test_match_imports_the_matcher_but_no_fetching_parsing_or_storing(shipped: Path) -> None:
    result = run(shipped, "match", "-", text="Nordkoreanische Soldaten in der Region Kursk.\n")
    assert result["code"] == 0
    assert loaded(result, {"simplemma", "monitor.topics"}) == {"simplemma", "monitor.topics"}
    # Matching with topics thawed from the cache needs no query parser.
    assert loaded(result, HEAVY | {"luqum", "ply"}) == set()


def test_httpx_still_falls_back_without_its_command_line_client() -> None:
    # monitor/gate.py relies on httpx's `__init__` putting a stub in place of its command
    # when `httpx._main` cannot be imported (else it imports all of httpx, a slower start).
    probe = (
        "import sys\n"
        "from monitor.gate import URL\n"
        "import httpx\n"
        "print(sys.modules['httpx._main'] is None, 'rich' in sys.modules, callable(httpx.main))\n"
        "print(URL('https://Beispiel.example/a?b=1').raw_host.decode())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "False", "True", "beispiel.example"]
