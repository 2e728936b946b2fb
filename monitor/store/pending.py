"""Pending baselines: a source's first poll kept unparsed (table `pending_baselines`; why and
when it is parsed: `monitor.detect.baseline`).

A source with a pending baseline has `baseline_done` false: should its kept body ever be lost,
its next poll simply takes a baseline again and reports nothing. The baseline taken from a kept
body is written with the row's removal in one transaction (`settle`), and only by whoever
removes the row, so that two settlers (a poll and the daemon's idle time, or two workers on
PostgreSQL) never record it twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select, update

from monitor.store import schema as s
from monitor.store.engine import CHUNK, Part
from monitor.store.postgres import insert_new

_P = s.pending_baselines.c


@dataclass(frozen=True, slots=True)
class PendingBody:
    """A first poll's body as kept: compressed (`codec`), with what its parse needs."""

    source_key: str
    body: bytes
    codec: str
    size: int  # before compression
    body_hash: str
    content_type: str | None
    final_url: str
    fetched_at: datetime


class PendingBaselineRecords(Part):
    """The pending_baselines table."""

    def pending_baselines(self, keys: Sequence[str] | None = None) -> dict[str, str]:
        """The sources of `keys` (None: all) whose first poll is kept unparsed, with the kept
        body's hash; the bodies themselves are read one at a time (`pending_body`)."""
        query = select(_P.source_key, _P.body_hash)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        wanted = None if keys is None else set(keys)
        return {k: h for k, h in rows if wanted is None or k in wanted}

    def pending_body(self, key: str) -> PendingBody | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.pending_baselines).where(_P.source_key == key)
            ).first()
        return PendingBody(**row._mapping) if row is not None else None

    def keep_pending_baseline(self, pending: PendingBody, conn: Connection | None = None) -> None:
        """Keep a first poll's body (replacing one kept before, which a crash may have left).
        Two first polls of one source at once (a `monitor once` beside PostgreSQL workers):
        the body of the first to commit is kept, and the other's insert does nothing."""
        with self._tx(conn) as tx:
            tx.execute(delete(s.pending_baselines).where(_P.source_key == pending.source_key))
            tx.execute(
                insert_new(tx, s.pending_baselines).values(**dataclasses.asdict(pending))
            )

    def settle_pending(
        self, key: str, body_hash: str, extractor: int | None, conn: Connection
    ) -> bool:
        """Claim the kept body of `key` (the one hashed `body_hash`) for the baseline being
        written in `conn`, and mark the source's baseline as taken; False when someone else
        settled it first, and then the caller must roll back what it wrote. Called first in the
        transaction: on PostgreSQL the row lock makes a second settler wait, then find nothing."""
        gone = conn.execute(
            delete(s.pending_baselines).where(_P.source_key == key, _P.body_hash == body_hash)
        ).rowcount
        if not gone:
            return False
        values: dict[str, object] = {"baseline_done": True}
        if extractor is not None:
            values["extractor"] = extractor
        conn.execute(update(s.sources).where(s.sources.c.key == key).values(values))
        return True

    def drop_pending_baseline(self, key: str, body_hash: str, conn: Connection) -> bool:
        """Forget a kept body that cannot be parsed, and the validators of its fetch, so that
        the source's next poll fetches in full and takes its baseline again (as a first poll
        whose parse failed would); False when it was settled or dropped meanwhile."""
        gone = conn.execute(
            delete(s.pending_baselines).where(_P.source_key == key, _P.body_hash == body_hash)
        ).rowcount
        if gone:
            conn.execute(
                update(s.sources)
                .where(s.sources.c.key == key)
                .values(etag=None, last_modified=None, body_hash=None)
            )
        return bool(gone)

    def note_baseline_warnings(self, key: str, warning: str, conn: Connection) -> None:
        """Show what a baseline taken in idle time warns of in the source's health, as its
        first poll would have, unless a later poll has failed since (its error stays)."""
        conn.execute(
            update(s.sources)
            .where(s.sources.c.key == key, s.sources.c.state.in_(("ok", "not_modified")))
            .values(last_error=warning)
        )

    @staticmethod
    def forget_pending(conn: Connection, keys: Sequence[str]) -> None:
        """Delete the kept bodies of `keys` (sources being removed)."""
        for i in range(0, len(keys), CHUNK):
            conn.execute(delete(s.pending_baselines).where(_P.source_key.in_(keys[i : i + CHUNK])))
