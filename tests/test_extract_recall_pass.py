"""The recall pass (issue 15): text trafilatura's precision mode drops is kept, and what its
default mode lets in besides stays out, rule by rule (monitor/extract/boilerplate.py).

Every page is written for this test and served over 127.0.0.1; each holds a sentence precision
mode drops (so that the page fails without the recall pass) and the boilerplate the rule under
test keeps out (so that it fails without that rule).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.extract import extract_page
from monitor.source_kinds import SOURCE_KINDS
from tests.conftest import ContentServer
from tests.test_extract_page_types import (
    CHROME,
    assert_kept,
    assert_out,
    cli_extract,
    fetched,
    page,
    texts_of,
)

# A paragraph whose first letter is styled by an empty span: precision mode deletes the empty
# element with the text after it.
DROPCAP = (
    '<p><span class="dropcap"></span>The night ferry to the islands will stop running at the end'
    " of October, the operator said on Monday.</p>"
)
DROPCAP_TEXT = "The night ferry to the islands will stop running at the end of October"
BODY = [
    "The company blames the price of fuel and a fall in passengers since the new bridge opened.",
    "Islanders have collected four thousand signatures against the decision in two weeks.",
    "The regional council will discuss the ferry at its meeting next Thursday.",
]


def article(extra: str = "", before: str = "", after: str = "") -> str:
    first, *rest = (f"<p>{p}</p>" for p in BODY)
    return (
        f"<article>{before}<h1>Night ferry to the islands will stop in October</h1>"
        f"<div class='article-body'>{DROPCAP}{first}{extra}{''.join(rest)}</div>{after}"
        "</article>"
    )


def test_a_paragraph_after_an_empty_drop_cap_span_is_kept(
    tmp_path: Path, content_server: ContentServer
) -> None:
    empty_bold = "<p><b></b>Two crew members will move to the day ferry, the others will leave.</p>"
    url = content_server.set("/ferry", page("Night ferry", article(extra=empty_bold)))
    texts = texts_of(cli_extract(tmp_path, url))
    assert_kept(texts, [DROPCAP_TEXT, "Two crew members will move to the day ferry", *BODY])
    assert_out(texts, CHROME)


def test_headings_that_link_to_their_own_section_are_kept_over_their_paragraphs(
    content_server: ContentServer,
) -> None:
    sections = [
        ("who", "Who has to pay?", "Every owner of a flat or a house pays the levy once a year."),
        ("when", "When is it due?", "The first instalment is due on the fifteenth of February."),
        ("how", "How can I object?", "An objection must reach the tax office within one month."),
    ]
    toc = "".join(f'<li><a href="#{i}">{h}</a></li>' for i, h, _ in sections)
    body = "".join(
        f'<h2 id="{i}"><a href="#{i}">{h}</a></h2><p>{p}</p><p>Details follow in the letter.</p>'
        for i, h, p in sections
    )
    main = (
        "<article><h1>The new harbour levy explained</h1><p>The harbour levy replaces the old"
        " mooring fee from January, and every owner gets a letter in the coming weeks.</p>"
        f'<div class="toc"><ol>{toc}</ol></div>{body}</article>'
    )
    doc = fetched(content_server.set("/levy", page("Harbour levy", main)))
    titled = {p.text: p.title for p in doc.passages}
    for _, heading, paragraph in sections:
        assert titled.get(paragraph) == heading, titled
    assert_out(texts_of(doc), [*CHROME, *(h for _, h, _ in sections)])  # the TOC's links


def test_a_box_with_a_border_inside_the_article_is_kept(content_server: ContentServer) -> None:
    box = (
        '<div class="example" style="border: 1px solid #999"><p>For a terraced house the levy'
        " comes to about 190 euros a year.</p></div>"
    )
    texts = texts_of(fetched(content_server.set("/box", page("Levy", article(extra=box)))))
    assert_kept(texts, ["For a terraced house the levy comes to about 190 euros a year.", *BODY])
    assert_out(texts, CHROME)


# --- rules against what the recall pass adds -------------------------------------------------


def test_the_article_header_stays_out(content_server: ContentServer) -> None:
    header = (
        '<header class="article-head"><p class="kicker">Islands</p><p class="standfirst">The'
        " operator says the crossing no longer pays for itself.</p></header>"
    )
    texts = texts_of(fetched(content_server.set("/head", page("Ferry", article(before=header)))))
    assert_kept(texts, [DROPCAP_TEXT, *BODY])
    assert_out(texts, [*CHROME, "no longer pays for itself"])


def test_a_date_line_a_dateline_and_a_live_badge_stay_out(content_server: ContentServer) -> None:
    before = '<div class="badge">Live</div>'
    extra = (
        '<div class="date">Published 3 March 2026</div><div class="where">KIRKWALL (Wire) -</div>'
    )
    main = article(extra=extra, before=before)
    texts = texts_of(fetched(content_server.set("/dates", page("Ferry", main))))
    assert_kept(texts, [DROPCAP_TEXT, *BODY])
    assert_out(texts, [*CHROME, "Published 3 March", "KIRKWALL", "Live"])


# Pages of the dev sets where trafilatura's default mode was measured to add boilerplate that
# precision mode kept out; each case names the rule that keeps it out now, the noise, and
# sentences of the page's main text.
BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
DEV_PAGES = [
    ("phrases: press contact", "extract_probes/de_pressemitteilung_divs.html",
     ["Pressekontakt", "0611 555-0"],
     ["Anträge für das Jahr 2027 können ab dem 1. September gestellt werden."]),
    ("phrases: paywall", "extract_eval/de_regional_paywall.html",
     ["Weiterlesen mit", "Kontingent", "0,99"], []),
    ("phrases: newsletter", "extract_eval/en_government_press.html",
     ["Subscribe to Defense.gov"], []),
    ("phrases: appeal", "extract_eval3/pages/dev/en_interview_qa_inline.html",
     ["funded by readers"], []),
    ("fragment: date line", "extract_probes/en_road_notice.html", ["Published 3 March"],
     ["A diversion will be signed via Hollow Way."]),
    ("fragment: dateline", "extract_eval2/pages/dev/en_agency_a2.html", ["LONDON (Reuters)"], []),
    ("dump: headline", "extract_eval/en_liveblog.html", ["LIVE Ukraine war live"], []),
    ("navigation run", "extract_eval/en_table_layout.html", ["Home | News"], []),
    ("furniture: article header", "extract_eval3/pages/dev/de_kommentar.html",
     ["Verbündete sucht, wo es sie findet"], []),
    ("dump", "extract_probes/en_grid_layout.html", ["Rhys Penhale", "Most viewed"],
     ["Union members will vote on the offer over the next three weeks."]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "path", "noise", "sentences"), DEV_PAGES, ids=[case[0] for case in DEV_PAGES]
)
def test_what_the_recall_pass_adds_is_kept_out_by_our_rules(
    content_server: ContentServer, rule: str, path: str, noise: list[str], sentences: list[str]
) -> None:
    check_dev_page(content_server, BENCH / path, noise, sentences)


def check_dev_page(
    content_server: ContentServer, html: Path, noise: list[str], sentences: list[str]
) -> list[str]:
    """Serve a labelled page, extract it through the fetcher: its first paragraph of main text
    and `sentences` are kept, `noise` is not. Returns the passages' texts and titles."""
    # No charset in the header: the page's own (windows-1252 pages) is read.
    url = content_server.set("/" + html.name, html.read_bytes(), content_type="text/html")
    doc = fetched(url)
    texts = texts_of(doc) + [p.title or "" for p in doc.passages]
    expected = html.with_name(html.stem + ".expected.txt").read_text(encoding="utf-8")
    first = expected.split("\n\n")[0].strip()
    assert_kept(texts, [first[:60], *sentences])
    assert_out(texts, noise)
    return texts


def test_a_heading_over_a_cell_of_links_is_no_paragraphs_heading() -> None:
    # Layout tables: a cell's bold lead stands over the cell's own text only.
    html = (BENCH / "extract_eval/en_table_layout.html").read_bytes()
    doc = extract_page(html, "https://eval.example/en_table_layout.html", "text/html")
    assert doc.passages
    assert all(p.title != "Latest headlines" for p in doc.passages)


def test_a_page_trafilatura_dumps_whole_gives_only_its_article(
    content_server: ContentServer,
) -> None:
    # No <article>, <main>, <p> or headline: precision mode finds the text blocks; the default
    # mode's last resort adds the whole page as one more paragraph (menu, byline and all).
    blocks = [
        "The rail strike planned for next week has been called off after a late deal.",
        "Drivers will get a pay rise of four per cent this year and three per cent next year.",
        '"It is a fair deal," the union leader said outside the talks on Wednesday night.',
        "Members will vote on the offer over the next three weeks, the union said.",
    ]
    html = (
        "<html><head><title>Rail strike called off | Northline</title></head><body>"
        "<div class='top'><a href='/'>Northline</a> <a href='/uk'>UK</a> <a href='/world'>World"
        "</a></div><div class='grid'><div class='col'><div class='m'><span>Rhys Penhale</span>"
        "<span>Thu 9 Apr</span></div><div class='rich'>"
        + "".join(f"<div class='rich__block'>{b}</div>" for b in blocks)
        + "</div></div></div></body></html>"
    )
    texts = texts_of(fetched(content_server.set("/grid", html)))
    assert_kept(texts, blocks)
    assert_out(texts, ["Rhys Penhale", "Northline", "World"])
    assert len(texts) == len(blocks)


def test_the_extractor_version_is_raised_for_the_recall_pass() -> None:
    # Pages polled by extractor 3 are fetched in full once and their new paragraphs recorded,
    # not reported (tests/test_upgrade_extractor.py).
    assert SOURCE_KINDS["page"].EXTRACTOR >= 4  # 5 since test_extract_recall_rules


def test_footer_lines_precision_mode_kept_stay_out_and_short_article_lines_stay_in(
    content_server: ContentServer,
) -> None:
    # Lines trafilatura's precision run takes as the article's own: a copyright line, a press
    # contact, a citation note. Short article lines of the same length stay.
    lines = [
        "© 2026 Harbour Institute. All rights reserved.",
        "Press contact: Ines Moll, +49 40 555 0123",
        "Suggested citation: Harbour Institute (2026), Ferries in the North Sea, Brief 4.",
    ]
    main = article(after="".join(f"<p>{line}</p>" for line in lines))
    texts = texts_of(fetched(content_server.set("/footer", page("Ferry", main))))
    assert_kept(texts, [DROPCAP_TEXT, *BODY])
    assert_out(texts, ["All rights reserved", "Press contact", "Suggested citation"])


def test_a_data_table_row_is_no_navigation_run(content_server: ContentServer) -> None:
    # Recovered by the recall pass (a short table inside a bordered box), its rows are
    # short parts between separators like a menu's, but hold figures.
    table = (
        '<div style="border: 1px solid #ccc"><table><tr><th>Route</th><th>Crossings</th>'
        "<th>Passengers</th></tr><tr><td>North pier</td><td>1,204</td><td>88,410</td></tr>"
        "<tr><td>Island run</td><td>730</td><td>41,022</td></tr></table></div>"
    )
    texts = texts_of(fetched(content_server.set("/rows", page("Ferry", article(extra=table)))))
    assert_kept(texts, [DROPCAP_TEXT, "North pier | 1,204 | 88,410", "Island run | 730 | 41,022"])


def test_a_timelines_short_titles_stand_over_their_entries(content_server: ContentServer) -> None:
    # Short labels in <div>s (no sentence), each over an entry precision mode drops: they are
    # the entries' titles, not a kicker over the article.
    entries = [
        ("Ferry ordered", "The operator orders a second ship from a yard in Gdansk."),
        ("First crossing", "The new ship makes its first crossing to the islands in May."),
        ("Night service cut", "The operator announces the end of the night service."),
    ]
    timeline = "".join(
        f'<div class="tl__entry"><div class="tl__title">{title}</div><div class="tl__text">'
        f"{text}</div></div>"
        for title, text in entries
    )
    main = (
        "<article><h1>The island ferry: a timeline</h1><p>How the island ferry went from two"
        " ships to one in three years, and what the operator decided when.</p>"
        f'<div class="field field--items"><div class="tl">{timeline}</div></div>'
        "<p>The council will discuss the ferry at its meeting next Thursday, the mayor said.</p>"
        "</article>"
    )
    texts = texts_of(fetched(content_server.set("/timeline", page("Timeline", main))))
    assert_kept(texts, [t for entry in entries for t in entry])
    assert_out(texts, CHROME)
