"""Atom 1.0 feeds (RFC 4287) of one topic's matches, for analysts who follow topics in a reader.

Everything in an entry except our own ids comes from the web, so the document is built with
lxml.etree: titles, snippets, source names and URLs only ever become element text or attribute
values, which the library escapes; no markup is put together from strings. Characters that XML 1.0
cannot carry at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF) are removed first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from lxml import etree

from monitor.atomicfile import fsync_dir, write_atomic
from monitor.digest.views import (
    LABELS,
    MAX_CHANGES,
    MAX_ERROR,
    MAX_SNIPPET,
    MAX_TITLE,
    change_sentence,
    clean,
    iso,
    safe_href,
    update_changes,
)
from monitor.extract.titles import title_text
from monitor.models import Match, OutageNotice

ATOM_NS = "http://www.w3.org/2005/Atom"
# tag: URIs (RFC 4151) depend on nothing that can change, such as the host the feed is served
# from, so a reader never sees an entry twice; the date is fixed when the scheme was minted.
TAG_PREFIX = "tag:source-monitor,2026:"
MAX_ENTRIES = 200  # newest first; a reader polls often enough that older entries add nothing
MAX_OUTAGE_ENTRIES = 50  # outages and recoveries of sources, on top of the matches
MAX_CONTENT = 4000
FEEDS_FOLDER = "feeds"

_TOPIC_ID = re.compile(r"[a-z0-9_]{1,64}")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str | None, limit: int | None = None) -> str:
    """One line of untrusted text that XML 1.0 can hold: invalid characters gone, then `clean`."""
    return clean(_NOT_XML.sub("", text or ""), limit)


def entry_id(match: Match) -> str:
    """The entry's atom:id: the same for the same match in every version of the feed."""
    return f"{TAG_PREFIX}match/{match.id}"


def _add(
    parent: etree._Element, name: str, text: str | None = None, **attrs: str
) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}{name}", attrib=attrs)
    if text is not None:
        element.text = text
    return element


def one_per_story(matches: Iterable[Match]) -> list[Match]:
    """One match per syndicated story: its fullest copy, under the id of the story's first
    match, so that a fuller copy arriving later updates the entry rather than adding one."""
    stories: dict[int, list[Match]] = {}
    for m in matches:
        # An update is an entry of its own: folded into its story, it would vanish whenever
        # the edit leaves the text no longer than the first report.
        story = m.story_id if m.story_id is not None and m.revises is None else -m.id
        stories.setdefault(story, []).append(m)
    shown = []
    for copies in stories.values():
        first = min(copies, key=lambda m: m.id)
        fullest = max(copies, key=lambda m: (len(m.text), -m.id))
        if len(copies) > 1:
            fullest = replace(fullest, id=first.id, first_seen=first.first_seen)
        shown.append(fullest)
    return shown


def _entry(feed: etree._Element, match: Match) -> None:
    entry = _add(feed, "entry")
    _add(entry, "id", entry_id(match))
    title = (
        xml_text(title_text(match.title), MAX_TITLE) or xml_text(match.text, 100) or "(untitled)"
    )
    labels = LABELS["en"]
    update = ""
    if match.previous is not None:
        # An update is an entry of its own (its own match id), told apart in its title and
        # led by what changed since the version it replaced.
        title = f"{labels['update_tag']}: {title}"
        titles, runs = update_changes(match)
        update = xml_text(
            change_sentence(titles, runs[:MAX_CHANGES], labels, len(runs) - MAX_CHANGES)
        )
    _add(entry, "title", title, type="text")
    href = safe_href(match.link)
    if href:
        _add(entry, "link", rel="alternate", type="text/html", href=href)
    _add(entry, "updated", iso(match.first_seen))
    if match.published is not None:
        _add(entry, "published", iso(match.published))
    author = _add(entry, "author")
    _add(author, "name", xml_text(match.source_name, 200) or xml_text(match.source_key, 200))
    snippet = xml_text(match.evidence.snippet or match.text, MAX_SNIPPET)
    _add(entry, "summary", f"{update} {snippet}" if update else snippet, type="text")
    for name in match.also_reported_by[:20]:  # the other outlets that carried the story
        if name := xml_text(name, 200):
            _add(_add(entry, "contributor"), "name", name)
    if not href:
        # RFC 4287 4.1.2: an entry without an alternate link must carry its content.
        _add(entry, "content", xml_text(match.text, MAX_CONTENT) or snippet, type="text")
    seen: set[str] = set()
    for term in match.evidence.terms:
        term = xml_text(term, 80)
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            _add(entry, "category", term=term)


def _outage_entries(feed: etree._Element, outages: Sequence[OutageNotice]) -> None:
    """One entry when a source became unreadable and one when it was readable again, each with
    an id of its own, so a reader shows each event once (a feed has no "channel" to claim it)."""
    labels = LABELS["en"]
    events: list[tuple[datetime, str, OutageNotice]] = []
    for n in outages:
        events.append((n.since, "down", n))
        if n.until is not None:
            events.append((n.until, "up", n))
    events.sort(key=lambda e: (iso(e[0]), e[2].outage_id, e[1]), reverse=True)
    for when, event, n in events[:MAX_OUTAGE_ENTRIES]:
        name = xml_text(n.name, 200) or xml_text(n.source_key, 200)
        if event == "down":
            title = f"{name}: {labels['down_since'].format(since=iso(n.since))}"
            summary = f"{labels['last_error']}: {xml_text(n.last_error, MAX_ERROR) or '–'}"
            suffix = ""
        else:
            title = f"{name}: {labels['up_since'].format(until=iso(n.until))}"
            summary = labels["down_from"].format(since=iso(n.since), until=iso(n.until))
            suffix = "/up"
        entry = _add(feed, "entry")
        _add(entry, "id", f"{TAG_PREFIX}outage/{n.outage_id}{suffix}")
        _add(entry, "title", title, type="text")
        if href := safe_href(n.url):
            _add(entry, "link", rel="related", type="text/html", href=href)
        _add(entry, "updated", iso(when))
        author = _add(entry, "author")
        _add(author, "name", "source-monitor")
        _add(entry, "summary", summary, type="text")
        # No alternate link: RFC 4287 4.1.2 asks for content.
        _add(entry, "content", f"{title}. {summary}. {xml_text(n.url, 300)}", type="text")
        _add(entry, "category", term="source-outage" if event == "down" else "source-recovery")


def topic_feed(
    topic_id: str,
    topic_name: str,
    matches: Sequence[Match],
    updated: datetime,
    self_url: str | None,
    outages: Sequence[OutageNotice] = (),
) -> bytes:
    """A UTF-8 Atom document with one entry per match, newest first (at most MAX_ENTRIES), then
    the recent outages and recoveries of sources (at most MAX_OUTAGE_ENTRIES): a reader of a
    topic must not take a silent source for a quiet one.

    `updated` is the feed's own atom:updated; `self_url`, when it is an http(s) URL, becomes the
    rel="self" link readers use to recognise the feed. ValueError if `topic_id` is not [a-z0-9_].
    """
    if not _TOPIC_ID.fullmatch(topic_id):
        raise ValueError(f"topic ids must be [a-z0-9_]: refused {topic_id!r}")
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    _add(feed, "id", f"{TAG_PREFIX}topic/{topic_id}")
    _add(feed, "title", xml_text(topic_name, 200) or topic_id, type="text")
    _add(feed, "subtitle", f"source-monitor: {topic_id}", type="text")
    _add(feed, "updated", iso(updated))
    if href := safe_href(self_url):
        _add(feed, "link", rel="self", type="application/atom+xml", href=href)
    author = _add(feed, "author")
    _add(author, "name", "source-monitor")
    _add(feed, "generator", "source-monitor")

    unique = {m.id: m for m in matches}  # atom:id must be unique within the feed
    newest = sorted(
        one_per_story(unique.values()), key=lambda m: (iso(m.first_seen), m.id), reverse=True
    )
    for match in newest[:MAX_ENTRIES]:
        _entry(feed, match)
    _outage_entries(feed, outages)
    document: bytes = etree.tostring(
        feed, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return document


def write_topic_feeds(state_dir: Path, feeds: Mapping[str, bytes]) -> list[Path]:
    """Write each feed to <state_dir>/feeds/<topic>.atom atomically; return the paths.

    Every topic id is checked before anything is written: only [a-z0-9_] names are accepted, so
    no id can name a path outside the folder. ValueError names the ones refused.
    """
    refused = [topic for topic in feeds if not _TOPIC_ID.fullmatch(topic)]
    if refused:
        raise ValueError(f"topic ids must be [a-z0-9_]: refused {', '.join(map(repr, refused))}")
    base = state_dir.resolve()
    folder = (base / FEEDS_FOLDER).resolve()
    # resolve() follows symlinks, so a feeds folder linked out of the state folder is refused.
    if not folder.is_relative_to(base):
        raise ValueError(f"{state_dir / FEEDS_FOLDER} leads outside the state folder {base}")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for topic, data in feeds.items():
        path = folder / f"{topic}.atom"
        write_atomic(path, data)
        paths.append(path)
    fsync_dir(folder)
    return paths
