"""Outages: each spell in which a source could not be read, and which channel was told of its
start and of its end (exactly once per channel, claimed in the digest's own transaction)."""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from monitor.models import OutageNotice
from monitor.store import schema as s
from monitor.store.engine import Part

# A spell that ended longer ago than this is not brought up any more (a channel enabled after a
# long pause should not open with last month's outages).
NOTICE_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class OutageRule:
    """When a spell is worth telling: `polls` failed polls in a row, or unreadable for longer
    than `after` seconds. A spell that ended is judged up to its last failed poll, so a single
    failure followed by a good poll never counts, however long the poll interval."""

    polls: int
    after: float

    def reportable(
        self,
        failures: int,
        started: datetime,
        last_failed: datetime,
        ended: datetime | None,
        now: datetime,
    ) -> bool:
        if failures >= self.polls:
            return True
        until = last_failed if ended is not None else now
        return (until - started).total_seconds() > self.after


@dataclass(frozen=True, slots=True)
class FetchHealth:
    """What one fetch means for the source's outage record."""

    key: str
    failed: bool
    failures_before: int  # failed polls in a row before this one
    state: str
    error: str | None
    now: datetime


def track_outages(conn: Connection, fetches: Sequence[FetchHealth]) -> None:
    """Open, extend or close each source's spell, in the transaction that records the fetch.

    Only failures and first successes after failures write here: a healthy poll of a healthy
    source (nearly all of them) costs nothing.
    """
    o = s.source_outages.c
    for f in fetches:
        if f.failed:
            done = 0
            if f.failures_before:
                done = conn.execute(
                    update(s.source_outages)
                    .where(o.source_key == f.key, o.ended_at.is_(None))
                    .values(
                        failures=f.failures_before + 1,
                        last_failed_at=f.now,
                        state=f.state,
                        last_error=f.error,
                    )
                ).rowcount
            if not done:
                # A new spell (or one that began before this release kept spells).
                conn.execute(
                    insert(s.source_outages).values(
                        source_key=f.key,
                        started_at=f.now,
                        last_failed_at=f.now,
                        failures=f.failures_before + 1,
                        state=f.state,
                        last_error=f.error,
                    )
                )
        elif f.failures_before:
            conn.execute(
                update(s.source_outages)
                .where(o.source_key == f.key, o.ended_at.is_(None))
                .values(ended_at=f.now)
            )


class OutageRecords(Part):
    """The source_outages and outage_notices tables."""

    def pending_outages(
        self,
        channel: str,
        keys: Collection[str],
        now: datetime,
        rule: OutageRule,
        *,
        conn: Connection | None = None,
    ) -> list[OutageNotice]:
        """What the channel's next digest must say about outages of the sources `keys`: spells
        worth telling that it was not told of, and ends of spells it was told of. Spells that
        ended before the channel was first configured are not its news.
        """
        o = s.source_outages.c
        n = s.outage_notices.c
        told = select(n.outage_id, n.event).where(n.channel == channel).subquery()
        down = told.alias("down")
        up = told.alias("up")
        cutoff = now - NOTICE_WINDOW
        query = (
            select(
                o.id,
                o.source_key,
                o.started_at,
                o.last_failed_at,
                o.ended_at,
                o.failures,
                o.state,
                o.last_error,
                s.sources.c.name,
                s.sources.c.url,
                down.c.event,
            )
            .outerjoin(s.sources, s.sources.c.key == o.source_key)
            .outerjoin(down, and_(down.c.outage_id == o.id, down.c.event == "down"))
            .outerjoin(up, and_(up.c.outage_id == o.id, up.c.event == "up"))
            .where(up.c.event.is_(None), or_(o.ended_at.is_(None), o.ended_at >= cutoff))
            .order_by(o.started_at, o.id)
        )
        wanted = set(keys)
        out: list[OutageNotice] = []
        with self._read(conn) as c:
            since = c.execute(
                select(s.channel_runs.c.started_at).where(s.channel_runs.c.channel == channel)
            ).scalar()
            if since is not None and since > cutoff:
                query = query.where(or_(o.ended_at.is_(None), o.ended_at >= since))
            rows = c.execute(query).all()
        for r in rows:
            if r.source_key not in wanted:
                continue
            event: Literal["down", "up", "over"]
            if r.event is None:
                if not rule.reportable(r.failures, r.started_at, r.last_failed_at, r.ended_at, now):
                    continue
                event = "over" if r.ended_at is not None else "down"
            elif r.ended_at is not None:
                event = "up"
            else:
                continue  # told already, and still unreadable
            out.append(_notice(r, event))
        return out

    def recent_outages(
        self, now: datetime, rule: OutageRule, keys: Collection[str] | None = None
    ) -> list[OutageNotice]:
        """Spells worth telling that lasted into the last `NOTICE_WINDOW`, newest first: what
        the Atom feeds show (event "down" while a spell lasts, "over" once it ended)."""
        o = s.source_outages.c
        query = (
            select(s.source_outages, s.sources.c.name, s.sources.c.url)
            .outerjoin(s.sources, s.sources.c.key == o.source_key)
            .where(or_(o.ended_at.is_(None), o.ended_at >= now - NOTICE_WINDOW))
            .order_by(o.started_at.desc(), o.id.desc())
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            _notice(r, "over" if r.ended_at is not None else "down")
            for r in rows
            if (keys is None or r.source_key in keys)
            and rule.reportable(r.failures, r.started_at, r.last_failed_at, r.ended_at, now)
        ]

    def outages_changed_since(self, moment: datetime) -> bool:
        """Whether a spell began, had another failed poll or ended after `moment`."""
        o = s.source_outages.c
        changed = select(o.id).where(or_(o.last_failed_at > moment, o.ended_at > moment)).exists()
        with self.engine.connect() as conn:
            return bool(conn.execute(select(changed)).scalar())

    @contextlib.contextmanager
    def _read(self, conn: Connection | None) -> Iterator[Connection]:
        # Inside the digest's transaction, read there: what is read is what gets claimed.
        if conn is not None:
            yield conn
        else:
            with self.engine.connect() as own:
                yield own


def claim_outages(
    conn: Connection, channel: str, digest_id: str, notices: Sequence[OutageNotice]
) -> None:
    """Record that `digest_id` tells the channel of these notices (inside its transaction)."""
    rows = [
        {"channel": channel, "outage_id": n.outage_id, "event": event, "digest_id": digest_id}
        for n in notices
        for event in (("down", "up") if n.event == "over" else (n.event,))
    ]
    if rows:
        conn.execute(insert(s.outage_notices), rows)


def prune_outages(conn: Connection, cutoff: datetime) -> int:
    """Forget spells that ended before `cutoff`, and those of sources no longer in the store."""
    o = s.source_outages.c
    gone = or_(o.ended_at < cutoff, o.source_key.not_in(select(s.sources.c.key)))
    conn.execute(
        delete(s.outage_notices).where(s.outage_notices.c.outage_id.in_(select(o.id).where(gone)))
    )
    return conn.execute(delete(s.source_outages).where(gone)).rowcount


def _notice(row: Any, event: Literal["down", "up", "over"]) -> OutageNotice:
    """One spell (a row of source_outages joined with its source's name and URL) as told."""
    return OutageNotice(
        outage_id=row.id,
        event=event,
        source_key=row.source_key,
        name=row.name or row.source_key,
        url=row.url or row.source_key,
        state=row.state,
        since=row.started_at,
        until=row.ended_at,
        failures=row.failures,
        last_error=row.last_error,
    )
