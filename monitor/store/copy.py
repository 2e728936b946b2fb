"""Move a state from SQLite to PostgreSQL (`monitor copy-state`): every table, row for row, in
one transaction on the target, so that a copy cut short leaves the target as empty as it was
and can simply be run again. A target that already holds state is refused, never merged into:
two histories of the same sources would report old text again or lose what was new."""

from __future__ import annotations

from sqlalchemy import Connection, func, select, text

from monitor.store import schema as s
from monitor.store.faults import StateError
from monitor.store.store import Store

# Rows per statement: bounded memory however large the state is.
COPY_CHUNK = 1000


class TargetNotEmpty(StateError):
    """The target database already holds state: refused."""

    kind = "not empty"


def table_counts(store: Store) -> dict[str, int]:
    """Rows per table (schema_version aside): what a copy moved, or whether a state is empty."""
    with store.engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in s.metadata.sorted_tables
            if t is not s.schema_version
        }


def copy_state(source: Store, target: Store) -> dict[str, int]:
    """Copy every row of `source` into the empty `target` (both migrated to the same schema
    version when opened); return the rows copied per table. TargetNotEmpty if it is not empty."""
    held = {name: n for name, n in table_counts(target).items() if n}
    if held:
        what = ", ".join(f"{n} {name}" for name, n in sorted(held.items()))
        raise TargetNotEmpty(
            target.where,
            f"already holds state ({what})",
            "copy into a new, empty database; nothing was changed",
        )
    copied: dict[str, int] = {}
    with source.engine.connect() as src, target.engine.begin() as dst:
        # Parents before children (sorted_tables follows the foreign keys).
        for table in s.metadata.sorted_tables:
            if table is s.schema_version:
                continue
            rows = src.execution_options(yield_per=COPY_CHUNK).execute(select(table))
            count = 0
            for chunk in rows.partitions():
                dst.execute(table.insert(), [dict(r._mapping) for r in chunk])
                count += len(chunk)
            copied[table.name] = count
        _restart_sequences(dst)
    return copied


def _restart_sequences(conn: Connection) -> None:
    """Continue each id sequence after the copied ids: rows were inserted with their ids, which
    leaves PostgreSQL's sequences at their start (the next item would collide)."""
    if conn.dialect.name != "postgresql":
        return
    for table in s.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"coalesce(max({column.name}), 0) + 1, false) FROM {table.name}"
                    )
                )
