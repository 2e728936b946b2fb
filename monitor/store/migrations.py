"""Schema migrations, applied in order at start, each in its own transaction.

A migration is a function of a connection. Version 1 creates the tables as `schema.py` defines them
today; later versions alter what exists, so an old `state/` folder is upgraded in place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, Table, inspect, literal, select, text

from monitor.store import schema
from monitor.store.faults import StateDamaged
from monitor.store.postgres import is_postgres


def _v1_initial(conn: Connection) -> None:
    tables = [t for name, t in schema.metadata.tables.items() if name != "schema_version"]
    schema.metadata.create_all(conn, tables=tables)


def _v2_edits(conn: Connection) -> None:
    """Keep each page's last paragraphs, and what an edited paragraph replaced."""
    # Idempotent: a database created at version 1 by a newer schema.py already has both.
    schema.page_snapshots.create(conn, checkfirst=True)
    if "previous" not in {c["name"] for c in inspect(conn).get_columns("items")}:
        conn.execute(text("ALTER TABLE items ADD COLUMN previous TEXT"))


def _v3_channel_start(conn: Connection) -> None:
    """Remember when each channel was first configured."""
    if "started_at" not in {c["name"] for c in inspect(conn).get_columns("channel_runs")}:
        conn.execute(text("ALTER TABLE channel_runs ADD COLUMN started_at DATETIME"))


def _v4_entry_keys(conn: Connection) -> None:
    """Feed entries without an id are no longer keyed by their link alone (nor by a title with
    markup): mark every feed with a baseline to be moved to the new keys on its next poll."""
    schema.rekey_pending.create(conn, checkfirst=True)
    sources = schema.sources.c
    conn.execute(
        schema.rekey_pending.insert().from_select(
            ["source_key", "since"],
            select(sources.key, literal(datetime.now(UTC), schema.UTCDateTime())).where(
                sources.kind == "feed", sources.baseline_done.is_(True)
            ),
        )
    )


def _v5_volatile_lines(conn: Connection) -> None:
    """Keep what each page taught about its volatile lines (counters, tickers)."""
    schema.volatile_lines.create(conn, checkfirst=True)


def _v6_outages(conn: Connection) -> None:
    """Record each source's spells of being unreadable, and which channel was told of each."""
    schema.source_outages.create(conn, checkfirst=True)
    schema.outage_notices.create(conn, checkfirst=True)


def _v7_entry_edits(conn: Connection) -> None:
    """Keep a version of every feed entry so that its edits are found, and link an edited
    entry's report to its first. Feeds polled before have no versions yet: their next poll only
    records them, so the upgrade reports nothing again."""
    schema.entry_versions.create(conn, checkfirst=True)
    columns = {c["name"] for c in inspect(conn).get_columns("items")}
    if "revises" not in columns:
        conn.execute(text("ALTER TABLE items ADD COLUMN revises INTEGER"))
    if "previous_title" not in columns:
        conn.execute(text("ALTER TABLE items ADD COLUMN previous_title TEXT"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_items_revises ON items (revises)"))


def _v8_extraction_recall(conn: Connection) -> None:
    """Keep which page extractor recorded each source's passages. Existing sources get none
    (NULL): their next poll, by a newer extractor, records the paragraphs it newly finds."""
    if "extractor" not in {c["name"] for c in inspect(conn).get_columns("sources")}:
        conn.execute(text("ALTER TABLE sources ADD COLUMN extractor INTEGER"))


def _v9_feedback(conn: Connection) -> None:
    """Keep the analysts' feedback: "not relevant" marks and mutes (`monitor.feedback`)."""
    schema.feedback.create(conn, checkfirst=True)  # with its index


def _v10_archive(conn: Connection) -> None:
    """Keep an archive of every reported match, with a full-text index (SQLite: FTS5;
    PostgreSQL: GIN). What was reported before the upgrade is not copied: its items may be pruned
    already."""
    schema.archive.create(conn, checkfirst=True)
    if conn.dialect.name == "sqlite":
        from monitor.store.archive_fts import create_index

        create_index(conn)
    elif conn.dialect.name == "postgresql":
        from monitor.store.archive_pg import create_index as create_gin_index

        create_gin_index(conn)


def _add_column(conn: Connection, table: Table, name: str) -> None:
    """Add a column of `table` as schema.py defines it, in this database's own type name."""
    if name not in {c["name"] for c in inspect(conn).get_columns(table.name)}:
        kind = table.c[name].type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}"))


def _v11_workers(conn: Connection) -> None:
    """Let several workers share one PostgreSQL database: leases on sources and queued digests,
    and one claim per channel and scheduled digest time."""
    for table in (schema.sources, schema.digests):
        _add_column(conn, table, "claimed_by")
        _add_column(conn, table, "lease_until")
    schema.digest_periods.create(conn, checkfirst=True)


def _v12_pending_baselines(conn: Connection) -> None:
    """Keep a source's first poll unparsed until its baseline is needed (the deferred baseline).
    Sources polled before have their baseline already: nothing to move."""
    schema.pending_baselines.create(conn, checkfirst=True)


MIGRATIONS: list[Callable[[Connection], None]] = [
    _v1_initial,
    _v2_edits,
    _v3_channel_start,
    _v4_entry_keys,
    _v5_volatile_lines,
    _v6_outages,
    _v7_entry_edits,
    _v8_extraction_recall,
    _v9_feedback,
    _v10_archive,
    _v11_workers,
    _v12_pending_baselines,
]
LATEST = len(MIGRATIONS)


class SchemaTooNew(StateDamaged):
    """A database written by a newer release: refused, never migrated backwards."""


def migrate(engine: Engine) -> int:
    """Bring the database to the latest version; return the version it is at."""
    if not is_postgres(engine):
        return _migrate(engine)
    # Several workers starting at once: one migrates, the others wait for it, then find the
    # database at the latest version. A session lock: each version commits on its own.
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(hashtext('monitor:migrate'))"))
        holder.commit()
        try:
            return _migrate(engine)
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(hashtext('monitor:migrate'))"))
            holder.commit()


def _migrate(engine: Engine) -> int:
    with engine.begin() as conn:
        if not inspect(conn).has_table("schema_version"):
            schema.schema_version.create(conn)
        current = (
            conn.execute(
                select(schema.schema_version.c.version).order_by(
                    schema.schema_version.c.version.desc()
                )
            ).scalar()
            or 0
        )
    if current > LATEST:
        raise SchemaTooNew(
            engine.url.database or "state database",
            f"the state database is at schema version {current}, newer than this program "
            f"({LATEST})",
            "upgrade source-monitor or restore a backup of state/",
        )
    for version in range(current + 1, LATEST + 1):
        with engine.begin() as conn:
            MIGRATIONS[version - 1](conn)
            conn.execute(
                schema.schema_version.insert().values(version=version, applied_at=datetime.now(UTC))
            )
    return LATEST
