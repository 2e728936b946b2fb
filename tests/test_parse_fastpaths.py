"""The shortcuts that cut the parse CPU per document (issue 17) give exactly what the general
code gives: each is compared with the general way on edge cases (German umlauts and ß, no-break
and zero-width spaces, bidi marks, entities, numbers, dates and times the masker handles) and on
generated text. Stored keys depend on these results byte for byte (an upgrade re-reports nothing),
so equality, not similarity, is asserted throughout."""

from __future__ import annotations

import random
import urllib.parse

import pytest
from feedparser.urls import _urljoin as feedparser_urljoin

from monitor.extract import feeds, feeds_fast

# --------------------------------------------------------------------------------------------
# URLs of feed entries: joined without parsing when urllib would give them back as they are
# --------------------------------------------------------------------------------------------

BASES = [
    "",
    "https://news.example.org/feed.xml",
    "http://news.example.org/a/b/feed?x=1",
    "https://news.example.org",
    "feed://odd.example.org/",
    "https://[::1]:8080/feed",
    "https://[broken/feed",  # urllib refuses it: every join fails
    "HTTPS://UPPER.example.org/",
]
URLS = [
    "https://news.example.org/2026/11/22/story.html",
    "http://news.example.org/story",
    "https://news.example.org",
    "https://news.example.org/",
    "https://news.example.org:8443/a?b=c&d=e#top",
    "https://news.example.org/a?",  # empty query: urllib drops the "?"
    "https://news.example.org/a#",  # empty fragment: dropped
    "https://news.example.org/a?#f",
    "https://news.example.org/a;jsessionid=1",  # path parameters
    "https://news.example.org/a;",
    "https://news.example.org/a/../b/./c",
    "HTTPS://news.example.org/upper-scheme",
    "https:///three-slashes.example.org/",
    "https://user:pw@news.example.org/",
    "https://[::1]/ipv6",
    "https://[::1/broken",
    "https://straße.example.org/umlaut-host",
    "https://news.example.org/straße",
    "https://news.example.org/a b",
    "https://news.example.org/a\tb",
    " https://news.example.org/lead-space",
    "https://news.example.org/trail-space ",
    "https://news.example.org/%C3%BC?q=%20#frag?x#y",
    "https://news.example.org/\u200bzero-width",
    "/relative/path",
    "relative",
    "?only=query",
    "#only-fragment",
    "//protocol-relative.example.org/x",
    "mailto:desk@example.org",
    "javascript:alert(1)",
    "urn:uuid:1234",
    "tag:example.org,2026:entry-1",
    "",
]


def _random_urls(n: int) -> list[str]:
    rng = random.Random(17)
    pieces = ["https://", "http://", "HTTP://", "news.example.org", "h", ":80", ":", "/", "//",
              "a", "ä", "ß", ";", ";p", "?", "?q=1", "&", "#", "#f", "%20", " ", "\t", "[", "]",
              "@", "..", ".", "~", "\u00a0", "\u200f", "&amp;", "(", ")", "'", "*", "+", ",",
              "=", "!", "$", "_", "-", "\\", "|", "^", "`", "{", "}", "<", ">", '"']  # fmt: skip
    out = []
    for _ in range(n):
        head = rng.choice(["https://news.example.org", "http://h.example", "https://", ""])
        out.append(head + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))))
    return out


@pytest.mark.parametrize("base", BASES)
def test_join_url_is_feedparsers_join(base: str) -> None:
    for uri in [*URLS, *_random_urls(3000)]:
        assert feeds_fast.join_url(base, uri) == feedparser_urljoin(base, uri), (base, uri)


def _reference_safe_link(href: object, base: str) -> str | None:
    """`feeds._safe_link` as it was before its shortcut: urljoin, then urlsplit."""
    if not isinstance(href, str) or not href.strip():
        return None
    try:
        absolute = urllib.parse.urljoin(base, href.strip())
        parts = urllib.parse.urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return absolute


@pytest.mark.parametrize("base", BASES)
def test_safe_link_shortcut_changes_nothing(base: str) -> None:
    for href in [*URLS, *_random_urls(3000), None, 42, "   "]:
        assert feeds._safe_link(href, base) == _reference_safe_link(href, base), (base, href)


def test_plain_url_takes_only_urls_urllib_gives_back() -> None:
    assert feeds_fast.plain_url("https://news.example.org/a?b=c#d", "https://x.example/")
    for uri in ("https://news.example.org/a;b", "https://news.example.org/a?", "HTTPS://x.org/"):
        assert not feeds_fast.plain_url(uri, "https://x.example/")
    # A base urllib cannot parse makes every join fail: no shortcut then.
    assert not feeds_fast.plain_url("https://news.example.org/a", "https://[broken/")
