"""Issue 15, recall: text trafilatura leaves loose in its output, after a heading.

A page builder's text module writes its heading and its text in one box with no <p>
("<div class="et_pb_text_inner"><h3>Pond</h3>Four new benches ...", Divi). trafilatura keeps
the text as the tail of its <head>, at the top of its output; read child by child, every such
paragraph was lost, and the test that skips the recall run counted it as kept (a German
council page, extract_eval25: recall 0.49, trafilatura's 1.0). The loose runs that end a
sentence are paragraphs, in their place between the headings.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

INTRO = (
    "At its meeting on 19 November the village council dealt with several small projects."
    " Six of its seven members and eleven residents attended."
)
SECTIONS = [
    (
        "Pond",
        "Four new benches will be put up on the path around the pond in the spring. The"
        " heritage society donates two of them; the village pays for the others.",
    ),
    (
        "Playground",
        "The playground in Linden Street will be renovated, and the district has set aside"
        " 38,000 euros for the work. The slide and the sandpit will be replaced.",
    ),
    (
        "Other business",
        "Asked by a resident, the mayor said the broken street lamp by the cemetery has been"
        " reported to the utility and should be repaired within two weeks.",
    ),
]
NEXT = "Next meeting: Tuesday, 14 January, 7 pm, in the parish hall."


def module(inner: str, n: int) -> str:
    return (
        f'<div class="et_pb_module et_pb_text et_pb_text_{n} et_pb_text_align_left">'
        f'<div class="et_pb_text_inner">{inner}</div></div>'
    )


def divi_page() -> str:
    modules = "".join(
        module(f"<h3>{title}</h3>{text}", n) for n, (title, text) in enumerate(SECTIONS, 1)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Council report'
        '</title></head><body class="et_divi_theme"><div id="page-container"><header'
        ' id="main-header"><nav><a href="/">Home</a> <a href="/council">Council</a></nav>'
        '</header><div id="et-main-area"><div id="main-content"><article class="post">'
        '<div class="et_post_meta_wrapper"><h1 class="entry-title">Council report, November'
        '</h1></div><div class="entry-content"><div class="et_pb_section"><div'
        ' class="et_pb_row"><div class="et_pb_column">'
        + module(INTRO, 0)
        + modules
        + f'<div class="et_pb_module et_pb_cta et_pb_promo"><h2>Next meeting</h2><div>{NEXT}'
        '</div></div></div></div></div></div></article></div><footer id="main-footer"><p>'
        "© 2026 Village of Lindenau</p></footer></div></div></body></html>"
    )


def test_text_after_a_heading_in_a_builders_text_module_is_read(
    content_server: ContentServer,
) -> None:
    texts = texts_of(fetched(content_server.set("/council/november", divi_page())))
    assert_kept(texts, [INTRO, *(text for _, text in SECTIONS)])
    assert_out(texts, ["© 2026 Village"])
