"""The archive of what was reported: every match a digest or alert of some channel carried, copied
when the digest is made (in its transaction), with all a reader needs to see it later (text,
evidence, story group, update) after retention has pruned its item and match.

Searching it: `ArchiveQuery` (text and filters) in, `ArchiveHit`s out, newest report first. The
filters are portable SQLAlchemy Core; the full-text part is the backend's (SQLite: FTS5, in
`monitor.store.archive_fts`; PostgreSQL: a GIN index, in `monitor.store.archive_pg`), over the
folded keys of `monitor.inbox.search_keys`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, column, delete, func, insert, or_, select, table, text

from monitor.models import Digest, Evidence, Match
from monitor.store import schema as s
from monitor.store.engine import CHUNK, Part

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


class QueryError(ValueError):
    """A search query that cannot be run; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class Term:
    """A word: found under any of its keys, in either stream (`prefix`: keys starting so)."""

    keys: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words next to each other, in this order (primary keys, looked up in `words`)."""

    words: tuple[str, ...]


Alternative = Term | Phrase


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Every clause of `all_of` must hold (a clause: any of its alternatives), none of
    `none_of`."""

    all_of: tuple[tuple[Alternative, ...], ...]
    none_of: tuple[tuple[Alternative, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class ArchiveQuery:
    """What to look for: words (None: every report; made by `monitor.inbox.search_keys`
    from what a reader typed) and filters. `since` and `until` bound the report time (`until`
    excluded)."""

    words: SearchQuery | None = None
    topic: str | None = None
    source: str | None = None  # a source's key (its URL) or its name, in any case
    language: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = DEFAULT_LIMIT


@dataclass(slots=True)
class ArchiveHit:
    """One reported match as the archive keeps it."""

    id: int
    match_id: int
    item_id: int
    topic: str
    score: float
    source_key: str
    source_name: str
    url: str | None
    language: str | None
    title: str | None
    text: str
    evidence: Evidence
    story_id: int | None
    also_reported_by: list[str] = field(default_factory=list)
    is_update: bool = False
    previous: str | None = None
    previous_title: str | None = None
    published: datetime | None = None
    first_seen: datetime | None = None
    reported_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The hit as JSON-ready values (times in ISO 8601, UTC)."""

        def iso(when: datetime | None) -> str | None:
            return when.isoformat() if when else None

        return {
            "item_id": self.item_id,
            "match_id": self.match_id,
            "topic": self.topic,
            "score": self.score,
            "source_key": self.source_key,
            "source_name": self.source_name,
            "url": self.url,
            "language": self.language,
            "title": self.title,
            "text": self.text,
            "evidence": {
                "terms": list(self.evidence.terms),
                "rule": self.evidence.rule,
                "snippet": self.evidence.snippet,
                "spans": [list(span) for span in self.evidence.spans],
            },
            "story": {"story_id": self.story_id, "also_reported_by": self.also_reported_by},
            "update": self.is_update,
            "previous": self.previous,
            "previous_title": self.previous_title,
            "published": iso(self.published),
            "first_seen": iso(self.first_seen),
            "reported_at": iso(self.reported_at),
        }


# The folded key streams ("words", "extra") of a match's title and text, for the full-text index.
Indexer = Callable[[Match], tuple[str, str]]


def _row(m: Match, now: datetime, index: Indexer | None) -> dict[str, Any]:
    # Without an indexer (a caller outside the daemon's digests) the report is kept but only
    # the filters find it.
    words, extra = index(m) if index else ("", "")
    return {
        "match_id": m.id,
        "item_id": m.item_id if m.item_id is not None else 0,
        "topic": m.topic,
        "score": m.score,
        "source_key": m.source_key,
        "source_name": m.source_name,
        "url": m.link,
        "language": m.language,
        "title": m.title,
        "text": m.text,
        "terms": list(m.evidence.terms),
        "rule": m.evidence.rule,
        "snippet": m.evidence.snippet,
        "spans": [list(span) for span in m.evidence.spans],
        "story_id": m.story_id,
        "also_reported_by": list(m.also_reported_by),
        "is_update": m.revises is not None or m.previous is not None,
        "previous": m.previous,
        "previous_title": m.previous_title,
        "published": m.published,
        "first_seen": m.first_seen,
        "reported_at": now,
        "search_words": words,
        "search_extra": extra,
    }


def archive_matches(
    conn: Connection, matches: Collection[Match], now: datetime, index: Indexer | None
) -> int:
    """Copy reported matches into the archive, each once (a match another channel reported
    before keeps its first report); return how many were new."""
    by_id = {m.id: m for m in matches}
    known: set[int] = set()
    ids = list(by_id)
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        known |= set(
            conn.execute(
                select(s.archive.c.match_id).where(s.archive.c.match_id.in_(chunk))
            ).scalars()
        )
    rows = [_row(m, now, index) for mid, m in by_id.items() if mid not in known]
    if rows:
        conn.execute(insert(s.archive), rows)
    return len(rows)


def archive_digest(
    conn: Connection,
    digest: Digest,
    claimed: Collection[int],
    now: datetime,
    index: Indexer | None,
) -> int:
    """Archive the matches a digest shows and claims (a webhook's payload may claim fewer)."""
    wanted = set(claimed)
    shown = [m for ms in digest.topics.values() for m in ms if m.id in wanted]
    return archive_matches(conn, shown, now, index)


_FTS = table("archive_fts", column("rowid"))


class ArchiveRecords(Part):
    """The archive table and its search (SQLite: FTS5; PostgreSQL: a GIN index)."""

    def search_archive(self, query: ArchiveQuery) -> list[ArchiveHit]:
        """The reports that match, newest first."""
        a = s.archive.c
        limit = max(1, min(query.limit, MAX_LIMIT))
        # First the ids, then their rows: a scan or a sort then carries no texts.
        ids = select(a.id)
        if query.topic:
            ids = ids.where(a.topic == query.topic)
        if query.source:
            ids = ids.where(
                or_(a.source_key == query.source, func.lower(a.source_name) == query.source.lower())
            )
        if query.language:
            ids = ids.where(a.language == query.language)
        if query.since:
            ids = ids.where(a.reported_at >= query.since)
        if query.until:
            ids = ids.where(a.reported_at < query.until)
        if query.words is not None and self.engine.dialect.name == "postgresql":
            from monitor.store.archive_pg import match_clause

            matches = match_clause(query.words)
            if matches is None:
                return []
            ids = ids.where(matches).order_by(a.id.desc())
        elif query.words is not None:
            from monitor.store.archive_fts import match_expression

            expression = match_expression(query.words)
            # Walking the index by rowid (the archive's id, in order of reporting) backwards
            # lets the LIMIT stop the scan: the newest hits come first without sorting them all.
            ids = (
                ids.join(_FTS, _FTS.c.rowid == a.id)
                .where(text("archive_fts MATCH :expression").bindparams(expression=expression))
                .order_by(_FTS.c.rowid.desc())
            )
        else:
            ids = ids.order_by(a.id.desc())
        shown = [c for c in s.archive.c if not c.name.startswith("search_")]
        with self.engine.connect() as conn:
            found = list(conn.execute(ids.limit(limit)).scalars())
            rows = conn.execute(
                select(*shown).where(a.id.in_(found)).order_by(a.id.desc())
            ).mappings()
            return [_hit(r) for r in rows]

    def archive_topics(self) -> list[str]:
        """Every topic the archive holds reports of (topics since removed from the config too)."""
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(s.archive.c.topic).distinct().order_by(s.archive.c.topic)
                ).scalars()
            )

    def prune_archive(self, now: datetime, keep_days: int) -> int:
        """Forget reports older than `keep_days` (the index follows by trigger)."""
        cutoff = now - timedelta(days=keep_days)
        with self.engine.begin() as conn:
            gone = conn.execute(delete(s.archive).where(s.archive.c.reported_at < cutoff)).rowcount
        return int(gone)


def _hit(r: Any) -> ArchiveHit:
    return ArchiveHit(
        id=r["id"],
        match_id=r["match_id"],
        item_id=r["item_id"],
        topic=r["topic"],
        score=r["score"],
        source_key=r["source_key"],
        source_name=r["source_name"],
        url=r["url"],
        language=r["language"],
        title=r["title"],
        text=r["text"],
        evidence=Evidence(
            terms=tuple(r["terms"] or ()),
            rule=r["rule"],
            snippet=r["snippet"],
            spans=tuple((int(a), int(b)) for a, b in (r["spans"] or ())),
        ),
        story_id=r["story_id"],
        also_reported_by=list(r["also_reported_by"] or ()),
        is_update=bool(r["is_update"]),
        previous=r["previous"],
        previous_title=r["previous_title"],
        published=r["published"],
        first_seen=r["first_seen"],
        reported_at=r["reported_at"],
    )
