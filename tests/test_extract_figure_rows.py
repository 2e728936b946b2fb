"""Issue 15 on tables of figures and on headings that are their own permalink (extract_eval18
as development data).

- A row of figures only ("Q1 | 12 | 8") was dropped as a counter line that could only ever look
  new, though it is the data of a table whose header names its columns (a score table: recall
  0.92; a docs page's release table: 0.84). A figures-only line outside a table still goes.
- A docs site's heading wrapped whole in a link to its own anchor (Docsify's
  `<h2><a class="anchor" href="#/page?id=...">`) was refused as a teaser's linked headline.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

import lxml.html

from monitor.extract.blocks import Block
from monitor.extract.boilerplate import boilerplate
from monitor.extract.lost_text import with_table_rows
from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched

OPENING = (
    "The first team stay top of Division Two after a win that was much closer than the opening"
    " half suggested, with the visitors level four minutes from the end."
)
CLOSING = (
    "Next up is the away trip to Fairley Hawks on Sunday, first centre pass at two o'clock, with"
    " lifts from the leisure centre car park."
)
ROWS = ["Q1 | 12 | 8", "Q2 | 12 | 7", "Q3 | 8 | 12", "Q4 | 9 | 11"]


def score_page(header: bool) -> str:
    head = "<tr><th>Quarter</th><th>Otters</th><th>Comets</th></tr>" if header else ""
    rows = "".join(
        "<tr>" + "".join(f"<td>{cell}</td>" for cell in row.split(" | ")) + "</tr>" for row in ROWS
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Otters edge Comets in thriller</title></head><body>"
        '<nav><a href="/">Home</a> <a href="/news">News</a> <a href="/fixtures">Fixtures</a></nav>'
        '<main><div class="news-article"><h1>Otters edge Comets in thriller</h1>'
        '<div class="news-article__body">'
        f"<p>{OPENING}</p>"
        f'<table class="score-table">{head}{rows}</table>'
        f"<p>{CLOSING}</p>"
        # A counter line outside a table is still no text of the article.
        '<p class="views">1,204 | 36</p>'
        "</div></div></main><footer><p>Oakhurst Otters Netball Club</p></footer></body></html>"
    )


def test_a_score_tables_figure_rows_are_kept(content_server: ContentServer) -> None:
    doc = fetched(content_server.set("/news/otters-comets.html", score_page(header=True)))
    texts = [p.text for p in doc.passages]
    assert_kept(texts, [OPENING, "Quarter | Otters | Comets", *ROWS, CLOSING])
    assert "1,204 | 36" not in texts


def test_figure_rows_of_a_table_without_words_still_go(content_server: ContentServer) -> None:
    # Without a row of words nothing says what the figures are: a widget's counters.
    doc = fetched(content_server.set("/news/otters-comets-2.html", score_page(header=False)))
    texts = [p.text for p in doc.passages]
    assert_kept(texts, [OPENING, CLOSING])
    assert not set(ROWS) & set(texts), texts


CRON = (
    "Expressions use the usual five fields: minute, hour, day of month, month and day of week."
    " Seconds are not supported; use the interval call for those."
)
ZONES = (
    "By default expressions are read in UTC. Pass another zone to the clock to change that; on"
    " the day clocks change, a missing time runs once at the first valid minute after it."
)


def docsify_page() -> str:
    def heading(slug: str, text: str) -> str:
        return (
            f'<h2 id="{slug}"><a href="#/scheduling?id={slug}" data-id="{slug}" class="anchor">'
            f"<span>{text}</span></a></h2>"
        )

    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>tallyclock</title>'
        '</head><body><main><aside class="sidebar"><ul>'
        '<li><a href="#/install">Installation</a></li><li><a href="#/scheduling">Scheduling</a>'
        # The sidebar lists the page's sections under the same names as its headings.
        '<ul class="app-sub-sidebar">'
        '<li><a class="section-link" href="#/scheduling?id=cron-expressions">Cron expressions</a>'
        '</li><li><a class="section-link" href="#/scheduling?id=time-zones">Time zones</a></li>'
        '</ul></li><li><a href="#/plugins">Plugins</a></li>'
        '</ul></aside><section class="content"><article class="markdown-section" id="main">'
        f"{heading('scheduling-jobs', 'Scheduling jobs').replace('h2', 'h1')}"
        "<p>A job is any function you register with the clock; it is"
        " called at the times you give, in the process that owns the clock.</p>"
        f"{heading('cron-expressions', 'Cron expressions')}<p>{CRON}</p>"
        f"{heading('time-zones', 'Time zones')}<p>{ZONES}</p>"
        '<div class="docsify-pagination-container"><a href="#/plugins">Next: Plugins</a></div>'
        "</article></section></main></body></html>"
    )


def test_a_heading_linked_to_its_own_anchor_titles_its_paragraph(
    content_server: ContentServer,
) -> None:
    doc = fetched(content_server.set("/docs/index.html", docsify_page()))
    titles = {p.text: p.title for p in doc.passages}
    assert titles.get(CRON) == "Cron expressions", titles
    assert titles.get(ZONES) == "Time zones", titles
    assert_out(list(titles), ["Next: Plugins", "Installation"])


CLOSURES = [
    ["Rúa", "Día", "Horario", "Restrición"],
    ["Praza do Peirao", "15, 16 e 17", "18:00 – 04:00", "Corte total"],
    ["Rúa do Mar", "16", "11:00 – 14:00", "Corte total (procesión marítima)"],
]


def test_a_tables_cells_given_one_by_one_are_read_as_its_rows() -> None:
    # trafilatura's full run can take readability's or jusText's result, a table as one
    # paragraph per cell: its rows fell apart and its figure cells were dropped (recall 0.89 on
    # a council's road-closure table, extract_eval21). A run of a table's cells is read back
    # as its rows; a two-column record (labels and values) is not a data table.
    rows = "".join(
        "<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in CLOSURES
    )
    record = (
        "<table><tr><td>Court</td><td>High Court</td></tr>"
        "<tr><td>Judge</td><td>Mrs Reid</td></tr></table>"
    )
    tree = lxml.html.fromstring(f"<html><body>{record}<table>{rows}</table></body></html>")
    record_cells: list[Block | None] = [
        ("p", t) for t in ("Court", "High Court", "Judge", "Mrs Reid")
    ]
    cells: list[Block | None] = [("p", cell) for row in CLOSURES for cell in row]
    lead: Block = ("p", "The following streets are closed during the festival:")
    out = with_table_rows([*record_cells, lead, *cells, None], tree)
    assert out == [
        *record_cells,
        lead,
        *(("row", " | ".join(row)) for row in CLOSURES),
        None,
    ], out
    # Its header row is no menu's run of items.
    assert not boilerplate("row", "Rúa | Día | Horario | Restrición", [])
