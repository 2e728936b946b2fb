"""Issue 15, recall: a <header>, <footer>, <nav>, <aside> or <form> that holds most of the
page's text is not furniture.

- A <header> whose last <div> is never closed takes the rest of the page in libxml2's tree (a
  browser closes the div at </header>); its text was refused as the header's (a Hungarian
  decree's sections, extract_eval23: recall 0.21).
- An ASP.NET page (Sitefinity, Kentico, DNN) is one <form> around the page: a short list of
  facts in its article was refused as a list in a form (four pages of the labelled sets:
  recall 0.77 to 0.85).

A header or footer of the usual size stays furniture. The decree's page is a development page
of test_extract_recall_rules.py; the page here is written for this test and served over
127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

FEES = [
    "Adult ticket: 3.50 euros.",
    "Children from 4 to 14 and people over 65: 2 euros.",
    "Family season pass: 75 euros.",
]
POOLS = [
    "The two municipal pools open on Saturday 14 June and stay open until 7 September, every"
    " day from eleven in the morning to eight in the evening.",
    "The council has renewed the changing rooms of the covered pool over the winter and added"
    " a shaded area with forty new sun loungers around the outdoor basin.",
    "Tickets can be bought at the entrance or online; this year's prices are the same as"
    " last summer's:",
]


def aspnet_page() -> str:
    fees = "".join(f"<li>{fee}</li>" for fee in FEES)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Pools open</title>'
        '</head><body><form method="post" action="/news/pools" id="form"><div class="aspNetHidden">'
        '<input type="hidden" name="__VIEWSTATE" value="abc"></div><div class="top">'
        '<ul class="menu"><li><a href="/council">Council</a></li><li><a href="/news">News</a>'
        '</li></ul><input type="text" name="q" placeholder="Search"><button>Go</button></div>'
        '<div class="noticia"><h1>Municipal pools open on Saturday</h1>'
        + "".join(f"<p>{p}</p>" for p in POOLS)
        + f"<ul>{fees}</ul><p>Season passes are sold only at the town hall.</p></div>"
        '<div class="lateral"><h3>Other news</h3><ul><li><a href="/n/1">Summer school'
        ' sign-up opens</a></li><li><a href="/n/2">Road closed in the high street</a></li>'
        "</ul></div></form></body></html>"
    )


def test_a_short_list_in_a_page_wide_form_is_kept(content_server: ContentServer) -> None:
    texts = texts_of(fetched(content_server.set("/news/pools", aspnet_page())))
    assert_kept(texts, [*POOLS, *FEES])
    assert_out(texts, ["Summer school sign-up", "Road closed in the high street"])
