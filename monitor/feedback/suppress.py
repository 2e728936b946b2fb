"""Which matches feedback suppresses, for every channel alike (digests, alerts, chat, Atom).

A mute suppresses every match of its source for its topic. A "not relevant" mark suppresses, for
its topic, the marked passage in any later version (an edited entry), and every copy of its story
on other outlets: by the story group while the marked item is kept, and by the story sketch
(`monitor.extract.similar`) once retention has pruned it, so that a late copy is caught too.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, select

from monitor.extract.similar import Sketch, from_bytes, same_story
from monitor.feedback.records import FeedbackRecords, base_key
from monitor.models import Match
from monitor.store import schema as s


def _sketch(stored: str | None) -> Sketch | None:
    if not stored:
        return None
    try:
        return from_bytes(base64.b64decode(stored))
    except (binascii.Error, ValueError):  # an older release's MinHash: no sketch to compare
        return None


@dataclass(slots=True)
class _Mark:
    item_id: int | None
    source_key: str
    passage_key: str | None
    story_id: int | None
    sketch: Sketch | None


@dataclass(slots=True)
class Suppressor:
    """The feedback in force for some topics, ready to test matches against."""

    mutes: set[tuple[str, str]] = field(default_factory=set)  # (source key, topic)
    marks: dict[str, list[_Mark]] = field(default_factory=dict)  # topic -> marks

    @classmethod
    def load(cls, engine: Engine, topics: Sequence[str]) -> Suppressor:
        out = cls()
        for row in FeedbackRecords(engine).rows_for_suppression(list(topics)):
            if row["kind"] == "mute":
                out.mutes.add((row["source_key"], row["topic"]))
            else:
                out.marks.setdefault(row["topic"], []).append(
                    _Mark(
                        row["item_id"],
                        row["source_key"],
                        row["passage_key"],
                        row["story_id"],
                        _sketch(row["minhash"]),
                    )
                )
        return out

    def __bool__(self) -> bool:
        return bool(self.mutes or self.marks)

    def split(
        self, matches: Sequence[Match], conn: Connection | Engine
    ) -> tuple[list[Match], list[Match]]:
        """(kept, suppressed) of `matches`, in their order."""
        if not self:
            return list(matches), []
        wanted = {m.item_id for m in matches if m.topic in self.marks and m.item_id is not None}
        items: dict[int, tuple[str, Sketch | None]] = {}
        if wanted:
            i = s.items.c
            query = select(i.id, i.passage_key, i.minhash).where(i.id.in_(wanted))
            if isinstance(conn, Engine):
                with conn.connect() as c:
                    rows = list(c.execute(query))
            else:
                rows = list(conn.execute(query))
            items = {r[0]: (base_key(r[1]), _sketch(r[2])) for r in rows}
        kept: list[Match] = []
        dropped: list[Match] = []
        for m in matches:
            info = items.get(m.item_id or -1)
            (dropped if self._hit(m, info) else kept).append(m)
        return kept, dropped

    def _hit(self, m: Match, info: tuple[str, Sketch | None] | None) -> bool:
        if (m.source_key, m.topic) in self.mutes:
            return True
        for mark in self.marks.get(m.topic, ()):
            if mark.item_id is not None and mark.item_id in (m.item_id, m.revises):
                return True
            if mark.story_id is not None and mark.story_id == m.story_id:
                return True
            if info is None:
                continue
            passage, sketch = info
            if mark.source_key == m.source_key and mark.passage_key == passage:
                return True
            if sketch is not None and mark.sketch is not None and same_story(sketch, mark.sketch):
                return True
        return False
