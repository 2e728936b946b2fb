"""Issue 15, recall: an article written as a page builder's run of text sections.

Strikingly writes a blog post as sibling sections of one kind ("s-blog-section
s-blog-section-text"), text in <div>s with no <p>, image sections between them. trafilatura's
precision run kept the last section only and its default run dumped the page, which the merge
refused (a handball report, extract_eval27: recall 0.24, trafilatura's 1.0). The sections of
the kept one's kind before and after it are read as the article's; a wiki's back matter
("References", "See also") in sections of the same kind stays out.

The page here is written for this test and served over 127.0.0.1 and guards what stays out;
the report whose sections were lost is a development page of test_extract_recall_rules.py.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

SECTIONS = [
    [
        "What an evening in the Moorfield hall! In front of about 300 spectators our first team"
        " beat the league leaders 31:28 on Saturday and moved up to third place.",
        "The first half belonged to the visitors, though. After twenty minutes we were 8:12"
        " down, and the coach called a time-out that changed the game.",
    ],
    [
        "With a more aggressive defence we closed the gap goal by goal. At 24:24 the whole hall"
        " was on its feet.",
        "In the end our goalkeeper saved two penalties, and our left back scored three in a"
        " row to settle it.",
    ],
    [
        "Goals: Reeves 8, Brandt 6, Ahlers 5, Dierks 4, Oster 3, Weers 3 and two more from the"
        " bench in the last minutes.",
        "Next home game: Saturday, 29 March, 7.30 pm against SV Brake. Tickets at the door.",
    ],
]


def section(paragraphs: list[str]) -> str:
    inner = "".join(f"<div>{p}</div>" for p in paragraphs)
    return (
        '<div class="s-blog-section s-blog-section-text"><div class="s-component s-text">'
        f'<div class="s-component-content s-font-body">{inner}</div></div></div>'
    )


def image() -> str:
    return (
        '<div class="s-blog-section s-blog-section-image"><div class="s-component s-image">'
        '<img src="/img/cheer.jpg" alt=""><div class="s-image-caption">The team after the'
        " final whistle.</div></div></div>"
    )


def builder_page() -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Match report'
        '</title></head><body><div class="s-navbar"><a href="/">HSG Moorfield</a> <a'
        ' href="/teams">Teams</a> <a href="/dates">Dates</a> <a href="/reports">Reports</a>'
        '</div><div class="s-blog-post"><div class="s-blog-header"><h1>Report: Moorfield'
        ' against the leaders</h1><div class="s-blog-date">16 March 2025</div></div>'
        '<div class="s-blog-body">'
        + section(SECTIONS[0])
        + image()
        + section(SECTIONS[1])
        + section(SECTIONS[2])
        + '</div></div><div class="s-footer"><p>© 2025 HSG Moorfield e.V. · <a'
        ' href="/imprint">Imprint</a></p><p class="s-powered">Made with <a'
        ' href="https://builder.example">a site builder</a></p></div></body></html>'
    )


def test_an_articles_text_sections_are_all_read(content_server: ContentServer) -> None:
    texts = texts_of(fetched(content_server.set("/reports/leaders", builder_page())))
    assert_kept(texts, [p for paragraphs in SECTIONS for p in paragraphs])
    assert_out(texts, ["Made with", "© 2025 HSG"])
