"""State: SQLite (WAL) under state/, or PostgreSQL shared by several workers (`[state]
database_url`), through SQLAlchemy Core, with migrations at start."""

from monitor.store.faults import StateDamaged, StateError, StateUnwritable
from monitor.store.migrations import SchemaTooNew
from monitor.store.store import FetchRecord, OutboxEntry, SourceState, Store, new_digest_id, utcnow

__all__ = [
    "FetchRecord",
    "OutboxEntry",
    "SchemaTooNew",
    "SourceState",
    "StateDamaged",
    "StateError",
    "StateUnwritable",
    "Store",
    "new_digest_id",
    "utcnow",
]
