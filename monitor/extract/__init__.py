"""Extraction: fetched bytes and seed documents -> typed text values.

Pure functions, no network and no database: feeds and pages become a `Document` of `Passage`s,
seed documents become text plus the URLs they cite, and `StoryIndex` groups syndicated stories.
"""

from monitor.extract.documents import CitedUrl, cited_urls, read_document
from monitor.extract.errors import ExtractError
from monitor.extract.feeds import parse_feed
from monitor.extract.pages import extract_file, extract_page
from monitor.extract.similar import StoryIndex, from_bytes, minhash_bytes
from monitor.extract.text import (
    dehyphenate,
    detect_language,
    fingerprint,
    html_to_text,
    mask_volatile,
    normalise,
    split_paragraphs,
)

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
    "mask_volatile",
    "minhash_bytes",
    "normalise",
    "parse_feed",
    "read_document",
    "split_paragraphs",
]
