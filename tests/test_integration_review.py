"""Integration bugs found where this session's merged branches meet (feedback, archive, the
PostgreSQL workers, the first-poll baseline), each with the test that showed it."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection

from monitor import wiring
from monitor.config import Config
from monitor.feedback.records import FeedbackRecords
from monitor.fetch import Fetcher
from monitor.models import Digest, Evidence, Match, Passage, RenderedDigest, TopicMatch
from monitor.outbox import flush, queue_digest
from monitor.sources import load_sources
from monitor.store import Store, utcnow
from monitor.store.copy import table_counts
from tests.conftest import free_port, remember
from tests.local_config import LOOPBACK_HTTP, NO_SEEDS
from tests.test_end_to_end import monitor


def _render(d: Digest) -> RenderedDigest:
    return RenderedDigest("subject", "text", "<p>html</p>", {"n": 1})


def test_a_period_with_nothing_to_queue_is_not_claimed(tmp_path: Path, pg_url: str) -> None:
    """Worker a's digest job finds only suppressed matches (no digest); worker b, whose poll
    brought real matches, must still make that scheduled time's digest."""
    a = Store(tmp_path / "a", pg_url)
    b = Store(tmp_path / "b", pg_url)
    now = utcnow()
    period = now.replace(second=0, microsecond=0)

    def nothing(found: list[Match]) -> Digest | None:
        return None  # what build_digest answers when feedback suppressed every match

    def something(found: list[Match]) -> Digest | None:
        return Digest(f"dg_{time.monotonic_ns()}", "hook", utcnow(), {}, {})

    def select(conn: object = None) -> list[Match]:
        return []

    try:
        none = a.create_digest("hook", "digest", nothing, _render, select, now, period=period)
        assert none is None
        made = b.create_digest("hook", "digest", something, _render, select, now, period=period)
        assert made is not None
        # Once made, that time's digest is not made twice.
        again = a.create_digest("hook", "digest", something, _render, select, now, period=period)
        assert again is None
        later = period + timedelta(minutes=1)
        assert a.create_digest("hook", "digest", something, _render, select, now, period=later)
    finally:
        a.close()
        b.close()


def _grain_config(tmp_path: Path) -> Path:
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(
        f"{LOOPBACK_HTTP}{NO_SEEDS}"
        '[[sources]]\nurl = "https://wire.example.org/feed"\nkind = "feed"\nname = "Wire"\n'
        '[topics.grain]\nquery = "grain"\n[channels.files]\nkind = "file"\n',
        encoding="utf-8",
    )
    return cfg_path


def _report_and_mark(store: Store, cfg: Config) -> None:
    """Two grain items reported in a digest (so archived), the first marked not relevant."""
    [wire] = load_sources(cfg)
    store.sync_sources([wire])
    when = datetime(2026, 1, 5, 8, tzinfo=UTC)
    found = [TopicMatch("grain", 1.0, Evidence(("grain",), "grain", "grain ships"))]
    items = []
    for key, text in (("w1", "Grain ships wait at the port."), ("w2", "A grain harvest record.")):
        [passage] = remember(store, wire.key, [Passage(key, text, title=key)], when)
        items.append(store.add_item(wire.key, passage, found, when))
    assert queue_digest(cfg, store, "files", [wire], when) is not None
    FeedbackRecords(store.engine).record("not_relevant", items[0], "grain", "tester", when)
    store.close()


def test_feedback_and_search_commands_read_the_postgres_state(tmp_path: Path, pg_url: str) -> None:
    """`monitor feedback` and `monitor search` read the database the config names, as every
    other command does, not an SQLite file under the state folder."""
    cfg_path = _grain_config(tmp_path)
    cfg = wiring.load(cfg_path)
    # A digest on PostgreSQL archives what it shows; then an analyst marks the first item.
    _report_and_mark(Store(cfg.state_dir, pg_url), cfg)

    env = {"MONITOR_DATABASE_URL": pg_url}
    marks = monitor(cfg_path, "feedback", "--csv", env=env)
    assert marks.returncode == 0, marks.stderr
    assert "Grain ships wait at the port." in marks.stdout
    hits = monitor(cfg_path, "search", "--topic", "grain", "--json", env=env)
    assert hits.returncode == 0, hits.stderr
    assert sorted(h["title"] for h in json.loads(hits.stdout)["hits"]) == ["w1", "w2"]
    assert not (cfg.state_dir / "monitor.db").exists()  # nothing made beside the DSN


async def test_a_digest_skipped_for_a_disabled_channel_is_sent_once_it_is_back(
    tmp_path: Path, pg_url: str
) -> None:
    """On PostgreSQL a digest waiting for a channel this worker has disabled (a config being
    rolled out) is not kept claimed: once the channel is back it goes out, as on SQLite."""
    cfg_path = tmp_path / "config.toml"
    base = (
        f"{LOOPBACK_HTTP}{NO_SEEDS}"
        '[[sources]]\nurl = "https://wire.example.org/feed"\nkind = "feed"\nname = "Wire"\n'
        '[topics.grain]\nquery = "grain"\n[channels.files]\nkind = "file"\nsend_empty = true\n'
    )
    cfg_path.write_text(base, encoding="utf-8")
    cfg = wiring.load(cfg_path)
    cfg_path.write_text(base + "enabled = false\n", encoding="utf-8")
    disabled = wiring.load(cfg_path)
    store = Store(cfg.state_dir, pg_url)
    other = Store(tmp_path / "other", pg_url)
    try:
        assert store.shared
        queued = queue_digest(cfg, store, "files", load_sources(cfg), utcnow())
        assert queued is not None
        async with Fetcher(cfg.http) as fetcher:
            assert await flush(disabled, store, fetcher, utcnow()) == []
            # Another worker, with the channel configured, may send it meanwhile...
            assert [e.id for e in other.claim_pending(utcnow())] == [queued[0].id]
            other.release_claims()
            # ... and so may this one once the channel is back.
            [sent] = await flush(cfg, store, fetcher, utcnow())
        assert sent.ok and sent.digest_id == queued[0].id
        assert store.pending(utcnow() + timedelta(days=1)) == []
        # A claim this worker took without reading the entry (queued by another worker between
        # the outbox read and the claim) is not held until the worker stops: the next flush
        # sends it. Its lease is renewed while the worker lives, so waiting would not do.
        late = queue_digest(cfg, other, "files", load_sources(cfg), utcnow())
        assert late is not None
        assert store.claim_outbox_ids(utcnow()) == [late[0].id]
        assert store.renew_claims() == 1
        async with Fetcher(cfg.http) as fetcher:
            [again] = await flush(cfg, store, fetcher, utcnow())
        assert again.ok and again.digest_id == late[0].id
    finally:
        store.close()
        other.close()


def test_copy_state_moves_feedback_and_archive_and_their_ids_continue(
    tmp_path: Path, pg_url: str
) -> None:
    """copy-state carries the feedback and the archive to PostgreSQL; new rows there get ids
    after the copied ones (their sequences continue), and the mark still suppresses."""
    cfg_path = _grain_config(tmp_path)
    cfg = wiring.load(cfg_path)
    _report_and_mark(Store(cfg.state_dir), cfg)
    copied = monitor(cfg_path, "copy-state", "--to", pg_url)
    assert copied.returncode == 0, copied.stderr
    target = Store(cfg.state_dir, pg_url)
    try:
        counts = table_counts(target)
        assert counts["feedback"] == 1 and counts["archive"] == 2
        [wire] = load_sources(cfg)
        records = FeedbackRecords(target.engine)
        [mark] = records.active()
        later = datetime(2026, 1, 6, 8, tzinfo=UTC)
        mute = records.record("mute", mark.item_id, "grain", "tester", later)
        assert mute > mark.id
        found = [TopicMatch("grain", 1.0, Evidence(("grain",), "grain", "grain"))]
        [passage] = remember(target, wire.key, [Passage("w3", "More grain news.")], later)
        target.add_item(wire.key, passage, found, later)
        records.undo(mute, "tester", later)
        made = queue_digest(cfg, target, "files", [wire], later)
        assert made is not None and len(made[0].match_ids) == 1
        assert table_counts(target)["archive"] == 3  # a new archive id, no collision
    finally:
        target.close()


def test_sources_lists_the_config_when_postgres_is_down(tmp_path: Path) -> None:
    """`monitor sources` lists what the config names with PostgreSQL out of reach: one warning
    line (no password), the health shown as unknown; `check` and `match` need no database."""
    cfg_path = _grain_config(tmp_path)
    env = {"MONITOR_DATABASE_URL": f"postgresql://monitor:hunter2@127.0.0.1:{free_port()}/m"}
    listed = monitor(cfg_path, "sources", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stderr.strip().splitlines()
    assert line.startswith("warning: source health unknown: postgresql://monitor:***@")
    assert "cannot reach the database" in line and "hunter2" not in listed.stderr
    [row] = json.loads(listed.stdout)
    assert row["name"] == "Wire" and row["state"] == "unknown"
    assert monitor(cfg_path, "check", env=env).returncode == 0
    text = tmp_path / "text.txt"
    text.write_text("The grain harvest was late.", encoding="utf-8")
    matched = monitor(cfg_path, "match", str(text), env=env)
    assert matched.returncode == 0 and "grain" in matched.stdout, matched.stderr


def test_two_channels_digesting_one_match_at_once_both_queue(tmp_path: Path, pg_url: str) -> None:
    """Two workers make two channels' digests at the same moment, both carrying one match: each
    copies it into the archive. The second used to fail on the archive's unique match id (its
    digest lost for that scheduled time); now the archive keeps one report and both queue."""
    cfg = wiring.load(_grain_config(tmp_path))
    store = Store(cfg.state_dir, pg_url)
    [wire] = load_sources(cfg)
    store.sync_sources([wire])
    when = utcnow()
    found = [TopicMatch("grain", 1.0, Evidence(("grain",), "grain", "grain ships"))]
    [passage] = remember(store, wire.key, [Passage("w1", "Grain ships wait.", title="w1")], when)
    store.add_item(wire.key, passage, found, when)
    workers = {"x": Store(tmp_path / "x", pg_url), "y": Store(tmp_path / "y", pg_url)}
    checked = {name: threading.Event() for name in workers}
    errors: list[BaseException] = []
    made: dict[str, object] = {}

    def make(name: str, other: str) -> None:
        worker = workers[name]

        def select(conn: Connection | None = None) -> list[Match]:
            return worker.unclaimed_matches(name, "digest", ["grain"], 0.0, {}, conn=conn)

        def build(matches: list[Match]) -> Digest | None:
            return Digest(f"dg_{name}_{time.monotonic_ns()}", name, when, {"grain": matches}, {})

        def index(m: Match) -> tuple[str, str]:
            # Called once this worker has looked for the match in the archive: wait (at most
            # a while) until the other has looked too, so that both looked before either wrote.
            checked[name].set()
            checked[other].wait(timeout=3)
            return "grain ships", ""

        try:
            made[name] = worker.create_digest(
                name, "digest", build, _render, select, when, index=index
            )
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [
        threading.Thread(target=make, args=("x", "y")),
        threading.Thread(target=make, args=("y", "x")),
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert made["x"] is not None and made["y"] is not None
        assert table_counts(store)["archive"] == 1
    finally:
        store.close()
        for worker in workers.values():
            worker.close()
