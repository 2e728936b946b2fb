"""Extraction: fetched bytes and seed documents -> typed text values.

Pure functions, no network and no database: feeds and pages become a `Document` of `Passage`s,
seed documents become text plus the URLs they cite, and `StoryIndex` groups syndicated stories.

Names are imported on first use (PEP 562), so that a parser process, which needs only feeds and
pages, does not load the PDF reader or the MinHash library with its numerical stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.extract.documents import CitedUrl, cited_urls, read_document
    from monitor.extract.errors import ExtractError
    from monitor.extract.feeds import parse_feed
    from monitor.extract.language import detect_language
    from monitor.extract.pages import extract_file, extract_page
    from monitor.extract.similar import StoryIndex, from_bytes, minhash_bytes
    from monitor.extract.text import (
        dehyphenate,
        fingerprint,
        html_to_text,
        normalise,
        split_paragraphs,
    )

_WHERE = {
    "CitedUrl": "documents",
    "cited_urls": "documents",
    "read_document": "documents",
    "ExtractError": "errors",
    "parse_feed": "feeds",
    "extract_file": "pages",
    "extract_page": "pages",
    "StoryIndex": "similar",
    "from_bytes": "similar",
    "minhash_bytes": "similar",
    "dehyphenate": "text",
    "detect_language": "language",
    "fingerprint": "text",
    "html_to_text": "text",
    "normalise": "text",
    "split_paragraphs": "text",
}

__all__ = [
    "CitedUrl",
    "ExtractError",
    "StoryIndex",
    "cited_urls",
    "dehyphenate",
    "detect_language",
    "extract_file",
    "extract_page",
    "fingerprint",
    "from_bytes",
    "html_to_text",
    "minhash_bytes",
    "normalise",
    "parse_feed",
    "read_document",
    "split_paragraphs",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'monitor.extract' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"monitor.extract.{module}"), name)
    globals()[name] = value
    return value
