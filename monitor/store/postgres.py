"""PostgreSQL as the state database: its engine (psycopg 3), the faults it maps to StateError,
and the few statements whose SQL differs between the two backends.

SQLite stays the default; a DSN (`[state] database_url` or MONITOR_DATABASE_URL) selects this
backend. TLS is libpq's: `sslmode`, `sslrootcert`, `sslcert` and `sslkey` in the DSN's query are
passed to the driver as they are.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, ExceptionContext, make_url

from monitor.store.faults import StateDamaged, StateError, StateUnwritable

DRIVER = "postgresql+psycopg"
# Connections per process: the poller writes from one thread, the web status page reads.
POOL_SIZE = 4
RETRY_ADVICE = (
    "check that PostgreSQL runs and that [state] database_url (or MONITOR_DATABASE_URL) names "
    "it; a running daemon retries by itself, a command can simply be run again"
)


def engine_url(dsn: str) -> URL:
    """The SQLAlchemy URL of a libpq-style DSN (postgresql://, postgres://), on psycopg 3."""
    url = make_url(dsn.replace("postgres://", "postgresql://", 1))
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {shown(dsn)}")
    return url.set(drivername=DRIVER)


def shown(dsn: str) -> str:
    """The DSN as logs and errors may show it: without its password."""
    try:
        return make_url(dsn).render_as_string(hide_password=True)
    except Exception:  # an unparsable DSN: say nothing of what it holds
        return "the PostgreSQL database"


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def open_pg_engine(dsn: str) -> Engine:
    """The engine of a PostgreSQL state database. Lost connections are noticed before use
    (`pool_pre_ping`), so a restarted server costs one failed check, not a failed poll."""
    where = shown(dsn)
    engine = create_engine(
        engine_url(dsn), pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_SIZE
    )

    @event.listens_for(engine, "handle_error")
    def _state_fault(ctx: ExceptionContext) -> None:
        # An unreachable or full server becomes one StateError naming the database (never its
        # password) and what to do; the daemon then waits and retries, as for a full disk.
        fault = pg_fault(ctx.original_exception, where)
        if fault is not None:
            raise fault from ctx.original_exception

    return engine


def pg_fault(exc: BaseException, where: str) -> StateError | None:
    """The state fault a psycopg error stands for (None: a programming error, raised as is)."""
    import psycopg

    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.errors.DiskFull):
        return StateUnwritable(where, f"the database server's disk is full: {first}", RETRY_ADVICE)
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return StateUnwritable(
            where,
            f"the database user may not do this: {first}",
            "grant the user ownership of the database (it creates and alters its tables)",
        )
    if isinstance(exc, psycopg.errors.DataCorrupted):
        return StateDamaged(where, f"the database reports damage: {first}", RETRY_ADVICE)
    if isinstance(exc, psycopg.errors.TransactionRollback):
        # A deadlock or serialization failure with another worker's transaction (two daily
        # prunes at once, say): nothing of it was committed, and trying again later succeeds.
        return StateUnwritable(
            where,
            f"a transaction collided with another worker's: {first}",
            "nothing was written; a running daemon retries by itself",
        )
    if isinstance(exc, psycopg.OperationalError) and not isinstance(
        exc, psycopg.errors.LockNotAvailable | psycopg.errors.QueryCanceled
    ):
        return StateUnwritable(where, f"cannot reach the database: {first}", RETRY_ADVICE)
    return None


def insert_new(conn: Connection | Engine, table: Table) -> Any:
    """An INSERT that leaves an existing row (same key) as it is: several workers may add the
    same source or channel at once, and the second must not fail."""
    dialect = postgresql if is_postgres(conn) else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def lock_key(name: str) -> Any:
    """A statement taking a transaction-scoped advisory lock on `name` (PostgreSQL only): what
    several workers must do one at a time (migrations, making a channel's digest)."""
    return text("SELECT pg_advisory_xact_lock(hashtext(:name))").bindparams(name=name)
