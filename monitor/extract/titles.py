"""Titles as plain text, however many times their markup was escaped.

Feeds put markup in titles in every way there is: as real tags, escaped once (RSS leaves readers
to guess), escaped twice (`&amp;lt;b&amp;gt;`), or as literal tags in an Atom `type="text"`
title. Everything downstream (the store, plain-text mail, webhook JSON, chat messages, the Atom
output) wants the words only; the HTML digest escapes what it shows.
"""

from __future__ import annotations

import re

from monitor.extract.text import html_to_text

# Only the tags and entities of real HTML count as markup: "a < b > c" or "<3" stay as written.
_MARKUP = re.compile(
    r"</?(?:a|abbr|acronym|b|big|blink|br|cite|code|del|dfn|div|em|font|h[1-6]|hr|i|iframe"
    r"|img|ins|kbd|li|mark|nobr|ol|p|q|s|samp|script|small|span|strike|strong|style|sub|sup"
    r"|svg|tt|u|ul|var|wbr)(?:\s[^<>]*)?/?>"
    r"|&(?:amp|lt|gt|quot|apos|nbsp|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});",
    re.IGNORECASE,
)
# Each round undoes one level of escaping; three cover every feed seen so far.
_ROUNDS = 3


def title_text(value: str | None) -> str:
    """The words of a title on one line: markup removed, entities decoded, spaces collapsed."""
    if not value:
        return ""
    text = value
    for _ in range(_ROUNDS):
        if not _MARKUP.search(text):
            break
        text = html_to_text(text)
    return " ".join(text.split())
