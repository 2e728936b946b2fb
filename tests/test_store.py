"""The store on a real SQLite file: novelty, health, the outbox's exactly-once claims, retention."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.models import (
    Digest,
    Evidence,
    FetchOutcome,
    FetchResult,
    Passage,
    RenderedDigest,
    Source,
    TopicMatch,
    Validators,
)
from monitor.store import SchemaTooNew, Store, new_digest_id, utcnow
from monitor.store.migrations import LATEST
from tests.conftest import remember


def source(key: str = "https://a.example/feed", name: str = "A") -> Source:
    return Source(key=key, url=key, kind="feed", name=name, interval_seconds=600, origin="config")


def tm(topic: str, score: float = 2.0) -> TopicMatch:
    return TopicMatch(topic, score, Evidence(("Kursk",), "rule", "troops in Kursk", ((10, 15),)))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The store on each backend: SQLite under tmp_path, and a fresh PostgreSQL database."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    st = Store(tmp_path / "state", url)
    st.sync_sources([source(), source("https://b.example/", "B")])
    yield st
    st.close()


def sqlite_only(store: Store) -> None:
    if store.shared:
        pytest.skip("about the SQLite file itself")


def passages(*keys: str) -> list[Passage]:
    return [Passage(key=k, text=f"text {k}") for k in keys]


def test_database_is_wal_and_migrated(store: Store) -> None:
    sqlite_only(store)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] == LATEST


def test_a_newer_schema_is_refused(tmp_path: Path, store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_version VALUES (99, '2030-01-01 00:00:00')"))
    with pytest.raises(SchemaTooNew, match="upgrade source-monitor"):
        Store(tmp_path / "state", store.database_url)


def test_only_unseen_passages_are_new(store: Store) -> None:
    now = utcnow()
    key = source().key
    assert [p.key for p in remember(store, key, passages("a", "b"), now)] == ["a", "b"]
    assert [p.key for p in remember(store, key, passages("a", "b", "c"), now)] == ["c"]
    # Another source may carry the same passage: novelty is per source.
    assert len(remember(store, "https://b.example/", passages("a"), now)) == 1


def test_health_and_backoff(store: Store) -> None:
    now = utcnow()
    key = source().key
    fail = FetchResult(key, FetchOutcome.ERROR, status=500, error="HTTP 500 Internal Server Error")
    store.record_fetch(key, fail, now, 600)
    store.record_fetch(key, fail, now + timedelta(minutes=10), 600)
    [h] = store.health([key])
    assert (h.state, h.since, h.last_error) == ("failing", now, "HTTP 500 Internal Server Error")
    assert store.source_state(key).failures == 2
    assert store.due([key], now + timedelta(minutes=11)) == set()  # backed off beyond the interval
    assert store.failing_since(now + timedelta(minutes=1), [key])
    ok = FetchResult(key, FetchOutcome.OK, status=200, validators=Validators('"e1"', None, "h"))
    store.record_fetch(key, ok, now + timedelta(hours=1), 600)
    [h] = store.health([key])
    assert h.state == "ok" and h.last_error is None
    assert store.source_state(key).validators.etag == '"e1"'
    gone = FetchResult(key, FetchOutcome.ERROR, status=410, error="HTTP 410 Gone")
    store.record_fetch(key, gone, now + timedelta(hours=2), 600)
    assert store.health([key])[0].state == "gone"


def test_retry_after_and_max_age_push_the_next_poll(store: Store) -> None:
    now = utcnow()
    key = source().key
    store.record_fetch(key, FetchResult(key, FetchOutcome.OK, max_age=7200), now, 600)
    assert store.due([key], now + timedelta(minutes=90)) == set()
    assert store.due([key], now + timedelta(hours=2, seconds=1)) == {key}
    slow = FetchResult(key, FetchOutcome.ERROR, status=429, retry_after=5000, error="HTTP 429")
    store.record_fetch(key, slow, now, 600)
    assert store.due([key], now + timedelta(seconds=4900)) == set()


def _add(store: Store, key: str, topic: str = "t") -> int:
    now = utcnow()
    [p] = remember(store, source().key, passages(key), now)
    return store.add_item(source().key, p, [tm(topic)], now)


def _queue(store: Store, channel: str = "mail") -> Digest | None:
    def build(found: list) -> Digest | None:  # type: ignore[type-arg]
        if not found:
            return None
        return Digest(new_digest_id(), channel, utcnow(), {"t": found}, {"t": "T"})

    def render(d: Digest) -> RenderedDigest:
        return RenderedDigest(f"{len(d.match_ids)} items", "text", "<p>html</p>", {"n": 1})

    def select(conn=None):  # type: ignore[no-untyped-def]
        return store.unclaimed_matches(channel, "digest", ["t"], 0.0, {}, conn=conn)

    queued = store.create_digest(channel, "digest", build, render, select, utcnow())
    return queued[0] if queued else None


def test_a_match_goes_into_one_digest_per_channel(store: Store) -> None:
    _add(store, "p1")
    _add(store, "p2")
    first = _queue(store, "mail")
    assert first is not None and len(first.match_ids) == 2
    assert _queue(store, "mail") is None  # already claimed for this channel
    other = _queue(store, "hook")  # another channel gets its own copy
    assert other is not None and len(other.match_ids) == 2
    _add(store, "p3")
    third = _queue(store, "mail")
    assert third is not None and len(third.match_ids) == 1


def test_failed_delivery_is_retried_with_the_same_bytes(store: Store) -> None:
    _add(store, "p1")
    digest = _queue(store)
    assert digest is not None
    now = utcnow()
    [entry] = store.pending(now)
    retry = store.delivery_failed(entry.id, "SMTP 127.0.0.1:1: connection refused", now)
    assert retry is not None and retry > now
    assert store.pending(now) == []  # waits for its retry time
    [again] = store.pending(retry)
    assert again.id == digest.id and again.rendered == entry.rendered
    store.delivered(again.id, "sent to 1 recipient", retry)
    assert store.pending(retry + timedelta(days=1)) == []
    [row] = store.outbox()
    assert (row["status"], row["attempts"]) == ("sent", 2)


def test_permanent_failure_is_kept_not_dropped(store: Store) -> None:
    _add(store, "p1")
    _queue(store)
    [entry] = store.pending(utcnow())
    assert store.delivery_failed(entry.id, "HTTP 410 Gone", utcnow(), permanent=True) is None
    [row] = store.outbox()
    assert row["status"] == "failed" and row["last_error"] == "HTTP 410 Gone"


def test_a_crash_while_queueing_claims_nothing(store: Store) -> None:
    _add(store, "p1")

    def render(_d: Digest) -> RenderedDigest:
        raise RuntimeError("killed mid-render")

    def build(found: list) -> Digest:  # type: ignore[type-arg]
        return Digest(new_digest_id(), "mail", utcnow(), {"t": found}, {"t": "T"})

    def select(conn=None):  # type: ignore[no-untyped-def]
        return store.unclaimed_matches("mail", "digest", ["t"], 0.0, {}, conn=conn)

    with pytest.raises(RuntimeError):
        store.create_digest("mail", "digest", build, render, select, utcnow())
    digest = _queue(store)
    assert digest is not None and len(digest.match_ids) == 1


def test_retention_forgets_old_but_keeps_undelivered(store: Store) -> None:
    _add(store, "p1")
    _queue(store)  # pending: must survive retention
    later = utcnow() + timedelta(days=400)
    pruned = store.prune(later, 180)
    assert pruned["fingerprints"] == 1
    assert pruned["items"] == 0
    [entry] = store.pending(later)
    store.delivered(entry.id, "ok", later)
    assert store.prune(later, 180)["items"] == 1


def test_an_old_database_is_migrated_in_place(tmp_path: Path) -> None:
    state = tmp_path / "old"
    first = Store(state)
    with first.engine.begin() as conn:
        # Turn it back into a version-1 database: no snapshots table, no items.previous.
        conn.execute(text("DROP TABLE page_snapshots"))
        conn.execute(text("ALTER TABLE items DROP COLUMN previous"))
        conn.execute(text("DELETE FROM schema_version WHERE version > 1"))
    first.close()
    upgraded = Store(state)
    assert upgraded.version == LATEST
    with sqlite3.connect(upgraded.path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(items)")}
        assert "previous" in columns
        assert conn.execute("SELECT count(*) FROM page_snapshots").fetchone()[0] == 0
    upgraded.sync_sources([source()])
    upgraded.save_page_snapshot(source().key, ["a", "b"], utcnow())
    assert upgraded.page_snapshot(source().key) == ["a", "b"]


def test_seen_timestamps_are_stored_as_the_column_type_stores_them(store: Store) -> None:
    """Fingerprints are inserted with a pre-converted timestamp: it must read back as the same
    aware datetime and compare in SQL exactly like values written through the column type."""
    from monitor.store import schema as s

    now = utcnow().replace(microsecond=0)  # the case where a naive str() would differ
    key = source().key
    remember(store, key, passages("a", "b"), now)
    with store.engine.connect() as conn:
        rows = conn.execute(s.seen.select().where(s.seen.c.source_key == key)).all()
        raw = conn.execute(text("SELECT first_seen, last_seen FROM seen LIMIT 1")).one()
    assert {(r.first_seen, r.last_seen) for r in rows} == {(now, now)}
    assert raw[0] == raw[1]
    if not store.shared:  # SQLite keeps text: the same text as the column type writes
        assert raw[0].endswith(".000000")
    # Retention compares these columns with bound datetimes: one second later forgets both.
    assert store.prune(now + timedelta(days=30, seconds=1), 30)["fingerprints"] == 2


# --- parts by table group, behind narrow interfaces -----------------------------------------


def test_each_part_works_alone_behind_its_own_interface(store: Store) -> None:
    from monitor.store.digests import DigestRecords
    from monitor.store.interfaces import (
        DigestStore,
        ItemStore,
        PassageStore,
        RetentionStore,
        SourceStore,
        Transactions,
    )
    from monitor.store.items import ItemRecords
    from monitor.store.passages import PassageRecords
    from monitor.store.retention import Retention
    from monitor.store.sources import SourceRecords

    parts = {
        SourceStore: SourceRecords(store.engine),
        PassageStore: PassageRecords(store.engine),
        ItemStore: ItemRecords(store.engine),
        DigestStore: DigestRecords(store.engine),
        RetentionStore: Retention(store.engine),
    }
    for interface, part in parts.items():
        assert isinstance(store, interface)
        assert isinstance(part, interface) and isinstance(part, Transactions)
        # Narrow: a part offers its own group only.
        others = [i for i in parts if i is not interface]
        assert not any(isinstance(part, other) for other in others), (interface, part)

    # Parts on one engine share transactions: a poll's writes to several groups commit
    # together, or not at all.
    now = utcnow()
    seen, health = parts[PassageStore], parts[SourceStore]
    assert isinstance(seen, PassageRecords) and isinstance(health, SourceRecords)
    with pytest.raises(RuntimeError), seen.transaction() as conn:
        seen.remember_passages(source().key, ["a"], [], now, conn)
        health.record_fetch(source().key, FetchResult(source().url, FetchOutcome.OK), now, 60,
                            conn=conn, baseline_done=True)  # fmt: skip
        raise RuntimeError("crash before the commit")
    assert store.known_keys(source().key, ["a"]) == set()
    assert not store.source_state(source().key).baseline_done
    with seen.transaction() as conn:
        seen.remember_passages(source().key, ["a"], [], now, conn)
        health.record_fetch(source().key, FetchResult(source().url, FetchOutcome.OK), now, 60,
                            conn=conn, baseline_done=True)  # fmt: skip
    assert store.known_keys(source().key, ["a", "b"]) == {"a"}
    assert store.source_state(source().key).baseline_done
