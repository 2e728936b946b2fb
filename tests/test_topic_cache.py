"""The compiled-topics cache (`monitor.topic_cache`) through the real CLI: the first command
compiles and writes it, the next reads it, a topic edit makes a new one, and a file that fails
its checks (tampered, corrupted, writable by others) is ignored, never unpickled. The state
folder gets nothing of it."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor import topic_cache, wiring
from monitor.topic_cache import CACHE_ENV, cache_path, compiled_topics

TOPICS = """
[topics.kursk]
query = "Kursk AND (troop* OR Soldat)"
"""
CONFIG = "[seeds]\npath = 'seeds'\n[channels.out]\nkind = 'file'\n"


def write_config(folder: Path, topics: str = TOPICS) -> Path:
    cfg = folder / "config.toml"
    cfg.write_text(CONFIG + topics, encoding="utf-8")
    return cfg


def cache_folder(cfg: Path) -> Path:
    """Each test's own cache folder (`$MONITOR_CACHE_DIR`), beside its config."""
    return cfg.parent / "cache"


def monitor(cfg: Path, *args: str, text: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "--log-level", "debug", *args],
        cwd=cfg.parent,
        input=text,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, CACHE_ENV: str(cache_folder(cfg))},
    )


def loaded_from_cache(run: subprocess.CompletedProcess[str]) -> bool:
    """Whether the command read the compiled topics from the cache (and compiled nothing)."""
    return "topics loaded from" in run.stderr and "topics compiled" not in run.stderr


def cache_files(cfg: Path) -> list[Path]:
    return sorted(cache_folder(cfg).glob("topics-*.bin"))


def test_check_writes_the_cache_and_the_next_commands_read_it(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    first = monitor(cfg, "check")
    assert first.returncode == 0, first.stderr
    assert not loaded_from_cache(first)
    assert not (tmp_path / "state").exists()
    [entry] = cache_files(cfg)
    assert entry.stat().st_mode & 0o777 == 0o600

    again = monitor(cfg, "check")
    assert again.returncode == 0 and loaded_from_cache(again), again.stderr
    found = monitor(cfg, "match", "-", text="Soldaten in Kursk.")
    assert found.returncode == 0, found.stderr
    assert found.stdout.split() == ["kursk"]
    assert loaded_from_cache(found)
    # match keeps the dictionaries too, and the next match reads them.
    folder = cache_folder(cfg)
    assert sorted(p.name.split("-")[1] for p in folder.glob("simplemma-*.bin")) == ["de", "en"]
    again = monitor(cfg, "match", "-", text="Soldaten in Kursk.")
    assert again.stdout.split() == ["kursk"]
    assert "dictionary de loaded from" in again.stderr
    assert "dictionary en loaded from" in again.stderr


def test_the_kept_dictionaries_are_data_never_unpickled(tmp_path: Path) -> None:
    """A dictionary entry is read as data (marshal), so even one whose checksum is right (a
    key leaked) runs no code: it is built and written again."""
    cfg = write_config(tmp_path)
    assert monitor(cfg, "match", "-", text="Soldaten in Kursk.").returncode == 0
    folder = cache_folder(cfg)
    canary = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {canary}",))

    secret = (folder / ".key").read_bytes()
    payload = pickle.dumps(Evil())
    mac = hmac.new(secret, payload, hashlib.sha256).digest()
    entries = sorted(folder.glob("simplemma-*.bin"))
    assert [p.name.split("-")[1] for p in entries] == ["de", "en"]
    for entry in entries:
        entry.write_bytes(b"monitor-topics-1\n" + mac + payload)
    run = monitor(cfg, "match", "-", text="Soldaten in Kursk.")
    assert run.stdout.split() == ["kursk"], run.stderr
    assert not canary.exists()
    again = monitor(cfg, "match", "-", text="Soldaten in Kursk.")  # rebuilt, and read again
    assert "dictionary de loaded from" in again.stderr
    assert again.stdout.split() == ["kursk"]


def test_a_topic_edit_compiles_again_and_replaces_the_entry(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    assert monitor(cfg, "check").returncode == 0
    [old] = cache_files(cfg)

    write_config(tmp_path, TOPICS.replace("Kursk AND", "Belgorod AND"))
    edited = monitor(cfg, "match", "-", text="Soldaten in Belgorod.")
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout.split() == ["kursk"]  # the edited query, not the cached one
    assert not loaded_from_cache(edited)
    [new] = cache_files(cfg)
    assert new != old
    # Kursk no longer matches: the old compiled form is gone, not reused.
    assert monitor(cfg, "match", "-", text="Soldaten in Kursk.").returncode == 1


def test_a_tampered_entry_is_never_unpickled(tmp_path: Path) -> None:
    cfg = write_config(tmp_path)
    assert monitor(cfg, "check").returncode == 0
    [entry] = cache_files(cfg)
    canary = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {canary}",))

    data = entry.read_bytes()
    head = data.index(b"\n") + 1 + 32  # magic line and HMAC kept: only the payload changes
    entry.write_bytes(data[:head] + pickle.dumps(Evil()))
    run = monitor(cfg, "match", "-", text="Soldaten in Kursk.")
    assert run.returncode == 0, run.stderr
    assert not canary.exists()
    assert "checksum does not match" in run.stderr
    assert not loaded_from_cache(run)
    # The bad entry was replaced by a good one.
    assert loaded_from_cache(monitor(cfg, "check"))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "group-writable", "no-key"])
def test_a_damaged_or_exposed_entry_is_ignored(
    tmp_path: Path, damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write_config(tmp_path)
    monkeypatch.setenv(CACHE_ENV, str(cache_folder(cfg)))
    monkeypatch.setattr(topic_cache, "_last", None)
    config = wiring.load(cfg)
    path = cache_path(config)
    assert path is not None and path.exists()
    monkeypatch.setattr(topic_cache, "_last", None)  # as a new process: read the file
    before = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "garbage":
        path.write_bytes(b"\0" * 5000)
    elif damage == "group-writable":
        path.chmod(0o620)
    else:
        (path.parent / ".key").unlink()
    with caplog_records() as records:
        matcher = compiled_topics(config)  # compiles again instead of failing
    assert [m.topic for m in matcher.match("Soldaten in Kursk.")] == ["kursk"]
    assert any(r.getMessage().startswith("topics compiled") for r in records)
    # ...and a good entry took the bad one's place.
    assert path.stat().st_mode & 0o777 == 0o600
    assert damage == "no-key" or path.read_bytes() != before


@contextlib.contextmanager
def caplog_records() -> Iterator[list[logging.LogRecord]]:
    """The records `monitor.topic_cache` logs inside the block (at debug and above)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("monitor.topic_cache")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_read_only_cache_folder_only_costs_the_time(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes through read-only modes")
    cfg = write_config(tmp_path)
    cache_folder(cfg).mkdir(mode=0o500)
    run = monitor(cfg, "check")
    assert run.returncode == 0, run.stderr
    assert cache_files(cfg) == []
