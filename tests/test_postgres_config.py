"""Choosing PostgreSQL: the DSN from config.toml, MONITOR_DATABASE_URL or its _FILE; a password
in the file, a URL of another kind or a server that cannot be reached each give one line naming
where and what to do (never the password); the real CLI, run in a subprocess."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import free_port
from tests.local_config import NO_SEEDS
from tests.test_end_to_end import monitor


def config(tmp_path: Path, state: str = "") -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'{NO_SEEDS}\n[state]\n{state}\n[topics.kursk]\nquery = "Kursk"\n', encoding="utf-8"
    )
    return cfg


def test_a_password_in_config_toml_is_refused(tmp_path: Path) -> None:
    cfg = config(tmp_path, 'database_url = "postgresql://monitor:hunter2@db.example:5432/m"')
    run = monitor(cfg, "check")
    assert run.returncode == 2
    [line] = run.stderr.strip().splitlines()
    assert "state.database_url" in line and "MONITOR_DATABASE_URL" in line
    assert "hunter2" not in line


def test_not_a_postgres_url_is_refused(tmp_path: Path) -> None:
    cfg = config(tmp_path, 'database_url = "mysql://db.example/m"')
    run = monitor(cfg, "check")
    assert run.returncode == 2 and "expected a PostgreSQL URL" in run.stderr
    env = {"MONITOR_DATABASE_URL": "sqlite:///x.db"}
    bad_env = monitor(config(tmp_path), "sources", env=env)
    assert bad_env.returncode == 2
    assert bad_env.stderr.strip().splitlines() == [
        "error: (environment): MONITOR_DATABASE_URL: expected a PostgreSQL URL, "
        "postgresql://USER@HOST:PORT/DATABASE (leave it unset for SQLite under [state] path)"
    ]


def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    secret = tmp_path / "db-url"
    secret.write_text(f"postgresql://monitor:hunter2@127.0.0.1:{port}/monitor\n")
    run = monitor(config(tmp_path), "once", env={"MONITOR_DATABASE_URL_FILE": str(secret)})
    assert run.returncode == 4, run.stderr
    [line] = run.stderr.strip().splitlines()
    assert line.startswith(f"error: postgresql://monitor:***@127.0.0.1:{port}/monitor: ")
    assert "cannot reach the database" in line and "check that PostgreSQL runs" in line
    assert "hunter2" not in run.stderr + run.stdout


def test_the_dsn_in_config_toml_is_used(tmp_path: Path, pg_url: str) -> None:
    """A DSN without a password (the test server trusts local connections) in the file."""
    from sqlalchemy.engine import make_url

    assert not make_url(pg_url).password  # else this test would put a password in the file
    cfg = config(tmp_path, f'database_url = "{pg_url}"')
    run = monitor(cfg, "sources", "--json")
    assert run.returncode == 0, run.stderr
    assert not (tmp_path / "state" / "monitor.db").exists()  # nothing written to SQLite
