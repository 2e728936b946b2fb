"""Issue 15, recall: a link aggregator's item page (a table of comment rows, Hacker News style).

The opening post ("Ask: ...") stands in the submission's table, outside the comment tree, and
is the only text trafilatura's precision run keeps. Each reply's text is its box's own text
("<div class="commtext c00">Text<p>More</p>"), most with no <p> at all, and each box carries
a colour class of its own beside "commtext". The replies were looked for as the parents of
<p>s grouped by their whole class, so none was found (two such pages of the fresh sets:
recall 0.31 and 0.34, trafilatura's 0.84 and 0.87). Replies are now also found by their box's
own text and grouped by their first class word where that groups more, and a page with no
headline whose short opening post has at least as much reply text under it is the thread.
A flagged reply and the page's links stay out.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

OPENING = [
    "I do volunteer research on tankers that carry fuel to North Korea. Since the UN panel"
    " stopped publishing, the ships I follow change name or flag every few months.",
    "Is there a cheap way to keep a stable identity for a hull over time? Some of these ships"
    " broadcast fake numbers.",
]
REPLIES = [
    ("c00", 0, ["Physical features beat any identifier: hull length, cranes, the funnel's"
                " colour. Build a profile from satellite images and compare.",
                "It is slow, but a fake number cannot change the shape of a ship."]),
    ("c00", 1, ["That is roughly what I do now, by hand in a spreadsheet. Do you know of"
                " anything open source for it?"]),
    ("c5a", 2, ["Not that I would trust. A spreadsheet with photos linked by date is fine at"
                " the scale of a few dozen ships."]),
    ("c73", 0, ["Be careful with public position aggregators: several merge tracks when two"
                " ships share an identity number, which is what a spoofing ship wants."]),
]  # fmt: skip
FLAGGED = "[flagged]"


def item_page() -> str:
    rows = []
    for i, (colour, indent, paragraphs) in enumerate(REPLIES):
        first, *rest = paragraphs
        text = first + "".join(f"<p>{p}</p>" for p in rest)
        rows.append(
            f'<tr class="athing comtr" id="c{i}"><td><table border="0"><tr><td class="ind"'
            f' indent="{indent}"><img src="s.gif" width="{40 * indent}"></td><td'
            ' class="votelinks"><a href="vote"><div class="votearrow"></div></a></td><td'
            ' class="default"><div><span class="comhead"><a href="user?id=u" class="hnuser">'
            f'user{i}</a> <span class="age"><a href="item?id={i}">{i + 2} hours ago</a></span>'
            ' <span class="navs"> | <a href="#">next</a></span></span></div><br><div'
            f' class="comment"><div class="commtext {colour}">{text}</div><div class="reply">'
            '<p><font size="1"><u><a href="reply">reply</a></u></font></p></div></div></td>'
            "</tr></table></td></tr>"
        )
    rows.append(
        '<tr class="athing comtr" id="c9"><td><table><tr><td class="default"><div'
        f' class="comment"><div class="commtext cdd">{FLAGGED}</div></div></td></tr></table>'
        "</td></tr>"
    )
    toptext = OPENING[0] + f"<p>{OPENING[1]}</p>"
    return (
        '<html lang="en" op="item"><head><title>Ask: tracking renamed ships | Shipping News'
        '</title></head><body><center><table id="hnmain" width="85%"><tr><td><span'
        ' class="pagetop"><b class="hnname"><a href="news">Shipping News</a></b> <a'
        ' href="newest">new</a> | <a href="ask">ask</a> | <a href="submit">submit</a></span>'
        '</td></tr><tr><td><table class="fatitem"><tr class="athing submission"><td'
        ' class="title"><span class="titleline"><a href="item?id=1">Ask: How do you track'
        ' ships that keep changing names?</a></span></td></tr><tr><td class="subtext"><span'
        ' class="subline"><span class="score">87 points</span> by <a href="user?id=b"'
        ' class="hnuser">brine</a> | <a href="hide">hide</a> | <a href="item?id=1">41'
        f' comments</a></span></td></tr><tr><td><div class="toptext">{toptext}</div></td>'
        '</tr></table><br><table class="comment-tree">'
        + "".join(rows)
        + '</table></td></tr><tr><td><center><span class="yclinks"><a href="guidelines">'
        'Guidelines</a> | <a href="faq">FAQ</a> | <a href="legal">Legal</a></span></center>'
        "</td></tr></table></center></body></html>"
    )


def test_an_aggregator_items_replies_are_read(content_server: ContentServer) -> None:
    texts = texts_of(fetched(content_server.set("/item", item_page())))
    assert_kept(texts, [*OPENING, *(p for _, _, paragraphs in REPLIES for p in paragraphs)])
    assert_out(texts, [FLAGGED, "Guidelines | FAQ", "reply"])
