"""Passages and fingerprints: the keys each source has had (table `seen`), the sources an
upgrade moves to new keys, each page's last paragraphs (its snapshot) and the version of each
feed entry its edits are measured against. What is new is decided by `monitor.detect`; this part
only reads what detect needs and records what it decided."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, insert, select, text, update

from monitor.store import schema as s
from monitor.store.engine import CHUNK, Part

_UPDATE_SNAPSHOT = update(s.page_snapshots).where(
    s.page_snapshots.c.source_key == bindparam("_key")
)
_INSERT_SNAPSHOT = insert(s.page_snapshots)
# The timestamp comes already converted for the database (`Part._stamp`).
_INSERT_SEEN = text(
    "INSERT INTO seen (source_key, fingerprint, first_seen, last_seen) VALUES (:s, :f, :t, :t)"
)


class PassageRecords(Part):
    """The seen, rekey_pending, page_snapshots and entry_versions tables."""

    # Sources waiting to move to new passage keys, read once (rows are only ever removed).
    _rekey: set[str] | None = None

    def rekey_pending(self, key: str, conn: Connection | None = None) -> bool:
        """Whether this source still waits to be moved to new passage keys (an upgrade)."""
        if self._rekey is None:
            with self._tx(conn) as tx:
                self._rekey = set(tx.execute(select(s.rekey_pending.c.source_key)).scalars())
        if key not in self._rekey:
            return False
        with self._tx(conn) as tx:
            row = tx.execute(
                select(s.rekey_pending.c.source_key).where(s.rekey_pending.c.source_key == key)
            ).first()
        if row is None:
            self._rekey.discard(key)  # moved by an earlier poll of this process
        return row is not None

    def known_keys(self, key: str, keys: Sequence[str], conn: Connection | None = None) -> set[str]:
        """Which of `keys` this source has had (reads only)."""
        known: set[str] = set()
        with self._tx(conn) as tx:
            for i in range(0, len(keys), CHUNK):
                chunk = keys[i : i + CHUNK]
                known.update(
                    tx.execute(
                        select(s.seen.c.fingerprint).where(
                            s.seen.c.source_key == key, s.seen.c.fingerprint.in_(chunk)
                        )
                    ).scalars()
                )
        return known

    def remember_passages(
        self,
        key: str,
        new_keys: Sequence[str],
        seen_keys: Sequence[str],
        now: datetime,
        conn: Connection | None = None,
        *,
        rekeyed: bool = False,
    ) -> None:
        """Record a poll's passages as detect sorted them (`monitor.detect.Novelty`): rows for
        `new_keys` first seen now, `seen_keys` seen again now; `rekeyed`: the source's move to
        new keys is done. Written in the same transaction as the items made of the passages,
        so a crash in between loses nothing (the passages are simply new again next time)."""
        with self._tx(conn) as tx:
            if rekeyed:
                # The cached set learns it at the next `rekey_pending`, once this has committed.
                tx.execute(delete(s.rekey_pending).where(s.rekey_pending.c.source_key == key))
            if new_keys:
                # Dozens of rows share one timestamp: converted once, not once per row and column.
                stamp = self._stamp(now)
                tx.execute(_INSERT_SEEN, [{"s": key, "f": k, "t": stamp} for k in new_keys])
            if seen_keys:
                tx.execute(
                    update(s.seen)
                    .where(s.seen.c.source_key == key, s.seen.c.fingerprint.in_(list(seen_keys)))
                    .values(last_seen=now)
                )

    def page_snapshot(self, key: str) -> list[str]:
        """The paragraphs a page had at its last poll ([] when unknown)."""
        with self.engine.connect() as conn:
            blob = conn.execute(
                select(s.page_snapshots.c.paragraphs).where(s.page_snapshots.c.source_key == key)
            ).scalar()
        return json.loads(zlib.decompress(blob)) if blob else []

    def save_page_snapshot(
        self,
        key: str,
        paragraphs: Sequence[str] | bytes,
        now: datetime,
        conn: Connection | None = None,
        *,
        first: bool = False,
    ) -> None:
        """Keep a page's paragraphs (to tell edits from new text next time), or bytes a parser
        process encoded them to (`monitor.detect.baseline.encode_snapshot`). `first`: the source
        has never been stored, so it has no snapshot to update."""
        if isinstance(paragraphs, bytes):
            blob = paragraphs
        else:
            blob = zlib.compress(json.dumps(list(paragraphs), ensure_ascii=False).encode(), 1)
        values = {"paragraphs": blob, "updated_at": now}
        with self._tx(conn) as conn:
            done = 0 if first else conn.execute(_UPDATE_SNAPSHOT, {"_key": key, **values}).rowcount
            if not done:
                conn.execute(_INSERT_SNAPSHOT, {"source_key": key, **values})

    def entry_versions(self, key: str, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        """The kept (title, text) of those of `keys` that this feed source has a version of."""
        c = s.entry_versions.c
        out: dict[str, tuple[str, str]] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(keys), CHUNK):
                chunk = list(keys[i : i + CHUNK])
                for passage_key, title, body in conn.execute(
                    select(c.passage_key, c.title, c.text).where(
                        c.source_key == key, c.passage_key.in_(chunk)
                    )
                ):
                    out[passage_key] = (title, body)
        return out

    def save_entry_versions(
        self,
        key: str,
        versions: Sequence[tuple[str, str, str]],
        now: datetime,
        conn: Connection | None = None,
        *,
        first: bool = False,
    ) -> None:
        """Keep (passage key, title, text) as the versions edits are measured against, replacing
        what was kept of those entries. `first`: the source has nothing kept yet."""
        if not versions:
            return
        c = s.entry_versions.c
        with self._tx(conn) as tx:
            if not first:
                keys = [v[0] for v in versions]
                for i in range(0, len(keys), CHUNK):
                    tx.execute(
                        delete(s.entry_versions).where(
                            c.source_key == key, c.passage_key.in_(keys[i : i + CHUNK])
                        )
                    )
            tx.execute(
                insert(s.entry_versions),
                [
                    {"source_key": key, "passage_key": k, "title": t, "text": x, "updated_at": now}
                    for k, t, x in versions
                ],
            )
