"""What every rendering of a digest shows, made safe: cleaned one-line texts, http(s)-only
links, highlighted snippets, the labels in each language and the view models of items, topics
and failing sources. The HTML/text digest (`render`), the JSON payload (`payload`) and the chat
formats of the webhook channel (`monitor.notify.slack`, `.teams`) all build on these.

Everything shown except our own labels comes from the web, so nothing here returns markup:
texts are cleaned of controls and bidi overrides and left for each format to escape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlsplit

from monitor.detect import Change, material_changes
from monitor.detect.edits import text_changes
from monitor.extract.titles import title_text
from monitor.models import Digest, Match, OutageNotice, SourceHealth

MAX_SNIPPET = 600  # characters of snippet shown per item in text and HTML
MAX_TITLE = 300
MAX_URL = 2048  # longer URLs are not linked: no real article needs more, data: blobs do
MAX_ERROR = 300
MAX_FAILING_SHOWN = 50  # a mass outage must not turn the digest into a list of sources
MAX_SUBJECT_TOPICS = 5
# Outages grouped by their last error: a dead host is one group, not a page of sources.
MAX_OUTAGE_GROUPS = 5
MAX_OUTAGE_NAMES = 10  # sources named per group, and recoveries named in all
MAX_CHANGES = 3  # changes of one update named in its sentence; the rest are counted

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
        "update_tag": "Update",
        "what_changed": "What changed: {clauses}.",
        "became": "“{before}” became “{after}”",
        "added": "“{after}” was added",
        "removed": "“{before}” was removed",
        "title_became": "the title “{before}” became “{after}”",
        "more_changes": "{n} more change(s)",
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
        "suppressed": "{n} item(s) suppressed by your feedback (mutes, “not relevant”); "
        "see and undo at {url}",
        "not_relevant": "Not relevant",
        "mute": "Mute this source for this topic",
        "outages": "Sources not readable",
        "outages_short": "sources not readable",
        "outages_one": "source not readable",
        "down_since": "not readable since {since}",
        "down_from": "not readable from {since} to {until}",
        "recovered": "Sources readable again",
        "recovered_short": "readable again",
        "down_short": "not readable",
        "up_since": "readable again since {until}",
        "more_errors": "… and {n} more sources with other errors",
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
        "update_tag": "Aktualisiert",
        "what_changed": "Was sich geändert hat: {clauses}.",
        "became": "aus „{before}“ wurde „{after}“",
        "added": "„{after}“ kam hinzu",
        "removed": "„{before}“ wurde gestrichen",
        "title_became": "aus dem Titel „{before}“ wurde „{after}“",
        "more_changes": "{n} weitere Änderung(en)",
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
        "suppressed": "{n} Treffer durch Ihre Rückmeldungen ausgeblendet (stummgeschaltet, "
        "„nicht relevant“); ansehen und rückgängig machen: {url}",
        "not_relevant": "Nicht relevant",
        "mute": "Diese Quelle für dieses Thema stummschalten",
        "outages": "Quellen nicht lesbar",
        "outages_short": "Quellen nicht lesbar",
        "outages_one": "Quelle nicht lesbar",
        "down_since": "nicht lesbar seit {since}",
        "down_from": "nicht lesbar von {since} bis {until}",
        "recovered": "Quellen wieder lesbar",
        "recovered_short": "wieder lesbar",
        "down_short": "nicht lesbar",
        "up_since": "wieder lesbar seit {until}",
        "more_errors": "… und {n} weitere Quellen mit anderen Fehlern",
    },
}


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


def local_time(moment: datetime | None, tz: tzinfo, unknown: str) -> str:
    if moment is None:
        return unknown
    return _as_utc(moment).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


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
    # An update (an edited paragraph, or an edited feed entry the reader had received): the
    # changes as one plain sentence, e.g. 'What changed: “3,000” became “10,000”.'
    update: bool = False
    change_line: str = ""
    # Signed feedback links (action -> URL), when the server has a public address.
    feedback: dict[str, str] = field(default_factory=dict)

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


def item_view(
    match: Match, tz: tzinfo, labels: dict[str, str], snippet_limit: int = MAX_SNIPPET
) -> ItemView:
    title = title_line(match.title, MAX_TITLE) or clean(match.text, 100) or labels["untitled"]
    evidence = match.evidence
    title_changes, runs = update_changes(match)
    changes = runs[:MAX_CHANGES]
    return ItemView(
        title=title,
        href=safe_href(match.link),
        link=clean(match.link, 300),
        source=clean(match.source_name, 200) or clean(match.source_key, 200),
        published=local_time(match.published, tz, labels["unknown"]),
        first_seen=local_time(match.first_seen, tz, labels["unknown"]),
        language=clean(match.language, 10) or "–",
        terms=", ".join(clean(t, 80) for t in evidence.terms if t.strip()),
        segments=highlight(
            evidence.snippet or match.text, evidence.spans, evidence.terms, snippet_limit
        ),
        citations=[(clean(c.document, 200), clean(c.context, 400)) for c in match.citations],
        also=", ".join(clean(name, 200) for name in match.also_reported_by if name.strip()),
        changes=[(c.before or "–", c.after or "–") for c in changes],
        update=match.previous is not None,
        change_line=change_sentence(title_changes, changes, labels, len(runs) - len(changes)),
    )


def update_changes(match: Match) -> tuple[list[Change], list[Change]]:
    """What an update changed, cleaned for showing: the title's material changes and the text's
    (its material ones; all of them when none is material, as for a paragraph whose only edit
    is a word). ([], []) for an item that is no update."""
    if match.previous is None:
        return [], []
    titles: list[Change] = []
    if match.previous_title is not None:
        old, new = title_line(match.previous_title), title_line(match.title)
        titles = [c for c in text_changes(old, new) if c.material] if old != new else []
    runs = material_changes(match.previous, match.text) or text_changes(
        match.previous, match.text
    )

    def shown(changes: list[Change]) -> list[Change]:
        return [Change(clean(c.before, 160), clean(c.after, 160), c.material) for c in changes]

    return shown(titles[:1]), shown(runs)


def change_sentence(
    titles: list[Change], changes: list[Change], labels: dict[str, str], more: int = 0
) -> str:
    """The changes of an update as one sentence in the channel's language (no markup: every
    format shows it as it is), e.g. 'What changed: “3,000” became “10,000”; “Pyongyang
    denied the report.” was added.' Empty when there is nothing to say."""

    def bare(words: str) -> str:
        # The sentence has its own punctuation: "… was added." not "….” was added."
        return words.rstrip(" .,;:")

    clauses = [
        labels["title_became"].format(before=bare(c.before), after=bare(c.after)) for c in titles
    ]
    for c in changes:
        before, after = bare(c.before), bare(c.after)
        if before and after:
            clauses.append(labels["became"].format(before=before, after=after))
        elif after:
            clauses.append(labels["added"].format(after=after))
        elif before:
            clauses.append(labels["removed"].format(before=before))
    if more > 0:
        clauses.append(labels["more_changes"].format(n=more))
    if not clauses:
        return ""
    return labels["what_changed"].format(clauses="; ".join(clauses))


def health_view(health: SourceHealth, tz: tzinfo, labels: dict[str, str]) -> HealthView:
    return HealthView(
        name=clean(health.name, 200) or clean(health.key, 200),
        url=clean(health.url, 300),
        href=safe_href(health.url),
        state=clean(health.state, 40),
        since=local_time(health.since, tz, labels["unknown"]),
        error=clean(health.last_error, MAX_ERROR),
    )


@dataclass(slots=True)
class OutageLine:
    """One source in the outage section: its name, address and what happened when."""

    name: str
    url: str
    href: str | None
    when: str  # "not readable since …", or "readable again since …"


@dataclass(slots=True)
class OutageGroup:
    """Sources that became unreadable with the same last error."""

    error: str
    sources: list[OutageLine]
    more: str  # "… and N more", or ""


@dataclass(slots=True)
class OutageSection:
    down: list[OutageGroup]
    down_count: int
    down_more: str  # sources in groups beyond MAX_OUTAGE_GROUPS, or ""
    up: list[OutageLine]
    up_count: int
    up_more: str


def _outage_line(notice: OutageNotice, when: str) -> OutageLine:
    return OutageLine(
        name=clean(notice.name, 200) or clean(notice.source_key, 200),
        url=clean(notice.url, 300),
        href=safe_href(notice.url),
        when=when,
    )


def outage_section(
    notices: list[OutageNotice], tz: tzinfo, labels: dict[str, str]
) -> OutageSection | None:
    """The outage section of a digest: new outages grouped by their last error (biggest group
    first), then recoveries; both capped with a count. A spell that began and ended since the
    last digest is told with both times among the recoveries. None when there is nothing."""
    if not notices:
        return None

    def at(moment: datetime | None) -> str:
        return local_time(moment, tz, labels["unknown"])

    groups: dict[str, list[OutageNotice]] = {}
    for n in notices:
        if n.event == "down":
            groups.setdefault(clean(n.last_error, MAX_ERROR), []).append(n)
    ordered = sorted(groups.items(), key=lambda g: (-len(g[1]), g[0]))
    down = []
    for error, members in ordered[:MAX_OUTAGE_GROUPS]:
        members.sort(key=lambda n: (clean(n.name).casefold(), n.source_key))
        shown = members[:MAX_OUTAGE_NAMES]
        rest = len(members) - len(shown)
        down.append(
            OutageGroup(
                error=error or labels["unknown"],
                sources=[
                    _outage_line(n, labels["down_since"].format(since=at(n.since))) for n in shown
                ],
                more=labels["more"].format(n=rest) if rest else "",
            )
        )
    beyond = sum(len(m) for _, m in ordered[MAX_OUTAGE_GROUPS:])
    ups = sorted(
        (n for n in notices if n.event in ("up", "over")),
        key=lambda n: (clean(n.name).casefold(), n.source_key),
    )
    up = []
    for n in ups[:MAX_OUTAGE_NAMES]:
        when = labels["up_since"].format(until=at(n.until))
        if n.event == "over":
            when += " (" + labels["down_from"].format(since=at(n.since), until=at(n.until))
            if n.last_error:
                when += f"; {labels['last_error']}: {clean(n.last_error, MAX_ERROR)}"
            when += ")"
        else:
            when += " (" + labels["down_since"].format(since=at(n.since)) + ")"
        up.append(_outage_line(n, when))
    up_rest = len(ups) - len(up)
    return OutageSection(
        down=down,
        down_count=sum(len(m) for m in groups.values()),
        down_more=labels["more_errors"].format(n=beyond) if beyond else "",
        up=up,
        up_count=len(ups),
        up_more=labels["more"].format(n=up_rest) if up_rest else "",
    )


def outage_health_views(
    notices: list[OutageNotice], tz: tzinfo, labels: dict[str, str]
) -> list[HealthView]:
    """Outages as lines of the failing-sources list, for formats too short for the outage
    section (the chat messages): "Wire — not readable, since …: error"."""
    views = []
    for n in notices:
        down = n.event == "down"
        views.append(
            HealthView(
                name=clean(n.name, 200) or clean(n.source_key, 200),
                url=clean(n.url, 300),
                href=safe_href(n.url),
                state=labels["down_short"] if down else labels["recovered_short"],
                since=local_time(n.since if down else n.until, tz, labels["unknown"]),
                error=clean(n.last_error, MAX_ERROR) if n.event != "up" else "",
            )
        )
    return views


# --- subject and payload ---------------------------------------------------------------------


def count_text(n: int, labels: dict[str, str]) -> str:
    return labels["new_one"] if n == 1 else labels["new_many"].format(n=n)


def story_count(digest: Digest) -> int:
    """How many stories a digest shows: an item listed under several topics (or copies of one
    story shown under different topics) is one story, so the header counts it once."""
    return len({story_key(m) for ms in digest.topics.values() for m in ms})


def story_key(m: Match) -> tuple[str, int]:
    """What makes an item one story in a digest: its story, except that an update is an item
    of its own (the digest shows it beside other outlets' copies, see `build_digest`)."""
    if m.story_id is not None and m.revises is None:
        return ("story", m.story_id)
    return ("item", m.id)


def build_subject(digest: Digest, tz: tzinfo) -> str:
    """One line: prefix, ALERT for urgent digests, the number of stories and the items per
    topic, the local date."""
    labels = LABELS[digest.language]
    topics = [(t, len(ms)) for t, ms in digest.topics.items() if ms]
    total = story_count(digest)
    day = _as_utc(digest.created).astimezone(tz).strftime("%Y-%m-%d")
    if total:
        listed = ", ".join(f"{clean(t, 60)} {n}" for t, n in topics[:MAX_SUBJECT_TOPICS])
        if len(topics) > MAX_SUBJECT_TOPICS:
            listed += ", …"
        body = f"{count_text(total, labels)}: {listed}"
    else:
        body = labels["none"]
    if down := sum(1 for n in digest.outages if n.event == "down"):
        word = labels["outages_one"] if down == 1 else labels["outages_short"]
        body += f"; {down} {word}"
    if up := sum(1 for n in digest.outages if n.event != "down"):
        body += f"; {up} {labels['recovered_short']}"
    if failing := len(digest.failing_sources):
        word = labels["failing_one"] if failing == 1 else labels["failing_short"]
        body += f"; {failing} {word}"
    # "ALERT" stays English in both languages: recipients filter mail on it.
    prefix = "[source-monitor] ALERT: " if digest.urgent else "[source-monitor] "
    return f"{prefix}{body} — {day}"


def header_texts(digest: Digest, zone: tzinfo, labels: dict[str, str]) -> dict[str, str]:
    total = story_count(digest)
    return {
        "heading": f"{labels['alert']}: {labels['title']}" if digest.urgent else labels["title"],
        "summary": count_text(total, labels) if total else labels["none"],
        "created": local_time(digest.created, zone, labels["unknown"]),
        "channel": clean(digest.channel, 80),
        "footer": labels["footer"].format(channel=clean(digest.channel, 80), id=digest.id),
        "suppressed": labels["suppressed"].format(
            n=len(digest.suppressed), url=digest.feedback_url or "/feedback"
        )
        if digest.suppressed
        else "",
    }
