"""A source's first poll, reduced where it is parsed to what the store records of it.

A first poll (the baseline) matches nothing and reports nothing: the store only records the
passages' keys as seen, and what later edits are measured against (a page's paragraphs, a feed
entry's title and text). The parser process hands back just that, instead of every passage with
its title, link and date: less to pickle on both sides, and the page's paragraphs arrive
already encoded as the store keeps them, so the poller's event loop does not encode them.

Most first polls need not parse at all (the deferred baseline): what they record is only ever
read by the source's next poll with a *changed* body. So a first poll keeps the fetched body,
compressed (`pack_body`), and its baseline is taken from it when needed: by that next poll, in
the same parser job as the new body (`settle_and_extract`), or by the daemon in idle time
(`settle_baseline`). `first_poll_fault` keeps the obvious faults visible at the first poll
without parsing.
"""

from __future__ import annotations

import html
import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.detect.edits import page_snapshot
from monitor.extract.charset import (
    binary_message,
    charset_from_content_type,
    html_meta_charset,
    media_type,
    xml_declared_encoding,
)
from monitor.extract.errors import ExtractError
from monitor.models import Document
from monitor.source_kinds import SOURCE_KINDS, extract_document

# How a kept body is compressed: zlib at level 1 is fast (about 4x on HTML and feeds, at some
# 100 MB/s) and releases the GIL, so the poller compresses in a thread; bodies are already
# capped by the fetcher (`http.max_bytes`).
CODEC = "zlib"
# What the first-poll check reads of a body: enough for the root element and a page title.
SNIFF_CHARS = 65536
_FIRST_ELEMENT = re.compile(r"<([A-Za-z_][\w:.\-]*)")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
# Media types a page extraction reads (as `monitor.extract.pages` decides).
_PAGE_TYPES = frozenset({"", "text/html", "application/xhtml+xml", "application/xml", "text/xml"})
_PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})


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


class KeptBodyError(ExtractError):
    """The body a first poll kept cannot be parsed: its baseline cannot be taken."""


@dataclass(frozen=True, slots=True)
class Settled:
    """A kept first-poll body's baseline and the extraction of the body that replaced it."""

    baseline: Baseline
    doc: Document | None  # None: the new body could not be parsed (`error` says why)
    error: str | None = None


def pack_body(body: bytes) -> bytes:
    """A first poll's body as it is kept (`CODEC`)."""
    return zlib.compress(body, 1)


def unpack_body(blob: bytes, codec: str) -> bytes:
    if codec != CODEC:
        raise KeptBodyError(f"kept first-poll body in an unknown format {codec!r}")
    try:
        return zlib.decompress(blob)
    except zlib.error as exc:
        raise KeptBodyError(f"kept first-poll body is damaged ({exc})") from None


def settle_baseline(
    kind: str,
    blob: bytes,
    codec: str,
    url: str,
    content_type: str | None,
    max_items: int,
    ignore: tuple[str, ...],
) -> Baseline:
    """What a parser process runs to take a kept body's baseline: exactly `record_baseline` of
    the body as fetched. KeptBodyError when that body cannot be parsed."""
    body = unpack_body(blob, codec)
    try:
        return record_baseline(kind, body, url, content_type, max_items, ignore)
    except ExtractError as exc:
        raise KeptBodyError(str(exc)) from None


def settle_and_extract(
    kind: str,
    kept: tuple[bytes, str, str, str | None],
    body: bytes,
    url: str,
    content_type: str | None,
    max_items: int,
    ignore: tuple[str, ...],
) -> Settled:
    """One parser job for a source's first changed poll: the baseline of the body its first poll
    kept (`kept`: blob, codec, final URL, content type), then the full extraction of the new
    body, measured against that baseline by the poller as any later poll is. KeptBodyError when
    the kept body cannot be parsed; the new body's own failure comes back in `error`."""
    blob, codec, kept_url, kept_type = kept
    baseline = settle_baseline(kind, blob, codec, kept_url, kept_type, max_items, ignore)
    try:
        doc = extract_document(kind, body, url, content_type, max_items, ignore, False)
    except ExtractError as exc:
        return Settled(baseline, None, str(exc))
    return Settled(baseline, doc)


def first_poll_fault(kind: str, body: bytes, url: str, content_type: str | None) -> str | None:
    """The error a parse of a first poll's body would end in, where its first bytes already tell
    (a feed URL serving an HTML page, JSON or no XML; binary data; a page of an unreadable media
    type), in the words the parser uses; None when only a parse can tell. Cheap enough for the
    event loop: a first poll kept unparsed still shows these faults in the source's health."""
    if kind == "feed":
        if not body.strip():
            return "not a feed: empty body"
        labels = (xml_declared_encoding(body), charset_from_content_type(content_type))
        if refused := binary_message(body, url, content_type, labels):
            return refused
        return _not_a_feed(body[: SNIFF_CHARS * 4].decode("utf-8", "replace"))
    if kind == "page":
        mtype = media_type(content_type)
        if mtype in _PDF_TYPES or body[:5] == b"%PDF-":
            return None
        if mtype in _PAGE_TYPES or mtype.startswith("text/"):
            labels = (charset_from_content_type(content_type), html_meta_charset(body))
            return binary_message(body, url, content_type, labels)
        return f"not a page: cannot extract text from {mtype}"
    return None


def _not_a_feed(text: str) -> str | None:
    """As the feed parser judges a body that is plainly not a feed, from its start."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        return "not a feed: empty body"
    head = stripped[:1024].lower()
    root = _root_element(stripped)
    if root == "html" or head.startswith("<!doctype html"):
        title = _HTML_TITLE.search(stripped[:SNIFF_CHARS])
        label = ""
        if title:
            label = " ".join(html.unescape(_TAG.sub(" ", title.group(1))).split())[:80]
        return f"not a feed: got an HTML page{f' ({label!r})' if label else ''}"
    if stripped[0] in "{[":
        return "not a feed: the body is JSON, not XML"
    if not stripped.startswith("<"):
        return "not a feed: the body is not XML"
    return None


def _root_element(text: str) -> str | None:
    """The first element's name, past the prolog (declarations, comments, instructions)."""
    pos = 0
    while (lt := text.find("<", pos)) >= 0:
        if text.startswith("<!--", lt):
            end = text.find("-->", lt + 4)
            pos = end + 3 if end >= 0 else len(text)
        elif text.startswith(("<?", "<!"), lt):
            end = text.find(">", lt)
            pos = end + 1 if end >= 0 else len(text)
        else:
            match = _FIRST_ELEMENT.match(text, lt)
            return match.group(1).lower() if match else None
    return None
