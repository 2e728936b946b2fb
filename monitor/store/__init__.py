"""State: SQLite (WAL) under state/, through SQLAlchemy Core, with migrations at start."""

from monitor.store.migrations import SchemaTooNew
from monitor.store.store import OutboxEntry, SourceState, Store, new_digest_id, utcnow

__all__ = ["OutboxEntry", "SchemaTooNew", "SourceState", "Store", "new_digest_id", "utcnow"]
