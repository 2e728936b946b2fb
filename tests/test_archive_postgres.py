"""The archive on PostgreSQL: the same reports, archived through the real store on both backends,
are found by the same searches (folding, phrases, prefixes, OR, exclusion, filters, hostile
input); a digest archives on PostgreSQL and feedback on an archived item works there."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from monitor.feedback.records import FeedbackRecords
from monitor.feedback.suppress import Suppressor
from monitor.inbox.search_keys import index, parse_query
from monitor.models import Digest, Match, RenderedDigest
from monitor.store import Store, new_digest_id, utcnow
from monitor.store.archive import ArchiveQuery, QueryError, archive_matches
from monitor.store.archive_pg import INDEX
from monitor.store.migrations import LATEST
from tests.conftest import ContentServer
from tests.test_archive import ENGLISH, GERMAN, OLD, _config, _match
from tests.test_end_to_end import monitor, rss
from tests.test_store import _add, source

DAY = datetime(2026, 9, 1, tzinfo=UTC)
ROWS = [
    (1, "Pjöngjang entsendet Truppen nach Russland.", "de", "troops", "Wire"),
    (2, "Pjoengjang bestreitet die Berichte über Soldaten.", "de", "troops", "Agentur"),
    (3, "Truppenentsendung: an der Straße nach Kursk gesehen.", "de", "troops", "Wire"),
    (4, "North Korean troops were seen near Kursk.", "en", "troops", "Herald"),
    (5, "The panel of experts reported on sanctions evasion.", "en", "sanctions", "Herald"),
    (6, "Sanktionsregime gegen Nordkorea verschärft; Art. 4 Abs. 2 des Vertrags zitiert.", "de",
     "sanctions", "Agentur"),
    (7, "Ein Café in Zürich: nichts über Truppen, nur über Kaffee.", "de", "troops", "Wire"),
    (8, "Rund 3.000 Soldaten und 2,5 Prozent mehr: O'Brien sagt, a & b seien ½ so viel.", "de",
     "troops", "Herald"),
    (9, "Nord-Korea und 日本 verhandeln; the Süd-Korea talks stalled at Kursk.", "de",
     "sanctions", "Wire"),
]  # fmt: skip

# (query text, filters): each is run on both backends.
QUERIES: list[tuple[str, dict[str, Any]]] = [
    (q, {})
    for q in [
        "Pjongjang", "PJÖNGJANG", "pjoengjang", "Strasse", "STRAßE", "Cafe zurich", "Zürich",
        "Soldat", "Truppe", "Entsendung", "Sanktion", "troop", "Kursk",
        '"panel of experts"', '"experts panel"', '"Truppen nach Russland"', '"nach"',
        "sanktion*", "pjo*", "tru*", "Kursk OR Nordkorea", "Kursk OR Pjongjang -Truppe",
        "Truppe -Kaffee", "Truppe -Kaffee -Russland", '-"panel of experts" sanctions OR Kursk',
        "art:4", "art:4.2", "Nord-Korea", "Süd-Korea", "3000", "3.000", "2,5", "½", "日本",
        "O'Brien", "obrien", "brien",
        # tsquery's (and FTS5's) syntax is plain text here.
        "a & !b:* | (c", "Kursk OR !Tru:* OR (Caf' OR 'c\\", "Pjöng* & !Soldat:A | (",
        "'a' & 'b'", "a & b", "Kursk & !Pjongjang", "Kursk:A", "troops:*",
        'NEAR(" troops', "\\", "x'y", "Kursk <-> near", "!Kursk", "(Kursk | Zürich)",
        "Kursk'", "'", "''", '"\'"', "a\\'b", ":*", "&", "|", "Kursk -|",
    ]
] + [
    ("Kursk", {"topic": "troops"}),
    ("", {"topic": "sanctions"}),
    ("", {"source": "herald"}),
    ("Truppe OR troops", {"source": "https://wire.example.org/feed"}),
    ("Kursk", {"language": "en"}),
    ("", {"since": DAY + timedelta(days=20), "until": DAY + timedelta(days=61)}),
    ("Truppe", {"since": DAY + timedelta(days=20)}),
    ("", {"limit": 2}),
    ("Kursk OR Truppe", {"limit": 2}),
]  # fmt: skip

# Whatever a reader types either is refused in one line or runs (test_archive's odd list).
ODD = ["_", "__ Kursk", ")_", '"_"', '"', '""', "OR", "Kursk OR", "OR Kursk", "*", "x:y", "(",
       "{a}", "^", "NOT", "AND Kursk", "art:", "\u00ad", "a_b", "-", "--x", 'Kursk -"_"',
       "Kursk " * 40, "x" * 3000, "x" * 3000 + "*", '"Kursk ' + "y" * 3000 + '"']  # fmt: skip


def _fill(store: Store) -> None:
    for i, (mid, body, lang, topic, name) in enumerate(ROWS):
        with store.transaction() as conn:
            archive_matches(
                conn,
                [_match(mid, body, topic=topic, source=name, language=lang)],
                DAY + timedelta(days=10 * i),
                index,
            )


@pytest.fixture
def stores(tmp_path: Path, pg_url: str) -> Iterator[tuple[Store, Store]]:
    """The same archive on SQLite and on PostgreSQL, filled through the store."""
    lite, pg = Store(tmp_path / "state"), Store(tmp_path / "unused", pg_url)
    try:
        _fill(lite)
        _fill(pg)
        yield lite, pg
    finally:
        lite.close()
        pg.close()


def ids(store: Store, words: str, **filters: Any) -> list[int]:
    query = ArchiveQuery(parse_query(words) if words else None, **filters)
    return [h.match_id for h in store.search_archive(query)]


def test_the_same_queries_find_the_same_reports_on_both_backends(
    stores: tuple[Store, Store],
) -> None:
    lite, pg = stores
    found: dict[str, list[int]] = {}
    filtered: list[list[int]] = []
    for words, filters in QUERIES:
        try:
            on_sqlite = ids(lite, words, **filters)
        except QueryError:
            with pytest.raises(QueryError):
                ids(pg, words, **filters)
            continue
        assert ids(pg, words, **filters) == on_sqlite, (words, filters)
        if filters:
            filtered.append(on_sqlite)
        else:
            found[words] = on_sqlite
    # Not the same by both finding nothing: what each kind of query finds.
    assert found["Pjongjang"] == found["PJÖNGJANG"] == found["pjoengjang"] == [2, 1]
    assert found["STRAßE"] == [3] and found["Cafe zurich"] == [7]
    assert found["Truppe"] == [7, 3, 1] and found["Entsendung"] == [3]
    assert found['"panel of experts"'] == [5] and found['"experts panel"'] == []
    assert found['"Truppen nach Russland"'] == [1]
    assert found["sanktion*"] == [6] and found["pjo*"] == [2, 1]
    assert found["Kursk OR Nordkorea"] == [9, 6, 4, 3]
    assert found["Truppe -Kaffee"] == [3, 1] and found["Truppe -Kaffee -Russland"] == [3]
    assert found["art:4"] == found["art:4.2"] == [6]
    assert found["Nord-Korea"] == [9, 6] and found["3.000"] == [8]
    assert found["½"] == [8] and found["日本"] == [9] and found["O'Brien"] == [8]
    assert "a & !b:* | (c" not in found  # refused alike: "b:*" is a one-letter prefix
    assert found["Kursk OR !Tru:* OR (Caf' OR 'c\\"] == [9, 7, 4, 3, 1]
    assert found["Pjöng* & !Soldat:A | ("] == []
    assert found["Kursk & !Pjongjang"] == []  # "!" is no operator: a plain word
    assert found["Kursk"] == [9, 4, 3]
    assert filtered == [
        [4, 3],
        [9, 6, 5],
        [8, 5, 4],
        [7, 3, 1],
        [4],
        [7, 6, 5, 4, 3],
        [7, 3],
        [9, 8],
        [9, 7],
    ]


def test_hostile_queries_are_refused_or_searched_alike(stores: tuple[Store, Store]) -> None:
    lite, pg = stores
    for words in ODD:
        try:
            query = parse_query(words)
        except QueryError as exc:
            assert "\n" not in str(exc)
            continue
        on_sqlite = [h.match_id for h in lite.search_archive(ArchiveQuery(query))]
        assert [h.match_id for h in pg.search_archive(ArchiveQuery(query))] == on_sqlite, words


def test_a_phrase_is_looked_up_in_the_words_alone(tmp_path: Path, pg_url: str) -> None:
    """On PostgreSQL both key streams share one vector: a phrase must neither run from the last
    word into the first other spelling, nor use an other spelling at all (FTS5 looks phrases up
    in `search_words` only)."""
    found = {}
    for name, url in (("sqlite", None), ("postgresql", pg_url)):
        store = Store(tmp_path / name, url)
        try:
            with store.transaction() as conn:
                for mid, keys in ((1, ("alpha beta", "gamma")), (2, ("gamma delta", "alpha"))):
                    archive_matches(conn, [_match(mid, "x")], DAY, lambda _m, k=keys: k)
            found[name] = [ids(store, q) for q in ('"beta gamma"', '"alpha gamma"', "gamma")]
        finally:
            store.close()
    assert found["postgresql"] == found["sqlite"] == [[], [], [2, 1]]


def test_a_huge_text_is_archived_and_found_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """A text whose keys pass PostgreSQL's limits (a 1 MB vector, 16383 positions, 2047-byte
    lexemes) is archived all the same, and its start is found: the digest never fails on it."""
    words = " ".join(f"w{n:09d}" for n in range(120_000))  # 1.3 MB of distinct keys
    store = Store(tmp_path / "state", pg_url)
    try:
        with store.transaction() as conn:
            archive_matches(conn, [_match(1, "x")], DAY, lambda _m: (words, "k" * 3000))
            archive_matches(conn, [_match(2, "x")], DAY, lambda _m: ("w000000001 tail", ""))
        assert ids(store, "w000000001") == [2, 1]
        assert ids(store, '"w000000000 w000000001"') == [1]
        assert ids(store, "k" * 3000) == []
    finally:
        store.close()


def test_the_migration_builds_the_index_once(tmp_path: Path, pg_url: str) -> None:
    store = Store(tmp_path / "state", pg_url)
    try:
        assert store.version == LATEST
        with store.engine.connect() as conn:
            found = conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"), {"name": INDEX}
            ).scalar_one()
            conn.execute(text("SET enable_seqscan = off"))  # an empty table: a scan is cheaper
            plan = "\n".join(
                conn.execute(
                    text("EXPLAIN SELECT id FROM archive WHERE search_vector @@ 'kursk'::tsquery")
                ).scalars()
            )
        assert "USING gin" in found
        assert INDEX in plan  # the search's condition can use the index
    finally:
        store.close()
    from monitor.store.archive_pg import create_index

    store = Store(tmp_path / "state", pg_url)  # opened again: nothing to migrate
    try:
        with store.engine.begin() as conn:
            create_index(conn)  # and running it again changes nothing
        _fill(store)
        assert ids(store, "Kursk") == [9, 4, 3]
    finally:
        store.close()


def test_a_digest_archives_and_feedback_works_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    store = Store(tmp_path / "state", pg_url)
    try:
        store.sync_sources([source()])
        first = _add(store, "p1")
        second = _add(store, "p2")

        def build(found: list[Match]) -> Digest | None:
            return Digest(new_digest_id(), "mail", utcnow(), {"t": found}, {"t": "T"})

        def render(d: Digest) -> RenderedDigest:
            return RenderedDigest("s", "text", "<p>html</p>", {"n": 1})

        def select(conn: Any = None) -> list[Match]:
            return store.unclaimed_matches("mail", "digest", ["t"], 0.0, {}, conn=conn)

        now = utcnow()
        queued = store.create_digest("mail", "digest", build, render, select, now, index=index)
        assert queued is not None
        store.delivered(queued[0].id, "ok", now)
        # The digest's matches are in the archive, and searchable ("text p1").
        assert [h.item_id for h in store.search_archive(ArchiveQuery(parse_query("p1")))] == [first]
        assert len(store.search_archive(ArchiveQuery(parse_query("text")))) == 2

        records = FeedbackRecords(store.engine)
        mark = records.record("not_relevant", first, "t", "anna", now)
        assert records.record("not_relevant", first, "t", "anna", now) == mark  # once
        mute = records.record("mute", first, "u", "anna", now)
        assert {f.id for f in records.active(["t", "u"])} == {mark, mute}
        assert records.counts() == {("t", "not_relevant"): 1, ("u", "mute"): 1}
        assert records.changed_since(now - timedelta(seconds=1))
        # Another channel's matches: the mark suppresses the marked item's, keeps the other.
        others = store.unclaimed_matches("hook", "digest", ["t"], 0.0, {})
        kept, dropped = Suppressor.load(store.engine, ["t"]).split(others, store.engine)
        assert [m.item_id for m in dropped] == [first] and [m.item_id for m in kept] == [second]

        # Retention prunes the items: a mark on one reads what the archive kept of it.
        assert store.prune(now + timedelta(days=400), 180)["items"] == 2
        late = records.record("not_relevant", second, "t", "ben", now)
        assert [f.title for f in records.active(["t"]) if f.id == late] == [None]
        assert [f.text for f in records.active(["t"]) if f.id == late] == ["text p2"]
        assert records.undo(late, "ben", now) and not records.undo(late, "ben", now)
        assert {f.id for f in records.active(["t", "u"])} == {mark, mute}
    finally:
        store.close()


def test_monitor_search_on_postgresql(
    tmp_path: Path, content_server: ContentServer, pg_url: str
) -> None:
    """The real CLI on a PostgreSQL state: a poll, a digest that archives, `monitor search`."""
    env = {"MONITOR_DATABASE_URL": pg_url}
    cfg = _config(tmp_path, content_server)
    assert monitor(cfg, "once", env=env).returncode == 0
    content_server.set("/feed.xml", rss([GERMAN, ENGLISH, *OLD]), "application/rss+xml")
    polled = monitor(cfg, "once", env=env)
    assert polled.returncode == 0 and "troops: 2" in polled.stdout, polled.stdout + polled.stderr
    sent = monitor(cfg, "digest", env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr

    def search(*args: str) -> list[str]:
        done = monitor(cfg, "search", *args, "--json", env=env)
        assert done.returncode == 0, done.stderr
        return [h["title"] for h in json.loads(done.stdout)["hits"]]

    assert sorted(search("Kursk")) == sorted([ENGLISH[1], GERMAN[1]])
    assert search("Pjongjang") == [GERMAN[1]]
    assert search("Truppe*", "--lang", "de") == [GERMAN[1]]
    assert search('"north korean troops" -Pjöngjang') == [ENGLISH[1]]
    assert search("a & !b:x | (c'") == []
    assert not (tmp_path / "state" / "monitor.db").exists()  # it all went to PostgreSQL

    # `monitor feedback` reads the marks from PostgreSQL too.
    store = Store(tmp_path / "state", pg_url)
    try:
        [hit] = store.search_archive(ArchiveQuery(parse_query("Pjongjang")))
        FeedbackRecords(store.engine).record(
            "not_relevant", hit.item_id, "troops", "anna", utcnow()
        )
    finally:
        store.close()
    report = monitor(cfg, "feedback", "--csv", env=env)
    assert report.returncode == 0, report.stderr
    assert GERMAN[1] in report.stdout and "anna" in report.stdout, report.stdout
