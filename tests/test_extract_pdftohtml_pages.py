"""Issue 15, recall: a PDF converted by pdftohtml, every printed line ending in <br/>, its pages
between <hr/>s with a running head over each.

trafilatura's full run takes readability's result for such a page: one <div> of loose lines
between line breaks. Read child by child, that box gave nothing after the first page (a
council's minutes, extract_eval26: recall 0.59, trafilatura's 1.0). Its runs between blank
lines are paragraphs when they end a sentence.

The page here is written for this test and served over 127.0.0.1; the box readability returns
for the page whose pages were lost is read directly below.
"""

from __future__ import annotations

from lxml import etree

from monitor.extract.blocks import tree_blocks
from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, fetched, texts_of

PAGES = [
    [
        ("1. Approval of the minutes of the last meeting", [
            "The minutes of the ordinary meeting of 23 January 2025 are approved",
            "unanimously, without amendments.",
        ]),
        ("2. Calendar of the summer festival", [
            "The councillor for culture presents the calendar proposed by the festival",
            "committee. The festival will be held from 8 to 11 August, with the opening",
            "speech on the 8th in the town square.",
        ]),
    ],
    [
        ("3. New opening hours of the public library", [
            "From 1 March the library will open on Saturday mornings, from 10.00 to",
            "13.30, and close on Monday mornings. The change needs no extra staff.",
        ]),
        ("4. Award of the repair of the Old Fountain path", [
            "It is proposed to award the work to a local company for 38,420.00 euros,",
            "VAT included, with a term of two months. Approved by 5 votes to 2.",
        ]),
    ],
    [
        ("5. Requests and questions", [
            "A councillor asks when the lighting of the school car park will be repaired.",
            "The mayor answers that the part has already been ordered.",
        ]),
    ],
]  # fmt: skip


def minutes_page() -> str:
    pages = []
    for n, items in enumerate(PAGES, start=1):
        lines = "".join(
            f"<b>{title}&#160;</b><br/>\n"
            + "".join(f"{line}&#160;<br/>\n" for line in text)
            + "<br/>\n"
            for title, text in items
        )
        head = (
            f'<a name="{n}"></a><span class="cap">Minutes of the council · 20/02/2025&#160;'
            f"<br/>\nPage {n} of {len(PAGES)}&#160;<br/></span>\n<br/>\n"
        )
        pages.append(f'<div class="pg">\n{head}{lines}</div>\n')
    return (
        '<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" lang="" xml:lang="">\n'
        '<head>\n<title>minutes_2025_02</title>\n<meta http-equiv="Content-Type"'
        ' content="text/html; charset=UTF-8"/>\n<meta name="generator" content="pdftohtml'
        ' 0.86.1"/>\n</head>\n<body bgcolor="#A0A0A0">\n<div style="background:#1d3557">'
        'Transparency portal · <a href="/minutes">Back to the list</a> · <a'
        ' href="/minutes/2025-02.pdf">Download the original PDF</a></div>\n'
        + "<hr/>\n".join(pages)
        + "</body>\n</html>\n"
    )


def test_every_page_of_a_converted_pdf_is_read(content_server: ContentServer) -> None:
    texts = texts_of(fetched(content_server.set("/minutes/2025-02", minutes_page())))
    joined = " ".join(" ".join(texts).split())
    for items in PAGES:
        for _, lines in items:
            assert " ".join(lines) in joined
    assert_kept(texts, [" ".join(PAGES[-1][-1][1])])


def test_a_box_of_loose_lines_is_read_run_by_run() -> None:
    # The shape of trafilatura's full-run result for such a page: one <div>, lines and <lb/>s.
    box = etree.fromstring(
        "<div><p>Transparency portal</p>Minutes of the council · 20/02/2025 <lb/>Page 2 of 3"
        " <lb/><lb/>3. New opening hours of the public library <lb/>From 1 March the library"
        " will open on Saturday mornings. <lb/><lb/>Approved unanimously. <lb/><lb/>"
        "The secretary          The mayor <lb/></div>"
    )
    blocks = [block for block in tree_blocks(box) if block is not None]
    assert (
        "p",
        "3. New opening hours of the public library From 1 March the library will open on"
        " Saturday mornings.",
    ) in blocks
    assert ("p", "Approved unanimously.") in blocks
    # Runs that end no sentence (a running head, a signature line) stay out.
    assert not any("Page 2 of 3" in text or "The secretary" in text for _, text in blocks)
