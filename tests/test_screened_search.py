"""`screened_search`: our own long phrase alternations are screened by RE2, and the answer is
always the pattern's own (word bounds, verbose layout, classes, case and Unicode included)."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest

from monitor.extract import boilerplate
from monitor.patterns import screened_search

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"

VERBOSE = re.compile(
    r"""
    \bcopy\ right\b | [#\]]\ note  # a comment, with a class holding "#" and "]"
    | ^(?:read\ more)\s*: | \b\d{4}\s*–\s*\d{4}\b | \bstraße\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
LINES = [
    "Copy right 2026",  # the escaped space is a space
    "copy rights reserved",  # no word bound after "right": not the phrase
    "ÜCopy right",  # \b counts "Ü" as a word character (RE2's \b would not)
    "# note",
    "] note",
    "a note",
    "Read more: the treaty",
    "Also read more: nothing",
    "1950 – 1953",
    "19501 – 1953",
    "Hauptstraße 4",
    "HAUPTSTRASSE",
    "",
    "nothing here at all",
]


@pytest.mark.parametrize("line", LINES)
def test_a_screened_search_answers_as_the_pattern(line: str) -> None:
    assert screened_search(VERBOSE)(line) is (VERBOSE.search(line) is not None)


def test_a_pattern_re2_cannot_take_is_searched_alone() -> None:
    lookahead = re.compile(r"foo(?=bar)")
    search = screened_search(lookahead)
    assert search("foobar") and not search("foobaz")


def test_the_boilerplate_phrases_answer_as_before_on_every_labelled_page() -> None:
    # Every element's text (up to 400 characters) of the labelled pages in benchmarks/.
    patterns = [boilerplate._FOOTER_LINES, boilerplate._PHRASES]
    searches = [screened_search(p) for p in patterns]
    texts = set()
    for page in BENCH.glob("extract_eval*/**/*.html"):
        tree = lxml.html.fromstring(page.read_bytes())
        for el in tree.iter():
            if isinstance(el.tag, str):
                text = " ".join(el.text_content().split())
                if 0 < len(text) <= 400:
                    texts.add(text)
    assert len(texts) > 20000
    hits = 0
    for text in texts:
        for pattern, search in zip(patterns, searches, strict=True):
            found = pattern.search(text) is not None
            hits += found
            assert search(text) is found, (pattern.pattern[:40], text)
    assert hits > 1000
