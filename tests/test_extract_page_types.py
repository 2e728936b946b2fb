"""Each page type of the extraction-recall issue (15), served over HTTP and extracted for real.

Live blogs, an article split across containers, one-sentence paragraphs, lists and tables, a
German and a French page, teaser boxes inside the article, and the extraction settings chosen
(precision mode, the fallback for short pages). Every page is written for this test. Each test
names sentences that must be kept and boilerplate that must stay out. Some run
`monitor extract URL --json` in a subprocess (the command a user checks a source with), the
others fetch with the real fetcher and extract in this process.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from monitor.config import HttpConfig
from monitor.extract import extract_page
from monitor.fetch import Fetcher
from monitor.models import Document, FetchOutcome
from tests.conftest import ContentServer
from tests.local_config import LOOPBACK_HTTP, NO_SEEDS

COOKIE = (
    '<div class="cookie-consent"><p>We use cookies to measure our audience and to show you'
    " relevant offers. You can withdraw your consent at any time.</p><button>Accept</button>"
    "</div>"
)
NAV = (
    '<header class="site"><a class="logo" href="/">The Eastern Ledger</a><nav><a href="/">Home'
    '</a> <a href="/world">World</a> <a href="/asia">Asia</a> <a href="/opinion">Opinion</a> '
    '<a href="/subscribe">Subscribe</a></nav></header>'
)
SIDEBAR = (
    '<aside class="sidebar"><h3>Most read</h3><ol><li><a href="/r1">Read more: The ferry that'
    ' never sailed</a></li><li><a href="/r2">Related: Ten questions about the border</a></li>'
    '</ol></aside><footer><p>© 2026 The Eastern Ledger</p><a href="/imprint">Imprint</a>'
    "</footer>"
)
CHROME = ("We use cookies", "Subscribe", "Most read", "Read more", "Related:", "Imprint", "©")


def page(title: str, main: str, lang: str = "en") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} | The'
        f" Eastern Ledger</title></head><body>{COOKIE}{NAV}<main>{main}</main>{SIDEBAR}"
        "</body></html>"
    )


def cli_extract(tmp_path: Path, url: str) -> dict[str, Any]:
    """`monitor extract URL --json` in a subprocess, as a user runs it."""
    config = tmp_path / "config.toml"
    config.write_text(LOOPBACK_HTTP + NO_SEEDS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "extract", url, "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def fetched(url: str) -> Document:
    """The page fetched with the real fetcher (loopback allowed) and extracted here."""

    async def get() -> Any:
        http = HttpConfig(allow_networks=["127.0.0.1/32"], respect_robots=False)
        async with Fetcher(http) as fetcher:
            return await fetcher.fetch(url)

    res = asyncio.run(get())
    assert res.outcome is FetchOutcome.OK, res.error
    return extract_page(res.body, res.final_url or url, res.content_type)


def texts_of(doc: Document | dict[str, Any]) -> list[str]:
    if isinstance(doc, Document):
        return [p.text for p in doc.passages]
    return [p["text"] for p in doc["passages"]]


def assert_kept(texts: list[str], sentences: list[str]) -> None:
    everything = "\n".join(texts)
    missing = [s for s in sentences if s not in everything]
    assert not missing, f"dropped: {missing}"


def assert_out(texts: list[str], noise: tuple[str, ...] | list[str]) -> None:
    everything = "\n".join(texts)
    kept = [n for n in noise if n in everything]
    assert not kept, f"boilerplate kept: {kept}"


# --- live blog ------------------------------------------------------------------------------

LIVE = [
    ("18:40", "Ferry service suspended", [
        "The coastguard suspended the evening ferry to the islands because of the storm.",
        "Passengers were offered rooms in two hotels near the terminal.",
    ]),
    ("17:55", None, [
        "Police closed the harbour road after a lorry lost part of its load.",
    ]),
    ("16:30", "Mayor calls crisis meeting", [
        "The mayor has called the heads of the fire brigade and the port authority to the town"
        " hall.",
        "A decision on closing the schools is expected this evening.",
    ]),
    ("15:05", None, [
        "Wind speeds of up to 110 kilometres an hour were measured on the pier this afternoon.",
    ]),
]  # fmt: skip


def live_blog() -> str:
    entries = []
    for time, heading, paragraphs in LIVE:
        head = f"<h2>{heading}</h2>" if heading else ""
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        entries.append(
            f'<article class="live-post"><header><time datetime="2026-12-03T{time}">{time}'
            f"</time>{head}</header>{body}"
            '<div class="post-share"><a href="#">Share</a> <a href="#">Copy link</a></div>'
            "</article>"
        )
    key_events = (
        '<div class="key-events"><h2>Key events</h2><ul><li><a href="#e1">Ferry service'
        ' halted for the night</a></li><li><a href="#e3">Crisis meeting at the town hall</a>'
        "</li></ul></div>"
    )
    return page(
        "Storm on the coast: live",
        f"<h1>Storm on the coast: live</h1>{key_events}<div class='live-feed'>"
        + "".join(entries)
        + "</div>",
    )


def test_live_blog_keeps_every_entry_and_leaves_the_key_events_box_out(
    tmp_path: Path, content_server: ContentServer
) -> None:
    url = content_server.set("/live/storm", live_blog())
    doc = cli_extract(tmp_path, url)
    texts = texts_of(doc)
    assert_kept(texts, [p for _, _, paragraphs in LIVE for p in paragraphs])
    assert_out(texts, [*CHROME, "Key events", "Copy link", "halted for the night"])
    # Each entry's paragraphs are titled with the entry's own heading, never another's.
    titles = {p["text"]: p["title"] for p in doc["passages"]}
    assert titles[LIVE[0][2][1]] == "Ferry service suspended"
    assert titles[LIVE[2][2][0]] == "Mayor calls crisis meeting"


def test_live_blog_of_post_containers_keeps_each_entrys_heading_over_its_paragraphs(
    content_server: ContentServer,
) -> None:
    """Entries in <div class="post"> (or <article>) with a time and an <h3>: trafilatura's
    main pass took the first entry only, recovered the rest as loose paragraphs and lost every
    other heading, so all entries stood under the first one's heading."""
    entries = "".join(
        f'<div class="post"><span class="time">{time}</span>'
        + (f"<h3>{heading}</h3>" if heading else "")
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</div>"
        for time, heading, paragraphs in LIVE
    )
    html = page("Storm on the coast: live", f"<h1>Storm on the coast: live</h1>{entries}")
    url = content_server.set("/live/storm-posts", html)
    doc = fetched(url)
    assert_kept(texts_of(doc), [p for _, _, paragraphs in LIVE for p in paragraphs])
    titles = {p.text: p.title for p in doc.passages}
    assert titles[LIVE[0][2][0]] == "Ferry service suspended"
    assert titles[LIVE[2][2][1]] == "Mayor calls crisis meeting"
    assert titles[LIVE[3][2][0]] != "Ferry service suspended"
    assert_out(texts_of(doc), CHROME)


# --- an article split across containers -----------------------------------------------------

SPLIT = [
    "The container terminal will close for three weeks in January while its cranes are replaced.",
    "Shipping lines have been asked to send their vessels to the port across the bay.",
    "Dock workers fear that some of the traffic will not come back after the works.",
    "The port authority says the new cranes will handle larger ships than the old ones.",
    "It expects the number of containers to grow by a fifth within two years.",
    "A union spokesperson said the workers would be paid in full during the closure.",
]


def test_article_split_across_containers_is_kept_whole(content_server: ContentServer) -> None:
    ad = '<div class="ad-slot"><span>Advertisement</span><div id="gpt-1"></div></div>'
    newsletter = (
        '<div class="newsletter-box"><h3>Morning Briefing</h3><p>The news you need before'
        ' breakfast, every weekday.</p><input type="email"><button>Sign up</button></div>'
    )
    part = '<div class="article-part">{}</div>'
    body = (
        "<article><h1>Terminal to close for crane works</h1>"
        + part.format("".join(f"<p>{p}</p>" for p in SPLIT[:2]))
        + ad
        + part.format("".join(f"<p>{p}</p>" for p in SPLIT[2:4]))
        + newsletter
        + part.format("".join(f"<p>{p}</p>" for p in SPLIT[4:]))
        + "</article>"
    )
    url = content_server.set("/port/cranes", page("Terminal to close for crane works", body))
    texts = texts_of(fetched(url))
    assert_kept(texts, SPLIT)
    assert_out(texts, [*CHROME, "Advertisement", "Morning Briefing", "before breakfast"])


# --- one-sentence paragraphs ----------------------------------------------------------------

WIRE = [
    "HAMBURG, Dec 3 (Eastern Wire) - The city council approved the new harbour budget on"
    " Wednesday.",
    "The vote was 41 to 30.",
    "The budget includes money for two new fireboats.",
    "Opposition members walked out before the vote.",
    "The mayor called the result fair.",
    "No date was set for the next session.",
]


def test_one_sentence_paragraphs_each_stay_a_passage(content_server: ContentServer) -> None:
    body = (
        "<article><h1>Council approves harbour budget</h1><div class='byline'>By Eastern Wire"
        " staff · 3 Dec 2026</div><div class='story-text'>"
        + "".join(f"<p>{p}</p>" for p in WIRE)
        + "</div><div class='tags'><a href='/t/hamburg'>Hamburg</a> <a href='/t/budget'>"
        "Budget</a></div></article>"
    )
    url = content_server.set("/wire/budget", page("Council approves harbour budget", body))
    texts = texts_of(fetched(url))
    # Short paragraphs are not merged into their neighbours nor dropped as too short.
    assert [t for t in texts if t in WIRE] == WIRE
    assert_out(texts, CHROME)


# --- lists and tables inside the article ----------------------------------------------------

ITEMS = [
    "two new fireboats for the inner harbour;",
    "a second lock gate at the canal entrance;",
    "sensors that warn of high water six hours earlier.",
]
ROWS = [
    ("Fireboats", "12.5 million", "2027"),
    ("Lock gate", "48 million", "2029"),
    ("Flood sensors", "3.2 million", "2026"),
]


def test_lists_and_tables_inside_the_article_are_kept_row_by_row(
    content_server: ContentServer,
) -> None:
    body = (
        "<article><h1>Where the harbour money goes</h1>"
        "<p>The budget approved on Wednesday pays for three projects in the harbour.</p>"
        "<ul>" + "".join(f"<li>{i}</li>" for i in ITEMS) + "</ul>"
        "<p>The table shows what each project costs and when it should be finished.</p>"
        "<table><thead><tr><th>Project</th><th>Cost (euros)</th><th>Ready</th></tr></thead>"
        "<tbody>"
        + "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in ROWS)
        + "</tbody></table>"
        "<p>The council will review the figures again in the autumn.</p></article>"
    )
    url = content_server.set("/harbour/money", page("Where the harbour money goes", body))
    texts = texts_of(fetched(url))
    assert_kept(texts, ITEMS)
    for row in ROWS:
        assert " | ".join(row) in texts, row
    assert_kept(texts, ["The council will review the figures again in the autumn."])
    assert_out(texts, CHROME)


# --- German and French pages ----------------------------------------------------------------

GERMAN = [
    "Der Hafen von Rostock hat im vergangenen Jahr so viele Fähren abgefertigt wie nie zuvor.",
    "Besonders stark wuchs der Verkehr nach Skandinavien.",
    "Die Hafengesellschaft will deshalb einen weiteren Anleger bauen.",
    "Umweltverbände kritisieren, dass dafür ein Teil der Uferwiesen weichen müsste.",
]


def test_german_page_keeps_its_text_and_drops_german_boilerplate(
    tmp_path: Path, content_server: ContentServer
) -> None:
    consent = (
        '<div class="consent"><p>Wir verwenden Cookies, um Inhalte zu personalisieren und'
        " Zugriffe zu analysieren.</p><button>Zustimmen</button></div>"
    )
    navi = (
        '<div class="navi"><a href="/">Startseite</a> <a href="/politik">Politik</a> '
        '<a href="/region">Region</a> <a href="/abo">Abo</a></div>'
    )
    teaser = (
        '<div class="lesen-sie-auch"><span>Lesen Sie auch</span> <a href="/x">Werft meldet'
        " Kurzarbeit an</a></div>"
    )
    more = (
        '<div class="mehr-zum-thema"><h3>Mehr zum Thema</h3><ul><li><a href="/a">Fähren: die'
        ' neuen Fahrpläne</a></li><li><a href="/b">Kommentar: Mut zum Ausbau</a></li></ul>'
        "</div>"
    )
    html = (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Rekord im'
        f" Fährverkehr | Ostsee-Bote</title></head><body>{consent}{navi}<article><h1>Rekord im"
        " Fährverkehr</h1><p class='autor'>Von Jana Möller</p>"
        + "".join(f"<p>{p}</p>" for p in GERMAN[:2])
        + teaser
        + "".join(f"<p>{p}</p>" for p in GERMAN[2:])
        + f"</article>{more}<footer><a href='/impressum'>Impressum</a> © Ostsee-Bote</footer>"
        "</body></html>"
    )
    url = content_server.set("/region/faehren", html)
    doc = cli_extract(tmp_path, url)
    texts = texts_of(doc)
    assert_kept(texts, GERMAN)
    assert_out(texts, ["Cookies", "Lesen Sie auch", "Kurzarbeit", "Mehr zum Thema", "Impressum"])
    assert doc["language"] == "de"


FRENCH = [
    "Le port de Marseille a accueilli un nombre record de navires de croisière cette année.",
    "La municipalité veut limiter les escales pendant les mois d'été.",
    "Les commerçants du Vieux-Port craignent une baisse de leur chiffre d'affaires.",
]


def test_french_page_keeps_its_text_and_drops_its_boilerplate(
    content_server: ContentServer,
) -> None:
    html = (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Croisières :'
        " record à Marseille | Le Littoral</title></head><body><nav><a href='/'>Accueil</a> "
        "<a href='/politique'>Politique</a> <a href='/abonnement'>S'abonner</a></nav><article>"
        "<h1>Croisières : record à Marseille</h1>"
        + f"<p>{FRENCH[0]}</p>"
        + "<div class='a-lire-aussi'><span>À lire aussi</span> <a href='/y'>Le tourisme de"
        " masse en question</a></div>"
        + "".join(f"<p>{p}</p>" for p in FRENCH[1:])
        + "</article><aside><h3>Les plus lus</h3><ul><li><a href='/l1'>Grève dans les ports"
        "</a></li><li><a href='/l2'>Le mistral revient</a></li></ul></aside><footer>"
        "<a href='/mentions'>Mentions légales</a></footer></body></html>"
    )
    url = content_server.set("/fr/croisieres", html)
    texts = texts_of(fetched(url))
    assert_kept(texts, FRENCH)
    assert_out(texts, ["À lire aussi", "tourisme de masse", "Les plus lus", "Mentions légales"])


# --- teaser boxes inside the article --------------------------------------------------------

AROUND_TEASERS = [
    "The shipyard has won an order for four research vessels from a Norwegian institute.",
    "It is the largest order the yard has received in more than a decade.",
    "Work on the first ship will begin in the spring, the company said.",
    "The yard plans to hire two hundred welders and electricians for the order.",
]


def test_teaser_boxes_inside_the_article_stay_out_and_the_article_around_them_stays_in(
    tmp_path: Path, content_server: ContentServer
) -> None:
    def teaser(headline: str, blurb: str) -> str:
        return (
            '<div class="teaser-inline"><a href="/t"><span class="teaser__kicker">Read more'
            f'</span><span class="teaser__headline">{headline}</span><span class='
            f'"teaser__text">{blurb}</span></a></div>'
        )

    body = (
        "<article><h1>Yard wins order for research vessels</h1>"
        + "".join(f"<p>{p}</p>" for p in AROUND_TEASERS[:2])
        + teaser("How the yard survived the crisis", "Ten years of short-time work.")
        + f"<p>{AROUND_TEASERS[2]}</p>"
        + teaser("Welders wanted across the region", "Why the trade lacks young people.")
        + f"<p>{AROUND_TEASERS[3]}</p></article>"
    )
    url = content_server.set("/yard/order", page("Yard wins order for research vessels", body))
    texts = texts_of(cli_extract(tmp_path, url))
    assert_kept(texts, AROUND_TEASERS)
    assert_out(
        texts,
        [*CHROME, "survived the crisis", "short-time work", "Welders wanted", "young people"],
    )


# --- the extraction settings ----------------------------------------------------------------

# Appeals as sites write them: a sentence and a link. (Without the link an appeal reads as
# article text to every mode.)
APPEALS = [
    'The Eastern Ledger is funded by its readers. <a href="/support">Support our reporting</a>.',
    'You have read 3 of your 5 free articles this month. <a href="/subscribe">Subscribe now</a>'
    " for full access.",
]


def test_precision_mode_keeps_appeals_inside_the_article_out(
    tmp_path: Path, content_server: ContentServer
) -> None:
    """Measured (extract_eval, extract_eval2 and extract_eval3 dev): trafilatura's balanced
    and recall modes keep no more article text than precision mode, but let donation appeals,
    paywall notices and boxes like these in. Precision mode is the setting kept."""
    story = [
        "The ferry company has ordered two electric ships for the crossing to the islands.",
        "They are due to enter service in the summer of 2028.",
        "The company says the ships will cut its fuel costs by almost half.",
        "Islanders have asked for more evening crossings once the new ships arrive.",
    ]
    body = (
        "<article><h1>Electric ferries for the islands</h1><p class='dek'>A first for the"
        " coast.</p><div class='article-body'>"
        + "".join(f"<p>{p}</p>" for p in story[:2])
        + f"<div class='donate-inline'><p>{APPEALS[0]}</p></div>"
        + "".join(f"<p>{p}</p>" for p in story[2:])
        + f"</div><div class='paywall-note'><p>{APPEALS[1]}</p></div></article>"
    )
    url = content_server.set("/ferries", page("Electric ferries for the islands", body))
    texts = texts_of(cli_extract(tmp_path, url))
    assert_kept(texts, story)
    assert_out(texts, [*CHROME, "funded by its readers", "free articles"])


def test_a_short_notice_under_trafilaturas_minimum_size_is_kept_without_the_cookie_box(
    content_server: ContentServer,
) -> None:
    """A page whose whole text is one short notice (a press office's one-liner) is under
    trafilatura's minimum extracted size, where it compares its result with its fallbacks.
    Precision mode returns the notice; balanced mode returned the cookie box instead (measured
    while deciding the setting)."""
    notice = "The harbour office is closed on 24 December."
    html = page("Notice", f"<article><h1>Notice</h1><p>{notice}</p></article>")
    url = content_server.set("/notice", html)
    doc = fetched(url)
    texts = texts_of(doc)
    assert notice in texts
    assert_out(texts, ["We use cookies", "Most read", "Imprint"])
    assert "no text found on the page" not in doc.warnings
