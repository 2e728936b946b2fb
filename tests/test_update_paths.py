"""Updates of edited feed entries where they meet retention, syndication and Atom (found by a
review of the merged edits, story grouping and outage work)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor import wiring
from monitor.digest.atom import topic_feed
from monitor.digest.build import build_digest
from monitor.digest.views import story_count
from monitor.models import Evidence, Match, Passage, Source
from monitor.store import Store, utcnow

T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)
TEXT = "The Pentagon said about 10,000 North Korean troops have moved into Kursk."


def match(
    id: int, text: str, source: str, *, revises: int | None = None, topic: str = "t"
) -> Match:
    return Match(
        id=id, topic=topic, score=1.0, evidence=Evidence(("troops",), "r", text, ((0, 5),)),
        source_key=source, source_name=source, title="Troops", link="https://x.example/a",
        text=text, language="en", published=None, first_seen=T0 + timedelta(hours=id),
        citations=[], also_reported_by=[], story_id=1, previous=TEXT if revises else None,
        previous_title="Troops" if revises else None, revises=revises, item_id=id,
    )  # fmt: skip


def test_an_edit_after_retention_pruned_the_first_report_is_stored(tmp_path: Path) -> None:
    store = Store(tmp_path)
    src = Source(key="http://x/feed", url="http://x/feed", kind="feed", name="F",
                 interval_seconds=600, origin="config")  # fmt: skip
    store.sync_sources([src])
    old = utcnow() - timedelta(days=40)
    first = store.add_item(src.key, Passage(key="e1", text="a", title="t"), [], old)
    store.add_item(src.key, Passage(key="e1", text="b", title="t"), [], old + timedelta(days=25),
                   story_id=first, revises=first)  # fmt: skip
    store.prune(utcnow(), 30)  # the first report goes, its later version stays
    assert store.entry_item(src.key, "e1") is None
    again = store.add_item(src.key, Passage(key="e1", text="c", title="t"), [], utcnow())
    # Before: this version's key was the one the kept version held, and the write failed.
    store.add_item(src.key, Passage(key="e1", text="d", title="t"), [], utcnow(),
                   story_id=again, revises=again)  # fmt: skip
    store.close()


def test_an_update_beside_another_outlets_copy_is_shown_not_folded(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[seeds]\nenabled = false\n[channels.out]\nkind = "file"\n'
                   '[topics.t]\nquery = "troops"\n')  # fmt: skip
    config = wiring.load(cfg)
    update = match(3, TEXT.replace("10,000", "12,000"), "Wire A", revises=1)
    copy = match(2, TEXT + " Seoul confirmed the figure on Monday.", "Outlet B")
    digest = build_digest(config, "out", [copy, update], [], T0)
    assert digest is not None
    shown = {(m.source_name, m.revises) for m in digest.topics["t"]}
    assert shown == {("Outlet B", None), ("Wire A", 1)}
    assert digest.absorbed == {} and story_count(digest) == 2


def test_atom_keeps_an_update_as_an_entry_of_its_own() -> None:
    first = match(1, TEXT, "Wire")
    update = match(2, TEXT.replace("10,000", "12,000"), "Wire", revises=1)
    feed = topic_feed("t", "T", [update, first], T0 + timedelta(hours=4), None).decode()
    ids = re.findall(r"<id>tag:source-monitor,2026:match/(\d+)</id>", feed)
    assert sorted(ids) == ["1", "2"]
    assert "12,000" in feed and "10,000" in feed


def test_slack_and_teams_mark_an_update_and_say_what_changed(tmp_path: Path) -> None:
    import json

    from monitor.notify.slack import slack_payload
    from monitor.notify.teams import teams_payload

    cfg = tmp_path / "config.toml"
    cfg.write_text('[seeds]\nenabled = false\n[channels.out]\nkind = "file"\n'
                   '[topics.t]\nquery = "troops"\n')  # fmt: skip
    config = wiring.load(cfg)
    update = match(3, TEXT.replace("10,000", "12,000"), "Wire A", revises=1)
    digest = build_digest(config, "out", [update], [], T0)
    assert digest is not None
    for payload in (slack_payload(digest, UTC), teams_payload(digest, UTC)):
        text = json.dumps(payload, ensure_ascii=False)
        assert "Update: " in text and "“10,000” became “12,000”" in text, text[:400]
