"""Work shared by several workers on one PostgreSQL database: which worker polls a due source,
delivers a queued digest, or makes a channel's scheduled digest.

Sources and queued digests are claimed with `SELECT … FOR UPDATE SKIP LOCKED` on a lease: the
claim names the worker and holds until `lease_until`, which a live worker renews (the daemon's
heartbeat). A worker killed mid-poll or mid-delivery stops renewing; once its lease has passed,
the next worker to look takes that work over (a delivery cut mid-send is thus sent again once,
under the same id). Lease times come from the database's clock, so workers on several hosts
need not agree on the time. A scheduled digest is claimed by a row per channel, kind and time
(`digest_periods`), inserted in the transaction that queues the digest.

On SQLite there is one process (the state folder's lock): `Store` asks for no claims there, so
the single-process behaviour is exactly what it was.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Connection,
    String,
    any_,
    bindparam,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from monitor.store import schema as s
from monitor.store.engine import Part
from monitor.store.postgres import insert_new, is_postgres

# Due sources one claim takes at most: a worker takes a share and comes back for more, so that
# others started meanwhile get their part of a large backlog.
CLAIM_BATCH = 200
DEFAULT_LEASE = timedelta(seconds=120)


def worker_name() -> str:
    """This process as claims name it: host and pid (what ops look for), made unique."""
    host = socket.gethostname()[:32]
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _db_now() -> object:
    """The database's clock as a naive UTC timestamp (how the timestamp columns store time)."""
    return func.timezone("UTC", func.now())


class Claims(Part):
    """Leases on sources and queued digests, and the digest period claims."""

    worker: str = ""
    lease: timedelta = DEFAULT_LEASE

    @property
    def shared(self) -> bool:
        """Whether other workers may share this database (PostgreSQL)."""
        return is_postgres(self.engine)

    def _until(self) -> object:
        return _db_now() + literal(self.lease)

    def claim_sources(
        self, keys: Sequence[str], now: datetime, limit: int = CLAIM_BATCH
    ) -> set[str]:
        """The sources of `keys` due at `now` that this worker is to poll (PostgreSQL): at most
        `limit` of them, each claimed for the lease; sources another worker holds are skipped
        (not waited for), and a claim whose lease passed is taken over."""
        c = s.sources.c
        wanted = bindparam("keys", list(keys), type_=ARRAY(String))
        due = (
            select(c.key)
            .where(
                c.key == any_(wanted),
                or_(c.next_check_at.is_(None), c.next_check_at <= now),
                or_(c.lease_until.is_(None), c.lease_until < _db_now()),
            )
            .order_by(c.next_check_at.asc().nulls_first())
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with self.engine.begin() as conn:
            got = conn.execute(
                update(s.sources)
                .where(c.key.in_(due.scalar_subquery()))
                .values(claimed_by=self.worker, lease_until=self._until())
                .returning(c.key)
            )
            return set(got.scalars())

    def renew_claims(self) -> int:
        """Extend this worker's leases (it is alive); return how many it holds."""
        if not self.shared:
            return 0
        held = 0
        with self.engine.begin() as conn:
            for table in (s.sources, s.digests):
                held += conn.execute(
                    update(table)
                    .where(table.c.claimed_by == self.worker, table.c.lease_until.is_not(None))
                    .values(lease_until=self._until())
                ).rowcount
        return held

    def release_claims(self) -> None:
        """Give up every lease of this worker (a clean stop): others need not wait them out."""
        if not self.shared:
            return
        with self.engine.begin() as conn:
            for table in (s.sources, s.digests):
                conn.execute(
                    update(table)
                    .where(table.c.claimed_by == self.worker)
                    .values(claimed_by=None, lease_until=None)
                )

    def claim_outbox_ids(self, now: datetime, channel: str | None = None) -> list[str]:
        """The queued digests due at `now` that this worker is to deliver, each claimed for the
        lease (PostgreSQL). Its own claims count as free: one it holds but did not send (queued
        between reading the outbox and claiming) would otherwise stay held while it lives."""
        c = s.digests.c
        due = (
            select(c.id)
            .where(
                c.status == "pending",
                c.next_attempt_at <= now,
                or_(
                    c.lease_until.is_(None),
                    c.lease_until < _db_now(),
                    c.claimed_by == self.worker,
                ),
            )
            .with_for_update(skip_locked=True)
        )
        if channel:
            due = due.where(c.channel == channel)
        with self.engine.begin() as conn:
            got = conn.execute(
                update(s.digests)
                .where(c.id.in_(due.scalar_subquery()))
                .values(claimed_by=self.worker, lease_until=self._until())
                .returning(c.id)
            )
            return list(got.scalars())

    def release_digest(self, digest_id: str) -> None:
        """Give up this worker's claim on one queued digest it will not send now (its channel is
        not in this worker's config): another worker may send it meanwhile."""
        if not self.shared:
            return
        c = s.digests.c
        with self.engine.begin() as conn:
            conn.execute(
                update(s.digests)
                .where(c.id == digest_id, c.claimed_by == self.worker)
                .values(claimed_by=None, lease_until=None)
            )

    def claim_period(
        self, conn: Connection, channel: str, kind: str, period: datetime, now: datetime
    ) -> bool:
        """Claim the digest of `channel` at the scheduled time `period`, in the caller's
        transaction (the one that queues it): False when another worker has made it. A second
        worker waits here until the first commits (then False) or dies (then True)."""
        # RETURNING, not rowcount: with DO NOTHING the driver's rowcount is not to be trusted.
        inserted = conn.execute(
            insert_new(conn, s.digest_periods)
            .values(
                channel=channel,
                kind=kind,
                period=period.astimezone(UTC),
                claimed_by=self.worker or "this process",
                claimed_at=now,
            )
            .returning(s.digest_periods.c.channel)
        ).first()
        return inserted is not None
