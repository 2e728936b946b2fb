"""Issue 15 on tables drawn with <div>s and ARIA roles (extract_eval11 as development data):
GitBook's "table-wrapper" (role="table", "row", "columnheader", "cell") is no <table> to
trafilatura, which dropped it (recall 0.88 on such a docs page). Its rows are put back, a row
per line as a <table>'s are, before the text after it.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

LEAD = "We retry each event up to eight times over roughly 27 hours:"
ROWS = [
    ["Attempt", "Delay after previous"],
    ["1–3", "1 minute"],
    ["4–6", "1 hour"],
    ["7–8", "12 hours"],
]
AFTER = (
    "After the eighth failure the endpoint is disabled and the account owner gets an email."
    " Events are kept for 30 days."
)
INTRO = (
    "Webhooks send an HTTP POST to your endpoint whenever an event happens in your workspace,"
    " signed with the secret shown in the settings."
)


def gitbook_page() -> str:
    def row(cells: list[str], header: bool) -> str:
        role = "columnheader" if header else "cell"
        inner = "".join(f'<div role="{role}">{cell}</div>' for cell in cells)
        return f'<div class="table-row{" header" if header else ""}" role="row">{inner}</div>'

    table = "".join(row(cells, i == 0) for i, cells in enumerate(ROWS))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Webhooks</title>'
        '</head><body><div class="gitbook-root"><aside class="sidebar"><ul>'
        '<li><a href="/docs/start">Getting started</a></li><li><a href="/docs/api">API</a></li>'
        '</ul></aside><main><div class="page-body"><h1>Webhooks</h1>'
        f'<div data-block-type="paragraph"><p>{INTRO}</p></div>'
        '<h2 id="retries">Retries</h2>'
        f'<div data-block-type="paragraph"><p>{LEAD}</p></div>'
        f'<div data-block-type="table"><div class="table-wrapper" role="table">{table}</div></div>'
        f'<div data-block-type="paragraph"><p>{AFTER}</p></div>'
        '<div class="page-footer"><a href="/docs/api">Next: API</a></div>'
        "</div></main></div></body></html>"
    )


def test_an_aria_tables_rows_are_kept(content_server: ContentServer) -> None:
    doc = fetched(content_server.set("/docs/webhooks", gitbook_page()))
    texts = texts_of(doc)
    rows = [" | ".join(cells) for cells in ROWS]
    assert_kept(texts, [INTRO, LEAD, *rows, AFTER])
    assert_out(texts, ["Getting started", "Next: API"])
    assert texts.index(rows[0]) < texts.index(AFTER), texts
