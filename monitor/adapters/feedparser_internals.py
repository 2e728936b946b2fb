"""feedparser's private parts, used by the fast feed path (monitor/extract/feeds_fast.py).

The fast path must store exactly what feedparser would, so it runs feedparser's own value
pipeline: its date parser, HTML sanitizer, URL joining, cp1252 table, namespace table, HTML
sniffing and the list of elements it has handlers for. None of these is exported; they live
in private modules or under private names of feedparser 6.0.x.

pyproject.toml bounds feedparser to 6.0.x; tests/test_adapters.py fails when a release moves or
changes one of them, and tests/test_extract_feeds_paths.py compares both paths on every install.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.sanitizer import _sanitize_html
from feedparser.urls import _urljoin, make_safe_absolute_uri, resolve_relative_uris

__all__ = [
    "CP1252",
    "NAMESPACES",
    "has_handler",
    "looks_like_html",
    "make_safe_absolute_uri",
    "parse_date",
    "resolve_relative_uris",
    "sanitize_html",
    "urljoin",
]

# str.translate table: the C1 controls feedparser maps to the cp1252 characters they stand for.
CP1252: dict[int, str] = _cp1252
# feedparser's namespace URI (lower case) -> its standard prefix.
NAMESPACES: dict[str, str] = {k.lower(): v for k, v in _FeedParserMixin.namespaces.items()}

parse_date: Callable[[str], Any] = _parse_date  # a time.struct_time in UTC, or None
sanitize_html: Callable[[str, str, str], str] = _sanitize_html  # (html, encoding, type)
urljoin: Callable[[str, str], str] = _urljoin  # (base, uri)
looks_like_html: Callable[[str], bool] = _FeedParserMixin.looks_like_html


@lru_cache(maxsize=256)
def has_handler(key: str) -> bool:
    """Whether feedparser handles the element `key` (its `_start_`/`_end_` methods)."""
    return hasattr(_FeedParserMixin, f"_start_{key}") or hasattr(_FeedParserMixin, f"_end_{key}")
