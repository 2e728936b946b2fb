"""Issue 15 on chronologies (extract_eval7, 9, 10 and 12 as development data): a timeline's
dates stand in elements of their own (`<time>`, a date `<div>`), which trafilatura deletes or
keeps as lines that only ever look volatile, so every date was lost (recall 0.84 to 0.91 on
such pages). Each date now opens its entry's text. A page's one date (its update line) and a
live page's entry times are no timeline.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, fetched, texts_of

ENTRIES = [
    (
        "13. September 2023",
        "Kim Jong Un trifft Wladimir Putin im Kosmodrom Wostotschny; beide sprechen über"
        " Raumfahrt und Rüstung.",
    ),
    (
        "19. Juni 2024",
        "In Pjöngjang unterzeichnen beide den Vertrag über eine umfassende strategische"
        " Partnerschaft. Artikel 4 regelt den gegenseitigen Beistand.",
    ),
    (
        "4. Dezember 2024",
        "Nach der Ratifizierung durch beide Seiten tritt der Vertrag in Kraft, ohne dass die"
        " Regierungen den Wortlaut des Beistandsartikels erläutern.",
    ),
]
INTRO = (
    "Die Zusammenarbeit zwischen Moskau und Pjöngjang hat sich seit 2023 rasch vertieft. Die"
    " Chronik zeigt die wichtigsten Stationen."
)


def chronology() -> str:
    items = "".join(
        f'<li class="timeline__item"><time class="timeline__date">{date}</time>'
        f"<p>{text}</p></li>"
        for date, text in ENTRIES
    )
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">'
        "<title>Chronik: Moskau und Pjöngjang</title></head><body>"
        '<nav><a href="/">Startseite</a> <a href="/themen">Themen</a></nav>'
        "<main><article><h1>Chronik: Moskau und Pjöngjang</h1>"
        '<p class="updated">Zuletzt aktualisiert am <time>28. April 2025</time></p>'
        f'<p>{INTRO}</p><ol class="timeline">{items}</ol></article></main>'
        "<footer><p>Impressum · Datenschutz</p></footer></body></html>"
    )


def test_a_chronologys_dates_open_their_entries(content_server: ContentServer) -> None:
    doc = fetched(content_server.set("/themen/chronik.html", chronology()))
    texts = texts_of(doc)
    assert_kept(texts, [INTRO, *(f"{date}: {text}" for date, text in ENTRIES)])
    # The page's update line is no entry's date.
    assert not any(t.startswith("28. April 2025") for t in texts), texts


def test_a_single_dated_paragraph_is_no_timeline(content_server: ContentServer) -> None:
    # Guard: an article's one date box before its text is left as it was.
    date, text = ENTRIES[1]
    page = (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Vertrag</title>'
        "</head><body><main><article><h1>Vertrag unterzeichnet</h1>"
        f'<div class="dateline"><span>{date}</span></div><p>{text}</p><p>{INTRO}</p>'
        "</article></main></body></html>"
    )
    doc = fetched(content_server.set("/themen/vertrag.html", page))
    texts = texts_of(doc)
    assert_kept(texts, [text, INTRO])
    assert not any(t.startswith(date) for t in texts), texts
