"""State and memory stay bounded: retention prunes every kind of row, the WAL is emptied, the
story index forgets old stories, and a reload leaves nothing of the old poller behind."""

from __future__ import annotations

import gc
import sqlite3
import weakref
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.daemon import Daemon, build_runtime
from monitor.extract.similar import StoryIndex, signature
from monitor.fetch import Fetcher
from monitor.models import (
    Digest,
    Evidence,
    FetchOutcome,
    FetchResult,
    Passage,
    RenderedDigest,
    Source,
    TopicMatch,
)
from monitor.pipeline import STORY_WINDOW, Poller
from monitor.sources import load_sources
from monitor.store import Store, new_digest_id, utcnow
from monitor.store.store import WAL_SIZE_LIMIT
from monitor.topics import compile_topics
from tests.conftest import ContentServer, remember
from tests.test_pipeline import STORY, make, outlet_page, page_sources, poller_for

RETENTION = 30


def page(name: str) -> Source:
    url = f"https://{name}.example.org/page"
    return Source(url, url, "page", name, 3600, "config")


def count(store: Store, table: str, key: str) -> int:
    with sqlite3.connect(store.path) as conn:
        return conn.execute(
            f"SELECT count(*) FROM {table} WHERE source_key = ?",
            (key,),
        ).fetchone()[0]


def source_row(store: Store, key: str) -> bool:
    with sqlite3.connect(store.path) as conn:
        return conn.execute("SELECT 1 FROM sources WHERE key = ?", (key,)).fetchone() is not None


def poll(store: Store, src: Source, now: datetime, text: str) -> int:
    """What a poll of a page stores: fingerprints, the snapshot, an item with a match."""
    passage = Passage(f"{src.key}-{text}", text)
    remember(store, src.key, [passage], now)
    store.save_page_snapshot(src.key, [text], now)
    store.record_fetch(src.key, FetchResult(src.url, FetchOutcome.OK), now, 3600)
    ev = Evidence(("Truppen",), "Truppe*", text, ((0, 7),))
    return store.add_item(src.key, passage, [TopicMatch("t", 1.0, ev)], now)


def queue(store: Store, now: datetime) -> str | None:
    """Claim every unclaimed match into one digest of channel "c"; its id."""

    def build(found: list) -> Digest | None:  # type: ignore[type-arg]
        return Digest(new_digest_id(), "c", now, {"t": found}, {"t": "T"}) if found else None

    def select(conn=None):  # type: ignore[no-untyped-def]
        return store.unclaimed_matches("c", "digest", ["t"], 0.0, {}, conn=conn)

    def render(d: Digest) -> RenderedDigest:
        return RenderedDigest("s", "text", "<p>html</p>", {"n": len(d.match_ids)})

    queued = store.create_digest("c", "digest", build, render, select, now)
    return queued[0].id if queued else None


def test_prune_forgets_page_snapshots_older_than_the_retention(tmp_path: Path) -> None:
    store = Store(tmp_path)
    old, fresh = page("old"), page("fresh")
    store.sync_sources([old, fresh])
    now = utcnow()
    store.save_page_snapshot(old.key, ["Absatz eins"], now - timedelta(days=RETENTION + 1))
    store.save_page_snapshot(fresh.key, ["Absatz zwei"], now - timedelta(days=1))

    pruned = store.prune(now, RETENTION)

    assert pruned["snapshots"] == 1
    assert store.page_snapshot(old.key) == []
    assert store.page_snapshot(fresh.key) == ["Absatz zwei"]
    store.close()


def test_prune_forgets_every_row_of_a_removed_source_after_the_retention(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    kept, removed, recently_removed = page("kept"), page("removed"), page("recent")
    store.sync_sources([kept, removed, recently_removed])
    start = utcnow() - timedelta(days=RETENTION + 10)
    poll(store, kept, start, "Truppen an der Grenze")
    poll(store, removed, start, "Truppen in Kursk")
    poll(store, recently_removed, start, "Truppen im Osten")
    digest = queue(store, start)
    assert digest is not None
    store.delivered(digest, "ok", start)
    # `kept` stays configured and is polled; `recent` was polled until a few days ago.
    now = start + timedelta(days=RETENTION + 10)
    poll(store, kept, now - timedelta(hours=1), "Truppen an der Front")
    poll(store, recently_removed, now - timedelta(days=3), "Truppen im Süden")
    delivered = queue(store, now - timedelta(days=3))
    assert delivered is not None
    store.delivered(delivered, "ok", now)

    pruned = store.prune(now, RETENTION, [kept.key])

    assert pruned["sources"] == 1
    assert not source_row(store, removed.key)
    for table in ("seen", "page_snapshots", "items"):
        assert count(store, table, removed.key) == 0, table
    # Removed only days ago: kept, so that adding it back does not take a new baseline.
    assert source_row(store, recently_removed.key)
    assert count(store, "seen", recently_removed.key) == 1
    assert source_row(store, kept.key) and count(store, "page_snapshots", kept.key) == 1
    assert [h.key for h in store.health()] == sorted([kept.key, recently_removed.key])
    store.close()


def test_a_removed_sources_items_in_an_undelivered_digest_are_kept_until_it_is_sent(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    removed = page("removed")
    store.sync_sources([removed])
    start = utcnow() - timedelta(days=RETENTION + 10)
    item = poll(store, removed, start, "Truppen in Kursk")
    digest = queue(store, start)  # never delivered so far
    assert digest is not None
    now = utcnow()

    assert store.prune(now, RETENTION, [])["sources"] == 0
    assert source_row(store, removed.key) and count(store, "items", removed.key) == 1
    assert count(store, "seen", removed.key) == 0  # what is not needed for the digest goes

    store.delivered(digest, "ok", now)
    assert store.prune(now, RETENTION, [])["sources"] == 1
    assert not source_row(store, removed.key)
    with sqlite3.connect(store.path) as conn:
        assert (
            conn.execute("SELECT count(*) FROM matches WHERE item_id = ?", (item,)).fetchone()[0]
            == 0
        )
    store.close()


async def test_the_daemons_daily_prune_forgets_sources_no_longer_configured(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/a", outlet_page("Kurier", "Die Lage in der Region bleibt angespannt."))
    config = make(tmp_path, page_sources(srv, "/a"))
    store = Store(config.state_dir)
    gone = page("gone")  # configured once, polled last long ago, then removed from the config
    store.sync_sources([gone])
    poll(store, gone, utcnow() - timedelta(days=config.state.retention_days + 1), "Truppen")
    daemon = Daemon(tmp_path / "config.toml")
    daemon.store = store
    daemon.rt = build_runtime(config, store)
    async with Fetcher(config.http) as fetcher:
        daemon.fetcher = fetcher
        await daemon.tick()
    daemon.rt.poller.close()
    assert not source_row(store, gone.key)
    assert [h.name for h in store.health()] == ["a"]
    store.close()


def test_the_wal_is_emptied_after_a_prune_and_capped_after_a_burst(tmp_path: Path) -> None:
    store = Store(tmp_path)
    src = page("busy")
    store.sync_sources([src])
    wal = store.path.with_name(store.path.name + "-wal")
    now = utcnow()
    # One big transaction: the WAL must hold all of it until the commit.
    passages = [Passage(f"{i:064d}", "x") for i in range(120_000)]
    remember(store, src.key, passages, now)
    assert wal.stat().st_size > 2 * WAL_SIZE_LIMIT
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_size_limit").scalar() == WAL_SIZE_LIMIT

    store.prune(now + timedelta(days=1), RETENTION)

    assert wal.stat().st_size == 0
    # Later bursts may grow it again, but a checkpoint leaves at most the limit behind.
    remember(store, src.key, [Passage(f"{i:064d}", "y") for i in range(200_000, 260_000)], now)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    store.save_page_snapshot(src.key, ["a small write after the checkpoint"], now)
    assert wal.stat().st_size <= WAL_SIZE_LIMIT
    store.close()


def test_the_story_index_forgets_stories_older_than_a_cutoff() -> None:
    index = StoryIndex()
    start = utcnow()
    # Five unrelated stories, one a day.
    texts = [" ".join(f"wort{day}x{i}" for i in range(40)) for day in range(5)]
    for day, text in enumerate(texts):
        sig = signature(text)
        assert sig is not None
        index.add_signature(f"k{day}", sig, start + timedelta(days=day))

    assert index.forget_before(start + timedelta(days=2)) == ["k0", "k1"]
    assert len(index) == 3 and "k0" not in index and "k2" in index
    assert index.forget_before(start + timedelta(days=2)) == []
    # A copy of a forgotten story is a story of its own; a copy of a remembered one is not.
    assert index.add("copy of k0", texts[0]) is None
    assert index.add("copy of k3", texts[3]) == "k3"


def test_the_story_index_keeps_at_most_its_limit_of_stories() -> None:
    index = StoryIndex(limit=3)
    texts = [" ".join(f"wort{n}x{i}" for i in range(40)) for n in range(5)]
    for n, text in enumerate(texts):
        index.add(f"k{n}", text)
    assert len(index) == 3 and "k1" not in index and "k2" in index
    assert index.add("copy of k4", texts[4]) == "k4"


async def test_the_poller_keeps_only_the_story_window_in_memory(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/a", outlet_page("Kurier", "Die Lage in der Region bleibt angespannt."))
    config = make(tmp_path, page_sources(srv, "/a"))
    store = Store(config.state_dir)
    clock = [utcnow()]
    matcher = compile_topics(config.topics, config.aliases)
    poller = Poller(config, store, matcher, load_sources(config), clock=lambda: clock[0])
    async with Fetcher(config.http) as fetcher:
        await poller.cycle(fetcher, only_due=False)  # baseline
        for n in range(3):
            clock[0] += timedelta(days=1)
            srv.set("/a", outlet_page("Kurier", STORY.replace("3.000", f"{n + 4}.000")))
            assert (await poller.cycle(fetcher, only_due=False)).matches
        assert len(poller.stories) == 3 and len(poller._story_items) == 3
        # A poller built now (a restart) loads the same three stories from the store.
        rebuilt = Poller(config, store, matcher, load_sources(config), clock=lambda: clock[0])
        assert len(rebuilt.stories) == 3
        rebuilt.close()

        clock[0] += STORY_WINDOW - timedelta(days=1, hours=1)  # the first story is 7 days old
        await poller.cycle(fetcher, only_due=False)
        assert len(poller.stories) == 2 and len(poller._story_items) == 2
        clock[0] += timedelta(days=3)
        await poller.cycle(fetcher, only_due=False)
        assert len(poller.stories) == 0 and poller._story_items == {}
    poller.close()
    store.close()


def test_a_new_poller_frees_what_the_old_one_held_in_reference_cycles(tmp_path: Path) -> None:
    config = make(tmp_path, "")
    store = Store(config.state_dir)
    old = poller_for(config, store)
    # The story index holds every story sketch; the poller sits in reference cycles, so only
    # the cyclic collector frees it, and never while it is frozen.
    lsh = weakref.ref(old.stories)
    old.close()
    del old
    new = poller_for(config, store)  # a reload
    gc.collect()
    assert lsh() is None
    new.close()
    store.close()


def test_prune_forgets_the_kept_version_of_a_feed_entry_with_its_fingerprint(
    tmp_path: Path,
) -> None:
    """A kept entry version goes when the entry's fingerprint goes, and with a removed source
    (whose row could not be deleted while a version still pointed at it)."""
    store = Store(tmp_path)
    url = "https://wire.example.org/feed"
    feed, gone = Source(url, url, "feed", "wire", 3600, "config"), page("gone")
    store.sync_sources([feed, gone])
    now = utcnow()
    old, recent = now - timedelta(days=RETENTION + 1), now - timedelta(days=1)
    remember(store, feed.key, [Passage("e1", "Alt"), Passage("e2", "Neu")], old)
    remember(store, feed.key, [Passage("e2", "Neu")], recent)  # e2 still in the feed
    store.save_entry_versions(feed.key, [("e1", "A", "Alt"), ("e2", "B", "Neu")], old)
    remember(store, gone.key, [Passage("g1", "Weg")], old)
    store.save_entry_versions(gone.key, [("g1", "G", "Weg")], old)
    with sqlite3.connect(store.path) as conn:  # `gone`: removed from the config long ago
        conn.execute(
            "UPDATE sources SET state_since = '2000-01-01 00:00:00.000000' WHERE key = ?",
            (gone.key,),
        )

    pruned = store.prune(now, RETENTION, [feed.key])

    assert pruned["entry_versions"] == 2
    assert store.entry_versions(feed.key, ["e1", "e2"]) == {"e2": ("B", "Neu")}
    assert pruned["sources"] == 1 and not source_row(store, gone.key)
    assert count(store, "entry_versions", gone.key) == 0
    store.close()


def test_claims_of_digest_periods_older_than_retention_are_pruned(tmp_path: Path) -> None:
    # One row per channel and scheduled time (the workers' claim on making its digest): kept
    # for the retention period, then forgotten like the digests themselves.
    store = Store(tmp_path)
    now = utcnow()
    old, recent = now - timedelta(days=RETENTION + 1), now - timedelta(days=1)
    with store.engine.begin() as conn:
        for when in (old, recent):
            assert store.claim_period(conn, "mail", "digest", when, when)
    gone = store.prune(now, RETENTION)
    assert gone["digest_periods"] == 1
    with sqlite3.connect(store.path) as conn:
        left = conn.execute("SELECT count(*) FROM digest_periods").fetchone()[0]
    assert left == 1
    # The recent one still holds: that time's digest is not made twice.
    with store.engine.begin() as conn:
        assert not store.claim_period(conn, "mail", "digest", recent, now)
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_latest_claim_of_a_channel_outlives_the_retention_period(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    # A monthly digest under a shorter retention period: the month's scheduled time is older
    # than the cutoff while it is still the time a worker's digest job is for (one held back
    # by a state fault and retried, say). Its claim must hold until a later time is claimed,
    # or that worker makes the month's digest a second time.
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    store = Store(tmp_path, url)
    now = utcnow()
    month = now - timedelta(days=RETENTION + 3)  # the latest scheduled time of "monthly"
    older = month - timedelta(days=31)
    with store.engine.begin() as conn:
        for when in (older, month):
            assert store.claim_period(conn, "monthly", "digest", when, when)
        assert store.claim_period(conn, "monthly", "alert", older, older)
    gone = store.prune(now, RETENTION)
    assert gone["digest_periods"] == 1  # only the month before, which a later one replaced
    with store.engine.begin() as conn:
        assert not store.claim_period(conn, "monthly", "digest", month, now)
        assert not store.claim_period(conn, "monthly", "alert", older, now)  # its latest too
    store.close()
