"""Issue 15, recall on page-builder pages (extract_eval13 as development data): Tilda, Wix,
Webflow, Elementor and Divi write an article as sibling records (one <div> each for the title,
each section's heading, each block of text, runs of text between <br>s), none of them a <p>.
Precision mode keeps one record; the recall pass must find the others.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from monitor.source_kinds import SOURCE_KINDS
from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

# The lead's record is readability's pick, which precision mode's full run takes; trafilatura's
# default mode finds its main pass short and falls back to a dump of the page (its fast run).
LEAD = [
    "Die Gemeinde hat im Herbst zum ersten Mal alle elf Brunnen im Ortskern untersuchen lassen,"
    " nachdem im Sommer mehrere Kinder krank geworden waren.",
    "Diese Übersicht fasst zusammen, was die Messungen ergeben haben, und nennt drei Schritte,"
    " die der Gemeinderat jetzt beraten will.",
]
SECTIONS = {
    "1. Die Messungen": [
        "Ein Labor aus der Kreisstadt nahm im Oktober an drei Tagen Proben aus jedem Brunnen."
        " Geprüft wurden Nitrat, Keime und der Gehalt an Eisen, wie es die Verordnung verlangt.",
        "Nur zwei Brunnen liefern noch Wasser in Trinkqualität.",
        "Bei den übrigen liegt der Nitratwert über dem Grenzwert.",
    ],
    "2. Die Ursachen": [
        "Die Felder rund um das Dorf werden seit Jahren stärker gedüngt als früher üblich."
        " Nach trockenen Sommern sinkt zudem der Grundwasserspiegel.",
        "Alte Leitungen aus Blei gibt es im Ortskern nach Auskunft des Bauamts dagegen nicht.",
        "Auch die Kläranlage am Mühlbach scheidet als Ursache aus, sie liegt flussabwärts.",
    ],
    "3. Was zu tun ist": [
        "Wir schlagen vor:",
        "– an jedem Brunnen ein Schild mit den Messwerten anzubringen;",
        "– die Brunnen am Dorfplatz und an der Schule stillzulegen;",
        "– die Messungen jedes Jahr im Herbst zu wiederholen und zu veröffentlichen.",
    ],
}
MENU = ("Über uns", "Projekte", "Termine", "Unterstützen")
APPEAL = "Unsere Arbeit finanzieren wir aus Spenden. Schon zehn Euro im Monat helfen uns sehr."
FOOTER = "© 2026 Heimatverein Lindenau. Texte dürfen mit Quellenangabe verwendet werden."


def record(n: int, inner: str) -> str:
    """One page-builder record: a block of its own, wrapped in its grid's boxes."""
    return (
        f'<div id="rec{n}" class="r t-rec t-rec_pt_15 t-rec_pb_15"><div class="t004">'
        f'<div class="t-container"><div class="t-col t-col_8 t-prefix_2">{inner}'
        "</div></div></div></div>"
    )


def text_record(n: int, runs: str) -> str:
    return record(n, f'<div class="t-text t-text_md" field="text">{runs}</div>')


def builder_page() -> str:
    """A Tilda-style page: menu, title, lead, then a record per heading and per text block."""
    menu = "".join(
        f'<li><a class="t-menu__link-item" href="/{i}">{m}</a></li>' for i, m in enumerate(MENU)
    )
    records = [
        f'<div id="rec1" class="r t-rec"><div class="t228"><nav class="t228__centerside">'
        f'<ul class="t228__list">{menu}</ul></nav></div></div>',
        record(
            2,
            '<div class="t017__uptitle t-uptitle" field="subtitle">Übersicht · 28. November'
            ' 2026</div><h1 class="t017__title t-title" field="title">Brunnenwasser im'
            " Ortskern</h1>",
        ),
        text_record(3, f"<strong>{LEAD[0]}</strong><br><br>{LEAD[1]}"),
    ]
    n = 4
    for heading, lines in SECTIONS.items():
        records.append(record(n, f'<div class="t030__title t-title" field="title">{heading}</div>'))
        first, *rest = lines
        records.append(text_record(n + 1, first + ("<br><br>" if rest else "") + "<br>".join(rest)))
        n += 2
    records.append(
        f'<div id="rec{n}" class="r t-rec"><div class="t698"><div class="t698__title t-title"'
        f' field="title">Unterstützen Sie uns</div><div class="t698__descr t-descr"'
        f' field="descr">{APPEAL}</div><a href="/spenden" class="t-btn">Spenden</a></div></div>'
        f'<div id="rec{n + 1}" class="r t-rec"><div class="t345"><div class="t345__text'
        f' t-descr">{FOOTER}<br><a href="mailto:info@lindenau.example">info@lindenau.example</a>'
        "</div></div></div>"
    )
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Brunnenwasser im'
        ' Ortskern – Heimatverein Lindenau</title></head><body class="t-body">'
        f'<div id="allrecords" class="t-records">{"".join(records)}</div></body></html>'
    )


def test_every_record_of_a_page_builder_article_is_kept(content_server: ContentServer) -> None:
    # Before: precision mode kept the lead's record and the recall pass added none of the
    # others (its fast run's baseline dumped the whole page into one block, refused).
    doc = fetched(content_server.set("/aktuelles/brunnen", builder_page()))
    texts = texts_of(doc)
    assert_kept(texts, [*LEAD, *(line for lines in SECTIONS.values() for line in lines)])
    assert_out(texts, [*MENU, FOOTER])


def test_a_page_builders_call_to_action_record_stays_out(content_server: ContentServer) -> None:
    # Its title, prompt and button are siblings: the prompt holds no link of its own, and came
    # in with the records once the recall pass found them.
    doc = fetched(content_server.set("/aktuelles/brunnen-spenden", builder_page()))
    assert_kept(texts_of(doc), LEAD)
    assert_out(texts_of(doc), [APPEAL])


def test_the_extractor_version_is_raised_for_page_builders() -> None:
    # Pages polled by version 12 are fetched in full once; an unchanged body is only recorded.
    assert SOURCE_KINDS["page"].EXTRACTOR >= 13
