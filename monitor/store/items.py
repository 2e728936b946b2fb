"""Matches and stories: items (new passages that matched), their topic matches, and the story
signatures that group one story carried by several sources."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select

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
    ) -> int:
        """Store a new passage and its topic matches; return the item id."""
        with self._tx(conn) as conn:
            row = conn.execute(
                insert(s.items).values(
                    source_key=source_key,
                    passage_key=passage.key,
                    title=passage.title,
                    link=passage.link,
                    text=passage.text,
                    language=passage.language,
                    published=passage.published,
                    previous=passage.previous,
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

    def recent_minhashes(
        self, since: datetime
    ) -> list[tuple[int, int | None, str, str, str, datetime, str]]:
        """(item id, story id, source key, passage key, signature, first seen, title and text)
        of recent items, oldest first. The text lets a signature of an older release be made
        again."""
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
            .where(s.items.c.first_seen >= since, s.items.c.minhash.is_not(None))
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
        return self._matches(query.order_by(s.matches.c.id), citations, conn)

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
    ) -> list[Match]:
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
                )
            )
        return out
