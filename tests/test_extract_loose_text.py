"""Issue 15 on text that stands loose in a box of blocks, in trafilatura's output tree: where
its full run takes readability's result, a statute's sections come as headings with their
text after them, in one <div> (extract_eval21's Akoma Ntoso regulations: recall 0.51, every
section's text lost). Runs that end a sentence are paragraphs; a box's other loose lines (a
breadcrumb, a header line, a post's date line) are not.
"""

from __future__ import annotations

from lxml import etree

from monitor.extract.blocks import tree_blocks

SECTION_1 = (
    "These Regulations may be cited as the Sanctions Amendment Regulations, 2026, and come into"
    " operation on the date of their publication in the Gazette."
)
SECTION_2 = 'In these Regulations, "the principal Regulations" means the 2017 Regulations, and—'
SECTION_2A = '(a) "ship-to-ship transfer" means the transfer of any goods between vessels at sea;'


def blocks_of(xml: str) -> list[tuple[str, str]]:
    return [block for block in tree_blocks(etree.fromstring(xml)) if block is not None]


def test_a_sections_text_after_its_heading_is_a_paragraph() -> None:
    body = (
        '<body><div class="akn-body">'
        f'<head rend="h3">1. Citation and commencement</head>{SECTION_1}'
        f'<head rend="h3">2. Interpretation</head>{SECTION_2}<lb/><lb/>{SECTION_2A}'
        "</div></body>"
    )
    assert blocks_of(body) == [
        ("head", "1. Citation and commencement"),
        ("p", SECTION_1),
        ("head", "2. Interpretation"),
        ("p", SECTION_2),
        ("p", SECTION_2A),
    ]


def test_a_boxs_loose_lines_that_end_no_sentence_are_not_text() -> None:
    body = (
        "<body><div>Home &gt; Notices &gt; Snow plan<p>The snow plan for this winter starts on"
        " Monday and covers every street of the town.</p>PIANO NEVE 2024/2025 - Ufficio Tecnico"
        "<p>Residents are asked to keep the roadside free of parked cars at night.</p>"
        "11-09-2024, 08:31 AM (last modified by kittiwake)</div></body>"
    )
    texts = [text for _, text in blocks_of(body)]
    assert texts == [
        "The snow plan for this winter starts on Monday and covers every street of the town.",
        "Residents are asked to keep the roadside free of parked cars at night.",
    ]
