"""Archive search speed: an archive of --passages reported matches (generated German and English
news sentences with the shipped topics' terms, over a year, 200 sources, 5 topics) in a real
SQLite file, written through the archive's own code (keys folded as in production), then
--queries varied searches: single words common and rare, umlaut and ß spellings, lemmas,
compound parts, phrases, prefixes, OR, exclusions, and filters (topic, source, language, dates)
with and without words. Each search is timed as `monitor search` runs it: the query parsed
and folded, then the store's search (20 hits). Prints p50, p95 and max, overall and per kind.
With `--backend postgres` the archive is in PostgreSQL instead: the database `--database-url`
names (it must be empty or hold an archive of this benchmark), or else a temporary server from
the `pgserver` wheel the tests use; the table is analysed after it is filled, as autovacuum
would.

    python benchmarks/bench_search.py --passages 100000 --queries 400 [--keep DIR]
    python benchmarks/bench_search.py --backend postgres [--database-url DSN]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.inbox.search_keys import index, parse_query  # noqa: E402
from monitor.models import Evidence, Match  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.store.archive import ArchiveQuery, archive_matches  # noqa: E402

TOPICS = ["troop_deployment", "treaty_articles", "sanctions", "missiles", "cyber"]
# Sentence frames with slots; {x} are filled from the word lists of the same language.
DE_FRAMES = [
    "{place} meldet die Entsendung von {n} {troop} nach {place2}.",
    "Laut {source} hat {country} weitere {troop} an die Front bei {place2} geschickt.",
    "Die {compound} sei ein Verstoß gegen Artikel {art} des Vertrags, sagte {person}.",
    "{country} bestreitet Berichte über {sanction} und verweist auf die Straße nach {place2}.",
    "Das Ministerium in {place} prüft neue {sanction} gegen {country}.",
    "{person} äußerte sich am {day} zur Lage in {place2}; {n} Menschen seien betroffen.",
    "Nach Angaben aus {place} wurden {n} {weapon} über die Grenze geliefert.",
    "Die Regierung kündigte an, die {compound} im {month} zu überprüfen.",
]
EN_FRAMES = [
    "{place} reports the deployment of {n} {troop} to {place2}.",
    "According to {source}, {country} has sent more {troop} to the front near {place2}.",
    "The {thing} breaches Article {art} of the treaty, {person} said on {day}.",
    "{country} denies reports of {sanction} and points to the road to {place2}.",
    "Officials in {place} are weighing new {sanction} against {country}.",
    "{person} spoke about the situation in {place2} on {day}; {n} people were affected.",
    "According to {place}, {n} {weapon} were shipped across the border.",
    "The government said it would review the {thing} in {month}.",
]
WORDS = {
    "de": {
        "place": ["Pjöngjang", "Seoul", "Moskau", "Kiew", "Berlin", "Genf", "Zürich", "Köln"],
        "place2": ["Kursk", "Charkiw", "Sudscha", "Belgorod", "Wladiwostok", "Odessa"],
        "troop": ["Soldaten", "Truppen", "Pioniere", "Offiziere", "Spezialkräfte"],
        "country": ["Nordkorea", "Russland", "die Ukraine", "Südkorea", "der Iran", "China"],
        "source": ["dem Geheimdienst", "Diplomaten", "der Agentur", "Beobachtern"],
        "compound": ["Truppenentsendung", "Waffenlieferung", "Sanktionsregime", "Raketenstarts",
                     "Grenzschließung", "Munitionslieferung", "Exportkontrolle"],
        "sanction": ["Sanktionen", "Strafmaßnahmen", "Exportverbote", "Kontensperrungen"],
        "person": ["Außenministerin Kühn", "General Weiß", "Sprecher Müller", "Botschafter Groß"],
        "weapon": ["Granaten", "Raketen", "Drohnen", "Artilleriegeschosse"],
        "day": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag"],
        "month": ["Januar", "März", "Juni", "September", "Dezember"],
    },
    "en": {
        "place": ["Pyongyang", "Seoul", "Moscow", "Kyiv", "Berlin", "Geneva", "Zurich", "Cologne"],
        "place2": ["Kursk", "Kharkiv", "Sudzha", "Belgorod", "Vladivostok", "Odesa"],
        "troop": ["soldiers", "troops", "engineers", "officers", "special forces"],
        "country": ["North Korea", "Russia", "Ukraine", "South Korea", "Iran", "China"],
        "source": ["intelligence officials", "diplomats", "the agency", "observers"],
        "thing": ["troop deployment", "arms transfer", "sanctions regime", "missile launch",
                  "border closure", "ammunition delivery", "export control"],
        "sanction": ["sanctions", "penalties", "export bans", "asset freezes"],
        "person": ["Minister Kuehn", "General White", "spokesman Miller", "Ambassador Gross"],
        "weapon": ["shells", "missiles", "drones", "artillery rounds"],
        "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"],
        "month": ["January", "March", "June", "September", "December"],
    },
}  # fmt: skip


def sentence(rng: random.Random, language: str) -> str:
    frame = rng.choice(DE_FRAMES if language == "de" else EN_FRAMES)
    words = WORDS[language]
    fill = {key: rng.choice(values) for key, values in words.items()}
    n = rng.randint(2, 20_000)
    fill["n"] = f"{n:,}".replace(",", "." if language == "de" else ",")
    fill["art"] = str(rng.randint(1, 12))
    return frame.format(**fill)


def build(store: Store, passages: int, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime(2025, 12, 1, tzinfo=UTC)
    step = timedelta(days=365) / passages
    batch: list[Match] = []
    when = start
    for i in range(1, passages + 1):
        language = "de" if rng.random() < 0.55 else "en"
        source = rng.randrange(200)
        text = " ".join(sentence(rng, language) for _ in range(rng.randint(2, 4)))
        title = sentence(rng, language).rstrip(".")
        when = start + step * i
        batch.append(
            Match(
                id=i,
                topic=rng.choice(TOPICS),
                score=1.0,
                evidence=Evidence(("Kursk",), "Kursk", text[:200], ((0, 5),)),
                source_key=f"https://outlet{source}.example.org/feed",
                source_name=f"Outlet {source}",
                title=title,
                link=f"https://outlet{source}.example.org/{i}",
                text=text,
                language=language,
                published=when,
                first_seen=when,
                item_id=i,
            )
        )
        if len(batch) == 2000 or i == passages:
            with store.transaction() as conn:
                archive_matches(conn, batch, when, index)
            batch.clear()


def queries(count: int, seed: int) -> list[tuple[str, ArchiveQuery | None, str]]:
    """(kind, filters without words, words) for `count` searches."""
    rng = random.Random(seed + 1)
    words = [
        ("common", "Kursk"), ("common", "troops"), ("common", "Soldaten"), ("common", "sanctions"),
        ("rare", "Wladiwostok"), ("rare", "Kontensperrungen"), ("rare", "asset freezes"),
        ("folding", "Pjongjang"), ("folding", "PJOENGJANG"), ("folding", "Strasse"),
        ("folding", "aussenministerin kuhn"), ("folding", "Zurich"), ("folding", "Koeln"),
        ("lemma", "Soldat"), ("lemma", "troop"), ("lemma", "Granate"),
        ("compound", "Truppe"), ("compound", "Lieferung"), ("compound", "Entsendung"),
        ("phrase", '"North Korea"'), ("phrase", '"Artikel 4"'), ("phrase", '"special forces"'),
        ("prefix", "sankt*"), ("prefix", "raket*"), ("prefix", "deploy*"),
        ("or", "Kursk OR Sudscha OR Sudzha"), ("or", "drones OR Drohnen"),
        ("not", "Kursk -Nordkorea"), ("not", "troops -Russia"),
        ("article", "art:4"), ("two words", "Nordkorea Kursk"), ("two words", "Iran sanctions"),
    ]  # fmt: skip
    out: list[tuple[str, ArchiveQuery | None, str]] = []
    for _ in range(count):
        kind, text = rng.choice(words)
        filtered = rng.random() < 0.5
        filters: dict = {}
        if filtered:
            for _ in range(rng.randint(1, 3)):
                which = rng.choice(["topic", "source", "lang", "dates"])
                if which == "topic":
                    filters["topic"] = rng.choice(TOPICS)
                elif which == "source":
                    filters["source"] = f"Outlet {rng.randrange(200)}"
                elif which == "lang":
                    filters["language"] = rng.choice(["de", "en"])
                else:
                    since = datetime(2025, 12, 1, tzinfo=UTC) + timedelta(days=rng.randrange(330))
                    filters["since"] = since
                    filters["until"] = since + timedelta(days=rng.choice([7, 30, 90]))
        if filtered and rng.random() < 0.2:
            out.append(("filters only", ArchiveQuery(limit=20, **filters), ""))
            continue
        label = kind + (" + filters" if filtered else "")
        out.append((label, ArchiveQuery(limit=20, **filters), text))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the archive in this folder")
    parser.add_argument("--slowest", type=int, default=0, help="print the N slowest searches")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", help="PostgreSQL: this database (default: a new one)")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        url = None
        if args.backend == "postgres":
            url = args.database_url or stack.enter_context(_temporary_postgres())
        run(args, url)


@contextlib.contextmanager
def _temporary_postgres() -> Iterator[str]:
    """A database on a PostgreSQL server of its own (the tests' pgserver), removed after."""
    from tests.pg_server import fresh_database, postgres_server

    with postgres_server() as base, fresh_database(base) as url:
        yield url


def run(args: argparse.Namespace, url: str | None) -> None:
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-search-"))
    store = Store(folder, url)
    with store.engine.connect() as conn:
        have = conn.exec_driver_sql("SELECT count(*) FROM archive").scalar_one()
    if have < args.passages:
        began = time.perf_counter()
        build(store, args.passages - have, args.seed + have)
        print(f"archived {args.passages - have:,} passages in {time.perf_counter() - began:.0f} s")
    if url:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE archive")
            size = conn.exec_driver_sql("SELECT pg_total_relation_size('archive')").scalar_one()
        size /= 1e6
        print(f"archive: {args.passages:,} passages, {size:.0f} MB (PostgreSQL, with indexes)")
    else:
        store.checkpoint()
        size = store.path.stat().st_size / 1e6
        print(f"archive: {args.passages:,} passages, {size:.0f} MB ({store.path})")

    # The first search of a process loads the dictionaries the folding needs (once per CLI
    # run, once per daemon): timed apart.
    began = time.perf_counter()
    store.search_archive(ArchiveQuery(parse_query("Soldaten"), limit=20))
    print(f"first search of the process: {(time.perf_counter() - began) * 1000:.0f} ms")
    times: dict[str, list[float]] = defaultdict(list)
    found = 0
    each: list[tuple[float, str, ArchiveQuery, str]] = []
    for kind, query, text in queries(args.queries, args.seed):
        began = time.perf_counter()
        words = parse_query(text) if text else None
        assert query is not None
        hits = store.search_archive(ArchiveQuery(words, *[getattr(query, f) for f in (
            "topic", "source", "language", "since", "until", "limit")]))  # fmt: skip
        elapsed = (time.perf_counter() - began) * 1000
        times[kind.split(" + ")[0] if kind != "filters only" else kind].append(elapsed)
        times["all"].append(elapsed)
        each.append((elapsed, kind, query, text))
        found += bool(hits)
    store.close()

    def line(name: str, values: list[float]) -> str:
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return (
            f"{name:14} n={len(values):4}  p50 {statistics.median(values):7.1f} ms  "
            f"p95 {p95:7.1f} ms  max {max(values):7.1f} ms"
        )

    print(f"{args.queries} searches, {found} with hits (20 hits shown at most)")
    for name in sorted(times, key=lambda k: (k == "all", k)):
        print(line(name, times[name]))
    for elapsed, kind, query, text in sorted(each, key=lambda e: -e[0])[: args.slowest]:
        print(f"{elapsed:7.1f} ms  {kind:24} {text!r} {query}")


if __name__ == "__main__":
    main()
