"""Matches and stories: items (new passages that matched), their topic matches, and the story
signatures that group one story carried by several sources."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, insert, or_, select

from monitor.models import Citation, Evidence, Match, Passage, TopicMatch
from monitor.store import schema as s
from monitor.store.engine import Part


class ItemRecords(Part):
    """The items and matches tables."""

    def add_item(
        self,
        source_key: str,
        passage: Passage,
        found: Sequence[TopicMatch],
        now: datetime,
        *,
        story_id: int | None = None,
        minhash: str | None = None,
        conn: Connection | None = None,
        revises: int | None = None,
    ) -> int:
        """Store a new passage and its topic matches; return the item id. `revises`: the passage
        is an edited feed entry, reported before as that item."""
        with self._tx(conn) as conn:
            passage_key = passage.key
            if revises is not None:
                # Each version of an entry is an item of its own: a report (and its claims) of
                # its own, keyed apart from the entry's first.
                versions = conn.execute(
                    select(func.count()).select_from(s.items).where(s.items.c.revises == revises)
                ).scalar_one()
                number = versions + 2
                # Retention may have pruned the first report but kept a later version, so the
                # count alone can name a key already taken: the next free one is used.
                while conn.execute(
                    select(s.items.c.id).where(
                        s.items.c.source_key == source_key,
                        s.items.c.passage_key == f"{passage.key}\x00v{number}",
                    )
                ).first():
                    number += 1
                passage_key = f"{passage.key}\x00v{number}"
            row = conn.execute(
                insert(s.items).values(
                    source_key=source_key,
                    passage_key=passage_key,
                    title=passage.title,
                    link=passage.link,
                    text=passage.text,
                    language=passage.language,
                    published=passage.published,
                    previous=passage.previous,
                    previous_title=passage.previous_title,
                    revises=revises,
                    first_seen=now,
                    story_id=story_id,
                    minhash=minhash,
                )
            ).inserted_primary_key
            assert row is not None  # an INSERT of one row always has its key
            item_id = row[0]
            for m in found:
                conn.execute(
                    insert(s.matches).values(
                        item_id=item_id,
                        topic=m.topic,
                        score=m.score,
                        terms=list(m.evidence.terms),
                        rule=m.evidence.rule,
                        snippet=m.evidence.snippet,
                        spans=[list(x) for x in m.evidence.spans],
                        created_at=now,
                    )
                )
        return int(item_id)

    def entry_item(
        self, source_key: str, passage_key: str, conn: Connection | None = None
    ) -> tuple[int, int | None] | None:
        """(item id, story id) of the first report of a source's passage, or None if it was
        never reported (it matched no topic)."""
        with self._tx(conn) as tx:
            row = tx.execute(
                select(s.items.c.id, s.items.c.story_id).where(
                    s.items.c.source_key == source_key, s.items.c.passage_key == passage_key
                )
            ).first()
        return (row[0], row[1]) if row is not None else None

    def recent_minhashes(
        self, since: datetime, after_id: int | None = None, window: datetime | None = None
    ) -> list[tuple[int, int | None, str, str, str, datetime, str]]:
        """(item id, story id, source key, passage key, signature, first seen, title and text)
        of the items first seen since `since` or numbered after `after_id` (when given; first
        seen since `window` all the same), oldest first. The text lets a signature of an older
        release be made again."""
        recent = s.items.c.first_seen >= since
        if after_id is not None:
            # Another worker's clock may lag this one's: its new items are found by number.
            recent = or_(recent, s.items.c.id > after_id)
            if window is not None:
                recent = recent & (s.items.c.first_seen >= window)
        query = (
            select(
                s.items.c.id,
                s.items.c.story_id,
                s.items.c.source_key,
                s.items.c.passage_key,
                s.items.c.minhash,
                s.items.c.first_seen,
                func.coalesce(s.items.c.title, "") + "\n" + s.items.c.text,
            )
            .where(recent, s.items.c.minhash.is_not(None))
            .order_by(s.items.c.id)
        )
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(query)]

    def unclaimed_matches(
        self,
        channel: str,
        kind: str,
        topics: Sequence[str],
        min_score: float,
        citations: dict[str, list[Citation]],
        conn: Connection | None = None,
    ) -> list[Match]:
        """Matches not yet put into a digest of this kind for this channel."""
        claimed = select(s.digest_matches.c.match_id).where(
            s.digest_matches.c.channel == channel, s.digest_matches.c.kind == kind
        )
        query = self._match_query(topics).where(
            s.matches.c.id.not_in(claimed), s.matches.c.score >= min_score
        )
        started = (
            select(s.channel_runs.c.started_at)
            .where(s.channel_runs.c.channel == channel)
            .scalar_subquery()
        )
        # A channel added later starts from then (no bound for one never registered).
        query = query.where((started.is_(None)) | (s.matches.c.created_at >= started))
        return self._matches(query.order_by(s.matches.c.id), citations, conn, channel=channel)

    def latest_matches(
        self, topic: str, limit: int, citations: dict[str, list[Citation]]
    ) -> list[Match]:
        """The newest matches of a topic, delivered or not (for its Atom feed)."""
        query = self._match_query([topic]).order_by(s.matches.c.id.desc()).limit(limit)
        return self._matches(query, citations, None)

    @staticmethod
    def _match_query(topics: Sequence[str]) -> Select[Any]:
        return (
            select(
                s.matches.c.id,
                s.matches.c.topic,
                s.matches.c.score,
                s.matches.c.terms,
                s.matches.c.rule,
                s.matches.c.snippet,
                s.matches.c.spans,
                s.matches.c.item_id,
                s.items.c.source_key,
                s.items.c.title,
                s.items.c.link,
                s.items.c.text,
                s.items.c.language,
                s.items.c.published,
                s.items.c.first_seen,
                s.items.c.story_id,
                s.items.c.previous,
                s.items.c.previous_title,
                s.items.c.revises,
                s.sources.c.name.label("source_name"),
            )
            .join(s.items, s.items.c.id == s.matches.c.item_id)
            .join(s.sources, s.sources.c.key == s.items.c.source_key)
            .where(s.matches.c.topic.in_(list(topics)))
        )

    def _matches(
        self,
        query: Select[Any],
        citations: dict[str, list[Citation]],
        conn: Connection | None,
        *,
        channel: str | None = None,
    ) -> list[Match]:
        """Matches of the rows `query` selects. For a `channel`, the versions of one edited
        feed entry become one match (its newest, standing for the others) whose previous text is
        what the channel last received of the entry (see `_net_updates`)."""
        own = conn is None
        conn = conn or self.engine.connect()
        try:
            rows = conn.execute(query).mappings().all()
            # Names of the other sources that carried the same story, for "also reported by".
            story_ids = {r["story_id"] or r["item_id"] for r in rows}
            related: dict[int, set[str]] = {}
            if story_ids:
                for sid, name in conn.execute(
                    select(func.coalesce(s.items.c.story_id, s.items.c.id), s.sources.c.name)
                    .join(s.sources, s.sources.c.key == s.items.c.source_key)
                    .where((s.items.c.story_id.in_(story_ids)) | (s.items.c.id.in_(story_ids)))
                ):
                    related.setdefault(sid, set()).add(name)
            received = _received(conn, channel, rows) if channel is not None else {}
        finally:
            if own:
                conn.close()
        out = []
        for r in rows:
            sid = r["story_id"] or r["item_id"]
            others = sorted(related.get(sid, set()) - {r["source_name"]})
            out.append(
                Match(
                    id=r["id"],
                    topic=r["topic"],
                    score=r["score"],
                    evidence=Evidence(
                        tuple(r["terms"]),
                        r["rule"],
                        r["snippet"],
                        tuple(tuple(x) for x in r["spans"]),
                    ),
                    source_key=r["source_key"],
                    source_name=r["source_name"],
                    title=r["title"],
                    link=r["link"],
                    text=r["text"],
                    language=r["language"],
                    published=r["published"],
                    first_seen=r["first_seen"],
                    citations=citations.get(r["source_key"], []),
                    also_reported_by=others,
                    story_id=sid,
                    previous=r["previous"],
                    previous_title=r["previous_title"],
                    revises=r["revises"],
                    item_id=r["item_id"],
                )
            )
        return _net_updates(out, received) if channel is not None else out


def _received(
    conn: Connection, channel: str, rows: Sequence[Any]
) -> dict[int, list[tuple[int, str | None, str]]]:
    """For each edited entry among `rows` (by the item of its first report): the versions of it
    that `channel` has received in a digest or an alert, as (item id, title, text)."""
    entries = {r["revises"] for r in rows if r["revises"] is not None}
    if not entries:
        return {}
    i = s.items.c
    claimed = (
        select(s.matches.c.item_id)
        .join(s.digest_matches, s.digest_matches.c.match_id == s.matches.c.id)
        .where(s.digest_matches.c.channel == channel)
    )
    out: dict[int, list[tuple[int, str | None, str]]] = {}
    for item_id, revises, title, body in conn.execute(
        select(i.id, i.revises, i.title, i.text).where(
            (i.id.in_(entries) | i.revises.in_(entries)) & i.id.in_(claimed)
        )
    ):
        out.setdefault(revises or item_id, []).append((item_id, title, body))
    return out


def _net_updates(
    matches: list[Match], received: dict[int, list[tuple[int, str | None, str]]]
) -> list[Match]:
    """One match per edited entry and topic: its newest version, compared with the newest
    version the channel received before it (however often the entry was edited in between);
    with none received, no previous text, so that it reads as new. The older versions' matches
    go into `folded`, to be claimed with it."""
    newest: dict[tuple[str, int], Match] = {}
    order: list[Match] = []
    for m in matches:
        entry = m.revises if m.revises is not None else (m.item_id or 0)
        kept = newest.get((m.topic, entry))
        if kept is None:
            newest[m.topic, entry] = m
            order.append(m)
            continue
        older, newer = (kept, m) if (kept.item_id or 0) < (m.item_id or 0) else (m, kept)
        newer.folded = [*newer.folded, older.id, *older.folded]
        older.folded = []
        newest[m.topic, entry] = newer
        order[order.index(kept)] = newer
    for m in order:
        if m.revises is None:
            continue
        before = [v for v in received.get(m.revises, []) if v[0] < (m.item_id or 0)]
        if before:
            _, title, body = max(before)
            m.previous, m.previous_title = body, title
        else:
            m.previous = m.previous_title = None
    return order
