"""Volatile lines: what each page's polls taught about its short lines whose figures change
(table `volatile_lines`; the learning itself is `monitor.detect.volatile_lines`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from monitor.detect.volatile_lines import LineShape
from monitor.store import schema as s
from monitor.store.engine import Part


class VolatileLineRecords(Part):
    """The volatile_lines table."""

    def volatile_lines(self, key: str, conn: Connection | None = None) -> dict[str, LineShape]:
        """What the source's polls taught about its line shapes ({} when nothing yet)."""
        with self._tx(conn) as tx:
            raw = tx.execute(
                select(s.volatile_lines.c.shapes).where(s.volatile_lines.c.source_key == key)
            ).scalar()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
            return {
                str(shape): LineShape(int(changes), datetime.fromisoformat(seen))
                for shape, (changes, seen) in data.items()
            }
        except (ValueError, TypeError, AttributeError):
            # A damaged row only costs what was learned: the page learns it again.
            return {}

    def save_volatile_lines(
        self,
        key: str,
        shapes: Mapping[str, LineShape],
        now: datetime,
        conn: Connection | None = None,
    ) -> None:
        """Replace what is kept for the source's line shapes."""
        blob = json.dumps(
            {k: [v.changes, v.seen.isoformat()] for k, v in shapes.items()}, ensure_ascii=False
        )
        values = {"shapes": blob, "updated_at": now}
        table = s.volatile_lines
        with self._tx(conn) as tx:
            done = tx.execute(update(table).where(table.c.source_key == key).values(values))
            if not done.rowcount:
                tx.execute(insert(table).values(source_key=key, **values))
