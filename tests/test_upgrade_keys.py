"""Upgrades re-report nothing: a state database written by release 0.1.0 (tests/data/
state-v0.1.0, see its README) is polled by this release through the real CLI, against the same
feed served by a local server, after the keys of guid-less feed entries changed."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import text

from monitor.models import Source
from monitor.store import Store
from tests.conftest import REPO, ContentServer
from tests.test_end_to_end import monitor

DATA = REPO / "tests" / "data" / "state-v0.1.0"
OLD_BASE = "http://127.0.0.1:46609"  # where make_state.py served the feed
RSS = "application/rss+xml; charset=utf-8"
# The config the state was made with, plus a topic that matches every entry, old and new alike.
CONFIG = (DATA / "config.toml.in").read_text(encoding="utf-8") + """
[topics.everything]
name = "Everything"
query = "update OR Hafen OR Schlagzeile OR harbour OR rail OR ferry OR budget OR storm"
"""
NEW_ENTRY = (
    "<item><title>More troops reach the port</title><link>https://news.example.org/a/9</link>"
    "<description>More troops reached the port overnight.</description></item>\n"
)
NEW_UPDATE = (
    "<item><title>Live update 17</title><link>https://news.example.org/live</link>"
    "<description>Update number 17 from the live coverage of the summit.</description></item>\n"
)


def old_state(tmp_path: Path, base: str) -> Path:
    """The 0.1.0 database in a fresh state folder, its source moved to this test's server."""
    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(DATA / "monitor.db", state / "monitor.db")
    with sqlite3.connect(state / "monitor.db") as db:
        db.execute("PRAGMA foreign_keys = OFF")
        for table, column in [
            ("sources", "key"),
            ("sources", "url"),
            ("seen", "source_key"),
            ("items", "source_key"),
        ]:
            db.execute(f"UPDATE {table} SET {column} = replace({column}, ?, ?)", (OLD_BASE, base))
    (tmp_path / "config.toml").write_text(CONFIG.format(base=base), encoding="utf-8")
    return tmp_path / "config.toml"


def with_items(feed: bytes, *items: str) -> bytes:
    """The feed with `items` first (newest first, as feeds are)."""
    declaration, channel, entries = feed.decode().split("\n", 2)
    return f"{declaration}\n{channel}\n{''.join(items)}{entries}".encode()


def items(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "state" / "monitor.db") as db:
        return [t for (t,) in db.execute("SELECT title FROM items ORDER BY id")]


def test_state_of_0_1_0_upgraded_reports_only_what_is_new(
    tmp_path: Path, content_server: ContentServer
) -> None:
    cfg = old_state(tmp_path, content_server.base)
    seen_by_0_1_0 = (DATA / "feed-2.xml").read_bytes()
    assert items(tmp_path) == ["Troops cross the border at dawn"]

    def pending() -> int:
        with sqlite3.connect(tmp_path / "state" / "monitor.db") as db:
            return db.execute("SELECT count(*) FROM rekey_pending").fetchone()[0]

    # The feed as 0.1.0 saw it last: unchanged (same body hash), nothing parsed, still to move.
    content_server.set("/feed.xml", seen_by_0_1_0, RSS)
    unchanged = monitor(cfg, "once")
    assert unchanged.returncode == 0, unchanged.stderr
    assert "1 unchanged" in unchanged.stdout and "0 new passages" in unchanged.stdout
    assert pending() == 1

    # The next poll that stores passages: the feed 0.1.0 saw, plus one new entry. The sixteen
    # live updates 0.1.0 kept under one key, and the titles it kept with markup, are not new.
    content_server.set("/feed.xml", with_items(seen_by_0_1_0, NEW_ENTRY), RSS)
    first = monitor(cfg, "once")
    assert first.returncode == 0, first.stderr
    assert "1 new passages (0 baseline)" in first.stdout, first.stdout
    assert items(tmp_path) == ["Troops cross the border at dawn", "More troops reach the port"]
    assert pending() == 0  # moved: from now on only the new keys count
    # Entries 0.1.0 saw get a kept version now, without being reported: their edits count
    # from here on (issue 14), and the upgrade reports none of them as edited.
    with sqlite3.connect(tmp_path / "state" / "monitor.db") as db:
        assert db.execute("SELECT count(*) FROM entry_versions").fetchone()[0] >= 17
        assert db.execute("SELECT count(*) FROM items WHERE revises IS NOT NULL").fetchone()[0] == 0

    # After the move, a new update under the shared link is new: identity is more than the link.
    content_server.set("/feed.xml", with_items(seen_by_0_1_0, NEW_UPDATE, NEW_ENTRY), RSS)
    second = monitor(cfg, "once")
    assert second.returncode == 0, second.stderr
    assert "1 new passages (0 baseline)" in second.stdout, second.stdout
    assert items(tmp_path)[-1] == "Live update 17"

    # Nothing is new twice.
    content_server.set(
        "/feed.xml", with_items(seen_by_0_1_0, NEW_UPDATE, NEW_ENTRY) + b"\n<!-- -->", RSS
    )
    third = monitor(cfg, "once")
    assert "0 new passages" in third.stdout, third.stdout

    with sqlite3.connect(tmp_path / "state" / "monitor.db") as db:
        assert db.execute("SELECT max(version) FROM schema_version").fetchone()[0] >= 4


def test_migration_marks_only_feeds_with_a_baseline(tmp_path: Path) -> None:
    """Pages keep their keys, and a feed never polled has nothing to move."""
    state = tmp_path / "state"
    store = Store(state)
    sources = [
        Source("https://a.example/feed", "https://a.example/feed", "feed", "a", 3600, "config"),
        Source("https://b.example/feed", "https://b.example/feed", "feed", "b", 3600, "config"),
        Source("https://c.example/page", "https://c.example/page", "page", "c", 3600, "config"),
    ]
    store.sync_sources(sources)
    with store.engine.begin() as conn:  # back to the schema 0.1.0 wrote
        conn.execute(
            text("UPDATE sources SET baseline_done = 1 WHERE key != :b"), {"b": sources[1].key}
        )
        conn.execute(text("DROP TABLE rekey_pending"))
        conn.execute(text("DELETE FROM schema_version WHERE version > 3"))
    store.close()
    upgraded = Store(state)
    try:
        with upgraded.engine.connect() as conn:
            marked = conn.execute(text("SELECT source_key FROM rekey_pending")).scalars().all()
        assert marked == ["https://a.example/feed"]
        # A fresh database has the table and nothing in it.
        fresh = Store(tmp_path / "fresh")
        with fresh.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM rekey_pending")).scalar() == 0
        fresh.close()
    finally:
        upgraded.close()
