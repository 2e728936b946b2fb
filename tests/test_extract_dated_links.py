"""Issue 15, precision: a teaser's line that is its link and the link's date and time
("04.12.2026 10:05 <a>Headline</a>", a blog's "<a>Title</a> | 2025.09.28") was too long for a
run of links by its figures, and a news ticker or an "other posts" table came in (extract_eval12
and extract_eval9: precision 0.54 and 0.83 on such pages). Weighed by its letters it is all
link. A link with words of the text around it ("<a>An interview</a>, in English.") stays.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

BRIEF = [
    "Customs officers in the border town held 40 rail cars bound for the north on Wednesday,"
    " the agency's press office said, citing irregular papers for the cargo.",
    "The cars carried machine parts declared as agricultural equipment; an inspection found"
    " lathes and milling heads that fall under the export controls.",
    "The operator of the line said it had not been told why the train was stopped and that it"
    " expected the cars to be released within the week.",
]
TICKER = [
    ("04.12.2026 10:05", "Astana airport to open second runway in spring"),
    ("04.12.2026 09:30", "Tenge steady ahead of central bank decision"),
    ("03.12.2026 18:44", "Heavy snow closes roads in the east of the country"),
]
OTHER_POSTS = [("Inwangsan at sunset", "2025.09.28"), ("The city wall in one day", "2025.08.30")]
READING = [
    ("An analysis of the treaty's fourth article", ", by a research centre in Madrid."),
    ("An interview with a defector", ", in English."),
]


def agency_page() -> str:
    ticker = "".join(
        f'<div class="news-item"><span class="news-date-time">{when}</span> '
        f'<a href="/en/news/{i}/">{title}</a></div>'
        for i, (when, title) in enumerate(TICKER)
    )
    posts = "".join(
        f'<tr><th><a href="/{i}">{title}</a></th><td>{day}</td></tr>'
        for i, (title, day) in enumerate(OTHER_POSTS)
    )
    reading = "".join(f'<li><p><a href="#">{link}</a>{rest}</p></li>' for link, rest in READING)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Rail cars held'
        '</title></head><body><main><div class="news-detail"><h1>Rail cars held at the border'
        "</h1>"
        + "".join(f"<p>{p}</p>" for p in BRIEF)
        + f"<h3>Further reading</h3><ol>{reading}</ol>"
        + f'<div class="another_category"><h4>Other posts</h4><table>{posts}</table></div>'
        + f'</div><div class="news-list">{ticker}</div></main></body></html>'
    )


def test_dated_teaser_lines_stay_out(content_server: ContentServer) -> None:
    doc = fetched(content_server.set("/en/news/88401/", agency_page()))
    texts = texts_of(doc)
    assert_kept(texts, [*BRIEF, *(link + rest for link, rest in READING)])
    assert_out(texts, [title for _, title in TICKER] + [title for title, _ in OTHER_POSTS])
