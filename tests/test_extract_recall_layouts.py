"""Issue 15, third pass: page types the eval5 pages showed to generalise badly.

An HTML e-mail's template (a newsletter's archive page) nests a table for every text block;
read as data tables, each outer row was the whole newsletter in one passage, once per level of
nesting, and the text after a block's heading (a tail in trafilatura's tree) was lost. Every
page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from monitor.source_kinds import SOURCE_KINDS
from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

SECTIONS = [
    ("1. Rail traffic at the border", [
        "Freight trains at the border station ran twice as often in March as a year before.",
        "Most wagons carried coal, according to the regional railway's own timetable.",
    ]),
    ("2. A new ferry line", [
        "A ferry company plans a weekly line between the two ports from the summer on.",
        "It has not said which ships it will use on the crossing.",
    ]),
]
GREETING = "Three things stood out this week, and one of them will matter for a long time."


def newsletter() -> str:
    """A campaign archive page: table in table in table, <br><br> between paragraphs."""

    def box(inner: str) -> str:
        return (
            '<table class="mcnTextBlock" width="100%"><tbody><tr><td class="mcnTextBlockInner">'
            '<table class="mcnTextContentContainer" width="100%"><tbody><tr>'
            f'<td class="mcnTextContent">{inner}</td></tr></tbody></table></td></tr></tbody>'
            "</table>"
        )

    blocks = [box(f"Hello again,<br><br>{GREETING}")]
    for heading, paras in SECTIONS:
        blocks.append(box(f"<h2>{heading}</h2>" + "<br><br>".join(paras)))
    footer = (
        '<table class="footerContainer"><tr><td><em>Copyright © 2026 Border Notes</em><br>'
        "You are receiving this email because you signed up on our website.<br><br>"
        "Want to change how you receive these emails?<br>You can update your preferences or"
        " <a href='/unsubscribe'>unsubscribe from this list</a>.</td></tr></table>"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Border Notes #12"
        "</title></head><body><center><table id='bodyTable' width='100%'><tbody><tr>"
        "<td id='bodyCell'><table class='templateContainer'><tbody>"
        "<tr><td id='templatePreheader'></td></tr><tr><td id='templateHeader'></td></tr>"
        f"<tr><td id='templateBody'>{''.join(blocks)}</td></tr>"
        f"<tr><td id='templateFooter'>{footer}</td></tr></tbody></table></td></tr></tbody>"
        "</table></center></body></html>"
    )


def test_a_newsletter_in_nested_tables_is_read_paragraph_by_paragraph(
    content_server: ContentServer,
) -> None:
    texts = texts_of(fetched(content_server.set("/archive/12", newsletter())))
    paragraphs = [GREETING] + [p for _, paras in SECTIONS for p in paras]
    assert_kept(texts, paragraphs)
    # One passage per paragraph, each once: no passage holds two of them.
    for text in texts:
        assert sum(p in text for p in paragraphs) <= 1, f"dump: {text[:120]}"
    assert_out(texts, ["receiving this email", "these emails", "unsubscribe"])


def test_the_extractor_version_is_raised_for_the_layout_pass() -> None:
    # Pages polled by extractor 5 are fetched in full once and their new paragraphs recorded,
    # not reported (tests/test_upgrade_extractor.py).
    assert SOURCE_KINDS["page"].EXTRACTOR == 6
