"""What a poll cycle costs before it parses anything: the parser processes (and their fork
server) start only when a fetched body needs parsing, and the fork server reads simplemma's
dictionaries from the cache instead of building them at every start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from monitor import metrics
from monitor.store import Store
from tests.conftest import ContentServer
from tests.test_pipeline import STORY, make, outlet_page, page_sources, poller_for
from tests.test_pipeline import cycle as run_cycle


def parser_starts() -> float:
    return metrics.REGISTRY.get_sample_value("monitor_parser_starts_total") or 0.0


async def test_a_cycle_with_only_304s_starts_no_parser_process(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/a", outlet_page("Kurier", STORY))
    srv.set("/b", outlet_page("Bote", "Die Lage in der Region bleibt angespannt."))
    config = make(tmp_path, page_sources(srv, "/a", "/b"))
    store = Store(config.state_dir)
    first = await run_cycle(config, store)  # the baseline: both bodies are parsed
    assert first.sandbox.started
    assert first.last.baseline > 0  # type: ignore[attr-defined]

    # Nothing changed: both answer 304, and no process (nor fork server) is asked for.
    before = parser_starts()
    quiet = await run_cycle(config, store)
    assert quiet.last.not_modified == 2  # type: ignore[attr-defined]
    assert not quiet.sandbox.started
    assert parser_starts() == before

    # A changed page: the processes start on demand and the news is found as before.
    srv.set("/a", outlet_page("Kurier", STORY.replace("3.000", "10.000")))
    busy = await run_cycle(config, store)
    assert busy.sandbox.started
    assert parser_starts() > before
    assert busy.last.new_passages == 1  # type: ignore[attr-defined]
    assert busy.last.matches_by_topic.get("troop_deployment") == 1  # type: ignore[attr-defined]


async def test_a_poller_that_is_waited_for_starts_its_processes(
    tmp_path: Path, content_server: ContentServer
) -> None:
    # The benchmarks measure a cycle without the processes' start-up: `wait_ready` starts them.
    srv = content_server
    srv.set("/a", outlet_page("Kurier", STORY))
    config = make(tmp_path, page_sources(srv, "/a"))
    poller = poller_for(config, Store(config.state_dir))
    try:
        assert not poller.sandbox.started
        assert poller.wait_ready(60.0)
        assert poller.sandbox.started
    finally:
        poller.close()


_PROBE = """
import sys
import monitor.preload
# What every worker runs (its loop, its metrics) is loaded once here, not in each worker.
assert "monitor.sandbox" in sys.modules and "prometheus_client" in sys.modules
from simplemma.strategies.dictionaries import LOW_MEMORY_DICTIONARY_FACTORY as F
de, en = F.get_dictionary("de"), F.get_dictionary("en")
print(type(de._firsts).__name__, type(en._firsts).__name__, de.get("Soldaten"), en.get("troops"))
"""


def test_the_fork_server_reads_the_dictionaries_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "MONITOR_CACHE_DIR": str(cache)}

    def preload() -> list[str]:
        out = subprocess.run(
            [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
        )
        return out.stdout.split()

    # No cache yet: built from simplemma's streams as before, and stored packed.
    built = preload()
    assert built[:2] == ["list", "list"]
    assert sorted(p.name.split("-")[1] for p in cache.glob("simplemma-*-packed.bin")) == [
        "de",
        "en",
    ]
    # Every later start reads them from there (the packed form), with the same answers.
    loaded = preload()
    assert loaded[:2] == ["_PackedBytes", "_PackedBytes"]
    assert loaded[2:] == built[2:] == ["Soldat", "troop"]

    # A damaged file fails its check: that dictionary is built again, never read.
    damaged = next(cache.glob("simplemma-de-*-packed.bin"))
    damaged.write_bytes(damaged.read_bytes()[:-10])
    assert preload()[:2] == ["list", "_PackedBytes"]
