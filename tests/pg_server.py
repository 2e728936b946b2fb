"""A real PostgreSQL server for the tests: the one MONITOR_TEST_POSTGRES_URL names, or one the
test session starts itself from the `pgserver` wheel (bundled binaries, runs as root too), in a
temporary folder removed at the end. Each test gets a database of its own on it."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV = "MONITOR_TEST_POSTGRES_URL"


@contextmanager
def postgres_server() -> Iterator[str]:
    """The base DSN of a running server (its maintenance database)."""
    if url := os.environ.get(ENV):
        yield url
        return
    # Short: the server's Unix socket lives in this folder (socket paths are at most 107 bytes).
    folder = Path(tempfile.mkdtemp(prefix="pgt", dir="/tmp"))
    # pgserver asks platformdirs for a private runtime folder, which warns when none is set.
    (folder / "run").mkdir(mode=0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(folder / "run"))
    import pgserver

    server = pgserver.get_server(folder / "db", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def with_database(base: str, name: str) -> str:
    """`base` with its database replaced by `name` (the query, e.g. the socket host, kept)."""
    from sqlalchemy.engine import make_url

    return make_url(base).set(database=name).render_as_string(hide_password=False)


def admin(base: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    import psycopg

    from monitor.store.postgres import engine_url

    url = engine_url(base)
    params = {
        "host": url.query.get("host") or url.host,
        "port": url.port,
        "user": url.username,
        "password": url.password or None,
        "dbname": url.database,
    }
    with psycopg.connect(autocommit=True, **{k: v for k, v in params.items() if v}) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@contextmanager
def fresh_database(base: str) -> Iterator[str]:
    """A new, empty database on the server for one test; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin(base, f"CREATE DATABASE {name}")
    try:
        yield with_database(base, name)
    finally:
        admin(base, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
