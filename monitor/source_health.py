"""Source health read straight from the SQLite state file for `monitor sources`, without the
store's machinery: importing SQLAlchemy and opening the store (migrations, checks) costs more
than the rest of the command. Anything unusual (another schema version, a damaged or locked
file, no read access) returns None, and the command opens the full store instead, which
migrates or reports the fault in its one clear line."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from monitor.models import SourceHealth

# The schema this release writes (`monitor.store.migrations.LATEST`; a test keeps them equal):
# an older file needs migrating and a newer one refusing, both the store's job.
SCHEMA_VERSION = 12


def _when(value: str | None) -> datetime | None:
    # SQLAlchemy keeps UTC datetimes in SQLite as naive ISO text.
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None


def read_health(db: Path) -> list[SourceHealth] | None:
    """Every source's health in the SQLite state `db` (read-only), or None when the store must
    open it itself."""
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except (sqlite3.Error, OSError):
        return None
    try:
        (version,) = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        if version != SCHEMA_VERSION:
            return None
        rows = conn.execute(
            "SELECT key, name, url, state, state_since, last_error FROM sources ORDER BY name"
        ).fetchall()
        kept = {k for (k,) in conn.execute("SELECT source_key FROM pending_baselines")}
        return [
            SourceHealth(k, n, u, st, _when(since), err, k in kept)
            for k, n, u, st, since, err in rows
        ]
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        conn.close()
