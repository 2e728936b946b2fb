"""The archive of what was reported: written when a digest is made (real CLI over a local feed),
kept when retention prunes items, searched with the topics' folding, filtered, as JSON; the
migration on a state of an older release."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.inbox.search_keys import index, parse_query
from monitor.models import Evidence, Match
from monitor.store import Store
from monitor.store.archive import ArchiveQuery, QueryError, archive_matches
from monitor.store.migrations import LATEST
from tests.conftest import REPO, ContentServer
from tests.local_config import LOOPBACK_HTTP, NO_SEEDS
from tests.test_end_to_end import monitor, rss

OLD = [("old-1", "Fußball: Bayern schlägt Dortmund", "Ein spätes Tor entschied das Spiel.")]
GERMAN = (
    "de-1",
    "Pjöngjang schickt weitere Soldaten",
    "Die Truppenentsendung aus Pjöngjang nach Kursk geht weiter: 3.000 Soldaten an der Straße "
    "nach Sudscha, meldet der Geheimdienst.",
)
ENGLISH = (
    "en-1",
    "More North Korean troops reach Kursk",
    "Another 2,000 North Korean troops reached Kursk by train, officials in Seoul said.",
)

CONFIG = """
{loopback}
{no_seeds}
[[sources]]
name = "Wire"
url = "{url}"
kind = "feed"

[channels.files]
kind = "file"
send_empty = false

[channels.copy]
kind = "file"
path = "copy"
send_empty = false

[topics.troops]
name = "Troops"
query = 'Kursk AND (troops OR Soldaten)'
{extra}"""


def _config(tmp_path: Path, srv: ContentServer, extra: str = "") -> Path:
    srv.set("/feed.xml", rss(OLD), "application/rss+xml; charset=utf-8")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        CONFIG.format(
            loopback=LOOPBACK_HTTP, no_seeds=NO_SEEDS, url=f"{srv.base}/feed.xml", extra=extra
        ),
        encoding="utf-8",
    )
    return cfg


def search(cfg: Path, *args: str) -> list[dict]:
    done = monitor(cfg, "search", *args, "--json")
    assert done.returncode == 0, done.stderr
    hits: list[dict] = json.loads(done.stdout)["hits"]
    return hits


def test_a_digest_archives_what_it_reports_and_the_archive_outlives_retention(
    tmp_path: Path, content_server: ContentServer
) -> None:
    cfg = _config(tmp_path, content_server)
    assert monitor(cfg, "once").returncode == 0
    content_server.set("/feed.xml", rss([GERMAN, ENGLISH, *OLD]), "application/rss+xml")
    polled = monitor(cfg, "once")
    assert polled.returncode == 0 and "troops: 2" in polled.stdout, polled.stdout
    # Matched but not reported yet: the archive holds only what a digest carried.
    assert search(cfg, "Kursk") == []
    sent = monitor(cfg, "digest")
    assert sent.returncode == 0, sent.stdout + sent.stderr

    # Both channels reported both matches: each is archived once.
    hits = search(cfg, "Kursk")
    assert len(hits) == 2
    german = search(cfg, "Pjongjang")
    assert [h["title"] for h in german] == [GERMAN[1]]
    hit = german[0]
    assert hit["topic"] == "troops" and hit["source_name"] == "Wire"
    assert hit["source_key"].endswith("/feed.xml") and isinstance(hit["item_id"], int)
    assert hit["url"] == "https://news.example.org/de-1" and hit["language"] == "de"
    assert "Kursk" in hit["evidence"]["terms"] and "Kursk" in hit["evidence"]["snippet"]
    assert hit["story"]["also_reported_by"] == []
    assert hit["update"] is False and hit["reported_at"] and hit["first_seen"]

    # Retention forgets the items and matches; the archive keeps what was reported.
    store = Store(tmp_path / "state")
    try:
        pruned = store.prune(datetime.now(UTC) + timedelta(days=400), 180)
    finally:
        store.close()
    assert pruned["items"] >= 2
    db = sqlite3.connect(tmp_path / "state" / "monitor.db")
    try:
        assert db.execute("SELECT count(*) FROM matches").fetchone() == (0,)
    finally:
        db.close()
    again = search(cfg, "Pjöngjang")
    assert [h["title"] for h in again] == [GERMAN[1]]
    assert again[0]["text"] == GERMAN[2]


def _match(
    mid: int,
    text: str,
    *,
    title: str = "",
    topic: str = "troops",
    source: str = "Wire",
    language: str = "de",
    seen: datetime | None = None,
) -> Match:
    when = seen or datetime(2026, 11, 20, 8, tzinfo=UTC)
    return Match(
        id=mid,
        topic=topic,
        score=1.0,
        evidence=Evidence(("x",), "x", text[:40], ((0, 1),)),
        source_key=f"https://{source.lower()}.example.org/feed",
        source_name=source,
        title=title or None,
        link=f"https://{source.lower()}.example.org/{mid}",
        text=text,
        language=language,
        published=None,
        first_seen=when,
        item_id=1000 + mid,
    )


@pytest.fixture
def archive(tmp_path: Path) -> Store:
    store = Store(tmp_path / "state")
    day = datetime(2026, 9, 1, tzinfo=UTC)
    rows = [
        (1, "Pjöngjang entsendet Truppen nach Russland.", "de", "troops", "Wire"),
        (2, "Pjoengjang bestreitet die Berichte über Soldaten.", "de", "troops", "Agentur"),
        (3, "Truppenentsendung: an der Straße nach Kursk gesehen.", "de", "troops", "Wire"),
        (4, "North Korean troops were seen near Kursk.", "en", "troops", "Herald"),
        (5, "The panel of experts reported on sanctions evasion.", "en", "sanctions", "Herald"),
        (6, "Sanktionsregime gegen Nordkorea verschärft; Artikel 4 des Vertrags zitiert.", "de",
         "sanctions", "Agentur"),
        (7, "Ein Café in Zürich: nichts über Truppen, nur über Kaffee.", "de", "troops", "Wire"),
    ]  # fmt: skip
    for i, (mid, text, lang, topic, source) in enumerate(rows):
        with store.transaction() as conn:
            archive_matches(
                conn,
                [_match(mid, text, topic=topic, source=source, language=lang)],
                day + timedelta(days=10 * i),
                index,
            )
    return store


def ids(store: Store, text: str = "", **filters: object) -> list[int]:
    query = ArchiveQuery(parse_query(text) if text else None, **filters)  # type: ignore[arg-type]
    return [h.match_id for h in store.search_archive(query)]


def test_search_folds_as_the_topics_do(archive: Store) -> None:
    # Umlauts both ways, ß = ss, case; newest report first.
    assert ids(archive, "Pjongjang") == [2, 1]
    assert ids(archive, "PJÖNGJANG") == [2, 1]
    assert ids(archive, "pjoengjang") == [2, 1]
    assert ids(archive, "Strasse") == [3]
    assert ids(archive, "STRAßE") == [3]
    assert ids(archive, "Cafe zurich") == [7]
    # Inflections (lemmas) and German compounds the dictionary splits.
    assert ids(archive, "Soldat") == [2]
    assert ids(archive, "Truppe") == [7, 3, 1]
    assert ids(archive, "Entsendung") == [3]
    assert ids(archive, "Sanktion") == [6]
    assert ids(archive, "troop") == [4]
    # Phrases, prefixes, OR, exclusion, treaty articles, hyphenation.
    assert ids(archive, '"panel of experts"') == [5]
    assert ids(archive, '"experts panel"') == []
    assert ids(archive, "sanktion*") == [6]
    assert ids(archive, "Kursk OR Nordkorea") == [6, 4, 3]
    assert ids(archive, "Truppe -Kaffee") == [3, 1]
    assert ids(archive, "art:4") == [6]
    assert ids(archive, "Nord-Korea") == [6]
    # Query syntax is never FTS5 syntax: quotes, colons and operators are plain words.
    assert ids(archive, 'NEAR(" troops') == [4]
    assert ids(archive, "troops:*") == [4]


def test_search_filters(archive: Store) -> None:
    assert ids(archive, "Kursk", topic="troops") == [4, 3]
    assert ids(archive, topic="sanctions") == [6, 5]
    assert ids(archive, source="Herald") == [5, 4]
    assert ids(archive, source="herald") == [5, 4]
    assert ids(archive, source="https://agentur.example.org/feed") == [6, 2]
    assert ids(archive, "Kursk", language="en") == [4]
    since = datetime(2026, 9, 20, tzinfo=UTC)
    until = datetime(2026, 10, 21, tzinfo=UTC)
    assert ids(archive, since=since, until=until) == [5, 4, 3]
    assert ids(archive, "Truppe", since=since) == [7, 3]
    assert ids(archive, limit=2) == [7, 6]


def test_a_query_without_anything_to_find_is_refused() -> None:
    for query in ("-Kaffee", "   ", "* ?", "a*"):
        with pytest.raises(QueryError):
            parse_query(query)


def test_the_archive_keeps_its_own_time(archive: Store) -> None:
    gone = archive.prune_archive(datetime(2026, 10, 25, tzinfo=UTC), 30)
    assert gone == 3
    assert ids(archive) == [7, 6, 5, 4]
    assert ids(archive, "Pjongjang") == []
    assert ids(archive, "Truppe") == [7]


def test_search_on_the_command_line(tmp_path: Path, content_server: ContentServer) -> None:
    cfg = _config(tmp_path, content_server)
    store = Store(tmp_path / "state")
    try:
        with store.transaction() as conn:
            archive_matches(
                conn,
                [
                    _match(1, "Pjöngjang schickt Truppen nach Kursk.", title="Truppen"),
                    _match(2, "North Korean troops reach Kursk.", language="en", source="Herald"),
                ],
                datetime(2026, 11, 20, 9, tzinfo=UTC),
                index,
            )
    finally:
        store.close()
    hits = search(cfg, "kursk", "--lang", "en")
    assert [h["source_name"] for h in hits] == ["Herald"]
    hits = search(cfg, "pjongjang", "--since", "2026-11-20", "--until", "2026-11-20")
    assert [h["item_id"] for h in hits] == [1001]
    assert search(cfg, "pjongjang", "--until", "2026-11-19") == []
    assert len(search(cfg, "--topic", "troops")) == 2
    text = monitor(cfg, "search", "Kursk", "--source", "Herald")
    assert text.returncode == 0 and "[troops] Herald" in text.stdout and "1 hit(s)" in text.stdout

    for args, said in (
        (["Kursk", "--since", "20.11.2026"], "--since '20.11.2026' is not a date"),
        (["Kursk", "--until", "yesterday"], "--until 'yesterday' is not a date"),
        (["Kursk", "--topic", "nope"], "--topic 'nope': no such topic; known: troops"),
        (["--", "-Kursk"], "nothing to search for"),
        (["Kursk", "--since", "2026-11-21", "--until", "2026-11-20"], "is not before"),
    ):
        done = monitor(cfg, "search", *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and said in lines[0], lines


def test_keep_days_is_checked(tmp_path: Path, content_server: ContentServer) -> None:
    cfg = _config(tmp_path, content_server, "\n[archive]\nkeep_days = 0\n")
    done = monitor(cfg, "check")
    assert done.returncode == 2 and "archive.keep_days" in done.stderr
    cfg = _config(tmp_path, content_server, "\n[archive]\nkeep_days = 365\n")
    assert monitor(cfg, "check").returncode == 0


def test_the_migration_works_on_the_state_of_an_older_release(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(REPO / "tests" / "data" / "state-v0.1.0" / "monitor.db", state / "monitor.db")
    store = Store(state)
    try:
        assert store.version == LATEST
        assert ids(store) == []
        with store.transaction() as conn:
            archive_matches(conn, [_match(1, "Truppen in Kursk.")], datetime.now(UTC), index)
        assert ids(store, "Truppe") == [1]
    finally:
        store.close()
    # Opened again: the migration is not run twice, the index still answers.
    store = Store(state)
    try:
        assert ids(store, "kursk") == [1]
    finally:
        store.close()


def test_an_update_is_archived_with_what_it_replaced(
    tmp_path: Path, content_server: ContentServer
) -> None:
    first = (
        "edit-1",
        "Pentagon: 10,000 North Korean troops now in Kursk",
        "The Pentagon said about 10,000 North Korean troops have moved into the Kursk region.",
    )
    revised = (
        "edit-1",
        "Pentagon: 12,000 North Korean troops now in Kursk",
        "The Pentagon said about 12,000 North Korean troops have moved into the Kursk region. "
        "Pyongyang denied that any of its soldiers were in Russia.",
    )
    cfg = _config(tmp_path, content_server)
    assert monitor(cfg, "once").returncode == 0
    for entry in (first, revised):
        content_server.set("/feed.xml", rss([entry, *OLD]), "application/rss+xml")
        assert monitor(cfg, "once").returncode == 0
        sent = monitor(cfg, "digest")
        assert sent.returncode == 0, sent.stdout + sent.stderr
    hits = search(cfg, "Kursk")
    assert [(h["title"], h["update"]) for h in hits] == [(revised[1], True), (first[1], False)]
    assert hits[0]["previous_title"] == first[1]
    assert search(cfg, "Pyongyang denied") == hits[:1]


def test_odd_queries_are_refused_in_one_line_or_searched(archive: Store) -> None:
    """Whatever a reader types is either refused with a QueryError or runs: nothing of it
    reaches the full-text engine as syntax (a lone "_" once made an empty term)."""
    odd = ["_", "__ Kursk", ")_", '"_"', '"', '""', "OR", "Kursk OR", "OR Kursk", "*", "x:y",
           "(", "{a}", "^", "NOT", "AND Kursk", "art:", "\u00ad", "½", "日本", "a_b", "-", "--x",
           'Kursk -"_"', "Kursk " * 40]  # fmt: skip
    for query in odd:
        try:
            words = parse_query(query)
        except QueryError as exc:
            assert "\n" not in str(exc)
            continue
        archive.search_archive(ArchiveQuery(words))
    assert ids(archive, "__ Kursk") == ids(archive, "Kursk") == [4, 3]
