"""Retention: forgetting what is older than the retention period, across every group of tables
(the one part that spans them all, since what may go depends on what still waits to be sent)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import Connection, Select, and_, delete, func, select

from monitor.store import schema as s
from monitor.store.engine import CHUNK, Part
from monitor.store.outages import prune_outages
from monitor.store.pending import PendingBaselineRecords


class Retention(Part):
    """Pruning and checkpoints."""

    def prune(
        self, now: datetime, retention_days: int, active: Iterable[str] | None = None
    ) -> dict[str, int]:
        """Forget what is older than the retention period: fingerprints (and the kept versions
        of those feed entries), delivered items and digests, page snapshots, spells of outages
        that ended, the claims of digest periods, and, when the configured sources are given as
        `active`, every row of a source
        that is no longer configured and was last polled before the period (re-added within it,
        a source keeps its baseline), its kept first-poll body included. A configured source's
        kept body is never pruned by age: it is the baseline its next change is measured against.
        Items that an undelivered digest holds are kept, and with them their source's row. Then
        the WAL is emptied.
        """
        cutoff = now - timedelta(days=retention_days)
        with self.engine.begin() as conn:
            seen_gone = conn.execute(delete(s.seen).where(s.seen.c.last_seen < cutoff)).rowcount
            # A feed entry's kept version goes with its fingerprint: an entry forgotten is new.
            v = s.entry_versions.c
            fingerprint = select(s.seen.c.fingerprint).where(
                s.seen.c.source_key == v.source_key, s.seen.c.fingerprint == v.passage_key
            )
            versions_gone = conn.execute(
                delete(s.entry_versions).where(~fingerprint.exists())
            ).rowcount
            # Items are kept while any digest that contains one of their matches is undelivered.
            old_items = select(s.items.c.id).where(
                and_(s.items.c.first_seen < cutoff, s.items.c.id.not_in(_undelivered_items()))
            )
            items_gone = self._delete_items(conn, old_items)
            old_digests = select(s.digests.c.id).where(
                s.digests.c.created_at < cutoff, s.digests.c.status != "pending"
            )
            conn.execute(
                delete(s.digest_matches).where(s.digest_matches.c.digest_id.in_(old_digests))
            )
            conn.execute(delete(s.digests).where(s.digests.c.id.in_(old_digests)))
            snapshots_gone = conn.execute(
                delete(s.page_snapshots).where(s.page_snapshots.c.updated_at < cutoff)
            ).rowcount
            conn.execute(delete(s.volatile_lines).where(s.volatile_lines.c.updated_at < cutoff))
            sources_gone = 0
            if active is not None:
                sources_gone = self._forget_removed(conn, cutoff, set(active))
            outages_gone = prune_outages(conn, cutoff)
            # A period's claim only keeps two workers from making one digest twice, and a
            # digest job is only ever for its channel's latest scheduled time: older claims go,
            # but that one stays whatever its age (a monthly digest, a shorter retention).
            dp, later = s.digest_periods, s.digest_periods.alias("later")
            latest = (
                select(func.max(later.c.period))
                .where(later.c.channel == dp.c.channel, later.c.kind == dp.c.kind)
                .scalar_subquery()
            )
            periods_gone = conn.execute(
                delete(dp).where(dp.c.period < cutoff, dp.c.period < latest)
            ).rowcount
        self.checkpoint()
        return {
            "fingerprints": seen_gone,
            "items": items_gone,
            "snapshots": snapshots_gone,
            "entry_versions": versions_gone,
            "sources": sources_gone,
            "outages": outages_gone,
            "digest_periods": periods_gone,
        }

    @staticmethod
    def _delete_items(conn: Connection, ids: Select[tuple[int]]) -> int:
        """Delete the items `ids` selects, with their matches and claims."""
        old_matches = select(s.matches.c.id).where(s.matches.c.item_id.in_(ids))
        conn.execute(delete(s.digest_matches).where(s.digest_matches.c.match_id.in_(old_matches)))
        conn.execute(delete(s.matches).where(s.matches.c.id.in_(old_matches)))
        return conn.execute(delete(s.items).where(s.items.c.id.in_(ids))).rowcount

    def _forget_removed(self, conn: Connection, cutoff: datetime, active: set[str]) -> int:
        """Delete the rows of sources not in `active` whose last poll (or, never polled, whose
        last state change) is older than `cutoff`; return how many sources went."""
        c = s.sources.c
        gone = []
        for key, polled, since in conn.execute(select(c.key, c.last_polled_at, c.state_since)):
            last = polled or since
            if key not in active and (last is None or last < cutoff):
                gone.append(key)
        count = 0
        for i in range(0, len(gone), CHUNK):
            chunk = gone[i : i + CHUNK]
            conn.execute(delete(s.seen).where(s.seen.c.source_key.in_(chunk)))
            conn.execute(delete(s.page_snapshots).where(s.page_snapshots.c.source_key.in_(chunk)))
            conn.execute(delete(s.volatile_lines).where(s.volatile_lines.c.source_key.in_(chunk)))
            conn.execute(delete(s.entry_versions).where(s.entry_versions.c.source_key.in_(chunk)))
            PendingBaselineRecords.forget_pending(conn, chunk)
            self._delete_items(
                conn,
                select(s.items.c.id).where(
                    s.items.c.source_key.in_(chunk), s.items.c.id.not_in(_undelivered_items())
                ),
            )
            has_items = select(s.items.c.id).where(s.items.c.source_key == c.key).exists()
            count += conn.execute(delete(s.sources).where(c.key.in_(chunk), ~has_items)).rowcount
        return count

    def checkpoint(self) -> None:
        """Copy the WAL into the database and empty the WAL file (after a prune's deletions,
        which go through the WAL). Waits for readers up to the busy timeout; a checkpoint that
        cannot finish now is simply done at the next one."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _undelivered_items() -> Select[tuple[int]]:
    """The ids of items that a digest still waiting to be sent contains."""
    return (
        select(s.matches.c.item_id)
        .join(s.digest_matches, s.digest_matches.c.match_id == s.matches.c.id)
        .join(s.digests, s.digests.c.id == s.digest_matches.c.digest_id)
        .where(s.digests.c.status == "pending")
    )
