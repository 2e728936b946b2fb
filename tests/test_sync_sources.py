"""Syncing the configured sources into the store at every start: new ones inserted, changed ones
refreshed, and unchanged ones left alone, in a few statements whatever their number (one per
source cost a second at 10,000 sources). On both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from monitor.models import Source
from monitor.store import Store


def source(i: int, name: str | None = None, refused: str | None = None) -> Source:
    url = f"https://site{i}.example/feed"
    return Source(
        key=url,
        url=url,
        kind="feed",
        name=name or f"Site {i}",
        interval_seconds=600,
        origin="config",
        refused=refused,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    st = Store(tmp_path / "state", url)
    yield st
    st.close()


class Writes:
    """The INSERT and UPDATE statements the store sends (each executemany counts once), and
    the rows they changed."""

    def __init__(self, store: Store) -> None:
        self.statements: list[str] = []
        self.rows = 0
        event.listen(store.engine, "after_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE"):
            self.statements.append(verb)
            self.rows += max(cursor.rowcount, 0)

    def clear(self) -> None:
        self.statements.clear()
        self.rows = 0


def rows(store: Store) -> dict[str, tuple[str, str]]:
    return {h.key: (h.name, h.state) for h in store.health()}


def test_unchanged_sources_are_not_written_again(store: Store) -> None:
    sources = [source(i) for i in range(300)]
    sources.append(source(300, refused="not http(s)"))
    writes = Writes(store)
    store.sync_sources(sources)
    assert len(writes.statements) <= 3  # the inserts go together
    assert len(rows(store)) == 301
    assert rows(store)[sources[300].key] == ("Site 300", "refused")

    writes.clear()
    store.sync_sources(sources)  # the next start, same config: nothing to write
    assert writes.rows == 0
    assert len(writes.statements) <= 1  # only the check that the state can be written

    # Two renamed, one added: only those are written, still in a few statements.
    renamed = [source(i, name="Renamed") if i in (5, 7) else s for i, s in enumerate(sources)]
    writes.clear()
    store.sync_sources([*renamed, source(301)])
    assert 1 <= len(writes.statements) <= 3
    assert writes.rows == 3
    after = rows(store)
    assert after[sources[5].key] == ("Renamed", "new") and after[sources[7].key][0] == "Renamed"
    assert after[sources[6].key][0] == "Site 6"
    assert after[source(301).key] == ("Site 301", "new")


def test_a_source_listed_twice_or_synced_by_two_workers_is_one_row(store: Store) -> None:
    store.sync_sources([source(1), source(1, name="Second")])
    assert rows(store) == {source(1).key: ("Site 1", "new")}
    # Another worker starting at the same time syncs the same sources: no error, no copy.
    store.sync_sources([source(1), source(2)])
    store.sync_sources([source(2)])
    assert set(rows(store)) == {source(1).key, source(2).key}
