"""What a poll cycle costs before it parses anything: the parser processes (and their fork
server) start only when a fetched body needs parsing, and the fork server reads simplemma's
dictionaries from the cache instead of building them at every start."""

from __future__ import annotations

import json
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
    # First polls keep both bodies, unparsed: no process yet.
    first = await run_cycle(config, store)
    assert not first.sandbox.started
    assert first.last.fetched == 2 and first.last.baseline == 0  # type: ignore[attr-defined]

    # Nothing changed: both answer 304, and no process (nor fork server) is asked for.
    before = parser_starts()
    quiet = await run_cycle(config, store)
    assert quiet.last.not_modified == 2  # type: ignore[attr-defined]
    assert not quiet.sandbox.started
    assert parser_starts() == before

    # A changed page: the processes start on demand, take the kept baseline and find the
    # news as before.
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


# `monitor once` through the real CLI entry point in a fresh interpreter; then what it imported
# and whether it started the parser processes' fork server.
_ONCE = """
import json, multiprocessing.forkserver, sys
out, args = sys.argv[1], sys.argv[2:]
sys.argv = ["monitor", *args]
from monitor.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
server = multiprocessing.forkserver._forkserver._forkserver_pid
with open(out, "w", encoding="utf-8") as fh:
    modules = sorted(k for k, v in sys.modules.items() if v)
    json.dump({"code": code, "modules": modules, "fork_server": server is not None}, fh)
"""


def once_probed(folder: Path) -> tuple[dict[str, object], str]:
    """`monitor once` over `folder`'s config through `_ONCE`: what it reported, and its output."""
    out = folder / "once.json"
    proc = subprocess.run(
        [sys.executable, "-c", _ONCE, str(out), "--config", str(folder / "config.toml"), "once"],
        cwd=folder, capture_output=True, text=True, timeout=300,
        env={**os.environ, "MONITOR_CACHE_DIR": str(folder / "cache")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text(encoding="utf-8")), proc.stdout


def test_once_with_nothing_to_parse_starts_no_fork_server(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/a", outlet_page("Kurier", STORY))
    make(tmp_path, page_sources(srv, "/a"))

    first, said = once_probed(tmp_path)
    # The first poll keeps the body for later: nothing parsed, no fork server.
    assert "1 fetched" in said and "1 first poll kept unparsed" in said, said
    assert first["code"] == 0 and not first["fork_server"]
    again, said = once_probed(tmp_path)
    assert "1 unchanged" in said
    assert again["code"] == 0 and not again["fork_server"]
    # Nor does it load what only a terminal's progress bar would need (httpx's command line
    # pulls in rich and pygments), nor the digest's builder, templates and senders (it writes
    # the Atom feeds only).
    modules = again["modules"]
    assert isinstance(modules, list)
    assert not {"httpx._main", "rich", "pygments"} & set(modules)
    assert not {"jinja2", "monitor.digest.render", "monitor.dispatch"} & set(modules)
    assert (tmp_path / "state" / "feeds").is_dir()


def test_once_over_a_larger_known_set_starts_its_parsers_as_it_starts(
    tmp_path: Path, content_server: ContentServer
) -> None:
    # From EARLY_PARSERS_FROM sources on, a run over an existing state starts the fork server
    # at once (its import then overlaps start-up and fetching), even if nothing changed; a
    # first run, whose bodies are all kept unparsed, does not.
    from monitor.cli import EARLY_PARSERS_FROM

    srv = content_server
    paths = [f"/p{i}" for i in range(EARLY_PARSERS_FROM)]
    for i, path in enumerate(paths):
        srv.set(path, outlet_page(f"Bote {i}", STORY))
    make(tmp_path, page_sources(srv, *paths))
    for expected in (False, True):
        probe, said = once_probed(tmp_path)
        assert f"{EARLY_PARSERS_FROM} sources" in said, said
        assert probe["fork_server"] is expected


def test_the_command_script_imports_nothing_parser_processes_would_import_again() -> None:
    # multiprocessing runs the parent's main script again in every parser process it starts
    # (as `__mp_main__`); the `monitor` script must cost them nothing: it imports the command
    # line only when it runs.
    from importlib.metadata import entry_points

    [script] = [e for e in entry_points(group="console_scripts") if e.name == "monitor"]
    module = script.value.split(":")[0]
    probe = f"import sys, {module}; print(sorted(sys.modules))"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    for heavy in ("click", "pydantic", "monitor.config", "monitor.cli"):
        assert f"'{heavy}'" not in loaded, heavy
    # And the command still runs through it.
    done = subprocess.run(
        [str(Path(sys.executable).parent / "monitor"), "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "once" in done.stdout, done.stderr


_THAW = """
import pickle, sys
from monitor.topics.worker import install_matcher, match_passages
install_matcher(open(sys.argv[1], "rb").read())
[(language, found, cut)] = match_passages([(sys.argv[2], None, "en")])
heavy = sorted({"pydantic", "monitor.config"} & set(sys.modules))
print(" ".join([*(m.topic for m in found), "heavy:", *heavy]))
"""


def test_parser_processes_get_the_topics_without_their_pydantic_config(tmp_path: Path) -> None:
    # A parser process installs the compiled topics from bytes; reading them must not import
    # pydantic and the config models (0.1-0.2 s of every new process), and it still matches.
    from monitor.config import TopicConfig
    from monitor.topics import compile_topics
    from monitor.topics.worker import freeze_matcher

    matcher = compile_topics({"grain": TopicConfig(query="grain AND ships")}, {})
    frozen = tmp_path / "topics.bin"
    frozen.write_bytes(freeze_matcher(matcher, for_workers=True))
    text = "Grain ships left the port of Odesa on Monday."
    said = subprocess.run(
        [sys.executable, "-c", _THAW, str(frozen), text], capture_output=True, text=True,
        check=True,
    ).stdout.split()  # fmt: skip
    assert said == ["grain", "heavy:"], said


def test_check_leaves_the_dictionaries_the_parsers_read(
    tmp_path: Path, content_server: ContentServer
) -> None:
    # Compiling the topics builds simplemma's dictionaries from its streams; `monitor check`
    # keeps them packed in the cache, so that the parsers' fork server reads them at its first
    # start instead of building them again between a run's first changed body and its parse.
    make(tmp_path, page_sources(content_server, "/a"))
    cache = tmp_path / "fresh-cache"
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(tmp_path / "config.toml"), "check"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "MONITOR_CACHE_DIR": str(cache)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    packed = sorted(p.name.split("-")[1] for p in cache.glob("simplemma-*-packed.bin"))
    assert packed == ["de", "en"]
    assert list(cache.glob("topics-*.bin"))
