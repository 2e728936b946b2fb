"""The state database itself: its engine (SQLite pragmas, faults mapped to StateError), its
creation, and `Part`, the base every group of tables shares: one engine, one way to join a
caller's transaction."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext

from monitor.store import schema as s
from monitor.store.faults import os_fault, sqlite_fault, write_fault
from monitor.store.migrations import migrate

DB_NAME = "monitor.db"
# What a checkpoint leaves of the WAL file, in bytes (SQLite checkpoints at about 4 MB of WAL).
WAL_SIZE_LIMIT = 4 * 2**20
# Keys or sources per statement (SQLite limits the number of bound parameters).
CHUNK = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


def open_engine(state_dir: Path, file_name: str = DB_NAME) -> Engine:
    """The engine of the state database (`file_name`: another file, errors still name the
    database)."""
    path = state_dir / DB_NAME
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_fault(exc, state_dir) or exc from None
    engine = create_engine(f"sqlite:///{state_dir / file_name}", future=True)

    @event.listens_for(engine, "handle_error")
    def _state_fault(ctx: ExceptionContext) -> None:
        # A full disk, a read-only folder or a damaged file becomes one StateError naming the
        # path and what to do, wherever in the store it happens; other errors stay as they are.
        fault = sqlite_fault(ctx.original_exception, path)
        if fault is not None:
            raise fault from ctx.original_exception

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: object) -> None:
        cur = dbapi_conn.cursor()
        # WAL: readers never block the writer and a crash mid-write leaves the last commit intact.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        # 16 MB of page cache instead of 2 MB: inserting fingerprints into a large table
        # otherwise rereads the same index pages from the OS for every source.
        cur.execute("PRAGMA cache_size=-16384")
        # A checkpoint reuses the WAL file from its start but never shrinks it: without a limit
        # it stays as large as the largest burst of writes it ever held.
        cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        cur.close()

    return engine


def create_database(state_dir: Path) -> None:
    """Make a new state database whole or not at all: built under a temporary name, linked into
    place once it holds every table. A first start that fails half-way (a full disk) thus never
    leaves an empty or partial monitor.db behind, which the next start would have to refuse."""
    final = state_dir / DB_NAME
    tmp = f".{DB_NAME}.new-{os.getpid()}"
    parts = [state_dir / f"{tmp}{suffix}" for suffix in ("", "-wal", "-shm")]
    try:
        engine = open_engine(state_dir, tmp)
        try:
            migrate(engine)
            with engine.connect() as conn:
                # Everything into the file itself, so that the file alone carries it all.
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
        if parts[1].exists() and parts[1].stat().st_size:
            raise write_fault(final, "a new database could not be completed")
        try:
            os.link(parts[0], final)  # fails if another process made one meanwhile: use that
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            os.replace(parts[0], final)
    except OSError as exc:
        raise os_fault(exc, final) or exc from None
    finally:
        for part in parts:
            part.unlink(missing_ok=True)


class Part:
    """A group of tables on the shared engine. Writes take `conn` to join a caller's
    transaction (`transaction()`), so that several parts commit together."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        column = s.seen.c.first_seen.type
        assert isinstance(column, s.UTCDateTime)  # what the seen table's timestamps are
        to_db = dialect.type_descriptor(column.impl_instance).bind_processor(dialect)

        def stamp(when: datetime) -> object:
            """A datetime as the timestamp columns store it on this database."""
            value = column.process_bind_param(when, dialect)
            return to_db(value) if to_db is not None else value

        self._stamp = stamp

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction for several writes: all of a source's poll results commit together."""
        with self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def _tx(self, conn: Connection | None) -> Iterator[Connection]:
        # Inside a caller's transaction, write there; otherwise in a transaction of our own.
        if conn is not None:
            yield conn
        else:
            with self.engine.begin() as own:
                yield own
