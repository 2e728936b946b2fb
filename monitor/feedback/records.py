"""The feedback table: record a "not relevant" mark or a mute, undo it, list what is active and
report per topic. Works on the state database's engine, beside `monitor.store`'s parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, insert, select, update

from monitor.feedback.links import Action
from monitor.store import schema as s

WHO_LINK = "email link"


class UnknownItem(LookupError):
    """The item a feedback asks about is no longer in the state database (pruned)."""


@dataclass(frozen=True, slots=True)
class ItemInfo:
    """What the pages show of an item and what a mark keeps of it."""

    item_id: int
    source_key: str
    source_name: str
    title: str | None
    text: str
    link: str | None
    passage_key: str
    story_id: int
    minhash: str | None


@dataclass(frozen=True, slots=True)
class Feedback:
    id: int
    kind: str
    topic: str
    source_key: str
    item_id: int | None
    title: str | None
    text: str | None
    link: str | None
    who: str
    created_at: datetime
    undone_at: datetime | None
    undone_by: str | None


def base_key(passage_key: str) -> str:
    """A passage key without the version suffix an edited entry's later reports carry."""
    return passage_key.split("\x00v", 1)[0]


class FeedbackRecords:
    """Feedback rows on the state database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def item(self, item_id: int) -> ItemInfo:
        i = s.items.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    i.id,
                    i.source_key,
                    s.sources.c.name,
                    i.title,
                    i.text,
                    i.link,
                    i.passage_key,
                    i.story_id,
                    i.minhash,
                )
                .join(s.sources, s.sources.c.key == i.source_key)
                .where(i.id == item_id)
            ).first()
        if row is None:
            return self._archived(item_id)
        return ItemInfo(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            base_key(row[6]),
            row[7] or row[0],
            row[8],
        )

    def _archived(self, item_id: int) -> ItemInfo:
        """A pruned item as the archive kept it (the inbox shows items long after retention):
        its passage key and sketch are gone, so a mark on it suppresses its story group."""
        a = s.archive.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(a.source_key, a.source_name, a.title, a.text, a.url, a.story_id)
                .where(a.item_id == item_id)
                .order_by(a.id.desc())
                .limit(1)
            ).first()
        if row is None:
            raise UnknownItem(f"item {item_id} is no longer kept (retention pruned it)")
        source_key, name, title, text, url, story = row
        return ItemInfo(item_id, source_key, name, title, text, url, "", story or item_id, None)

    def record(self, action: Action, item_id: int, topic: str, who: str, now: datetime) -> int:
        """Record a mark on an item (or a mute of its source) for a topic; return its id. Doing
        it again while it is active returns the active row: nothing is recorded twice."""
        info = self.item(item_id)
        f = s.feedback.c
        same = [f.kind == action, f.topic == topic, f.undone_at.is_(None)]
        if action == "mute":
            same.append(f.source_key == info.source_key)
        else:
            same.append(f.item_id == item_id)
        values: dict[str, Any] = {
            "kind": action,
            "topic": topic,
            "source_key": info.source_key,
            "who": who,
            "created_at": now,
            "title": info.title,
            "text": info.text,
            "link": info.link,
        }
        if action == "not_relevant":
            values |= {
                "item_id": item_id,
                "passage_key": info.passage_key,
                "story_id": info.story_id,
                "minhash": info.minhash,
            }
        with self.engine.begin() as conn:
            found = conn.execute(select(f.id).where(and_(*same))).scalar()
            if found is not None:
                return int(found)
            key = conn.execute(insert(s.feedback).values(**values)).inserted_primary_key
            assert key is not None
            return int(key[0])

    def undo(self, feedback_id: int, who: str, now: datetime) -> bool:
        """Undo an active mark or mute; False if there is none by that id."""
        f = s.feedback.c
        with self.engine.begin() as conn:
            done = conn.execute(
                update(s.feedback)
                .where(f.id == feedback_id, f.undone_at.is_(None))
                .values(undone_at=now, undone_by=who)
            ).rowcount
        return bool(done)

    def active(self, topics: list[str] | None = None) -> list[Feedback]:
        """The marks and mutes in force, newest first."""
        query = select(s.feedback).where(s.feedback.c.undone_at.is_(None))
        if topics is not None:
            query = query.where(s.feedback.c.topic.in_(topics))
        return self._rows(query.order_by(s.feedback.c.id.desc()))

    def all(self) -> list[Feedback]:
        return self._rows(select(s.feedback).order_by(s.feedback.c.topic, s.feedback.c.id))

    def rows_for_suppression(self, topics: list[str]) -> list[dict[str, Any]]:
        """The active rows with what identifies their passages."""
        f = s.feedback.c
        query = select(
            f.kind, f.topic, f.source_key, f.item_id, f.passage_key, f.story_id, f.minhash
        ).where(f.undone_at.is_(None), f.topic.in_(topics))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def changed_since(self, when: datetime) -> bool:
        """Whether feedback was given or undone after `when`."""
        f = s.feedback.c
        query = select(f.id).where((f.created_at > when) | (f.undone_at > when)).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def counts(self) -> dict[tuple[str, str], int]:
        """(topic, kind) -> active rows."""
        f = s.feedback.c
        query = (
            select(f.topic, f.kind, func.count())
            .where(f.undone_at.is_(None))
            .group_by(f.topic, f.kind)
        )
        with self.engine.connect() as conn:
            return {(t, k): n for t, k, n in conn.execute(query)}

    def _rows(self, query: Any) -> list[Feedback]:
        f = s.feedback.c
        cols = (
            f.id,
            f.kind,
            f.topic,
            f.source_key,
            f.item_id,
            f.title,
            f.text,
            f.link,
            f.who,
            f.created_at,
            f.undone_at,
            f.undone_by,
        )
        with self.engine.connect() as conn:
            return [Feedback(*r) for r in conn.execute(query.with_only_columns(*cols))]
