"""The deferred baseline (issue 17): a source's first poll keeps its body unparsed, and the
baseline is taken from it only when needed, by the first poll with a changed body (in the same
parser job as the new body) or by the daemon in idle time. What is reported is what taking the
baseline at the first poll reports; nothing twice, nothing lost, across crashes, failures,
retention, PostgreSQL and `monitor copy-state`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.extract.errors import ExtractError
from monitor.fetch import Fetcher
from monitor.source_kinds import extract_document
from monitor.store import Store, utcnow
from monitor.store import schema as s
from monitor.store.copy import copy_state
from monitor.store.migrations import LATEST
from monitor.store.pending import PendingBody
from tests.conftest import ContentServer
from tests.test_bounded_work import NESTED
from tests.test_end_to_end import monitor, rss
from tests.test_first_poll import CALM, REVISED, RSS, TROOPS
from tests.test_pipeline import STORY, cycle, make, outlet_page, poller_for, settle

NEW = (
    "troops-2",
    "North Korean artillery crews reach the Kursk front",
    "Ukrainian intelligence said North Korean soldiers operating artillery have arrived at the "
    "front line in the Kursk region, in breach of the UN arms embargo.",
)
EDITED_STORY = STORY.replace("3.000", "10.000")


def sources(srv: ContentServer) -> str:
    return (
        f'[[sources]]\nurl = "{srv.base}/a"\nkind = "page"\nname = "page"\n'
        f'[[sources]]\nurl = "{srv.base}/feed.xml"\nkind = "feed"\nname = "wire"\n'
    )


def rows(state: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(state / "monitor.db") as db:
        return db.execute(query).fetchall()


def count(state: Path, table: str) -> int:
    [(n,)] = rows(state, f"SELECT count(*) FROM {table}")
    assert isinstance(n, int)
    return n


def reported(store: Store) -> list[tuple[str, str, str | None, str | None]]:
    """(source name's end, text, previous, title) of every item, in a stable order."""
    with store.engine.connect() as conn:
        got = conn.execute(
            select(s.items.c.source_key, s.items.c.text, s.items.c.previous, s.items.c.title)
        ).all()
    return sorted((k.rsplit("/", 1)[-1], t, p, ti) for k, t, p, ti in got)


def recorded(store: Store) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """Every fingerprint and kept entry version, by the source's path."""
    with store.engine.connect() as conn:
        seen = conn.execute(select(s.seen.c.source_key, s.seen.c.fingerprint)).all()
        v = s.entry_versions.c
        versions = conn.execute(select(v.passage_key, v.title, v.text)).all()
    return sorted((k.rsplit("/", 1)[-1], f) for k, f in seen), sorted(tuple(v) for v in versions)


def test_the_first_once_keeps_bodies_and_a_change_reports_only_what_is_new(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    page = outlet_page("Kurier", STORY)
    srv.set("/a", page)
    srv.set("/feed.xml", rss([CALM, TROOPS]), RSS)
    make(tmp_path, sources(srv))
    cfg, state = tmp_path / "config.toml", tmp_path / "state"

    first = monitor(cfg, "once")
    assert first.returncode == 0, first.stderr
    assert "2 fetched" in first.stdout and "2 first polls kept unparsed" in first.stdout
    # Nothing parsed: no fingerprints, snapshots or entry versions yet; both bodies kept.
    assert [count(state, t) for t in ("seen", "page_snapshots", "entry_versions")] == [0, 0, 0]
    assert rows(state, "SELECT baseline_done, state FROM sources") == [(0, "ok"), (0, "ok")]
    kept = dict(
        (url.rsplit("/", 1)[-1], (zlib.decompress(body), size, ctype, codec))
        for url, body, size, ctype, codec in rows(
            state,
            "SELECT final_url, body, size, content_type, codec FROM pending_baselines",
        )
    )
    assert kept["a"] == (page.encode(), len(page.encode()), "text/html; charset=utf-8", "zlib")
    assert kept["feed.xml"][0] == rss([CALM, TROOPS]).encode()
    assert rows(state, "SELECT max(version) FROM schema_version") == [(LATEST,)]

    # Unchanged (304): nothing parsed, nothing reported, the bodies stay kept.
    same = monitor(cfg, "once")
    assert "2 unchanged" in same.stdout and "0 new passages (0 baseline)" in same.stdout
    assert count(state, "pending_baselines") == 2 and count(state, "seen") == 0

    # The page's figure edited, the feed with a new entry and a materially edited one: the
    # baselines are taken, then only the changes are reported, the edit with what it replaced.
    srv.set("/a", outlet_page("Kurier", EDITED_STORY))
    srv.set("/feed.xml", rss([NEW, CALM, REVISED]), RSS)
    changed = monitor(cfg, "once")
    assert changed.returncode == 0, changed.stderr
    assert "2 new passages" in changed.stdout, changed.stdout
    assert count(state, "pending_baselines") == 0
    assert rows(state, "SELECT baseline_done FROM sources") == [(1,), (1,)]
    store = Store(state)
    items = reported(store)
    page_items = [i for i in items if i[0] == "a"]
    assert [(t, p) for _, t, p, _ in page_items] == [(EDITED_STORY, STORY)]
    feed_texts = sorted(t for src, t, _, _ in items if src == "feed.xml")
    assert feed_texts == sorted([NEW[2], REVISED[2]])  # the revised one was never reported
    assert not any(CALM[2] in t for _, t, _, _ in items)
    store.close()

    again = monitor(cfg, "once")
    assert "0 new passages" in again.stdout and count(state, "items") == len(items)


def scenario(srv: ContentServer) -> None:
    srv.set("/a", outlet_page("Kurier", STORY))
    srv.set("/feed.xml", rss([CALM, TROOPS]), RSS)


def change(srv: ContentServer) -> None:
    # The story's figure edited, the counter line re-rendered; a new and an edited entry.
    srv.set("/a", outlet_page("Kurier", EDITED_STORY, "23.11.2026, 09:15 Uhr", views=4711))
    srv.set("/feed.xml", rss([NEW, CALM, REVISED]), RSS)


async def test_a_baseline_taken_at_the_changed_poll_reports_what_one_taken_before_it_does(
    tmp_path: Path, content_server: ContentServer
) -> None:
    """Same polls, two states: one whose baseline was taken before the change (as the daemon's
    idle time, or the first poll of earlier releases, does), one whose first changed poll takes
    it. The same items, fingerprints, entry versions and page snapshot come out."""
    srv = content_server
    results = []
    for name, settle_first in (("before", True), ("at_change", False)):
        scenario(srv)
        (tmp_path / name).mkdir()
        config = make(tmp_path / name, sources(srv))
        store = Store(config.state_dir)
        assert (await cycle(config, store)).last.deferred == 2  # type: ignore[attr-defined]
        if settle_first:
            assert await settle(config, store) == 2
        change(srv)
        last = (await cycle(config, store)).last  # type: ignore[attr-defined]
        page_key = next(h.key for h in store.health() if h.name == "page")
        results.append(
            (
                (last.new_passages, last.updated, last.failed),
                reported(store),
                recorded(store),
                store.page_snapshot(page_key),
            )
        )
        assert store.pending_baselines() == {}
        store.close()
    assert results[0] == results[1]
    (new, updated, failed), items, _, _ = results[1]
    assert (new, updated, failed) == (2, 1, 0)
    assert any(p == STORY for _, _, p, _ in items)


def test_obvious_faults_show_at_the_first_poll_as_the_parser_words_them(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    html = "<!doctype html><html><head><title>Seite nicht gefunden</title></head><body></html>"
    srv.set("/feed.xml", html)
    srv.set("/a.zip", b"PK\x03\x04" + bytes(200), "application/zip")
    srv.set("/b", outlet_page("Kurier", STORY))
    make(
        tmp_path,
        f'[[sources]]\nurl = "{srv.base}/feed.xml"\nkind = "feed"\nname = "wire"\n'
        f'[[sources]]\nurl = "{srv.base}/a.zip"\nkind = "page"\nname = "zip"\n'
        f'[[sources]]\nurl = "{srv.base}/b"\nkind = "page"\nname = "good"\n',
    )
    once = monitor(tmp_path / "config.toml", "once")
    assert "2 failed" in once.stdout and "1 first poll kept unparsed" in once.stdout, once.stdout

    def parser_says(kind: str, body: bytes, url: str, ctype: str) -> str:
        with pytest.raises(ExtractError) as raised:
            extract_document(kind, body, url, ctype, 200, ())
        return str(raised.value)

    health = {
        h["name"]: h
        for h in json.loads(monitor(tmp_path / "config.toml", "sources", "--json").stdout)
    }
    assert health["wire"]["state"] == "failing"
    assert health["wire"]["error"] == parser_says(
        "feed", html.encode(), srv.base + "/feed.xml", "text/html; charset=utf-8"
    )
    assert health["wire"]["error"] == "not a feed: got an HTML page ('Seite nicht gefunden')"
    assert health["zip"]["error"] == parser_says(
        "page", b"PK\x03\x04" + bytes(200), srv.base + "/a.zip", "application/zip"
    )
    assert health["good"]["state"] == "ok" and health["good"]["error"] is None
    assert count(tmp_path / "state", "pending_baselines") == 1


async def test_a_hostile_kept_body_fails_in_the_parser_as_one_sources_error(
    tmp_path: Path, content_server: ContentServer
) -> None:
    """The daemon's idle time takes the baseline of a pathological kept page in a parser
    process: stopped at the deadline, the source fails with that error, the kept body and its
    validators go, so that the next poll fetches in full and keeps the body again. The other
    source is settled."""
    srv = content_server
    srv.set("/nested", NESTED)
    srv.set("/a", outlet_page("Kurier", STORY))
    config = make(
        tmp_path,
        "[poll]\nparse_timeout = 2\n"
        f'[[sources]]\nurl = "{srv.base}/nested"\nkind = "page"\nname = "nested"\n'
        f'[[sources]]\nurl = "{srv.base}/a"\nkind = "page"\nname = "a"\n',
    )
    store = Store(config.state_dir)
    assert (await cycle(config, store)).last.deferred == 2  # type: ignore[attr-defined]
    assert await settle(config, store) == 1
    health = {h.name: h for h in store.health()}
    assert health["nested"].state == "failing"
    assert "parse timed out after 2 s" in (health["nested"].last_error or "")
    assert health["a"].state == "ok" and health["a"].last_error is None
    assert store.pending_baselines() == {}
    nested = store.source_state(srv.base + "/nested")
    assert not nested.baseline_done and nested.validators.etag is None
    assert store.source_state(srv.base + "/a").baseline_done

    requests = len(srv.requests)
    last = (await cycle(config, store)).last  # type: ignore[attr-defined]
    asked = [h for p, h in srv.requests[requests:] if p == "/nested"]
    assert asked and "If-None-Match" not in asked[0]  # fetched in full again
    assert last.deferred == 1 and last.new_passages == 0
    assert list(store.pending_baselines()) == [srv.base + "/nested"]
    store.close()


def test_sigkill_after_the_baseline_is_taken_reports_nothing_twice(
    tmp_path: Path, content_server: ContentServer
) -> None:
    """`monitor once` takes a kept feed's baseline (committed), then dies while reading the new
    entry's article (follow_links). The next run reports the new entry once, and the entry that
    was there at the first poll never."""
    srv = content_server
    srv.set("/feed.xml", rss([TROOPS]), RSS)
    cfg = tmp_path / "config.toml"
    make(
        tmp_path,
        f'[[sources]]\nurl = "{srv.base}/feed.xml"\nkind = "feed"\nname = "wire"\n'
        "follow_links = true\n",
    )
    state = tmp_path / "state"
    assert "1 first poll kept unparsed" in monitor(cfg, "once").stdout
    entry = NEW[0], NEW[1], NEW[2]
    body = rss([entry, TROOPS]).replace(
        "https://news.example.org/troops-2", f"{srv.base}/story"
    )
    srv.set("/feed.xml", body, RSS)
    srv.set("/story", f"<html><body><p>{NEW[2]}</p></body></html>", delay=30)
    args = [sys.executable, "-m", "monitor", "--config", str(cfg), "once"]
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while srv.hits("/story") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.hits("/story") == 1, "the article fetch never started"
        # The baseline was committed before the article was asked for.
        assert count(state, "pending_baselines") == 0
        assert rows(state, "SELECT baseline_done FROM sources") == [(1,)]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert count(state, "items") == 0

    srv.set("/story", f"<html><body><p>{NEW[2]}</p></body></html>")
    again = monitor(cfg, "once")
    assert again.returncode == 0, again.stderr
    assert "1 new passages (0 baseline)" in again.stdout, again.stdout
    assert "0 new passages" in monitor(cfg, "once").stdout
    texts = [t for (t,) in rows(state, "SELECT text FROM items")]
    assert len(texts) == 1 and NEW[2] in texts[0]


def test_a_removed_sources_kept_body_goes_with_it_and_a_configured_ones_stays(
    tmp_path: Path,
) -> None:
    from monitor.models import Source

    store = Store(tmp_path)
    long_ago = utcnow() - timedelta(days=400)
    for name in ("kept", "gone"):
        store.sync_sources([Source(name, f"https://{name}.example/", "page", name, 3600, "config")])
        with store.transaction() as conn:
            store.keep_pending_baseline(
                PendingBody(name, zlib.compress(b"<p>x</p>"), "zlib", 8, "h" + name, None,
                            f"https://{name}.example/", long_ago),
                conn,
            )
            conn.execute(s.sources.update().where(s.sources.c.key == name).values(
                last_polled_at=long_ago))
    store.prune(utcnow(), 30, active=["kept"])
    assert store.pending_baselines() == {"kept": "hkept"}
    assert [h.name for h in store.health()] == ["kept"]
    store.close()


def test_only_one_settler_writes_a_baseline(tmp_path: Path) -> None:
    """A poll and the daemon's idle time (or two workers) may both take the same kept body's
    baseline: the first to remove the row writes it, the other finds it gone."""
    from monitor.models import Source

    store = Store(tmp_path)
    store.sync_sources([Source("k", "https://k.example/", "page", "k", 3600, "config")])
    pending = PendingBody("k", zlib.compress(b"x"), "zlib", 1, "h1", None, "https://k.example/",
                          utcnow())
    store.keep_pending_baseline(pending)
    with store.transaction() as conn:
        assert not store.settle_pending("k", "other-hash", 3, conn)  # not that body
        assert store.settle_pending("k", "h1", 3, conn)
    with store.transaction() as conn:
        assert not store.settle_pending("k", "h1", 3, conn)
        assert not store.drop_pending_baseline("k", "h1", conn)
    state = store.source_state("k")
    assert state.baseline_done and state.extractor == 3
    store.close()


async def test_postgres_keeps_settles_and_reports_as_sqlite_does(
    tmp_path: Path, content_server: ContentServer, pg_url: str
) -> None:
    srv = content_server
    scenario(srv)
    config = make(tmp_path, sources(srv))
    store = Store(config.state_dir, pg_url)
    assert (await cycle(config, store)).last.deferred == 2  # type: ignore[attr-defined]
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(s.seen)).scalar() == 0
        bodies = conn.execute(select(s.pending_baselines.c.body)).scalars().all()
    assert sorted(zlib.decompress(b) for b in bodies) == sorted(
        [outlet_page("Kurier", STORY).encode(), rss([CALM, TROOPS]).encode()]
    )
    change(srv)
    last = (await cycle(config, store)).last  # type: ignore[attr-defined]
    assert (last.new_passages, last.updated, last.failed) == (2, 1, 0)
    assert store.pending_baselines() == {}
    assert any(p == STORY for _, _, p, _ in reported(store))
    store.close()


async def test_copy_state_moves_kept_bodies_and_postgres_settles_them(
    tmp_path: Path, content_server: ContentServer, pg_url: str
) -> None:
    srv = content_server
    scenario(srv)
    config = make(tmp_path, sources(srv))
    sqlite_store = Store(config.state_dir)
    await cycle(config, sqlite_store)
    assert len(sqlite_store.pending_baselines()) == 2
    target = Store(config.state_dir, pg_url)
    copied = copy_state(sqlite_store, target)
    assert copied["pending_baselines"] == 2
    with sqlite_store.engine.connect() as a, target.engine.connect() as b:
        query = select(s.pending_baselines).order_by(s.pending_baselines.c.source_key)
        assert [tuple(r) for r in a.execute(query)] == [tuple(r) for r in b.execute(query)]
    sqlite_store.close()

    change(srv)
    poller = poller_for(config, target)
    try:
        async with Fetcher(config.http) as fetcher:
            last = await poller.cycle(fetcher, only_due=False)
    finally:
        poller.close()
    assert (last.new_passages, last.updated, last.failed) == (2, 1, 0)
    assert target.pending_baselines() == {}
    target.close()


def test_a_state_whose_baselines_were_taken_at_first_polls_keeps_nothing(
    tmp_path: Path, content_server: ContentServer
) -> None:
    """The state of release 0.1.0 (its baselines taken at first polls) after the migrations:
    polled as before, the new entry reported, nothing kept."""
    from tests.test_upgrade_keys import DATA, NEW_ENTRY, old_state, with_items
    from tests.test_upgrade_keys import RSS as FEED_TYPE

    cfg = old_state(tmp_path, content_server.base)
    seen_by_0_1_0 = (DATA / "feed-2.xml").read_bytes()
    content_server.set("/feed.xml", with_items(seen_by_0_1_0, NEW_ENTRY), FEED_TYPE)
    first = monitor(cfg, "once")
    assert "1 new passages (0 baseline)" in first.stdout, first.stdout + first.stderr
    assert count(tmp_path / "state", "pending_baselines") == 0
    assert rows(tmp_path / "state", "SELECT max(version) FROM schema_version") == [(LATEST,)]


def test_the_daemon_settles_kept_first_polls_in_idle_time_with_their_warnings(
    tmp_path: Path, content_server: ContentServer
) -> None:
    """`monitor run`: the first cycle keeps the bodies; between cycles (the sources are not
    due again for an hour) their baselines are taken, and a parse warning reaches the health."""
    from tests.test_daemon import Daemon, free_port, wait_for

    srv = content_server
    srv.set("/a", outlet_page("Kurier", STORY))
    srv.set("/feed.xml", rss([CALM, TROOPS]), "text/html")  # a feed served as HTML: a warning
    (tmp_path / "seeds").mkdir()
    make(tmp_path, f"[poll]\ntick_seconds = 2\n[web]\nport = {free_port()}\n" + sources(srv))
    state = tmp_path / "state"

    def settled() -> bool:
        try:
            return count(state, "seen") > 0 and count(state, "pending_baselines") == 0
        except sqlite3.OperationalError:  # not created yet
            return False

    daemon = Daemon(tmp_path / "config.toml")
    try:
        assert wait_for(settled, timeout=90), daemon.text()
        assert srv.hits("/a") == 1 and srv.hits("/feed.xml") == 1  # not polled again
        health = dict(rows(state, "SELECT name, last_error FROM sources"))
        assert health == {"page": None, "wire": "warning: served as text/html; parsed as XML"}
        assert rows(state, "SELECT baseline_done FROM sources") == [(1,), (1,)]
        assert count(state, "entry_versions") == 2 and count(state, "page_snapshots") == 1
    finally:
        daemon.proc.send_signal(signal.SIGTERM)
        daemon.proc.wait(timeout=60)
    assert "took the baselines of 2 first polls kept unparsed" in daemon.text()


def test_monitor_sources_says_which_first_polls_are_kept_unparsed(
    tmp_path: Path, content_server: ContentServer
) -> None:
    """Review: a kept first poll showed as plain "ok" in `monitor sources`, as if its body had
    been parsed fine; its parse (and its warnings) comes only at its next change."""
    srv = content_server
    scenario(srv)
    make(tmp_path, sources(srv))
    cfg = tmp_path / "config.toml"
    assert monitor(cfg, "once").returncode == 0

    def kept() -> dict[str, bool]:
        listed = json.loads(monitor(cfg, "sources", "--json").stdout)
        return {h["name"]: h["first_poll_kept"] for h in listed}

    assert kept() == {"page": True, "wire": True}
    table = monitor(cfg, "sources").stdout
    assert table.count("first poll kept unparsed") == 2, table
    store = Store(tmp_path / "state")  # the store's own reading (PostgreSQL, other schemas)
    assert [h.kept for h in store.health()] == [True, True]
    store.close()

    change(srv)
    assert monitor(cfg, "once").returncode == 0
    assert kept() == {"page": False, "wire": False}
    assert "kept unparsed" not in monitor(cfg, "sources").stdout


def test_a_kind_changed_while_the_first_poll_is_kept_polls_afresh_as_that_kind(
    tmp_path: Path, content_server: ContentServer
) -> None:
    """Review: a body kept as one kind stood for the source after its kind was changed in the
    config: the unchanged body read as "unchanged" (its fault as the new kind never shown), and
    a changed one was measured against a baseline taken by the other kind's parser. Now the
    kept body goes with the kind change, and the next poll is a first poll of the new kind."""
    srv = content_server
    scenario(srv)
    make(tmp_path, sources(srv))
    cfg, state = tmp_path / "config.toml", tmp_path / "state"
    assert "2 first polls kept unparsed" in monitor(cfg, "once").stdout
    # The two kinds swapped: the page's URL read as a feed, the feed's as a page.
    swap = sources(srv).replace('"page"', '"x"').replace('"feed"', '"page"')
    make(tmp_path, swap.replace('"x"', '"feed"'))
    swapped = monitor(cfg, "once")
    assert "2 failed" in swapped.stdout, swapped.stdout
    listed = json.loads(monitor(cfg, "sources", "--json").stdout)
    health = {h["url"].rsplit("/", 1)[-1]: h for h in listed}
    assert health["a"]["error"].startswith("not a feed: got an HTML page ('Kurier")
    assert health["feed.xml"]["error"].startswith("not a page: cannot extract text from")
    assert count(state, "pending_baselines") == 0
    assert rows(state, "SELECT baseline_done FROM sources") == [(0,), (0,)]
    # Kinds put right: first polls as those kinds, nothing reported.
    make(tmp_path, sources(srv))
    again = monitor(cfg, "once")
    assert "2 first polls kept unparsed" in again.stdout, again.stdout
    assert count(state, "items") == 0


def test_two_first_polls_of_one_source_at_once_keep_one_body(tmp_path: Path, pg_url: str) -> None:
    # A `monitor once` beside PostgreSQL workers may take a source's first poll while a worker
    # does: the second to commit must neither fail nor leave two bodies.
    import threading

    from sqlalchemy import text

    from monitor.models import Source

    src = Source("https://a.example.org/", "https://a.example.org/", "page", "a", 3600, "config")
    first, second, watcher = (Store(tmp_path, pg_url) for _ in range(3))
    first.sync_sources([src])

    def kept(body: bytes) -> PendingBody:
        return PendingBody(
            src.key, zlib.compress(body), "zlib", len(body), body.hex(), "text/html", src.url,
            utcnow(),
        )  # fmt: skip

    errors: list[BaseException] = []

    def other_poll() -> None:
        try:
            second.keep_pending_baseline(kept(b"<p>second</p>"))
        except BaseException as exc:
            errors.append(exc)

    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE '%pending_baselines%'"
    )
    with first.engine.connect() as conn:
        tx = conn.begin()
        first.keep_pending_baseline(kept(b"<p>first</p>"), conn)
        thread = threading.Thread(target=other_poll)
        thread.start()
        # The other insert waits on this transaction's row before this one commits.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with watcher.engine.connect() as look:
                if look.execute(waiting).scalar():
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the second first poll never waited on the first")
        tx.commit()
    thread.join(30)
    assert not errors, errors
    pending = first.pending_body(src.key)
    assert pending is not None and zlib.decompress(pending.body) == b"<p>first</p>"
    assert len(first.pending_baselines()) == 1
    for store in (first, second, watcher):
        store.close()


async def test_a_kept_body_dropped_meanwhile_with_baseline_off_reports_the_page(
    tmp_path: Path, content_server: ContentServer
) -> None:
    # The page's first poll was kept; then `poll.baseline` was turned off, and the kept body
    # went (a change of kind elsewhere drops it) while the changed page was being fetched. With
    # no baseline left to take, the poll is what a first poll is today: all of it is reported,
    # not kept again as a baseline.
    import asyncio

    srv = content_server
    srv.set("/a", outlet_page("Kurier", STORY))
    page_only = f'[[sources]]\nurl = "{srv.base}/a"\nkind = "page"\nname = "page"\n'
    store = Store(make(tmp_path, page_only).state_dir)
    assert (await cycle(make(tmp_path, page_only), store)).last.deferred == 1  # type: ignore[attr-defined]

    config = make(tmp_path, "[poll]\nbaseline = false\n" + page_only)
    srv.set("/a", outlet_page("Kurier", EDITED_STORY), delay=2.0)
    running = asyncio.create_task(cycle(config, store))
    deadline = time.monotonic() + 30
    while srv.hits("/a") < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    with sqlite3.connect(config.state_dir / "monitor.db") as db:
        db.execute("DELETE FROM pending_baselines")
    last = (await running).last  # type: ignore[attr-defined]
    assert (last.deferred, last.failed) == (0, 0)
    assert any(text == EDITED_STORY for _, text, _, _ in reported(store))
    assert store.pending_baselines() == {}
    store.close()
