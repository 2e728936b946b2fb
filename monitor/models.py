"""The typed values that flow between the pipeline stages.

sources -> fetch -> extract -> detect -> match -> store -> digest -> notify

Each stage takes one of these values and returns the next; none of them holds a
connection, a client or a reference to the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

SourceKind = Literal["feed", "page"]


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a seed document cites a URL: the document's file name and the sentence around it."""

    document: str
    context: str


@dataclass(slots=True)
class Source:
    """One URL to poll. `key` is the normalised URL and identifies the source in the store."""

    key: str
    url: str
    kind: SourceKind
    name: str
    interval_seconds: int
    origin: Literal["config", "seed"]
    citations: list[Citation] = field(default_factory=list)
    follow_links: bool = False
    ignore: list[str] = field(default_factory=list)
    verify_tls: bool = True
    refused: str | None = None  # set when the URL itself is refused before any request


class FetchOutcome(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"  # 304, or 200 with the same body hash as last time
    ERROR = "error"  # network, HTTP status, size or time limit
    REFUSED = "refused"  # the SSRF gate or the scheme check said no; nothing was sent
    ROBOTS = "robots"  # robots.txt disallows the URL


@dataclass(slots=True)
class Validators:
    """What we remember from the last response to make the next request conditional."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(slots=True)
class FetchResult:
    url: str
    outcome: FetchOutcome
    final_url: str | None = None
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    validators: Validators = field(default_factory=Validators)
    error: str | None = None  # one plain line, safe to show to a person
    elapsed: float = 0.0
    retry_after: float | None = None  # seconds the server asked us to wait
    max_age: float | None = None  # seconds from Cache-Control max-age / feed ttl, if given


@dataclass(slots=True)
class Passage:
    """A unit of text that can be new: a feed entry, or one paragraph of a page.

    `key` identifies it within its source (entry id, or paragraph fingerprint).
    """

    key: str
    text: str
    title: str | None = None
    link: str | None = None
    published: datetime | None = None
    language: str | None = None
    previous: str | None = None  # for an edited paragraph: the text it replaced
    previous_title: str | None = None  # for an edited feed entry: the title it had
    # The key an older release gave this passage, where it differs (see `monitor.detect.novelty`).
    former_key: str | None = None
    # A page paragraph's context: the headline of the story it belongs to (and the section
    # heading it stands under), "" when it has none. It is matched beside the text as its title;
    # the page's own headline and sections only complete a match a term of the text takes part
    # in, never make one alone (see `monitor.pipeline.found_in_text`), while an entry's own
    # heading may (`entry`). None (feed entries): the title is matched.
    context: str | None = None
    # One entry of a page of several (a live blog): the page's title and date are not its own.
    entry: bool = False

    @property
    def matched_title(self) -> str | None:
        """The text the matcher reads as this passage's title (see `context`)."""
        return self.title if self.context is None else (self.context or None)


@dataclass(slots=True)
class Document:
    """What extraction made of one fetched response."""

    url: str
    kind: SourceKind
    title: str | None = None
    language: str | None = None
    published: datetime | None = None
    passages: list[Passage] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    author: str | None = None
    site: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a topic matched: the terms found, the rule that fired, and a snippet around them."""

    terms: tuple[str, ...]
    rule: str
    snippet: str
    spans: tuple[tuple[int, int], ...] = ()  # character offsets of the terms inside `snippet`


@dataclass(frozen=True, slots=True)
class TopicMatch:
    topic: str
    score: float
    evidence: Evidence


@dataclass(slots=True)
class Match:
    """A new passage of a source that matched one topic; what the digest is made of."""

    id: int
    topic: str
    score: float
    evidence: Evidence
    source_key: str
    source_name: str
    title: str | None
    link: str | None
    text: str
    language: str | None
    published: datetime | None
    first_seen: datetime
    citations: list[Citation] = field(default_factory=list)
    also_reported_by: list[str] = field(default_factory=list)
    story_id: int | None = None  # items of one syndicated story share it
    previous: str | None = None  # for an edited paragraph: the text it replaced
    # An edited feed entry: what the reader last received of it (None: never received, so the
    # edit is reported as new), the item of its first report, and the matches of its older
    # versions that this one stands for in a digest (claimed with it, never shown).
    previous_title: str | None = None
    revises: int | None = None
    folded: list[int] = field(default_factory=list)
    item_id: int | None = None  # the stored item (entry or paragraph) the match is of


@dataclass(slots=True)
class SourceHealth:
    key: str
    name: str
    url: str
    state: str
    since: datetime | None
    last_error: str | None
    kept: bool = False  # its first poll is kept unparsed (`monitor.store.pending`)


@dataclass(frozen=True, slots=True)
class OutageNotice:
    """One spell of a source being unreadable, as a digest tells it: `event` "down" (not readable
    since `since`), "up" (readable again since `until`, after a spell already reported) or
    "over" (a spell that began and ended since the last digest: both at once)."""

    outage_id: int
    event: Literal["down", "up", "over"]
    source_key: str
    name: str
    url: str
    state: str
    since: datetime
    until: datetime | None
    failures: int
    last_error: str | None


@dataclass(slots=True)
class Digest:
    """One digest for one channel: matches grouped by topic, plus source health."""

    id: str  # stable id, also the idempotency key for delivery
    channel: str
    created: datetime
    topics: dict[str, list[Match]]  # topic id -> matches, ranked
    topic_names: dict[str, str]
    failing_sources: list[SourceHealth] = field(default_factory=list)
    # Sources that became unreadable or readable again since the channel's last digest.
    outages: list[OutageNotice] = field(default_factory=list)
    language: Literal["en", "de"] = "en"
    urgent: bool = False
    # Copies of a story folded into the item shown for it: shown match id -> folded match ids.
    absorbed: dict[int, list[int]] = field(default_factory=dict)
    # Matches feedback suppressed (a mute, a "not relevant" mark): claimed, never shown; the
    # footer counts them and names where to undo (`feedback_url`).
    suppressed: list[int] = field(default_factory=list)
    feedback_url: str | None = None

    @property
    def match_ids(self) -> list[int]:
        """Every match this digest accounts for: shown, folded into a shown one, suppressed."""
        return [
            *self.ids_for([m.id for ms in self.topics.values() for m in ms]),
            *self.suppressed,
        ]

    def ids_for(self, shown: Sequence[int]) -> list[int]:
        """The given shown matches plus the copies folded into them."""
        return [*shown, *(i for m in shown for i in self.absorbed.get(m, ()))]


@dataclass(slots=True)
class RenderedDigest:
    subject: str
    text: str
    html: str
    payload: dict  # JSON body for webhooks
    # The matches the payload carries, when size limits left some out (None: all of them).
    # Only those are claimed for a webhook channel; the rest wait for its next digest.
    payload_ids: tuple[int, ...] | None = None


@dataclass(slots=True)
class Delivery:
    digest_id: str
    channel: str
    ok: bool
    detail: str  # where it went, or the error in one line
    permanent: bool = False  # an error retrying cannot fix (e.g. 410 Gone)
