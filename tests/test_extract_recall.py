"""Extraction recall by page type (issue 15): every paragraph of the article once, no boilerplate.

Each page here is written for the test, in the markup of one page type where text went missing
or came out twice.
"""

from __future__ import annotations

from monitor.extract import extract_page
from monitor.extract.pages import FALLBACK_WARNING

URL = "https://courier.example/live/2026/12/03/harbour-talks"

_CHROME = (
    '<div class="cookie-banner"><p>We use cookies to personalise content and to analyse our'
    " traffic. You can change your choice at any time.</p><button>OK</button></div>"
    '<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/politics">Politics'
    '</a> <a href="/sport">Sport</a> <a href="/subscribe">Subscribe</a></nav></header>'
)
_SIDEBAR = (
    '<aside class="sidebar"><h3>Most read</h3><ol><li><a href="/m0">Read more: How the port'
    ' became a hub</a></li><li><a href="/m1">Related: Five things to know about the treaty</a>'
    '</li></ol></aside><footer><p>© 2026 The Courier</p><a href="/imprint">Imprint</a></footer>'
)


def _page(main: str, title: str = "Harbour talks: live") -> bytes:
    html = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | The Courier'
        f"</title></head><body>{_CHROME}<main><h1>{title}</h1>{main}</main>{_SIDEBAR}</body></html>"
    )
    return html.encode()


def _texts(body: bytes) -> list[str]:
    doc = extract_page(body, URL, "text/html")
    assert FALLBACK_WARNING not in doc.warnings  # trafilatura's path is what is tested
    return [p.text for p in doc.passages]


def _no_chrome(texts: list[str]) -> None:
    everything = "\n".join(texts)
    for noise in ("We use cookies", "Subscribe", "Most read", "Read more", "Imprint", "©"):
        assert noise not in everything, noise


LIVE_ENTRIES = [
    ("17:22", None, [
        "The embassy advised its citizens to avoid large gatherings over the weekend.",
        "Farmers in the valley say the late frost destroyed a third of this year's harvest.",
    ]),
    ("16:16", "Rail traffic resumes after repairs", [
        "A spokesperson declined to say how many staff members would be affected.",
        "Researchers measured water levels at forty points along the river over six months.",
    ]),
    ("15:23", "Council extends emergency budget", [
        "Analysts expect the agreement to be tested within the first year of its term.",
    ]),
]  # fmt: skip


def test_live_blog_entries_in_list_items_give_each_paragraph_once() -> None:
    """An entry <li> holding <time>, <h3> and <p>s: its paragraphs, not also the whole entry."""
    items = "".join(
        f'<li class="live-entry"><time>{when}</time>'
        + (f"<h3>{head}</h3>" if head else "")
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</li>"
        for when, head, paragraphs in LIVE_ENTRIES
    )
    texts = _texts(_page(f'<ul class="live-feed">{items}</ul>'))
    expected = [p for _, _, paragraphs in LIVE_ENTRIES for p in paragraphs]
    assert texts == expected
    _no_chrome(texts)
