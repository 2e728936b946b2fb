"""Atom feeds per topic: valid Atom 1.0, hostile text round-trips, stable ids, atomic files."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

from monitor.digest.atom import (
    ATOM_NS,
    MAX_ENTRIES,
    entry_id,
    topic_feed,
    write_topic_feeds,
)
from monitor.models import Evidence, Match

A = f"{{{ATOM_NS}}}"
UPDATED = datetime(2026, 11, 22, 6, 30, tzinfo=UTC)
SELF = "http://127.0.0.1:8080/feeds/troop_deployment.atom"
HOSTILE_TITLE = """<script>alert("x")</script> Kim & Putin's "pact" <b>now</b>"""


def match(n: int, **kw: Any) -> Match:
    values: dict[str, Any] = {
        "id": n,
        "topic": "troop_deployment",
        "score": 2.0,
        "evidence": Evidence(
            ("Kursk", "Soldaten"), "Kursk AND Soldaten", f"Meldung {n}: Soldaten in Kursk.", ()
        ),
        "source_key": "https://news.example.org/",
        "source_name": "Example News",
        "title": f"Schlagzeile {n}",
        "link": f"https://news.example.org/{n}.html",
        "text": f"Meldung {n}: Soldaten in Kursk. Mehr Text.",
        "language": "de",
        "published": datetime(2026, 11, 21, 14, 0, tzinfo=UTC) + timedelta(minutes=n),
        "first_seen": datetime(2026, 11, 21, 15, 0, tzinfo=UTC) + timedelta(minutes=n),
    }
    values.update(kw)
    return Match(**values)


def hostile() -> list[Match]:
    return [
        match(
            1,
            title=HOSTILE_TITLE,
            source_name="<i>Evil</i> & Co",
            evidence=Evidence(
                ("Kursk", 'a "b" & <c>'),
                "r",
                "Text with \x00 NUL, \x0b VT, \ud800 lone surrogate, \ufffe and <b>tags</b> & more",
                (),
            ),
        ),
        match(2, link="javascript:alert(1)", text="Full text ]]> <![CDATA[ x ]]> & end"),
        match(3, link='https://ok.example/?a=1&b="2"<x>', published=None),
    ]


def parse(document: bytes) -> Any:
    parsed = feedparser.parse(document)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


def test_feed_is_well_formed_atom_with_required_elements() -> None:
    document = topic_feed("troop_deployment", "Nordkoreanische Truppen", hostile(), UPDATED, SELF)
    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(document)  # raises if not well-formed
    assert root.tag == f"{A}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{A}{name}") is not None, name
    assert root.findtext(f"{A}updated") == "2026-11-22T06:30:00Z"
    [link] = root.findall(f"{A}link")
    assert (link.get("rel"), link.get("href")) == ("self", SELF)
    entries = root.findall(f"{A}entry")
    assert len(entries) == 3
    for entry in entries:
        for name in ("id", "title", "updated", "author", "summary"):
            assert entry.find(f"{A}{name}") is not None, name
        alternate = [x for x in entry.findall(f"{A}link") if x.get("rel") == "alternate"]
        # RFC 4287 4.1.2: without an alternate link the entry must have content.
        assert alternate or entry.find(f"{A}content") is not None
        assert {x.get("type") for x in entry if x.tag in {f"{A}title", f"{A}summary"}} == {"text"}


def test_hostile_text_comes_back_as_text() -> None:
    parsed = parse(topic_feed("troop_deployment", "Truppen & <Co>", hostile(), UPDATED, SELF))
    assert parsed.feed.title == "Truppen & <Co>"
    by_id = {e.id: e for e in parsed.entries}
    first = by_id[entry_id(match(1))]
    # A title is text: markup in it is removed, not carried (issue 12, point 9); the rest
    # (quotes, "&") comes back as written.
    assert first.title == """Kim & Putin's "pact" now"""
    assert first.title_detail.type == "text/plain"
    assert first.author == "<i>Evil</i> & Co"
    assert first.summary == "Text with NUL, VT, lone surrogate, and <b>tags</b> & more"
    assert [t.term for t in first.tags] == ["Kursk", 'a "b" & <c>']
    assert first.link == "https://news.example.org/1.html"

    unsafe = by_id[entry_id(match(2))]
    assert "links" not in unsafe or all("javascript" not in x.href for x in unsafe.links)
    assert unsafe.content[0].value == "Full text ]]> <![CDATA[ x ]]> & end"

    odd = by_id[entry_id(match(3))]
    assert odd.link == "https://ok.example/?a=1&b=%222%22%3Cx%3E"  # quotes, brackets encoded
    assert "published" not in odd


def test_no_markup_from_sources_reaches_the_document() -> None:
    root = etree.fromstring(topic_feed("troop_deployment", "T", hostile(), UPDATED, None))
    names = ("feed", "id", "title", "subtitle", "updated", "author", "name", "generator")
    names += ("entry", "link", "published", "summary", "content", "category")
    allowed = {f"{A}{name}" for name in names}
    assert {element.tag for element in root.iter()} <= allowed
    assert root.find(f"{A}link") is None  # no self_url given


def test_ids_and_output_are_stable_across_calls() -> None:
    matches = [match(n) for n in range(1, 6)]
    first = topic_feed("troop_deployment", "T", matches, UPDATED, SELF)
    again = topic_feed("troop_deployment", "T", list(reversed(matches)), UPDATED, SELF)
    assert first == again
    later = topic_feed("troop_deployment", "T", [*matches, match(6)], UPDATED, SELF)
    ids = [e.id for e in parse(first).entries]
    later_ids = [e.id for e in parse(later).entries]
    assert later_ids == [entry_id(match(6)), *ids]  # newest first; old ids unchanged
    assert ids[0] == "tag:source-monitor,2026:match/5"
    assert parse(first).feed.id == "tag:source-monitor,2026:topic/troop_deployment"


def test_duplicates_are_merged_and_the_feed_is_bounded() -> None:
    matches = [match(n % (MAX_ENTRIES + 50)) for n in range(2 * (MAX_ENTRIES + 50))]
    entries = parse(topic_feed("troop_deployment", "T", matches, UPDATED, SELF)).entries
    assert len(entries) == MAX_ENTRIES
    assert len({e.id for e in entries}) == MAX_ENTRIES
    assert entries[0].id == entry_id(match(MAX_ENTRIES + 49))


def test_empty_feed_is_valid() -> None:
    parsed = parse(topic_feed("sanctions", "Sanktionen", [], UPDATED, None))
    assert parsed.version == "atom10" and parsed.entries == []


@pytest.mark.parametrize("topic", ["../evil", "Troops", "a/b", "", "a.b", "x" * 65])
def test_bad_topic_ids_are_refused(tmp_path: Path, topic: str) -> None:
    with pytest.raises(ValueError, match=r"\[a-z0-9_\]"):
        topic_feed(topic, "T", [], UPDATED, None)
    with pytest.raises(ValueError, match=r"\[a-z0-9_\]"):
        write_topic_feeds(tmp_path, {"sanctions": b"<feed/>", topic: b"<feed/>"})
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the good one


def test_feeds_are_written_atomically(tmp_path: Path) -> None:
    feeds = {
        "troop_deployment": topic_feed("troop_deployment", "T", [match(1)], UPDATED, SELF),
        "sanctions": topic_feed("sanctions", "S", [], UPDATED, None),
    }
    paths = write_topic_feeds(tmp_path, feeds)
    folder = tmp_path / "feeds"
    assert paths == [folder / "troop_deployment.atom", folder / "sanctions.atom"]
    assert paths[0].read_bytes() == feeds["troop_deployment"]
    stat = os.stat(paths[0])
    assert stat.st_mode & 0o777 == 0o644  # served by the web UI, readable by other tools

    inode = stat.st_ino
    newer = topic_feed("troop_deployment", "T", [match(1), match(2)], UPDATED, SELF)
    write_topic_feeds(tmp_path, {"troop_deployment": newer})
    assert paths[0].read_bytes() == newer
    assert os.stat(paths[0]).st_ino != inode  # replaced by rename, not rewritten in place
    assert sorted(p.name for p in folder.iterdir()) == ["sanctions.atom", "troop_deployment.atom"]


def test_feeds_folder_linked_out_of_the_state_folder_is_refused(tmp_path: Path) -> None:
    state, outside = tmp_path / "state", tmp_path / "outside"
    state.mkdir()
    outside.mkdir()
    (state / "feeds").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="outside the state folder"):
        write_topic_feeds(state, {"sanctions": b"<feed/>"})
    assert list(outside.iterdir()) == []
