"""Extraction recall by page type (issue 15): every paragraph of the article once, no boilerplate.

Each page here is written for the test, in the markup of one page type where text went missing
or came out twice.
"""

from __future__ import annotations

from monitor.extract import extract_page
from monitor.extract.pages import FALLBACK_WARNING

URL = "https://courier.example/live/2026/12/03/harbour-talks"

_CHROME = (
    '<div class="cookie-banner"><p>We use cookies to personalise content and to analyse our'
    " traffic. You can change your choice at any time.</p><button>OK</button></div>"
    '<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/politics">Politics'
    '</a> <a href="/sport">Sport</a> <a href="/subscribe">Subscribe</a></nav></header>'
)
_SIDEBAR = (
    '<aside class="sidebar"><h3>Most read</h3><ol><li><a href="/m0">Read more: How the port'
    ' became a hub</a></li><li><a href="/m1">Related: Five things to know about the treaty</a>'
    '</li></ol></aside><footer><p>© 2026 The Courier</p><a href="/imprint">Imprint</a></footer>'
)


def _page(main: str, title: str = "Harbour talks: live") -> bytes:
    html = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | The Courier'
        f"</title></head><body>{_CHROME}<main><h1>{title}</h1>{main}</main>{_SIDEBAR}</body></html>"
    )
    return html.encode()


def _texts(body: bytes) -> list[str]:
    doc = extract_page(body, URL, "text/html")
    assert FALLBACK_WARNING not in doc.warnings  # trafilatura's path is what is tested
    return [p.text for p in doc.passages]


def _no_chrome(texts: list[str]) -> None:
    everything = "\n".join(texts)
    for noise in ("We use cookies", "Subscribe", "Most read", "Read more", "Imprint", "©"):
        assert noise not in everything, noise


LIVE_ENTRIES = [
    ("17:22", None, [
        "The embassy advised its citizens to avoid large gatherings over the weekend.",
        "Farmers in the valley say the late frost destroyed a third of this year's harvest.",
    ]),
    ("16:16", "Rail traffic resumes after repairs", [
        "A spokesperson declined to say how many staff members would be affected.",
        "Researchers measured water levels at forty points along the river over six months.",
    ]),
    ("15:23", "Council extends emergency budget", [
        "Analysts expect the agreement to be tested within the first year of its term.",
    ]),
]  # fmt: skip


def test_live_blog_entries_in_list_items_give_each_paragraph_once() -> None:
    """An entry <li> holding <time>, <h3> and <p>s: its paragraphs, not also the whole entry."""
    items = "".join(
        f'<li class="live-entry"><time>{when}</time>'
        + (f"<h3>{head}</h3>" if head else "")
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</li>"
        for when, head, paragraphs in LIVE_ENTRIES
    )
    texts = _texts(_page(f'<ul class="live-feed">{items}</ul>'))
    expected = [p for _, _, paragraphs in LIVE_ENTRIES for p in paragraphs]
    assert texts == expected
    _no_chrome(texts)


LEGACY_PARAGRAPHS = [
    "Der Stadtrat hat den Nothaushalt am Abend um weitere drei Monate verlängert. Die Opposition"
    " stimmte geschlossen dagegen.",
    "Der Kämmerer rechnet mit Mehrkosten von rund vier Millionen Euro. Die Sanierung der Schulen"
    " werde erneut verschoben, sagte er.",
    "Eine Entscheidung über den Haushalt des nächsten Jahres soll im Februar fallen. Bis dahin"
    " gelten die Ausgabensperren weiter.",
]


def test_legacy_layout_table_gives_the_article_column_paragraph_by_paragraph() -> None:
    """2000s markup: menu, article and teaser in the cells of one layout row, <font> and <br>.

    Read as a data table, the whole row was one passage, menu and teaser included.
    """
    article = "<br><br>".join(LEGACY_PARAGRAPHS)
    main = (
        '<table width="100%"><tr><td width="150" valign="top"><font size="1">Startseite<br>'
        "Politik<br>Wirtschaft<br>Sport<br>Kultur</font></td><td valign=\"top\"><font size=\"4\">"
        f'<b>Nothaushalt verlängert</b></font><br><font size="2">{article}</font></td>'
        '<td width="120"><font size="1">Lesen Sie auch: Wie der Hafen zum Umschlagplatz wurde'
        "</font></td></tr></table>"
    )
    html = (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Nothaushalt verlängert'
        f" | Kurier</title></head><body>{_CHROME}{main}{_SIDEBAR}</body></html>"
    )
    texts = _texts(html.encode())
    assert texts == LEGACY_PARAGRAPHS
    everything = "\n".join(texts)
    for noise in ("Startseite", "Wirtschaft", "Lesen Sie auch", "Nothaushalt verlängert"):
        assert noise not in everything, noise
    _no_chrome(texts)


def test_data_table_in_an_article_stays_rows() -> None:
    """A table of figures inside the article is data: one passage per row, as before."""
    rows = [("Bezirk", "Stimmen"), ("Nord", "4.210"), ("Süd", "3.877")]
    table = "<table>" + "".join(f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in rows) + "</table>"
    main = f"<article><p>{LEGACY_PARAGRAPHS[0]}</p>{table}<p>{LEGACY_PARAGRAPHS[1]}</p></article>"
    texts = _texts(_page(main, "Ergebnisse der Wahl"))
    assert texts == [LEGACY_PARAGRAPHS[0], *(f"{a} | {b}" for a, b in rows), LEGACY_PARAGRAPHS[1]]


def test_live_blog_entry_titles_in_bold_are_the_entries_titles() -> None:
    """Entries made without heading tags: a <strong> line loose in the entry's <div>, which
    trafilatura drops. It is the title and context of the entry's paragraphs (so a topic can
    match it); bold words inside a paragraph are not."""
    entries = (
        '<div class="entry"><time datetime="2026-12-03T17:20:00Z">17:20</time><strong>Ferries'
        " cancelled until Monday</strong><p>The ferry company cancelled all crossings to the"
        " islands until Monday morning at the earliest.</p></div>"
        '<div class="entry"><time datetime="2026-12-03T16:05:00Z">16:05</time><p>Wind speeds of'
        " up to <strong>140 kilometres an hour</strong> were measured on the western cape.</p>"
        "</div>"
        '<div class="entry"><time datetime="2026-12-03T15:40:00Z">15:40</time><strong>Schools to'
        " close on Friday</strong><p>The education authority said all schools in the coastal"
        " districts would stay closed on Friday.</p><p>Parents were asked to keep children"
        " indoors during the height of the storm.</p></div>"
    )
    doc = extract_page(_page(f'<div class="feed">{entries}</div>', "Storm: live"), URL)
    titles = {p.text[:20]: (p.title, p.context) for p in doc.passages}
    ferries = "Ferries cancelled until Monday"
    schools = "Schools to close on Friday"
    assert titles == {
        "The ferry company ca": (ferries, ferries),
        "Wind speeds of up to": (None, ""),
        "The education author": (schools, schools),
        "Parents were asked t": (schools, schools),
    }
    _no_chrome([p.text for p in doc.passages])


def test_data_table_with_paragraphs_in_its_cells_keeps_every_cell() -> None:
    """Some editors wrap each cell's text in <p>: still data (many rows), not a page layout."""
    rows = [
        ("Nord", "Die Wahlbeteiligung stieg gegenüber der letzten Wahl um vier Prozentpunkte."),
        ("Süd", "Zwei Wahllokale öffneten wegen eines Stromausfalls erst am späten Vormittag."),
        ("Ost", "Die Auszählung dauerte bis nach Mitternacht, weil nachgezählt werden musste."),
        ("West", "Hier verloren beide großen Parteien deutlich an Zustimmung."),
    ]
    table = (
        "<table>"
        + "".join(f"<tr><td><p>{a}</p></td><td><p>{b}</p></td></tr>" for a, b in rows)
        + "</table>"
    )
    main = f"<article><p>{LEGACY_PARAGRAPHS[0]}</p>{table}<p>{LEGACY_PARAGRAPHS[1]}</p></article>"
    everything = "\n".join(_texts(_page(main, "Ergebnisse der Wahl")))
    for district, remark in rows:
        assert district in everything
        assert remark in everything


def test_live_blog_with_a_share_bar_in_every_entry_keeps_its_last_entry() -> None:
    """Entries as <div>s, each with a "Copy link / Share" bar: trafilatura dropped the last."""
    paragraphs = [
        "The foreign minister says new evidence of the troop movements was passed to partners.",
        "The intelligence service tells lawmakers the soldiers are being taught basic commands.",
        "The spokesman says the cooperation is developing in all areas and is nobody's business.",
        "The chief cabinet secretary calls the reports extremely concerning for the region.",
        "Welcome to our live coverage. Our main story this morning: the deployment is confirmed.",
    ]
    entries = "".join(
        f'<div class="live-entry" id="e{i}"><div class="entry-time"><time>0{9 - i}:15</time>'
        f'</div><div class="entry-content"><p>{text}</p></div><div class="entry-share">'
        f'<a href="#e{i}">Copy link</a> <a href="https://x.example/share?e={i}">Share</a></div>'
        "</div>"
        for i, text in enumerate(paragraphs)
    )
    main = (
        f'<div class="live-feed">{entries}</div><div class="load-more"><button>Show more'
        "</button></div>"
    )
    texts = _texts(_page(main, "War live: units confirmed"))
    assert sorted(texts) == sorted(paragraphs)
    assert not any("Copy link" in t for t in texts)
    _no_chrome(texts)
