"""What a parser process runs to extract (see `monitor.sandbox`): fetched bytes -> `Document`.

Kept apart from the pipeline so that a parser process imports only the extractors (feeds,
pages, text), not the store or the fetcher. Matching in a parser process is
`monitor.topics.worker`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.extract.feeds import parse_feed
from monitor.extract.pages import extract_file, extract_page
from monitor.models import Document
from monitor.patterns import compile_pattern

if TYPE_CHECKING:
    from pathlib import Path


def extract_document(
    kind: str,
    body: bytes,
    url: str,
    content_type: str | None,
    max_items: int,
    ignore: tuple[str, ...],
    record_only: bool = False,
) -> Document:
    """Bytes of one response -> Document. A plain function of its arguments, so that it can
    run in a worker process. ``record_only``: a baseline poll, whose passages are recorded as
    seen and nothing else (see `extract_page` and `parse_feed`)."""
    if kind == "feed":
        return parse_feed(body, url, content_type, max_items=max_items, record_only=record_only)
    # Ignored text is removed from what is shown as well as from what counts as new.
    patterns = [compile_pattern(p) for p in ignore]  # RE2: linear time, whatever the pattern
    doc = extract_page(body, url, content_type, ignore=patterns, record_only=record_only)
    for p in doc.passages:
        p.title = p.title or doc.title
        p.link = p.link or url
        p.published = p.published or doc.published
        p.language = p.language or doc.language
    return doc


def extract_path(path: Path) -> Document:
    """A local file (`monitor extract FILE`) -> Document."""
    return extract_file(path)
