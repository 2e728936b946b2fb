"""An extractor that finds more text re-reports nothing: paragraphs an older extractor missed on
a page whose body did not change are recorded, not reported (issue 15's upgrade rule)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.source_kinds import SOURCE_KINDS
from monitor.store import Store
from monitor.store.migrations import LATEST
from tests.conftest import ContentServer
from tests.test_pipeline import cycle, make, page_sources, settle

PARAGRAPHS = [
    "Der Stadtrat hat den Nothaushalt am Abend um weitere drei Monate verlängert.",
    "Die Opposition kritisierte, dass die Sanierung der Schulen erneut verschoben werde.",
    "Der Kämmerer rechnet mit Mehrkosten von rund vier Millionen Euro im kommenden Jahr.",
    "Eine Entscheidung über den Haushalt des nächsten Jahres soll im Februar fallen.",
]


def council_page(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<!doctype html><html lang='de'><head><title>Kurier: Nothaushalt verlängert</title>"
        "</head><body><nav><a href='/'>Kurier</a> <a href='/stadt'>Stadt</a></nav><main>"
        f"<article><h1>Nothaushalt verlängert</h1>{body}</article></main>"
        "<footer>© Kurier · Impressum</footer></body></html>"
    )


def db(tmp_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(tmp_path / "state" / "monitor.db")


async def test_upgrade_records_what_the_old_extractor_missed_and_reports_only_real_changes(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/rat", council_page(PARAGRAPHS))
    config = make(tmp_path, page_sources(srv, "/rat"))
    store = Store(config.state_dir)
    assert (await cycle(config, store)).last.deferred == 1  # type: ignore[attr-defined]
    assert await settle(config, store) == 1  # the baseline, taken as the daemon does
    version = SOURCE_KINDS["page"].EXTRACTOR
    with db(tmp_path) as conn:
        assert conn.execute("SELECT extractor FROM sources").fetchall() == [(version,)]
        assert conn.execute("SELECT count(*) FROM seen").fetchone() == (len(PARAGRAPHS),)
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (LATEST,)
        # The state an older extractor left: it had found one paragraph of the four, and the
        # migration gave the source no extractor version.
        conn.execute("UPDATE sources SET extractor = NULL")
        conn.execute("DELETE FROM seen WHERE fingerprint <> (SELECT min(fingerprint) FROM seen)")
    store = Store(config.state_dir)

    # The first poll after the upgrade: the same body. Fetched in full (the server would have
    # answered 304), its unseen paragraphs only recorded.
    requests = len(srv.requests)
    last = (await cycle(config, store)).last  # type: ignore[attr-defined]
    assert "If-None-Match" not in srv.requests[requests][1]
    assert last.new_passages == 0
    assert last.baseline == len(PARAGRAPHS) - 1
    with db(tmp_path) as conn:
        assert conn.execute("SELECT extractor FROM sources").fetchall() == [(version,)]
        assert conn.execute("SELECT count(*) FROM seen").fetchone() == (len(PARAGRAPHS),)

    # Polls after that are conditional again, and a real edit is the only new paragraph.
    requests = len(srv.requests)
    assert (await cycle(config, store)).last.not_modified == 1  # type: ignore[attr-defined]
    assert "If-None-Match" in srv.requests[requests][1]
    edited = [*PARAGRAPHS[:3], PARAGRAPHS[3].replace("Februar", "März")]
    srv.set("/rat", council_page(edited))
    last = (await cycle(config, store)).last  # type: ignore[attr-defined]
    assert last.new_passages == 1
    assert last.baseline == 0


async def test_upgrade_with_a_changed_body_reports_the_change(
    tmp_path: Path, content_server: ContentServer
) -> None:
    """A page that changed since the last poll of the old extractor is polled as usual: its
    new paragraph must not be swallowed by the upgrade (what the old extractor missed cannot
    be told from it then; that is the cost)."""
    srv = content_server
    srv.set("/rat", council_page(PARAGRAPHS[:3]))
    config = make(tmp_path, page_sources(srv, "/rat"))
    store = Store(config.state_dir)
    await cycle(config, store)
    await settle(config, store)  # the baseline an older release took at the first poll
    with db(tmp_path) as conn:
        conn.execute("UPDATE sources SET extractor = NULL")
    store = Store(config.state_dir)
    srv.set("/rat", council_page(PARAGRAPHS))
    last = (await cycle(config, store)).last  # type: ignore[attr-defined]
    assert last.new_passages == 1
    assert last.baseline == 0
