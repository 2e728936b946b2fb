"""Seed documents: their text (PDF dumps repaired) and the http(s) URLs they cite, with context."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.extract import ExtractError, cited_urls, read_document

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
DATA = REPO / "tests" / "data" / "extract"
SWP = SEEDS / "000_ad56a14a3258c6de.txt"


def test_seed_folder_cites_twelve_distinct_urls() -> None:
    documents = sorted(SEEDS.iterdir())
    assert len(documents) == 3
    urls = [c.url for doc in documents for c in cited_urls(doc)]
    assert len(set(urls)) == 12
    assert all(u.startswith("https://") and "#" not in u for u in urls)
    assert (
        "https://www.cgai.ca/russia_and_north_koreas_comprehensive_strategic_partnership"
        "_implications_for_indo_pacific_security"
    ) in urls


def test_seed_citations_keep_order_and_first_context() -> None:
    citations = cited_urls(SWP)
    assert len(citations) == 12  # the PDF dump lists several URLs twice
    assert len({c.url for c in citations}) == 12
    first = citations[0]
    assert first.url == (
        "https://www.washingtonpost.com/world/2024/10/11/north-korea-russia-ukraine-military-"
        "cooperation/"
    )
    # The URL stands alone on its line: the context is the sentence before it.
    assert first.context.endswith("Unterstützer der russischen Aggression in Europa geworden ist.")
    assert citations[3].url == "https://www.nato.int/cps/en/natohq/opinions_230105.htm"
    reuters = next(c for c in citations if "reuters.com" in c.url)
    assert "Sicherheits- und Verteidigungspartnerschaft zwischen der EU und der ROK" in (
        reuters.context
    )
    for citation in citations:
        assert 0 < len(citation.context) <= 305
        assert "\n" not in citation.context
        assert "https://" not in citation.context


def test_read_document_repairs_the_pdf_dump() -> None:
    text = read_document(SWP)
    assert "Nordkoreas Entscheidung zur Truppenentsendung scheint von mehreren Motiven" in text
    assert "Truppen-\n" not in text
    assert "Nordkorea-Russland-Kooperation" in text


def test_read_document_keeps_web_text_paragraphs() -> None:
    text = read_document(SEEDS / "004_5a190c2001c93e08.txt")
    paragraphs = text.split("\n\n")
    assert paragraphs[0] == "Kim Jong Un sendet Neujahrsbotschaft an Soldaten im Ausland"
    assert paragraphs[1].startswith("Mit ungewöhnlich persönlichen Worten hat Nordkoreas")


def test_markdown_citations() -> None:
    citations = cited_urls(DATA / "citations.md")
    assert [c.url for c in citations] == [
        "https://ministry.example.org/News/Article/3955757/",
        "https://intel.example.org/CM/1_4/view.do?seq=320",
        "https://thinktank.example.org/russia_and_north_koreas_comprehensive_strategic_partnership",
        "https://www.example.org/vertrag",
        "https://news.example.net/2022/03/north-korea-votes-against-un-resolution/",
    ]
    by_url = {c.url: c.context for c in citations}
    # The repeated Pentagon link (with #top) keeps the first context.
    assert by_url["https://ministry.example.org/News/Article/3955757/"] == (
        "Die Zahl der entsandten Soldaten wird vom US-Verteidigungsministerium auf rund 10.000 "
        "geschätzt."
    )
    assert by_url["https://intel.example.org/CM/1_4/view.do?seq=320"] == (
        "Südkorea nennt ähnliche Zahlen (siehe intel.example.org)."
    )
    assert by_url["https://news.example.net/2022/03/north-korea-votes-against-un-resolution/"] == (
        "Ein älterer Bericht: news.example.net."
    )


def test_markdown_text() -> None:
    text = read_document(DATA / "citations.md")
    assert text.startswith("Lagebild Nordkorea–Russland (Entwurf)\n\n")
    assert "Nicht relevant: Skript, lokal und Mail." in text
    assert "karte-kursk.png" not in text


def test_html_citations() -> None:
    citations = cited_urls(DATA / "citations.html")
    assert [c.url for c in citations] == [
        "https://wire.example.org/world/asia-pacific/north-korea-ratifies-treaty-2026-11-12/",
        "https://analyse.example.org/berichte/auswertung-kursk.html",  # resolved against <base>
        "https://analysis.example.net/2026/11/treaty-analysis/",  # plain text URL in the HTML
        "https://beyondparallel.example.org/rason-port/",
    ]
    assert citations[0].context == (
        "Die Ratifizierung des Vertrags meldete die Nachrichtenagentur Reuters am 12. November."
    )
    expected = "Hintergrund in Englisch unter analysis.example.net (Stand November)."
    assert citations[2].context == expected


def test_html_text_skips_navigation() -> None:
    text = read_document(DATA / "citations.html")
    assert text.startswith("Quellenübersicht zum Lagebild")
    assert "Startseite" not in text
    assert "Datenschutz" not in text


def test_plain_text_url_forms(tmp_path: Path) -> None:
    doc = tmp_path / "notes.txt"
    doc.write_text(
        "Bericht (https://example.org/a/b_(c)) und <https://example.org/angle>.\n\n"
        "Siehe https://example.org/report?id=7&lang=de, dann https://example.org/end.\n\n"
        "Ignoriert: javascript:alert(1) file:///etc/passwd ftp://example.org/x mailto:a@b.c\n\n"
        "Doppelt: https://example.org/end#abschnitt und HTTPS://Example.org/upper.\n",
        encoding="utf-8",
    )
    assert [c.url for c in cited_urls(doc)] == [
        "https://example.org/a/b_(c)",
        "https://example.org/angle",
        "https://example.org/report?id=7&lang=de",
        "https://example.org/end",
        "https://Example.org/upper",
    ]


def test_url_broken_by_pdf_wrapping(tmp_path: Path) -> None:
    doc = tmp_path / "dump.txt"
    doc.write_text(
        "Die Lage hat sich ver-\n\nschärft, wie das Minis-\n\nterium in einem Be-\n\nricht "
        "schreibt, der unter https://www.example.org/berichte/lage-\n\nkursk-2026 abrufbar ist.\n",
        encoding="utf-8",
    )
    (citation,) = cited_urls(doc)
    assert citation.url == "https://www.example.org/berichte/lage-kursk-2026"
    assert citation.context.startswith("Die Lage hat sich verschärft, wie das Ministerium")


def test_pdf_text_and_link_annotations() -> None:
    pdf = DATA / "report.pdf"
    text = read_document(pdf)
    assert text.startswith(
        "Nordkoreas Truppenentsendung nach Russland ist ein Wendepunkt. Die russisch-"
        "nordkoreanische Kooperation hat eine neue Qualität erreicht. Die Sicherheits- und "
        "Verteidigungspartnerschaft mit Südkorea gewinnt an Bedeutung."
    )
    assert "Die Nordkorea-Russland-Kooperation dürfte sich weiter vertiefen." in text
    citations = cited_urls(pdf)
    assert [c.url for c in citations] == [
        # A link annotation over "Bericht des Pentagon": its context is the anchor's sentence.
        "https://ministry.example.org/News/Releases/Article/4000001/xx/",
        # A URL in the text, broken across two lines by the layout.
        "https://www.example.org/analyse/nordkorea-truppen-kursk",
    ]
    assert citations[0].context == (
        "Laut einem Bericht des Pentagon sind rund 10.000 Soldaten in der Region Kursk im Einsatz."
    )


def test_unsupported_and_broken_documents(tmp_path: Path) -> None:
    docx = tmp_path / "notes.docx"
    docx.write_bytes(b"PK\x03\x04")
    with pytest.raises(ExtractError, match=r"unsupported document type \.docx"):
        read_document(docx)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    with pytest.raises(ExtractError, match="not a readable PDF"):
        read_document(broken)
