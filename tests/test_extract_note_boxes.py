"""Issue 15 on a wiki's note boxes (extract_eval20 as development data): XWiki's info and
warning macros are classed "box infomessage" and "box warningmessage", and trafilatura drops
every element whose class says "message", so a knowledge-base page lost its notes (recall
0.79). A note box among the text and one above its first section come in; a hatnote that
points to another page ("for the deployment see <a>...</a>") stays out.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

import lxml.html

from monitor.extract.blocks import Block
from monitor.extract.lost_text import with_note_boxes
from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

SCOPE = (
    "This procedure applies to every new hull risk and every renewal where the vessel has"
    " called in the Russian Far East, China or the Korean peninsula in the last 12 months."
)
PURPOSE = (
    "Underwriters must screen vessels for links to the Democratic People's Republic of Korea"
    " before a quote is issued, as the consolidated list changes every few weeks."
)
STEPS = [
    "Check the IMO number, not the name, against the consolidated list in the screening tool.",
    "Open the vessel's name and flag history for the last five years and note every change.",
]
WARNING = (
    "Do not rely on the vessel name alone. Several tankers of interest have been renamed more"
    " than once in a year, and some carry the names of vessels scrapped long ago."
)
HATNOTE = "This page is about screening. For the list itself see"


def xwiki_page() -> str:
    steps = "".join(f"<li>{step}</li>" for step in STEPS)
    icon = '<span class="icon-block">ⓘ</span>'
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Vessel Screening - XWiki</title></head><body>"
        '<div id="menuview"><nav><a href="/xwiki/bin/view/Main/">Home</a>'
        ' <a href="/xwiki/bin/view/Compliance/">Compliance</a></nav></div>'
        '<div class="content-wrapper" id="contentwrapper">'
        '<div class="main layoutsubsection" id="mainContentArea">\n'
        f'<div class="box infomessage"><div class="xwiki-info-macro">{icon}<div>{SCOPE}</div>'
        "</div></div>\n"
        '<h1 id="HPurpose" class="wikigeneratedid"><span>Purpose</span></h1>'
        f'<p>{PURPOSE}</p>\n<h1 id="HSteps" class="wikigeneratedid"><span>Steps</span></h1>'
        f"<ol>{steps}</ol>\n"
        f'<div class="box warningmessage"><div class="xwiki-warning-macro"><div>{WARNING}'
        "</div></div></div>\n"
        f'<div class="box infomessage"><div class="xwiki-info-macro">{icon}<div>{HATNOTE}'
        ' <a href="/xwiki/bin/view/Compliance/List/">the consolidated list</a>.</div></div></div>'
        "</div></div></body></html>"
    )


def test_a_wikis_note_boxes_come_in(content_server: ContentServer) -> None:
    doc = fetched(content_server.set("/xwiki/bin/view/Compliance/Screening/", xwiki_page()))
    texts = texts_of(doc)
    assert_kept(texts, [SCOPE, PURPOSE, *STEPS, WARNING])
    assert_out(texts, [HATNOTE])
    # The note stands where the page shows it: before the text it introduces.
    place = next(i for i, text in enumerate(texts) if SCOPE in text)
    assert place < texts.index(PURPOSE), texts


def test_a_note_box_no_run_kept_is_put_before_the_text_after_it() -> None:
    # Where both runs lose a note box above the text's first section (an XWiki page whose
    # precision run kept only the sections), its text is put back before the block after it.
    tree = lxml.html.fromstring(xwiki_page())
    blocks: list[Block] = [("p", PURPOSE), *(("item", step) for step in STEPS)]
    out = with_note_boxes(blocks, tree)
    assert out[0] == ("p", SCOPE), out  # without its icon glyph
    assert out[1:4] == blocks
    assert ("p", WARNING) not in out  # no kept block after it to stand before
    assert not any(HATNOTE in text for _, text in out)  # it links elsewhere: a pointer


PAIRING = "Hold the sensor's button for five seconds until its light blinks blue, then add it."
ZIGBEE = "Sensors bought before 2023 use Zigbee and need the bridge adapter."


def test_a_docs_themes_aside_note_is_text() -> None:
    # Starlight sets a note as <aside class="starlight-aside--note">, which trafilatura deletes
    # with every <aside>; its text (not its "Note" title) goes before the block after it.
    page = (
        "<html><body><main><article><h1>Pairing sensors</h1>"
        '<aside aria-label="Note" class="starlight-aside starlight-aside--note">'
        '<p class="starlight-aside__title" aria-hidden="true">Note</p>'
        f'<div class="starlight-aside__content"><p>{ZIGBEE}</p></div></aside>'
        f"<p>{PAIRING}</p></article></main>"
        '<aside class="right-sidebar"><p>On this page: Overview, Pairing, Troubleshooting.</p>'
        "</aside></body></html>"
    )
    out = with_note_boxes([("p", PAIRING)], lxml.html.fromstring(page))
    assert out == [("p", ZIGBEE), ("p", PAIRING)], out


GHOST_TEXT = [
    "The first freight train crossed the rebuilt bridge on Monday morning, carrying timber and"
    " fertiliser north, the railway's regional office said in a short statement.",
    "Traffic is expected to double by the spring, when the second track is finished and the"
    " customs post on the far bank opens around the clock.",
]
CALLOUT = (
    "The bridge is the only rail crossing between the two countries. It runs parallel to a"
    " road bridge under construction a few hundred metres downstream."
)
LAST = "Officials would not say how many trains a week the line will carry from January."
PROMO = "Subscribe to get our table of every statement by both sides, updated each week."


def ghost_page() -> str:
    def callout(text: str, emoji: str) -> str:
        return (
            f'<div class="kg-card kg-callout-card kg-callout-card-grey"><div'
            f' class="kg-callout-emoji">{emoji}</div><div class="kg-callout-text">{text}</div>'
            "</div>"
        )

    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Freight resumes'
        '</title></head><body><header class="gh-head"><nav><a href="/">Home</a>'
        ' <a href="/tag/rail/">Rail</a></nav></header><main class="gh-main">'
        '<article class="gh-article post"><header class="gh-article-header">'
        '<h1 class="gh-article-title">Freight resumes over the border bridge</h1></header>'
        f'<section class="gh-content gh-canvas"><p>{GHOST_TEXT[0]}</p>'
        f"{callout(CALLOUT, '📌')}<p>{GHOST_TEXT[1]}</p>{callout(PROMO, '💡')}"
        f"<p>{LAST}</p>"
        "</section></article></main></body></html>"
    )


def test_a_ghost_callout_card_is_text_and_a_promotion_is_not(
    content_server: ContentServer,
) -> None:
    doc = fetched(content_server.set("/freight-resumes/", ghost_page()))
    texts = texts_of(doc)
    assert_kept(texts, [*GHOST_TEXT, CALLOUT])
    assert_out(texts, [PROMO])
    assert texts.index(CALLOUT) == texts.index(GHOST_TEXT[1]) - 1, texts


def test_a_ghost_callout_both_runs_lost_is_put_back() -> None:
    # On a fuller Ghost page both of trafilatura's runs lose the callout (extract_eval20:
    # recall 0.90); its text goes before the block after it, without its emoji. A promotion
    # set as a callout stays out.
    tree = lxml.html.fromstring(ghost_page())
    blocks: list[Block] = [("p", GHOST_TEXT[0]), ("p", GHOST_TEXT[1]), ("p", LAST)]
    out = with_note_boxes(blocks, tree)
    assert out == [blocks[0], ("p", CALLOUT), *blocks[1:]], out
