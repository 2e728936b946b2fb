"""The only stage that keeps state: `Store`, the parts (one per group of tables) on one
engine, opened, checked and migrated at start.

Each part is usable on its own with an engine and has a narrow interface in
`monitor.store.interfaces`, which a second backend can implement part by part.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, text

from monitor.store.archive import ArchiveRecords
from monitor.store.claims import DEFAULT_LEASE, worker_name
from monitor.store.digests import DigestRecords, OutboxEntry, new_digest_id
from monitor.store.engine import DB_NAME, WAL_SIZE_LIMIT, create_database, open_engine, utcnow
from monitor.store.faults import (
    check_contents,
    check_file,
    contents_checked_at,
    forget_closed,
    mark_closed,
    os_fault,
)
from monitor.store.items import ItemRecords
from monitor.store.migrations import migrate
from monitor.store.outages import OutageRecords
from monitor.store.passages import PassageRecords
from monitor.store.pending import PendingBaselineRecords, PendingBody
from monitor.store.postgres import open_pg_engine, shown
from monitor.store.retention import Retention
from monitor.store.sources import FetchRecord, SourceRecords, SourceState
from monitor.store.volatile_lines import VolatileLineRecords

PROBE_BYTES = 256 * 1024  # written and removed to tell that the state folder has room again

__all__ = [
    "DB_NAME",
    "WAL_SIZE_LIMIT",
    "FetchRecord",
    "OutboxEntry",
    "PendingBody",
    "SourceState",
    "Store",
    "new_digest_id",
    "utcnow",
]


class Store(
    SourceRecords,
    PassageRecords,
    PendingBaselineRecords,
    VolatileLineRecords,
    ItemRecords,
    DigestRecords,
    OutageRecords,
    Retention,
    ArchiveRecords,
):
    """Every part of the state on one engine, for callers that use several of them."""

    def __init__(
        self,
        state_dir: Path,
        database_url: str | None = None,
        *,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        """The state under `state_dir` (SQLite), or in the PostgreSQL database `database_url`,
        where workers' claims on sources and digests hold for `lease` unless renewed."""
        self.path = state_dir / DB_NAME
        self.database_url = database_url
        self.where = shown(database_url) if database_url else str(self.path)
        self._checked = time.time()  # when the SQLite file's contents were last found sound
        if database_url:
            self.engine = open_pg_engine(database_url)
        else:
            # Checked before SQLite touches the file: it would turn an empty one into a new
            # database.
            if not check_file(self.path):
                create_database(state_dir)
            elif (checked := contents_checked_at(self.path)) is not None:
                self._checked = checked  # as a clean close left it: see contents_checked_at
            else:
                check_contents(self.path)
            forget_closed(self.path)
            self.engine = open_engine(state_dir)
        try:
            self.version = migrate(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        super().__init__(self.engine)
        self.worker = worker_name()
        self.lease = lease

    def claim_due(self, keys: Sequence[str], now: datetime) -> set[str]:
        """The sources of `keys` due at `now` that this process is to poll: all of them on
        SQLite; on PostgreSQL a batch this worker claims (`monitor.store.claims`)."""
        return self.claim_sources(keys, now) if self.shared else self.due(keys, now)

    def claim_pending(self, now: datetime, channel: str | None = None) -> list[OutboxEntry]:
        """The queued digests due at `now` that this process is to deliver: all of them on
        SQLite; on PostgreSQL those this worker claims, which no other worker then sends."""
        entries = self.pending(now, channel)
        if not self.shared:
            return entries
        mine = set(self.claim_outbox_ids(now, channel))
        return [e for e in entries if e.id in mine]

    def close(self) -> None:
        self.engine.dispose()
        if not self.shared:
            mark_closed(self.path, self._checked)

    def probe_write(self) -> None:
        """Prove that a commit reaches the disk again (after a state fault): rewrite the newest
        schema_version row as it is, after writing a scratch file next to it (SQLite may reuse
        room its log already has on a full disk). Raises StateError while the fault lasts."""
        if self.shared:  # no state folder to fill: the server's disk is its own
            with self.engine.begin() as conn:
                conn.execute(text("UPDATE schema_version SET applied_at = applied_at"))
            return
        try:
            with tempfile.TemporaryFile(dir=self.path.parent, prefix=".probe-") as fh:
                fh.write(bytes(PROBE_BYTES))
                fh.flush()
        except OSError as exc:
            raise os_fault(exc, self.path.parent) or exc from None
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE schema_version SET applied_at = applied_at "
                    "WHERE version = (SELECT max(version) FROM schema_version)"
                )
            )

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(1)).scalar() == 1


if TYPE_CHECKING:
    from monitor.store import interfaces as i

    def _implements(
        store: Store,
    ) -> tuple[
        i.SourceStore,
        i.PassageStore,
        i.PendingBaselineStore,
        i.VolatileLineStore,
        i.ItemStore,
        i.DigestStore,
        i.RetentionStore,
        i.Transactions,
        i.ArchiveStore,
    ]:
        """Never called: the type checker proves here that Store implements every interface."""
        return store, store, store, store, store, store, store, store, store
