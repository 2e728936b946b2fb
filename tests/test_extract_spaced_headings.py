"""Issue 15, recall on typewritten rulings (extract_eval13 as development data): a court's
heading set letter by letter ("B E S C H L U S S", "G r ü n d e :", "У С Т А Н О В И Л:") was
lost, its single letters read as units and stamps; it now titles the paragraphs under it.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from monitor.models import Document
from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, fetched, texts_of

PARTS = {
    "B E S C H L U S S": [
        "In dem Verfahren über die Beschwerde des Herrn K. gegen die Anordnung der Stadt vom"
        " 4. März 2026 hat die Kammer ohne mündliche Verhandlung entschieden.",
        "Die Beschwerde wird zurückgewiesen. Der Beschwerdeführer trägt die Kosten.",
    ],
    "G r ü n d e :": [
        "Die Stadt hatte dem Beschwerdeführer untersagt, auf seinem Grundstück am Mühlbach"
        " weiter Brunnenwasser zu verkaufen, da die Proben den Grenzwert für Nitrat überschritten.",
        "Die Anordnung ist rechtmäßig. Der Schutz der Gesundheit der Käufer geht dem Interesse"
        " des Beschwerdeführers am Verkauf vor, zumal er die Werte seit Jahren kannte.",
    ],
}


def ruling_page() -> str:
    body = "".join(
        f'<p style="text-align:center">{heading}</p>' + "".join(f"<p>{t}</p>" for t in texts)
        for heading, texts in PARTS.items()
    )
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>1 B 214/26 –'
        " Entscheidungen</title></head><body><div id=menu><ul><li><a href=/>Start</a></li>"
        "<li><a href=/suche>Suche</a></li></ul></div><div id=content><h1>Beschluss vom"
        f" 12. Mai 2026 – 1 B 214/26</h1><div class=text-akt>{body}</div></div>"
        "<div id=footer><p>Ein Angebot der Justiz des Landes.</p></div></body></html>"
    )


def titles_of(doc: Document) -> set[str]:
    return {p.title for p in doc.passages if p.title}


def test_a_letter_spaced_heading_titles_its_paragraphs(content_server: ContentServer) -> None:
    doc = fetched(content_server.set("/entscheidungen/1-b-214-26", ruling_page()))
    assert_kept(texts_of(doc), [t for texts in PARTS.values() for t in texts])
    assert titles_of(doc) >= set(PARTS)
    for passage in doc.passages:
        for heading, texts in PARTS.items():
            if passage.text in texts:
                assert passage.title == heading
