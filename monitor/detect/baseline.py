"""A source's first poll, reduced where it is parsed to what the store records of it.

A first poll (the baseline) matches nothing and reports nothing: the store only records the
passages' keys as seen, and what later edits are measured against (a page's paragraphs, a feed
entry's title and text). The parser process hands back just that, instead of every passage with
its title, link and date: less to pickle on both sides, and the page's paragraphs arrive
already encoded as the store keeps them, so the poller's event loop does not encode them.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.detect.edits import page_snapshot
from monitor.source_kinds import SOURCE_KINDS, extract_document


@dataclass(frozen=True, slots=True)
class Baseline:
    """What a first poll of a source records."""

    keys: list[str]  # the distinct passage keys, in document order: all new, none reported
    snapshot: bytes | None = None  # kinds with snapshots: the paragraphs (`encode_snapshot`)
    # Kinds with entry versions: (key, title, text) of every entry, the versions its later
    # edits are measured against.
    versions: list[tuple[str, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def encode_snapshot(paragraphs: Sequence[str]) -> bytes:
    """A page's paragraphs as the store keeps them (`Store.save_page_snapshot` writes the same
    bytes; `Store.page_snapshot` reads them)."""
    return zlib.compress(json.dumps(list(paragraphs), ensure_ascii=False).encode(), 1)


def record_baseline(
    kind: str,
    body: bytes,
    url: str,
    content_type: str | None,
    max_items: int,
    ignore: tuple[str, ...],
) -> Baseline:
    """What a parser process runs for a source's first poll: bytes -> what is recorded of it.
    The same extraction as any poll (record-only: no dates or languages), so the keys are the
    ones the next poll compares with."""
    doc = extract_document(kind, body, url, content_type, max_items, ignore, True)
    module = SOURCE_KINDS[kind]
    keys = list(dict.fromkeys(p.key for p in doc.passages))
    snapshot = encode_snapshot(page_snapshot(doc.passages)) if module.SNAPSHOTS else None
    versions = (
        [(p.key, p.title or "", p.text) for p in doc.passages] if module.ENTRY_VERSIONS else []
    )
    return Baseline(keys, snapshot, versions, doc.warnings)
