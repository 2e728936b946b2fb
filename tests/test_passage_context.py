"""Each paragraph is matched with the context that is its own, and dated by its own time.

A live blog's page title names the subject of the blog, not of each entry: an unrelated entry
must not match because of it, and an entry is dated by its own <time>, not the page's. An
article's headline is the context of all its paragraphs, those under a section heading too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from monitor.extract import extract_page, fingerprint
from monitor.models import Passage
from monitor.source_kinds import extract_document
from tests.conftest import REPO, ContentServer
from tests.local_config import LOOPBACK_HTTP, NO_SEEDS

URL = "https://zeitung.example.de/liveblog"
BLOG_TITLE = "Liveblog: Nordkoreanische Soldaten in Russland"
WEATHER = (
    "In Berlin bleibt es den ganzen Tag trocken, die Temperaturen steigen am Nachmittag auf "
    "zwölf Grad."
)
TRAINS = (
    "Die Verkehrsbetriebe melden Verspätungen auf mehreren Linien, weil eine Weiche am "
    "Hauptbahnhof ausgefallen ist."
)
KURSK = "Nach Angaben des Pentagons sind in der Nacht weitere 3000 Soldaten eingetroffen."
KURSK_HEADING = "Nordkorea: Soldaten erreichen Kursk"
INTRO = "Alle Entwicklungen des Tages im Überblick, laufend aktualisiert von unserer Redaktion."


def entry(when: str, text: str, heading: str | None = None) -> str:
    head = f"<h2>{heading}</h2>" if heading else ""
    return (
        f'<article class="entry"><div class="meta"><time datetime="{when}">{when[11:16]} Uhr'
        f"</time></div>{head}<p>{text}</p></article>"
    )


def liveblog(entries: list[str]) -> str:
    return (
        f"<!doctype html><html lang='de'><head><title>{BLOG_TITLE} | Beispielzeitung</title>"
        f"<meta property='og:title' content='{BLOG_TITLE}'>"
        "<meta property='article:published_time' content='2026-12-01T06:00:00+01:00'></head>"
        "<body><nav><a href='/'>Start</a> <a href='/politik'>Politik</a></nav>"
        f"<main><h1>{BLOG_TITLE}</h1><p>{INTRO}</p>"
        f"<div class='liveblog'>{''.join(entries)}</div></main>"
        "<footer>Impressum · Datenschutz</footer></body></html>"
    )


ARTICLE_TITLE = "Nordkorea schickt weitere Soldaten nach Russland"
ARTICLE_LEAD = (
    "Pjöngjang hat nach Angaben aus Seoul weitere Einheiten in Marsch gesetzt; ihre Zahl wird "
    "auf mehrere Tausend geschätzt."
)
SEOUL = (
    "Das Verteidigungsministerium spricht von rund 3000 weiteren Soldaten, die in der Nacht in "
    "der Region Kursk eingetroffen seien."
)
# A paragraph with nothing of the subject in it: the headline alone must not make it match.
NOTICE = (
    "Dieser Beitrag wird fortlaufend ergänzt; Hinweise an die Redaktion nehmen wir gern über "
    "das Kontaktformular entgegen."
)


def article(sections: list[tuple[str, str]], lead: tuple[str, ...] = ()) -> str:
    body = "".join(f"<p>{p}</p>" for p in lead) + "".join(
        f"<h2>{h}</h2><p>{p}</p>" for h, p in sections
    )
    return (
        f"<!doctype html><html lang='de'><head><title>{ARTICLE_TITLE}</title>"
        "<meta property='article:published_time' content='2026-12-02T10:00:00Z'></head><body>"
        "<nav><h2>Mehr zum Thema Nordkorea</h2><ul><li><a href='/a'>Nordkorea testet Rakete</a>"
        "</li><li><a href='/b'>Kim empfängt Gäste</a></li></ul></nav>"
        f"<main><article><h1>{ARTICLE_TITLE}</h1><p>{ARTICLE_LEAD}</p>{body}</article></main>"
        "</body></html>"
    )


# ---------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------


def page_passages(html: str, url: str = URL) -> dict[str, Passage]:
    doc = extract_document("page", html.encode(), url, "text/html", 100, ())
    return {p.text: p for p in doc.passages}


def test_live_blog_entries_take_their_own_heading_and_time_never_the_page_title() -> None:
    passages = page_passages(
        liveblog(
            [
                entry("2026-12-03T09:40:00+01:00", WEATHER),
                entry("2026-12-03T09:10:00+01:00", TRAINS, "Verkehr in Berlin"),
                entry("2026-12-03T08:30:00+01:00", KURSK, KURSK_HEADING),
            ]
        )
    )
    weather, trains, kursk = passages[WEATHER], passages[TRAINS], passages[KURSK]
    # An entry without a heading has no title: the blog's title is not its own.
    assert weather.title is None and weather.matched_title is None
    assert trains.title == trains.matched_title == "Verkehr in Berlin"
    assert kursk.title == kursk.matched_title == KURSK_HEADING
    assert weather.published == datetime(2026, 12, 3, 8, 40, tzinfo=UTC)
    assert trains.published == datetime(2026, 12, 3, 8, 10, tzinfo=UTC)
    assert kursk.published == datetime(2026, 12, 3, 7, 30, tzinfo=UTC)
    # The blog's own text above the entries keeps the page's headline and date.
    intro = passages[INTRO]
    assert intro.title == intro.matched_title == BLOG_TITLE
    assert intro.published == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    # Keys are the paragraphs' fingerprints as before: context changes no identity.
    assert all(p.key == fingerprint(t) for t, p in passages.items())


def test_an_entry_whose_time_cannot_be_read_is_not_given_the_pages_date() -> None:
    # "09:42 GMT" names no day; the page's date is when the blog began.
    entries = [
        f"<div class='live-entry'><div class='entry-time'><time>{hhmm} GMT</time></div>"
        f"<div class='entry-content'><p>{text}</p></div></div>"
        for hhmm, text in (("09:42", WEATHER), ("09:15", TRAINS))
    ]
    passages = page_passages(liveblog(entries))
    assert passages[WEATHER].published is None and passages[TRAINS].published is None
    assert passages[INTRO].published == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)


def test_ticker_without_a_wrapper_per_entry_runs_from_one_time_to_the_next() -> None:
    html = (
        "<!doctype html><html lang='de'><head><title>Newsticker Nordkorea: Soldaten in Russland"
        "</title></head><body><main><h1>Newsticker Nordkorea: Soldaten in Russland</h1>"
        "<div class='ticker'>"
        "<time datetime='2026-12-03T09:40:00Z'>09:40</time><h3>Bahnstreik angekündigt</h3>"
        "<p>Die Gewerkschaft kündigt für Freitag einen Streik im Regionalverkehr an, Pendler "
        "sollen ausweichen.</p>"
        "<time>03.12.2026, 09:10 Uhr</time>"
        f"<p>{TRAINS}</p></div></main></body></html>"
    )
    passages = page_passages(html)
    strike = next(p for t, p in passages.items() if t.startswith("Die Gewerkschaft"))
    trains = passages[TRAINS]
    assert (strike.title, trains.title) == ("Bahnstreik angekündigt", None)
    assert strike.published == datetime(2026, 12, 3, 9, 40, tzinfo=UTC)
    assert trains.published == datetime(2026, 12, 3, 9, 10, tzinfo=UTC)
    assert (strike.matched_title, trains.matched_title) == ("Bahnstreik angekündigt", None)


def test_article_paragraphs_under_a_section_heading_keep_the_headline() -> None:
    passages = page_passages(article([("Reaktionen in Seoul", SEOUL)]))
    lead, seoul = passages[ARTICLE_LEAD], passages[SEOUL]
    assert lead.matched_title == ARTICLE_TITLE
    assert seoul.title == "Reaktionen in Seoul"
    assert seoul.matched_title == f"{ARTICLE_TITLE} — Reaktionen in Seoul"
    assert seoul.published == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_dates_mentioned_in_an_article_make_no_entries() -> None:
    # A chronology and dates in running text are the article's content, not entries of a blog.
    events = [
        ("2024-06-19", "Putin und Kim unterzeichnen in Pjöngjang den Vertrag."),
        ("2024-11-09", "Russland ratifiziert den Vertrag, Nordkorea folgt zwei Tage später."),
        ("2024-12-04", "Der Vertrag tritt mit dem Austausch der Urkunden in Kraft."),
    ]
    items = "".join(f"<li><time datetime='{d}'>{d}</time> {t}</li>" for d, t in events)
    running = (
        "Am <time datetime='2024-06-19'>19. Juni 2024</time> unterzeichneten beide Seiten den "
        "Vertrag; am <time datetime='2024-12-04'>4. Dezember</time> trat er in Kraft."
    )
    html = (
        f"<!doctype html><html lang='de'><head><title>{ARTICLE_TITLE}</title>"
        "<meta property='article:published_time' content='2026-12-02T10:00:00Z'></head><body>"
        f"<main><article><h1>{ARTICLE_TITLE}</h1><p>{ARTICLE_LEAD}</p><p>{running}</p>"
        f"<h2>Chronologie</h2><ul>{items}</ul></article></main></body></html>"
    )
    doc = extract_document("page", html.encode(), URL, "text/html", 100, ())
    assert len(doc.passages) >= 3
    for p in doc.passages:
        assert not p.entry and p.published == datetime(2026, 12, 2, 10, 0, tzinfo=UTC), p.text
        assert p.matched_title is not None and p.matched_title.startswith(ARTICLE_TITLE), p.text


def test_a_heading_over_links_or_in_navigation_is_nobodys_context() -> None:
    # trafilatura drops the links but keeps their heading, which then stood over the next
    # paragraph; a heading in a menu inside the article is no better.
    market = (
        "Der Wochenmarkt zieht um: ab Montag stehen die Stände auf dem Platz vor dem Rathaus, "
        "teilte die Stadt mit."
    )
    traders = (
        "Die Händler begrüßen den Umzug, weil der neue Platz mehr Laufkundschaft bringt, und "
        "hoffen auf ein gutes Weihnachtsgeschäft."
    )
    more = (
        "<h2>Mehr zu Nordkoreas Soldaten in Russland</h2><ul><li><a href='/x'>Nordkorea testet "
        "Rakete</a></li><li><a href='/y'>Kim empfängt Gäste aus Moskau</a></li></ul>"
    )
    for furniture in (more, f"<nav>{more}</nav>", f"<div role='navigation'>{more}</div>"):
        html = (
            "<!doctype html><html lang='de'><head><title>Wochenmarkt</title></head><body><main>"
            f"<article><h1>Wochenmarkt</h1><p>{market}</p>{furniture}<p>{traders}</p></article>"
            "</main></body></html>"
        )
        doc = extract_page(html.encode(), URL, "text/html")
        assert [p.text for p in doc.passages] == [market, traders]
        assert [p.title for p in doc.passages] == [None, None], furniture
        assert [p.matched_title for p in doc.passages] == ["Wochenmarkt"] * 2, furniture


# ---------------------------------------------------------------------------------------------
# The real CLI over local pages
# ---------------------------------------------------------------------------------------------


def shipped_topics() -> str:
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    return text[text.index("[aliases]") :]


def monitor(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cfg.parent,
    )


def rss(items: list[tuple[str, str, str | None]]) -> str:
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>https://wire.example/{guid}</link>"
        f"<description>{title}.</description>{f'<pubDate>{date}</pubDate>' if date else ''}</item>"
        for guid, title, date in items
    )
    channel = f"<channel><title>Wire</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def test_cli_digest_matches_each_passage_with_its_own_context_and_date(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    old = entry(
        "2026-12-02T18:00:00+01:00",
        "Der Liveblog beginnt heute mit einem Rückblick auf "
        "die vergangene Woche und ihre wichtigsten Ereignisse.",
    )
    srv.set("/liveblog", liveblog([old]))
    srv.set("/artikel", article([]))
    feed = [("w-old", "Wetterdienst warnt vor Glätte in Bayern", "Tue, 01 Dec 2026 08:00:00 +0000")]
    srv.set("/feed.xml", rss(feed), "application/rss+xml")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
{LOOPBACK_HTTP}
{NO_SEEDS}
[[sources]]
name = "Liveblog"
url = "{srv.base}/liveblog"
kind = "page"

[[sources]]
name = "Artikel"
url = "{srv.base}/artikel"
kind = "page"

[[sources]]
name = "Wire"
url = "{srv.base}/feed.xml"
kind = "feed"

[channels.files]
kind = "file"
send_empty = false

{shipped_topics()}
""",
        encoding="utf-8",
    )
    first = monitor(cfg, "once")
    assert first.returncode == 0, first.stderr

    srv.set(
        "/liveblog",
        liveblog(
            [
                entry("2026-12-03T09:40:00+01:00", WEATHER),
                entry("2026-12-03T09:10:00+01:00", TRAINS, "Verkehr in Berlin"),
                entry("2026-12-03T08:30:00+01:00", KURSK, KURSK_HEADING),
                old,
            ]
        ),
    )
    srv.set("/artikel", article([("Reaktionen in Seoul", SEOUL)], lead=(NOTICE,)))
    undated = ("n-1", "Nordkorea schickt 3000 weitere Soldaten nach Russland", None)
    srv.set("/feed.xml", rss([undated, *feed]), "application/rss+xml")
    second = monitor(cfg, "once")
    assert second.returncode == 0, second.stderr
    sent = monitor(cfg, "digest")
    assert sent.returncode == 0, sent.stdout + sent.stderr

    [written] = (tmp_path / "state" / "digests").glob("*.json")
    payload = json.loads(written.read_text(encoding="utf-8"))
    items = [i for group in payload["data"]["topics"].values() for i in group["items"]]
    # The unrelated entries do not match through the blog's title; the entry whose own
    # heading names the subject does, and carries its own time.
    blog = [i for i in items if i["source"] == "Liveblog"]
    assert [i["title"] for i in blog] == [KURSK_HEADING]
    [kursk] = blog
    assert datetime.fromisoformat(kursk["published"]) == datetime(2026, 12, 3, 7, 30, tzinfo=UTC)
    # The article's paragraph under a section heading matches through the article's headline.
    # A paragraph of the article with nothing of the subject in it does not match through the
    # headline alone.
    [seoul] = [i for i in items if i["source"] == "Artikel"]
    assert seoul["title"] == "Reaktionen in Seoul"
    assert datetime.fromisoformat(seoul["published"]) == datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    # A feed entry that states no time is not given the fetch time: it has none, and says so.
    [wire] = [i for i in items if i["source"] == "Wire"]
    assert wire["published"] == "" and wire["first_seen"]
    text = written.with_suffix(".txt").read_text(encoding="utf-8")
    assert "Published: unknown" in text
