"""The outbox: digests rendered and waiting (or given up), the matches each one claimed, and
when each channel last ran."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, insert, select, update

from monitor.models import Digest, Match, RenderedDigest, SourceHealth
from monitor.store import schema as s
from monitor.store.archive import Indexer, archive_digest
from monitor.store.claims import Claims
from monitor.store.outages import claim_outages
from monitor.store.postgres import insert_new, is_postgres, lock_key

# Outbox retry schedule for deliveries, in seconds (then the last value repeats).
RETRY_SCHEDULE = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)


@dataclass(slots=True)
class OutboxEntry:
    id: str
    channel: str
    kind: str
    attempts: int
    rendered: RenderedDigest
    created_at: datetime


class DigestRecords(Claims):
    """The digests, digest_matches and channel_runs tables."""

    def create_digest(
        self,
        channel: str,
        kind: str,
        build: Callable[[list[Match]], Digest | None],
        render: Callable[[Digest], RenderedDigest],
        select_matches: Callable[..., list[Match]],
        now: datetime,
        *,
        payload_only: bool = False,
        index: Indexer | None = None,
        period: datetime | None = None,
    ) -> tuple[Digest, RenderedDigest] | None:
        """Claim the unclaimed matches, render the digest and queue it, all in one transaction.

        If the process dies before the commit nothing is claimed; after it, the outbox holds the
        rendered digest and it will be sent (again, with the same id) until delivery succeeds.
        With `payload_only` (webhook channels) only the matches the payload carries are claimed;
        those a size limit left out wait for the channel's next digest. The outages and
        recoveries the digest tells of are claimed with it (every format carries them all).
        What it claims is copied into the archive, its text indexed by `index`.

        Several workers (PostgreSQL) make a channel's digests one at a time, each seeing what
        the one before claimed; `period`, the scheduled time, is claimed in this transaction
        too: None is returned when another worker made that time's digest already. A time
        with nothing to queue is not claimed.
        """
        with self.engine.connect() as conn, conn.begin() as tx:
            if is_postgres(conn):
                conn.execute(lock_key(f"digest:{channel}:{kind}"))
            if period is not None and not self.claim_period(conn, channel, kind, period, now):
                return None
            found = select_matches(conn=conn)
            digest = build(found)
            if digest is None:
                # Nothing to queue (e.g. only suppressed matches): the period stays unclaimed,
                # so that a worker whose poll brings real matches for it still makes its digest.
                tx.rollback()
                return None
            rendered = render(digest)
            claimed = digest.match_ids
            if payload_only and rendered.payload_ids is not None:
                claimed = [*digest.ids_for(rendered.payload_ids), *digest.suppressed]
            conn.execute(
                insert(s.digests).values(
                    id=digest.id,
                    channel=channel,
                    kind=kind,
                    created_at=now,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    subject=rendered.subject,
                    body_text=rendered.text,
                    body_html=rendered.html,
                    payload=rendered.payload,
                    item_count=len(claimed),
                )
            )
            if claimed:
                conn.execute(
                    insert(s.digest_matches),
                    [
                        {"channel": channel, "kind": kind, "match_id": m, "digest_id": digest.id}
                        for m in claimed
                    ],
                )
            claim_outages(conn, channel, digest.id, digest.outages)
            if is_postgres(conn):
                # Other channels' digests (other workers) may archive the same matches now:
                # one at a time, each sees what the one before added (one report per match).
                # Taken after the channel's lock, always in this order: no deadlock.
                conn.execute(lock_key("archive"))
            archive_digest(conn, digest, claimed, now, index)
            self._ran(conn, channel, kind, now)
        return digest, rendered

    def _ran(self, conn: Connection, channel: str, kind: str, now: datetime) -> None:
        """Record a channel's digest or alert time, creating its row if it has none yet."""
        values = {"last_digest_at": now} if kind == "digest" else {"last_alert_at": now}
        done = conn.execute(
            update(s.channel_runs).where(s.channel_runs.c.channel == channel).values(**values)
        ).rowcount
        if not done:
            conn.execute(insert_new(conn, s.channel_runs).values(channel=channel, **values))

    def sync_channels(self, channels: Iterable[str], now: datetime) -> None:
        """Note when each configured channel was first seen: it gets matches found since then,
        not the whole history kept in the store."""
        with self.engine.begin() as conn:
            known = set(conn.execute(select(s.channel_runs.c.channel)).scalars())
            for name in channels:
                if name not in known:  # another worker may add it at the same time
                    row = {"channel": name, "started_at": now}
                    conn.execute(insert_new(conn, s.channel_runs).values(**row))

    def channel_run(self, channel: str) -> tuple[datetime | None, datetime | None]:
        """When the channel's last digest and last alert were made (None: never)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.channel_runs).where(s.channel_runs.c.channel == channel)
            ).first()
        return (row.last_digest_at, row.last_alert_at) if row else (None, None)

    def touch_channel(self, channel: str, now: datetime) -> None:
        """Note a scheduled digest time that produced nothing to send."""
        with self.engine.begin() as conn:
            self._ran(conn, channel, "digest", now)

    def pending(self, now: datetime, channel: str | None = None) -> list[OutboxEntry]:
        query = (
            select(s.digests)
            .where(s.digests.c.status == "pending", s.digests.c.next_attempt_at <= now)
            .order_by(s.digests.c.created_at)
        )
        if channel:
            query = query.where(s.digests.c.channel == channel)
        with self.engine.connect() as conn:
            return [
                OutboxEntry(
                    r.id,
                    r.channel,
                    r.kind,
                    r.attempts,
                    RenderedDigest(r.subject, r.body_text, r.body_html, r.payload),
                    r.created_at,
                )
                for r in conn.execute(query)
            ]

    def delivered(self, digest_id: str, detail: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(s.digests)
                .where(s.digests.c.id == digest_id)
                .values(
                    status="sent",
                    sent_at=now,
                    detail=detail,
                    attempts=s.digests.c.attempts + 1,
                    last_error=None,
                    claimed_by=None,
                    lease_until=None,
                )
            )

    def delivery_failed(
        self, digest_id: str, error: str, now: datetime, *, permanent: bool = False
    ) -> datetime | None:
        """Record a failed attempt; return the retry time (None: given up, kept as failed)."""
        with self.engine.begin() as conn:
            attempts = (
                conn.execute(
                    select(s.digests.c.attempts).where(s.digests.c.id == digest_id)
                ).scalar_one()
                + 1
            )
            delay = RETRY_SCHEDULE[min(attempts - 1, len(RETRY_SCHEDULE) - 1)]
            retry_at = None if permanent else now + timedelta(seconds=delay)
            conn.execute(
                update(s.digests)
                .where(s.digests.c.id == digest_id)
                .values(
                    attempts=attempts,
                    last_error=error,
                    status="failed" if permanent else "pending",
                    next_attempt_at=retry_at or now,
                    claimed_by=None,
                    lease_until=None,
                )
            )
        return retry_at

    def outbox(self, limit: int = 50) -> list[dict]:
        """Recent digests and their delivery state, newest first (for `monitor status` and web)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    s.digests.c.id,
                    s.digests.c.channel,
                    s.digests.c.kind,
                    s.digests.c.status,
                    s.digests.c.created_at,
                    s.digests.c.sent_at,
                    s.digests.c.attempts,
                    s.digests.c.last_error,
                    s.digests.c.item_count,
                    s.digests.c.detail,
                )
                .order_by(s.digests.c.created_at.desc())
                .limit(limit)
            ).mappings()
            return [dict(r) for r in rows]

    def dead_deliveries(self, since: datetime) -> list[SourceHealth]:
        """Digests given up on since `since`, shaped like unhealthy sources for the digest.

        Only the channel and the time: the error text can name hosts, variables or a receiver's
        reply, which other channels' readers need not see (it is on the status page and in logs).
        """
        query = (
            select(s.digests.c.channel, func.min(s.digests.c.created_at), func.count())
            .where(s.digests.c.status == "failed", s.digests.c.created_at >= since)
            .group_by(s.digests.c.channel)
            .order_by(s.digests.c.channel)
        )
        with self.engine.connect() as conn:
            return [
                SourceHealth(
                    key=f"channel:{channel}",
                    name=f"delivery to channel {channel}",
                    url="",
                    state="undelivered",
                    since=first,
                    last_error=f"{count} digest(s) could not be delivered; see the status page",
                )
                for channel, first, count in conn.execute(query)
            ]

    def outbox_depth(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(s.digests).where(s.digests.c.status == "pending")
            ).scalar_one()


def new_digest_id() -> str:
    return f"dg_{uuid.uuid4().hex}"
