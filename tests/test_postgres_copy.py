"""`monitor copy-state`: an existing SQLite state (the one release 0.1.0 wrote) moved to a real
PostgreSQL database by the real CLI, then polled there: nothing old is reported again, new text
is, and a second copy into the filled database is refused without changing it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from monitor.store import Store
from monitor.store import schema as s
from monitor.store.copy import table_counts
from tests.conftest import ContentServer
from tests.test_end_to_end import monitor
from tests.test_state_faults import _damage_unseen
from tests.test_upgrade_keys import DATA, NEW_ENTRY, RSS, old_state, with_items


def titles(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(s.items.c.title).order_by(s.items.c.id)).scalars())


def test_sqlite_state_copied_to_postgres_reports_only_what_is_new(
    tmp_path: Path, content_server: ContentServer, pg_url: str
) -> None:
    cfg = old_state(tmp_path, content_server.base)
    sqlite_counts = table_counts(Store(tmp_path / "state"))
    assert sqlite_counts["seen"] > 0 and sqlite_counts["items"] == 1

    copied = monitor(cfg, "copy-state", "--to", pg_url)
    assert copied.returncode == 0, copied.stderr
    assert "copied" in copied.stdout and f"{sqlite_counts['seen']} seen" in copied.stdout
    target = Store(tmp_path / "state", pg_url)
    assert table_counts(target) == sqlite_counts
    assert titles(target) == ["Troops cross the border at dawn"]

    # Polled on PostgreSQL (the DSN from the environment): the feed 0.1.0 saw plus one entry.
    env = {"MONITOR_DATABASE_URL": pg_url}
    seen_by_0_1_0 = (DATA / "feed-2.xml").read_bytes()
    content_server.set("/feed.xml", with_items(seen_by_0_1_0, NEW_ENTRY), RSS)
    first = monitor(cfg, "once", env=env)
    assert first.returncode == 0, first.stderr
    assert "1 new passages (0 baseline)" in first.stdout, first.stdout
    # The new item got an id after the copied ones (the sequences continue after the copy).
    assert titles(target) == ["Troops cross the border at dawn", "More troops reach the port"]

    # A second copy would merge two histories: refused, exit 2, the target left as it was.
    before = table_counts(target)
    again = monitor(cfg, "copy-state", "--to", pg_url)
    assert again.returncode == 2
    assert "already holds state" in again.stderr and "nothing was changed" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert table_counts(target) == before
    target.close()


def test_copy_state_needs_a_postgres_target(tmp_path: Path, content_server: ContentServer) -> None:
    cfg = old_state(tmp_path, content_server.base)
    run = monitor(cfg, "copy-state", "--to", "sqlite:///elsewhere.db")
    assert run.returncode == 2
    assert run.stderr.startswith("error: --to: expected a PostgreSQL URL")
    none = monitor(cfg, "copy-state")
    assert none.returncode == 2 and "give --to DSN" in none.stderr


def test_copy_state_checks_every_page_before_it_copies(
    tmp_path: Path, content_server: ContentServer, pg_url: str
) -> None:
    # The copy becomes the state of record: a file SQLite would call damaged is refused, even
    # where the clean close's mark would have spared the check and the damage is on a page a
    # copy never reads (an index).
    cfg = old_state(tmp_path, content_server.base)
    assert monitor(cfg, "sources").returncode == 0  # a clean close of this release: marked
    db = tmp_path / "state" / "monitor.db"
    assert Path(f"{db}.closed").exists()
    _damage_unseen(db, "ix_seen_last_seen")
    copied = monitor(cfg, "copy-state", "--to", pg_url)
    assert copied.returncode == 4, (copied.stdout, copied.stderr)
    assert copied.stderr.startswith(f"error: {db}: the database is damaged (quick_check")
    assert len(copied.stderr.strip().splitlines()) == 1
    target = Store(tmp_path / "state", pg_url)
    assert not any(table_counts(target).values())
    target.close()
