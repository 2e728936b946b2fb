"""A footer heading ("Pressekontakt", "Cite this report") takes its few short lines out with it;
a heading that only names the press office, over the statement itself, does not (extract_eval16
as development data: recall 0.06 on an embassy's statement headed "Kommentar der Pressestelle
der Botschaft zu ...").

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

STATEMENT = [
    "In den vergangenen Tagen haben mehrere Medien erneut behauptet, die Zusammenarbeit zweier"
    " Staaten verstoße gegen Beschlüsse des Sicherheitsrates. Diese Behauptungen entbehren"
    " jeder Grundlage.",
    "Der Vertrag über umfassende strategische Partnerschaft richtet sich gegen keinen dritten"
    " Staat. Er bestätigt lediglich das Recht beider Seiten auf kollektive Selbstverteidigung,"
    " wie es die Charta der Vereinten Nationen vorsieht.",
    "Wir fordern die Medien auf, sich an Tatsachen zu halten und auf Spekulationen zu"
    " verzichten, die das Verhältnis zwischen den Völkern belasten.",
]
CONTACT = ["Pressestelle der Botschaft", "Telefon: +49 30 000000, presse@botschaft.example"]


def statement_page() -> str:
    body = "<br><br>".join(STATEMENT)
    return (
        "<!DOCTYPE html><html lang='de'><head><meta charset='utf-8'><title>Kommentar</title>"
        "</head><body><div class='header'><a href='/'>Botschaft</a></div><div class='content'>"
        "<div class='news-detail'><div class='news-detail-date'>28.11.2026</div>"
        "<h3>Kommentar der Pressestelle der Botschaft zu Äußerungen über die Zusammenarbeit"
        f" beider Staaten</h3><div class='news-detail-text'>{body}</div>"
        f"<h4>Pressekontakt</h4><p>{CONTACT[0]}<br>{CONTACT[1]}</p></div></div></body></html>"
    )


def test_a_heading_naming_the_press_office_keeps_its_text(content_server: ContentServer) -> None:
    texts = texts_of(fetched(content_server.set("/presse/kommentar", statement_page())))
    assert_kept(texts, STATEMENT)
    assert_out(texts, [CONTACT[1]])


REPORT = [
    "Customs officers held 40 rail cars bound for the north, the agency's press office said.",
    "Die Ladung werde nun geprüft, teilte die Pressestelle des Zollamts am Mittwoch mit.",
]
WIRE_BODY = (
    "The cars carried machine parts declared as farm equipment; an inspection found lathes and"
    " milling heads that fall under the export controls of the customs union."
)
PRESS_LINES = ["Press office: +7 7172 000000", "Pressekontakt: presse@zoll.example"]


def test_a_sentence_that_names_a_press_office_is_text(content_server: ContentServer) -> None:
    # A short report's sentence that names its source's press office was dropped as a press
    # contact line; the contact lines themselves still go.
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Rail cars held'
        "</title></head><body><main><article><h1>Rail cars held at the border</h1>"
        f"<p>{REPORT[0]}</p><p>{WIRE_BODY}</p><p>{REPORT[1]}</p>"
        + "".join(f"<p>{line}</p>" for line in PRESS_LINES)
        + "</article></main></body></html>"
    )
    doc = fetched(content_server.set("/news/rail-cars.html", page))
    texts = texts_of(doc)
    assert_kept(texts, [*REPORT, WIRE_BODY])
    assert_out(texts, PRESS_LINES)
