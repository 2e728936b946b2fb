"""Digest -> RenderedDigest: subject, plain-text digest, inlined-CSS HTML digest, webhook payload.

The webhook payload is the versioned Standard Webhooks body (docs/webhook-schema.json), or, for a
channel with ``format = "slack"`` / ``"teams"``, a chat message built from the same digest.

Everything shown here except our own labels comes from the web (titles, snippets, source names,
error texts, URLs), so:

* the templates are ours and fixed, run in an immutable sandbox with StrictUndefined, and the
  environment has autoescape forced on (a plain ``True``, never chosen by file extension);
* untrusted text is only ever passed as data; highlighting splits a snippet into pieces that the
  template escapes one by one, so no markup from a source can reach the HTML;
* only http(s) URLs become ``<a href>``; anything else is shown as inert text;
* chat messages escape what their markup gives meaning to (Slack: ``& < >``, and mrkdwn objects are
  ``verbatim`` so no mention or channel name is parsed; Teams: markdown link and autolink syntax
  is broken up), and links in them are again only http(s).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import css_inline
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from monitor.detect import changed_words
from monitor.extract.titles import title_text
from monitor.models import Digest, Match, RenderedDigest, SourceHealth

TEMPLATE_DIR = Path(__file__).parent / "templates"

PAYLOAD_VERSION = 1  # bump on any incompatible change to the standard payload
PAYLOAD_LIMIT = 20_000  # bytes; Standard Webhooks asks for payloads under about 20 kB
MAX_SNIPPET = 600  # characters of snippet shown per item in text and HTML
MAX_TITLE = 300
MAX_URL = 2048  # longer URLs are not linked: no real article needs more, data: blobs do
MAX_ERROR = 300
MAX_FAILING_SHOWN = 50  # a mass outage must not turn the digest into a list of sources
MAX_SUBJECT_TOPICS = 5

# Chat messages are a notification, not the archive: a few items per topic, shorter snippets.
CHAT_MAX_ITEMS = 5
CHAT_SNIPPET = 280
CHAT_MAX_FAILING = 10
SLACK_MAX_BLOCKS = 50  # Slack rejects messages with more blocks
SLACK_MAX_TEXT = 3000  # characters in one section's text object
SLACK_MAX_HEADER = 150  # characters in a header block
# Slack also refuses messages whose blocks hold too much text in total (msg_blocks_too_long); the
# limit is not documented and has been seen a little above 11,000 characters, so stay well below.
SLACK_MAX_TOTAL = 9_000
SLACK_MAX_FAILING_TEXT = 1_500  # the source-health section must leave room for the topics
SLACK_MAX_LINK = 600  # longer URLs (tracking parameters, data blobs) are not linked in Slack
TEAMS_LIMIT = 25_000  # bytes; Teams refuses messages over about 28 KB, keep some headroom
TEAMS_CARD = "application/vnd.microsoft.card.adaptive"

ChatFormat = Literal["slack", "teams"]
PayloadFormat = Literal["standard", "slack", "teams"]

# Bidi overrides can make a title read differently from what it is; C0/C1 controls break layout.
_UNSAFE_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)

_URL_ESCAPES = str.maketrans({c: f"%{ord(c):02X}" for c in "\"'<>`{}|^"})

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "source-monitor digest",
        "alert": "Alert",
        "new_one": "1 new item",
        "new_many": "{n} new items",
        "none": "No new matches",
        "none_line": "No new matches since the last digest.",
        "source": "Source",
        "published": "Published",
        "first_seen": "First seen",
        "language": "Language",
        "terms": "Terms",
        "link": "Link",
        "link_unsafe": "Link (not a web address, not linked)",
        "cited_in": "Cited in",
        "also": "Also reported by",
        "changed": "Edited",
        "failing": "Sources with errors",
        "failing_short": "sources failing",
        "failing_one": "source failing",
        "state": "State",
        "since": "since",
        "last_error": "Last error",
        "unknown": "unknown",
        "untitled": "(untitled)",
        "more": "… and {n} more",
        "more_topics": "… and {n} more topics",
        "created": "Created",
        "channel": "Channel",
        "footer": "Sent by source-monitor to channel {channel}. Digest {id}.",
    },
    "de": {
        "title": "source-monitor Übersicht",
        "alert": "Alarm",
        "new_one": "1 neuer Treffer",
        "new_many": "{n} neue Treffer",
        "none": "Keine neuen Treffer",
        "none_line": "Keine neuen Treffer seit der letzten Übersicht.",
        "source": "Quelle",
        "published": "Veröffentlicht",
        "first_seen": "Zuerst gesehen",
        "language": "Sprache",
        "terms": "Begriffe",
        "link": "Link",
        "link_unsafe": "Link (keine Webadresse, nicht verlinkt)",
        "cited_in": "Zitiert in",
        "also": "Auch berichtet von",
        "changed": "Geändert",
        "failing": "Quellen mit Fehlern",
        "failing_short": "Quellen mit Fehlern",
        "failing_one": "Quelle mit Fehlern",
        "state": "Status",
        "since": "seit",
        "last_error": "Letzter Fehler",
        "unknown": "unbekannt",
        "untitled": "(ohne Titel)",
        "more": "… und {n} weitere",
        "more_topics": "… und {n} weitere Themen",
        "created": "Erstellt",
        "channel": "Kanal",
        "footer": "Gesendet von source-monitor an Kanal {channel}. Übersicht {id}.",
    },
}


def _make_env() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        # A bool, not select_autoescape(): escaping must not depend on a template's file name.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


ENV = _make_env()
_INLINER = css_inline.CSSInliner(
    load_remote_stylesheets=False, keep_style_tags=False, keep_link_tags=False
)


# --- small helpers ---------------------------------------------------------------------------


def clean(text: str | None, limit: int | None = None) -> str:
    """One line of untrusted text: controls and bidi overrides removed, whitespace collapsed."""
    if not text:
        return ""
    text = " ".join(_UNSAFE_CHARS.sub("", text).split())
    if limit is not None and len(text) > limit:
        cut = text[: limit - 1]
        # Prefer a word boundary, but not if that throws away most of the text.
        space = cut.rfind(" ")
        if space > limit * 0.6:
            cut = cut[:space]
        text = cut.rstrip() + "…"
    return text


def title_line(title: str | None, limit: int | None = None) -> str:
    """A stored title as one line of words: markup an older release kept in titles is removed
    here too, so that no channel shows tags (the HTML digest escapes what remains)."""
    return clean(title_text(title), limit)


def safe_href(url: str | None) -> str | None:
    """The URL if it may become a link (absolute http/https with a host), else None."""
    if not url:
        return None
    url = url.strip()
    if len(url) > MAX_URL or _UNSAFE_CHARS.search(url) or any(c.isspace() for c in url):
        return None
    if "\\" in url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    # Percent-encode what is never literal in a URL, so quotes and angle brackets cannot reach
    # an attribute value even after a client or css_inline re-serialises the HTML.
    return url.translate(_URL_ESCAPES)


def _as_utc(moment: datetime) -> datetime:
    # Naive datetimes in this project are UTC (the store writes UTC).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime | None) -> str:
    """ISO 8601 in UTC with a Z, or "" when unknown."""
    if moment is None:
        return ""
    return _as_utc(moment).isoformat(timespec="seconds").replace("+00:00", "Z")


def _local(moment: datetime | None, tz: tzinfo, unknown: str) -> str:
    if moment is None:
        return unknown
    return _as_utc(moment).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The exact bytes a webhook sends: compact UTF-8 JSON (also what the size limit counts)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- highlighting ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a snippet; `hit` pieces are the matched terms."""

    text: str
    hit: bool = False


def _merge(spans: list[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    valid = sorted((max(0, s), min(length, e)) for s, e in spans if s < e and s < length and e > 0)
    out: list[tuple[int, int]] = []
    for start, end in valid:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _find_terms(snippet: str, terms: tuple[str, ...]) -> list[tuple[int, int]]:
    found = []
    for term in terms:
        term = term.strip()
        if term:
            found += [m.span() for m in re.finditer(re.escape(term), snippet, re.IGNORECASE)]
    return found


def highlight(
    snippet: str, spans: tuple[tuple[int, int], ...], terms: tuple[str, ...], limit: int
) -> list[Segment]:
    """Split a snippet into plain and matched pieces, cut to about `limit` characters.

    Uses the matcher's spans when they are usable, else looks the terms up case-insensitively.
    """
    marked = _merge(list(spans), len(snippet)) or _merge(_find_terms(snippet, terms), len(snippet))
    start, end = 0, len(snippet)
    if end > limit:
        # Keep the first match in view, with some context before it.
        first = marked[0][0] if marked else 0
        start = max(0, first - limit // 3)
        end = min(len(snippet), start + limit)
    pieces: list[Segment] = []
    pos = start
    for s, e in marked:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        if s > pos:
            pieces.append(Segment(snippet[pos:s]))
        pieces.append(Segment(snippet[s:e], hit=True))
        pos = e
    if pos < end:
        pieces.append(Segment(snippet[pos:end]))
    # Clean piece by piece: whitespace collapses to one space but stays at the piece boundaries.
    out: list[Segment] = []
    for piece in pieces:
        text = _UNSAFE_CHARS.sub("", piece.text)
        text = re.sub(r"\s+", " ", text)
        if text:
            out.append(Segment(text, piece.hit))
    if out:
        out[0] = Segment(out[0].text.lstrip(), out[0].hit)
        out[-1] = Segment(out[-1].text.rstrip(), out[-1].hit)
        if start > 0:
            out.insert(0, Segment("… "))
        if end < len(snippet):
            out.append(Segment(" …"))
    return [s for s in out if s.text]


# --- view models (what the templates see) ----------------------------------------------------


@dataclass(slots=True)
class ItemView:
    title: str
    href: str | None
    link: str  # the link as text (shown plainly when it is not a safe href)
    source: str
    published: str
    first_seen: str
    language: str
    terms: str
    segments: list[Segment]
    citations: list[tuple[str, str]] = field(default_factory=list)
    also: str = ""
    changes: list[tuple[str, str]] = field(default_factory=list)  # an edit: (before, after)

    @property
    def snippet_marked(self) -> str:
        """The snippet for plain text, terms marked «like this»."""
        return "".join(f"«{s.text}»" if s.hit else s.text for s in self.segments)


@dataclass(slots=True)
class TopicView:
    id: str
    name: str
    count: int
    items: list[ItemView]


@dataclass(slots=True)
class HealthView:
    name: str
    url: str
    href: str | None
    state: str
    since: str
    error: str


def _item_view(
    match: Match, tz: tzinfo, labels: dict[str, str], snippet_limit: int = MAX_SNIPPET
) -> ItemView:
    title = title_line(match.title, MAX_TITLE) or clean(match.text, 100) or labels["untitled"]
    evidence = match.evidence
    return ItemView(
        title=title,
        href=safe_href(match.link),
        link=clean(match.link, 300),
        source=clean(match.source_name, 200) or clean(match.source_key, 200),
        published=_local(match.published, tz, labels["unknown"]),
        first_seen=_local(match.first_seen, tz, labels["unknown"]),
        language=clean(match.language, 10) or "–",
        terms=", ".join(clean(t, 80) for t in evidence.terms if t.strip()),
        segments=highlight(
            evidence.snippet or match.text, evidence.spans, evidence.terms, snippet_limit
        ),
        citations=[(clean(c.document, 200), clean(c.context, 400)) for c in match.citations],
        also=", ".join(clean(name, 200) for name in match.also_reported_by if name.strip()),
        changes=_changes(match.previous, match.text),
    )


def _changes(previous: str | None, text: str, limit: int = 3) -> list[tuple[str, str]]:
    """For an edited paragraph, the word runs that changed, e.g. [("3.000", "10.000")]."""
    if not previous:
        return []
    pairs = changed_words(previous, text)
    return [(clean(a, 120) or "–", clean(b, 120) or "–") for a, b in pairs[:limit]]


def _health_view(health: SourceHealth, tz: tzinfo, labels: dict[str, str]) -> HealthView:
    return HealthView(
        name=clean(health.name, 200) or clean(health.key, 200),
        url=clean(health.url, 300),
        href=safe_href(health.url),
        state=clean(health.state, 40),
        since=_local(health.since, tz, labels["unknown"]),
        error=clean(health.last_error, MAX_ERROR),
    )


# --- subject and payload ---------------------------------------------------------------------


def _count_text(n: int, labels: dict[str, str]) -> str:
    return labels["new_one"] if n == 1 else labels["new_many"].format(n=n)


def build_subject(digest: Digest, tz: tzinfo) -> str:
    """One line: prefix, ALERT for urgent digests, item counts per topic, the local date."""
    labels = LABELS[digest.language]
    topics = [(t, len(ms)) for t, ms in digest.topics.items() if ms]
    total = sum(n for _, n in topics)
    day = _as_utc(digest.created).astimezone(tz).strftime("%Y-%m-%d")
    if total:
        listed = ", ".join(f"{clean(t, 60)} {n}" for t, n in topics[:MAX_SUBJECT_TOPICS])
        if len(topics) > MAX_SUBJECT_TOPICS:
            listed += ", …"
        body = f"{_count_text(total, labels)}: {listed}"
    else:
        body = labels["none"]
    if failing := len(digest.failing_sources):
        word = labels["failing_one"] if failing == 1 else labels["failing_short"]
        body += f"; {failing} {word}"
    # "ALERT" stays English in both languages: recipients filter mail on it.
    prefix = "[source-monitor] ALERT: " if digest.urgent else "[source-monitor] "
    return f"{prefix}{body} — {day}"


def _item_payload(match: Match, limit: int) -> dict[str, Any]:
    evidence = match.evidence
    return {
        "id": str(match.id),
        "title": title_line(match.title, min(limit, MAX_TITLE)),
        "source": clean(match.source_name, 200),
        "source_key": clean(match.source_key, 300),
        "link": safe_href(match.link) or "",
        "published": iso(match.published),
        "first_seen": iso(match.first_seen),
        "language": clean(match.language, 10),
        "score": f"{match.score:.3f}",
        "rule": clean(evidence.rule, 200),
        "terms": [clean(t, 80) for t in evidence.terms],
        "snippet": clean(evidence.snippet or match.text, limit),
        "citations": [
            {"document": clean(c.document, 200), "context": clean(c.context, limit)}
            for c in match.citations[:5]
        ],
        "also_reported_by": [clean(name, 200) for name in match.also_reported_by[:20]],
        "previous": clean(match.previous, limit),
    }


def _health_payload(health: SourceHealth) -> dict[str, str]:
    return {
        "key": clean(health.key, 300),
        "name": clean(health.name, 200),
        "url": clean(health.url, 300),
        "state": clean(health.state, 40),
        "since": iso(health.since),
        "last_error": clean(health.last_error, MAX_ERROR),
    }


def build_payload(
    digest: Digest,
    subject: str,
    limit: int = PAYLOAD_LIMIT,
    shown: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The Standard Webhooks body: {"type", "version", "timestamp", "data"}, at most `limit` bytes.

    Long texts are shortened first; if that is not enough the lowest-ranked items of each topic
    are left out (round robin, so every topic keeps its best items) and counted in `omitted`.
    """
    topics = [(t, ms) for t, ms in digest.topics.items() if ms]

    def assemble(text_limit: int, keep: dict[str, int] | None) -> dict[str, Any]:
        data_topics: dict[str, Any] = {}
        for topic, matches in topics:
            n = len(matches) if keep is None else keep[topic]
            data_topics[clean(topic, 80)] = {
                "name": clean(digest.topic_names.get(topic, topic), 200),
                "count": len(matches),
                "omitted": len(matches) - n,
                "items": [_item_payload(m, text_limit) for m in matches[:n]],
            }
        failing = digest.failing_sources
        return {
            "type": "alert.created" if digest.urgent else "digest.created",
            "version": PAYLOAD_VERSION,
            "timestamp": iso(digest.created),
            "data": {
                "id": digest.id,
                "channel": digest.channel,
                "language": digest.language,
                "urgent": digest.urgent,
                "subject": subject,
                "item_count": sum(len(ms) for _, ms in topics),
                "truncated": keep is not None or text_limit < 1000,
                "topics": data_topics,
                "failing_sources": [_health_payload(h) for h in failing[:MAX_FAILING_SHOWN]],
                "failing_sources_omitted": max(0, len(failing) - MAX_FAILING_SHOWN),
            },
        }

    for text_limit in (1000, 400, 160):
        payload = assemble(text_limit, None)
        if len(encode_payload(payload)) <= limit:
            _report(shown, {t: len(ms) for t, ms in topics})
            return payload

    # Still too big: fill the budget with items in rank order, one per topic per round.
    text_limit = 160
    budget = limit - len(encode_payload(assemble(text_limit, dict.fromkeys(digest.topics, 0))))
    budget -= 20 * len(topics)  # room for the "omitted" counts growing by a digit or two
    keep = {t: 0 for t, _ in topics}
    full: set[str] = set()
    rank = 0
    while len(full) < len(topics):
        for topic, matches in topics:
            if topic in full:
                continue
            if rank >= len(matches):
                full.add(topic)
                continue
            size = len(encode_payload(_item_payload(matches[rank], text_limit))) + 1
            if size > budget:
                full.add(topic)
                continue
            budget -= size
            keep[topic] = rank + 1
        rank += 1
    _report(shown, keep)
    return assemble(text_limit, keep)


def _report(shown: dict[str, int] | None, counts: dict[str, int]) -> None:
    """Tell the caller how many items of each topic (the best-ranked ones) a payload carries."""
    if shown is not None:
        shown.clear()
        shown.update(counts)


# --- chat messages (Slack, Microsoft Teams) ----------------------------------------------------


@dataclass(slots=True)
class _ChatTopic:
    id: str
    name: str
    count: int
    items: list[ItemView]


@dataclass(slots=True)
class _ChatView:
    """What both chat formats show: our labels plus cleaned, length-limited untrusted text."""

    labels: dict[str, str]
    subject: str
    heading: str
    summary: str
    meta: str
    footer: str
    urgent: bool
    topics: list[_ChatTopic]
    failing: list[HealthView]
    failing_count: int


def _header_texts(digest: Digest, zone: tzinfo, labels: dict[str, str]) -> dict[str, str]:
    total = sum(len(ms) for ms in digest.topics.values())
    return {
        "heading": f"{labels['alert']}: {labels['title']}" if digest.urgent else labels["title"],
        "summary": _count_text(total, labels) if total else labels["none"],
        "created": _local(digest.created, zone, labels["unknown"]),
        "channel": clean(digest.channel, 80),
        "footer": labels["footer"].format(channel=clean(digest.channel, 80), id=digest.id),
    }


def _chat_view(digest: Digest, zone: tzinfo, max_items: int, snippet: int) -> _ChatView:
    labels = LABELS[digest.language]
    head = _header_texts(digest, zone, labels)
    topics = [
        _ChatTopic(
            id=clean(topic, 80),
            name=clean(digest.topic_names.get(topic, topic), 200),
            count=len(matches),
            items=[_item_view(m, zone, labels, max(snippet, 1)) for m in matches[:max_items]],
        )
        for topic, matches in digest.topics.items()
        if matches
    ]
    if snippet <= 0:
        for topic in topics:
            for item in topic.items:
                item.segments = []
    return _ChatView(
        labels=labels,
        subject=build_subject(digest, zone),
        heading=head["heading"],
        summary=head["summary"],
        meta=f"{labels['created']}: {head['created']} · {labels['channel']}: {head['channel']}",
        footer=head["footer"],
        urgent=digest.urgent,
        topics=topics,
        failing=[_health_view(h, zone, labels) for h in digest.failing_sources[:CHAT_MAX_FAILING]],
        failing_count=len(digest.failing_sources),
    )


def _is_word(char: str) -> bool:
    return char.isalnum()


def _marked_snippet(
    segments: list[Segment], escape: Callable[[str], str], wrap: str, intraword: bool
) -> str:
    """The snippet with matched terms wrapped in `wrap` (bold) where the markup can work.

    Emphasis needs a clean edge: a term holding markup characters, or (for Slack) a term inside a
    longer word, is left plain rather than producing stray asterisks.
    """
    out: list[str] = []
    for index, piece in enumerate(segments):
        text = escape(piece.text)
        if piece.hit and _can_emphasise(segments, index, intraword):
            text = f"{wrap}{text}{wrap}"
        out.append(text)
    return "".join(out)


def _can_emphasise(segments: list[Segment], index: int, intraword: bool) -> bool:
    text = segments[index].text
    if not text or any(c in text for c in "*_~`") or text != text.strip():
        return False
    if not (_is_word(text[0]) and _is_word(text[-1])):
        return False
    if intraword:
        return True
    before = segments[index - 1].text[-1:] if index > 0 else ""
    after = segments[index + 1].text[:1] if index + 1 < len(segments) else ""
    return not (before and _is_word(before)) and not (after and _is_word(after))


# Slack mrkdwn gives meaning to exactly these three characters; escaped, `<!channel>` or
# `<@U123>` from a source is shown as text instead of notifying anyone.
_SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def slack_escape(text: str) -> str:
    """Untrusted text made inert for Slack mrkdwn."""
    return text.translate(_SLACK_ESCAPES)


def _slack_text(text: str) -> dict[str, Any]:
    # verbatim: Slack does not turn bare URLs, #channels or @mentions in the text into links.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _slack_item(item: ItemView, link: bool) -> str:
    title = slack_escape(item.title)
    if link and item.href:
        # The URL is escaped too: Slack reads the whole message as escaped text.
        title = f"<{slack_escape(item.href)}|{title}>"
    lines = [f"*{title}*", slack_escape(f"{item.source} · {item.published}")]
    if item.segments:
        lines.append(_marked_snippet(item.segments, slack_escape, "*", intraword=False))
    return "\n".join(lines)


def _fit_lines(
    head: str, parts: list[str], hidden: int, more: Callable[[int], str], limit: int
) -> str:
    """`head` and as many `parts` as fit in `limit` characters, then a count of the rest.

    `hidden` items were never offered (beyond max_items) and are counted in the note too.
    """
    for shown in range(len(parts), -1, -1):
        left = len(parts) - shown + hidden
        text = "\n\n".join([head, *parts[:shown], *([more(left)] if left else [])])
        if len(text) <= limit:
            return text
    return head[:limit]


def _slack_chars(blocks: list[dict[str, Any]]) -> int:
    """Characters of text in these blocks, as Slack counts them against its total."""
    total = 0
    for block in blocks:
        if "text" in block:
            total += len(block["text"]["text"])
        total += sum(len(element["text"]) for element in block.get("elements", []))
    return total


def _round_robin(costs: list[list[int]], caps: list[int], budget: int) -> list[int]:
    """How many items of each topic fit: filled in rank order, one per topic per round.

    Like build_payload, so every topic keeps its best items however many topics there are. A
    topic stops at its first item that does not fit its own `caps` entry or the shared `budget`.
    """
    taken = [0] * len(costs)
    room = list(caps)
    open_topics = set(range(len(costs)))
    rank = 0
    while open_topics:
        for index in sorted(open_topics):
            if rank >= len(costs[index]):
                open_topics.discard(index)
                continue
            cost = costs[index][rank]
            if cost > budget or cost > room[index]:
                open_topics.discard(index)
                continue
            budget -= cost
            room[index] -= cost
            taken[index] += 1
        rank += 1
    return taken


def slack_payload(
    digest: Digest,
    tz: tzinfo | None = None,
    max_items: int = CHAT_MAX_ITEMS,
    shown_counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A Slack incoming-webhook message: fallback text plus Block Kit blocks within Slack's limits.

    One section per topic with its best `max_items` items, as many as fit: every text object
    stays under 3000 characters, all text together under SLACK_MAX_TOTAL, and the message under
    50 blocks (topics that do not fit are counted at the end, items in their topic).
    """
    view = _chat_view(digest, tz or UTC, max_items, CHAT_SNIPPET)
    labels = view.labels
    heading = view.heading
    if len(heading) > SLACK_MAX_HEADER:
        heading = heading[: SLACK_MAX_HEADER - 1] + "…"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": heading}},
        {
            "type": "context",
            "elements": [
                _slack_text(f"*{slack_escape(view.summary)}* · {slack_escape(view.meta)}")
            ],
        },
    ]
    tail: list[dict[str, Any]] = []

    def more(n: int) -> str:
        return "_" + slack_escape(labels["more"].format(n=n)) + "_"

    if view.failing:
        lines = []
        for source in view.failing:
            line = f"• *{slack_escape(source.name)}* — "
            line += slack_escape(f"{source.state}, {labels['since']} {source.since}")
            if source.error:
                line += slack_escape(f": {source.error}")
            lines.append(line)
        head = f"*{slack_escape(labels['failing'])}* ({view.failing_count})"
        hidden = view.failing_count - len(view.failing)
        text = _fit_lines(head, lines, hidden, more, SLACK_MAX_FAILING_TEXT)
        tail += [{"type": "divider"}, {"type": "section", "text": _slack_text(text)}]
    tail.append({"type": "context", "elements": [_slack_text(slack_escape(view.footer))]})

    if not view.topics:
        blocks.append({"type": "section", "text": _slack_text(slack_escape(labels["none_line"]))})
    room = SLACK_MAX_BLOCKS - len(blocks) - len(tail)
    shown = view.topics
    if 2 * len(shown) > room:
        shown = shown[: (room - 1) // 2]  # keep one block to say how many topics were left out
    heads = [
        f"*{slack_escape(t.name)}* ({slack_escape(t.id)}) — "
        f"{slack_escape(_count_text(t.count, labels))}"
        for t in shown
    ]
    note_room = 40  # for "… and N more" at the end of a section
    # A link of a few kB would eat the budget of several items; such an item keeps only its title.
    parts = [
        [_slack_item(item, link=len(item.href or "") <= SLACK_MAX_LINK) for item in topic.items]
        for topic in shown
    ]
    budget = SLACK_MAX_TOTAL - _slack_chars(blocks + tail) - 100  # 100: the "more topics" note
    budget -= sum(len(head) + note_room for head in heads)
    taken = _round_robin(
        [[len(part) + 2 for part in topic_parts] for topic_parts in parts],
        [SLACK_MAX_TEXT - len(head) - note_room for head in heads],
        budget,
    )
    topic_ids = [t for t, ms in digest.topics.items() if ms]  # in the order of view.topics
    _report(shown_counts, {topic_ids[i]: n for i, n in enumerate(taken)})
    for topic, head, topic_parts, count in zip(shown, heads, parts, taken, strict=True):
        left = topic.count - count
        text = "\n\n".join([head, *topic_parts[:count], *([more(left)] if left else [])])
        blocks += [{"type": "divider"}, {"type": "section", "text": _slack_text(text)}]
    if len(shown) < len(view.topics):
        note = labels["more_topics"].format(n=len(view.topics) - len(shown))
        blocks.append({"type": "context", "elements": [_slack_text(slack_escape(note))]})
    blocks += tail
    return {
        "text": slack_escape(view.subject),  # the notification and non-Block-Kit fallback
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


_ZWSP = "\u200b"


def teams_escape(text: str) -> str:
    """Untrusted text made inert for Adaptive Card markdown.

    Backslash escapes are shown literally by some Teams clients, so the syntax is broken up with a
    zero-width space instead: after every ``]`` no ``[text](url)``, ``[text][ref]`` or
    ``[ref]: url`` can form, after ``<`` no autolink or ``<at>`` tag, and after ``{`` no
    ``{{DATE()}}`` function.
    """
    return text.replace("]", "]" + _ZWSP).replace("<", "<" + _ZWSP).replace("{", "{" + _ZWSP)


def _teams_link_text(text: str) -> str:
    # Inside our own [text](url) a bracket would end the link text early; use look-alikes.
    return teams_escape(text.replace("[", "\uff3b").replace("]", "\uff3d"))


def _teams_href(href: str) -> str:
    # A ")" would end the markdown link destination; %28/%29 mean the same to web servers.
    return href.replace("(", "%28").replace(")", "%29")


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _teams_body(view: _ChatView) -> list[dict[str, Any]]:
    labels = view.labels
    body: list[dict[str, Any]] = [
        _text_block(
            teams_escape(view.heading),
            size="Large",
            weight="Bolder",
            **({"color": "Attention"} if view.urgent else {}),
        ),
        _text_block(teams_escape(view.summary), weight="Bolder", spacing="None"),
        _text_block(teams_escape(view.meta), isSubtle=True, size="Small", spacing="None"),
    ]
    if not view.topics:
        body.append(_text_block(teams_escape(labels["none_line"]), spacing="Medium"))
    for topic in view.topics:
        head = f"{topic.name} ({topic.id}) — {_count_text(topic.count, labels)}"
        body.append(
            _text_block(
                teams_escape(head), size="Medium", weight="Bolder", separator=True, spacing="Large"
            )
        )
        for item in topic.items:
            if item.href:
                title = f"[{_teams_link_text(item.title)}]({_teams_href(item.href)})"
            else:
                title = teams_escape(item.title)
            body.append(_text_block(title, weight="Bolder", spacing="Medium"))
            meta = f"{item.source} · {item.published}"
            if item.terms:
                meta += f" · {labels['terms']}: {item.terms}"
            body.append(
                _text_block(teams_escape(meta), isSubtle=True, size="Small", spacing="None")
            )
            if item.segments:
                snippet = _marked_snippet(item.segments, teams_escape, "**", intraword=True)
                body.append(_text_block(snippet, spacing="Small"))
        if topic.count > len(topic.items):
            more = labels["more"].format(n=topic.count - len(topic.items))
            body.append(_text_block(teams_escape(more), isSubtle=True, spacing="Small"))
    if view.failing:
        head = f"{labels['failing']} ({view.failing_count})"
        body.append(
            _text_block(
                teams_escape(head), size="Medium", weight="Bolder", separator=True, spacing="Large"
            )
        )
        for source in view.failing:
            line = f"{source.name} — {source.state}, {labels['since']} {source.since}"
            if source.error:
                line += f": {source.error}"
            body.append(_text_block(teams_escape(line), size="Small", spacing="Small"))
        if view.failing_count > len(view.failing):
            more = labels["more"].format(n=view.failing_count - len(view.failing))
            body.append(_text_block(teams_escape(more), isSubtle=True, size="Small"))
    body.append(
        _text_block(
            teams_escape(view.footer), isSubtle=True, size="Small", separator=True, spacing="Large"
        )
    )
    return body


def teams_payload(
    digest: Digest,
    tz: tzinfo | None = None,
    max_items: int = CHAT_MAX_ITEMS,
    shown_counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A Microsoft Teams message: one Adaptive Card in the "message" envelope that Teams
    workflows ("When a Teams webhook request is received") accept.

    Shows the best `max_items` items per topic; when the card would be too large for Teams, fewer
    items and shorter snippets are shown (every topic keeps its count).
    """
    zone = tz or UTC
    message: dict[str, Any] = {}
    steps = [(max_items, CHAT_SNIPPET), (max_items, 120), (min(max_items, 2), 120), (1, 0), (0, 0)]
    for items, snippet in steps:
        view = _chat_view(digest, zone, items, snippet)
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "msteams": {"width": "Full"},
            "body": _teams_body(view),
        }
        message = {
            "type": "message",
            "summary": view.subject,
            "attachments": [{"contentType": TEAMS_CARD, "contentUrl": None, "content": card}],
        }
        if len(encode_payload(message)) <= TEAMS_LIMIT:
            break
    _report(shown_counts, {t: min(len(ms), items) for t, ms in digest.topics.items() if ms})
    return message


def payload_format(payload: Any) -> PayloadFormat | None:
    """Which kind of webhook body this is, judged by its shape; None if none of ours."""
    if not isinstance(payload, dict):
        return None
    if payload.get("type") == "message" and isinstance(payload.get("attachments"), list):
        return "teams"
    if isinstance(payload.get("blocks"), list):
        return "slack"
    if payload.get("type") in ("digest.created", "alert.created") and "data" in payload:
        return "standard"
    return None


# --- entry point -----------------------------------------------------------------------------


def render_digest(
    digest: Digest, tz: tzinfo | None = None, chat: str | None = None
) -> RenderedDigest:
    """Render one digest for its channel; times are shown in `tz` (UTC if not given).

    `payload` is the standard webhook payload, or with `chat` = "slack" / "teams" the body of that
    chat message, so the outbox stores (and re-sends on retry) exactly what the channel gets.
    """
    if chat not in (None, "standard", "slack", "teams"):
        raise ValueError(f"unknown chat format {chat!r}; use 'slack' or 'teams'")
    zone: tzinfo = tz or UTC
    labels = LABELS[digest.language]
    subject = build_subject(digest, zone)
    topics = [
        TopicView(
            id=clean(topic, 80),
            name=clean(digest.topic_names.get(topic, topic), 200),
            count=len(matches),
            items=[_item_view(m, zone, labels) for m in matches],
        )
        for topic, matches in digest.topics.items()
        if matches
    ]
    failing = digest.failing_sources
    head = _header_texts(digest, zone, labels)
    context = {
        "lang": digest.language,
        "t": labels,
        "subject": subject,
        "heading": head["heading"],
        "urgent": digest.urgent,
        "summary": head["summary"],
        "created": head["created"],
        "channel": head["channel"],
        "topics": topics,
        "failing": [_health_view(h, zone, labels) for h in failing[:MAX_FAILING_SHOWN]],
        "failing_count": len(failing),
        "failing_more": (
            labels["more"].format(n=len(failing) - MAX_FAILING_SHOWN)
            if len(failing) > MAX_FAILING_SHOWN
            else ""
        ),
        "footer": head["footer"],
    }
    text = ENV.get_template("digest.txt").render(context)
    html = _INLINER.inline(ENV.get_template("digest.html").render(context))
    counts: dict[str, int] = {}
    if chat == "slack":
        payload = slack_payload(digest, zone, shown_counts=counts)
    elif chat == "teams":
        payload = teams_payload(digest, zone, shown_counts=counts)
    else:
        payload = build_payload(digest, subject, shown=counts)
    carried = [m.id for t, ms in digest.topics.items() for m in ms[: counts.get(t, 0)]]
    everything = sum(len(ms) for ms in digest.topics.values())
    return RenderedDigest(
        subject=subject,
        text=text,
        html=html,
        payload=payload,
        payload_ids=None if len(carried) == everything else tuple(carried),
    )
