"""A source's first poll (its baseline) through the parser processes: the parser hands back only
what is recorded (`monitor.detect.baseline`), and what is recorded is what a full poll would
have recorded, so the second poll still reports an edit of first-poll text (issue 17). The
first poll itself keeps the body unparsed; here the daemon's idle time takes the baseline
(tests/test_deferred_baseline.py: the first changed poll takes it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.detect.baseline import Baseline, encode_snapshot, record_baseline
from monitor.models import Passage, Source
from monitor.source_kinds import extract_document
from monitor.store import Store, utcnow
from monitor.store.engine import DB_NAME
from tests.conftest import ContentServer
from tests.test_end_to_end import rss
from tests.test_pipeline import STORY, cycle, make, outlet_page, settle

RSS = "application/rss+xml; charset=utf-8"
CALM = ("calm-1", "Ferry traffic resumes in Rason", "Ferries run again between Rason and Najin.")
TROOPS = (
    "troops-1",
    "Pentagon: 10,000 North Korean soldiers now in Kursk",
    "The Pentagon said about 10,000 North Korean troops have moved into Russia's Kursk region "
    "and are expected to join combat against Ukrainian forces soon.",
)
# A material edit of the same entry (same guid): a figure changed.
REVISED = (TROOPS[0], TROOPS[1], TROOPS[2].replace("10,000", "12,000"))


def full(kind: str, body: str, url: str) -> list[Passage]:
    """The passages a poll that matches would extract from the same bytes."""
    return extract_document(kind, body.encode(), url, None, 200, (), False).passages


def test_the_parser_returns_only_what_a_first_poll_records() -> None:
    page, feed = outlet_page("Kurier", STORY), rss([CALM, TROOPS])
    url = "https://kurier.example/a"
    got = record_baseline("page", page.encode(), url, None, 200, ())
    passages = full("page", page, url)
    assert isinstance(got, Baseline) and got.versions == []
    # The keys the next poll compares with: those of a full extraction, each once, in order.
    assert got.keys == list(dict.fromkeys(p.key for p in passages)) and got.keys
    # The page's paragraphs, encoded as the store keeps them.
    assert got.snapshot == encode_snapshot([p.text for p in passages])

    got = record_baseline("feed", feed.encode(), "https://wire.example/feed.xml", RSS, 200, ())
    passages = full("feed", feed, "https://wire.example/feed.xml")
    assert got.keys == [p.key for p in passages] and len(got.keys) == 2
    assert got.snapshot is None
    assert got.versions == [(p.key, p.title or "", p.text) for p in passages]
    # Nothing else crosses the pipe: no passage objects with their titles, links and dates.
    assert not any(isinstance(v, Passage) for v in (*got.keys, *got.versions))


def test_encoded_snapshots_read_back_as_the_stores_own(tmp_path: Path) -> None:
    paragraphs = ["Erster Absatz über Kursk.", "Zweiter: 3.000 Soldaten — „Zitat“.", ""]
    store = Store(tmp_path)
    store.sync_sources([Source("k", "https://x.example/", "page", "x", 3600, "config")])
    store.save_page_snapshot("k", encode_snapshot(paragraphs), utcnow(), first=True)
    assert store.page_snapshot("k") == paragraphs
    store.save_page_snapshot("k", paragraphs, utcnow())
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        [(blob,)] = db.execute("SELECT paragraphs FROM page_snapshots WHERE source_key = 'k'")
    assert blob == encode_snapshot(paragraphs)  # one format, whichever side encoded it
    store.close()


async def test_first_poll_records_what_a_full_poll_would_and_reports_later_edits(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/a", outlet_page("Kurier", STORY))
    srv.set("/feed.xml", rss([CALM, TROOPS]), RSS)
    config = make(
        tmp_path,
        f'[[sources]]\nurl = "{srv.base}/a"\nkind = "page"\nname = "a"\n'
        f'[[sources]]\nurl = "{srv.base}/feed.xml"\nkind = "feed"\nname = "wire"\n',
    )
    store = Store(config.state_dir)
    page = full("page", outlet_page("Kurier", STORY), srv.base + "/a")
    page_keys = list(dict.fromkeys(p.key for p in page))
    entries = full("feed", rss([CALM, TROOPS]), srv.base + "/feed.xml")

    first = (await cycle(config, store)).last  # type: ignore[attr-defined]
    # Kept, not reported: troop stories in both sources, and nothing matched or queued.
    assert first.fetched == 2 and first.failed == 0 and first.deferred == 2
    assert first.matches == first.new_passages == 0
    assert store.unclaimed_matches("out", "digest", ["troop_deployment"], 0.0, {}) == []
    assert await settle(config, store) == 2  # as the daemon does in idle time
    with sqlite3.connect(config.state_dir / DB_NAME) as db:
        seen = db.execute("SELECT source_key, fingerprint FROM seen").fetchall()
        versions = db.execute("SELECT passage_key, title, text FROM entry_versions").fetchall()
        done = db.execute("SELECT count(*) FROM sources WHERE baseline_done").fetchone()
    assert sorted(k for s, k in seen if s.endswith("/a")) == sorted(page_keys)
    assert sorted(k for s, k in seen if s.endswith("/feed.xml")) == sorted(e.key for e in entries)
    assert sorted(versions) == sorted((e.key, e.title, e.text) for e in entries)
    assert {(t, x) for _, t, x in versions} == {CALM[1:], TROOPS[1:]}
    assert done == (2,)
    page_key = next(s for s, _ in seen if s.endswith("/a"))
    assert store.page_snapshot(page_key) == [
        p.text for p in full("page", outlet_page("Kurier", STORY), srv.base + "/a")
    ]

    # Both sources edit first-poll text: the page's figure, the feed entry's figure.
    srv.set("/a", outlet_page("Kurier", STORY.replace("3.000", "10.000")))
    srv.set("/feed.xml", rss([CALM, REVISED]), RSS)
    second = (await cycle(config, store)).last  # type: ignore[attr-defined]
    assert second.new_passages == 1 and second.updated == 1, second
    matches = store.unclaimed_matches("out", "digest", ["troop_deployment"], 0.0, {})
    by_text = {m.text: m for m in matches}
    edited = next(m for t, m in by_text.items() if "10.000 Soldaten" in t)
    assert edited.previous is not None and "3.000 Soldaten" in edited.previous
    assert any("12,000" in t for t in by_text), by_text.keys()
    store.close()
