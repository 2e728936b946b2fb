"""A word set as code inside a list item stays in its sentence (a docs site's release notes:
"A new <code>--dry-run</code> flag ..."); a code block in an item stays a block of its own.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import fetched, texts_of

INTRO = (
    "Release 4.2 of the importer is a minor release focused on faster imports and on a simpler"
    " configuration format, and it reads every file the earlier releases wrote."
)


def notes(item: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Release notes 4.2"
        "</title></head><body><nav><a href='/'>Docs</a> <a href='/blog'>Blog</a></nav><main>"
        f"<article><h1>Release notes 4.2</h1><p>{INTRO}</p><h2>New features</h2><ul>"
        "<li>Imports of CSV files larger than one gigabyte are now streamed from disk.</li>"
        f"<li>{item}</li><li>Configuration files can now be written in TOML as well.</li>"
        "</ul></article></main></body></html>"
    )


def test_inline_code_in_a_list_item_stays_in_its_sentence(content_server: ContentServer) -> None:
    item = "A new <code>--dry-run</code> flag shows what an import would change."
    texts = texts_of(fetched(content_server.set("/notes/4.2", notes(item))))
    assert "A new --dry-run flag shows what an import would change." in texts
    assert "--dry-run" not in texts


def test_a_code_block_in_a_list_item_is_a_block(content_server: ContentServer) -> None:
    item = (
        "Migrate an old file with:<pre><code>importer config migrate\nimporter check</code></pre>"
    )
    texts = texts_of(fetched(content_server.set("/notes/4.2-migrate", notes(item))))
    assert "Migrate an old file with:" in texts
    assert any(text.startswith("importer config migrate") for text in texts), texts


CODES = [
    ("E01", "Internal temperature sensor out of range. Keep the unit out of direct sunlight."),
    ("E02", "External sensor disconnected. Check the wiring of terminals S1 and S2."),
    ("C10", "No answer from the boiler over the two-wire bus. Check the cable and polarity."),
]


def test_a_code_term_joins_its_meaning(content_server: ContentServer) -> None:
    # An error code alone in its term ("<dt><code>E01</code></dt>") was a line of no words,
    # which only ever looks volatile, and was dropped; it now opens its meaning's line.
    terms = "".join(f"<dt><code>{code}</code></dt><dd><p>{text}</p></dd>" for code, text in CODES)
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Error codes</title>"
        "</head><body><nav><a href='/'>Manual</a> <a href='/install'>Installation</a></nav>"
        f"<main><article class='md-content__inner'><h1>Error codes</h1><p>{INTRO}</p>"
        f"<h2>Sensor errors</h2><dl>{terms}</dl></article></main></body></html>"
    )
    doc = fetched(content_server.set("/manual/errors/", page))
    texts = texts_of(doc)
    for code, text in CODES:
        assert f"{code}: {text}" in texts, texts
