"""RSS 2.0 / RSS 1.0 (RDF) / Atom bytes -> Document, one Passage per entry.

feedparser never sees untrusted input as a string (it would treat it as a URL or a path), never
sees a DOCTYPE (no entity expansion, no external DTD) and never sees an oversized body. We decode
the bytes ourselves because servers often send a wrong charset, then hand feedparser UTF-8.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from monitor.extract.charset import (
    binary_message,
    charset_from_content_type,
    decode,
    media_type,
    xml_declared_encoding,
)
from monitor.extract.errors import ExtractError
from monitor.extract.feeds_fast import parse_fast, plain_url
from monitor.extract.language import detect_language_scored, language_from_tag
from monitor.extract.text import clean_text, html_to_text
from monitor.extract.titles import title_text
from monitor.models import Document, Passage

MAX_FEED_BYTES = 10 * 1024 * 1024
MAX_ENTRY_CHARS = 100_000
MAX_KEY_CHARS = 1024

# Characters XML 1.0 forbids; a single one sends feedparser to its lenient parser.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Markup declarations we remove, plus the constructs whose content must be skipped over.
_MARKUP = re.compile(r"<!\[CDATA\[|<!--|<!DOCTYPE|<!ENTITY|<!ELEMENT|<!ATTLIST", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(r"<([A-Za-z_][\w:.\-]*)")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_XML_DECL_ENCODING = re.compile(r"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2")
_FEED_ROOTS = frozenset({"rss", "feed", "rdf", "channel"})
# Plain RSS 2.0 / Atom 1.0 go through feeds_fast (same result, several times faster); off for
# benchmarks and equivalence tests.
FAST_PATH = True


def strip_dtd(text: str) -> str:
    """Remove DOCTYPE declarations (with any internal subset) and stray entity declarations.

    CDATA sections and comments are skipped over so that text inside them is left alone.
    """
    out: list[str] = []
    pos = 0
    while match := _MARKUP.search(text, pos):
        token = match.group(0).upper()
        if token in {"<![CDATA[", "<!--"}:
            end_marker = "]]>" if token == "<![CDATA[" else "-->"
            end = text.find(end_marker, match.end())
            end = len(text) if end < 0 else end + len(end_marker)
            out.append(text[pos:end])
            pos = end
            continue
        out.append(text[pos : match.start()])
        pos = _declaration_end(text, match.end())
    out.append(text[pos:])
    return "".join(out)


def _declaration_end(text: str, pos: int) -> int:
    """Index just past the '>' closing a declaration, honouring quotes and an internal subset."""
    depth = 0
    quote = ""
    n = len(text)
    while pos < n:
        ch = text[pos]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(0, depth - 1)
        elif ch == ">" and depth == 0:
            return pos + 1
        pos += 1
    return n


def _root_element(text: str) -> str | None:
    """Name of the first element, skipping the prolog (declarations, comments, PIs)."""
    pos = 0
    while True:
        lt = text.find("<", pos)
        if lt < 0:
            return None
        if text.startswith("<!--", lt):
            end = text.find("-->", lt + 4)
            if end < 0:
                return None
            pos = end + 3
            continue
        if text.startswith(("<?", "<!"), lt):
            end = text.find(">", lt)
            if end < 0:
                return None
            pos = end + 1
            continue
        match = _FIRST_ELEMENT.match(text, lt)
        return match.group(1).lower() if match else None


def _first_line(exc: object) -> str:
    line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return line[:200]


def _not_a_feed(text: str, root: str | None) -> ExtractError | None:
    """An error when the decoded body is plainly not a feed."""
    stripped = text.lstrip()
    if not stripped:
        return ExtractError("not a feed: empty body")
    head = stripped[:1024].lower()
    if root == "html" or head.startswith("<!doctype html"):
        title = _HTML_TITLE.search(stripped[:65536])
        label = " ".join(html_to_text(title.group(1)).split())[:80] if title else ""
        return ExtractError(f"not a feed: got an HTML page{f' ({label!r})' if label else ''}")
    if stripped[0] in "{[":
        return ExtractError("not a feed: the body is JSON, not XML")
    if not stripped.startswith("<") or root is None:
        return ExtractError("not a feed: the body is not XML")
    return None


def _safe_link(href: Any, base: str) -> str | None:
    """An absolute http(s) URL, or None (javascript:, data:, mailto:, urn: and the like)."""
    if not isinstance(href, str) or not href.strip():
        return None
    if plain_url(href, base):  # most links: urljoin and urlsplit would find just that
        return href
    try:
        absolute = urljoin(base, href.strip())
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return absolute


def _detail_text(detail: Mapping[str, Any] | None) -> str:
    """Clean text of a feedparser text construct (title_detail, summary_detail, content[i])."""
    if not detail:
        return ""
    value = detail.get("value") or ""
    if not isinstance(value, str) or not value.strip():
        return ""
    kind = str(detail.get("type") or "text/html").lower()
    # Declared plain text is already text: parsing it as HTML would eat "<script>" literals.
    if kind == "text/plain":
        return clean_text(value)
    return html_to_text(value)


def _entry_text(entry: Mapping[str, Any]) -> str:
    candidates = [_detail_text(c) for c in entry.get("content") or []]
    candidates.append(_detail_text(entry.get("summary_detail")))
    # Full content and a teaser often both exist; the longest is the most complete text.
    return max(candidates, key=len, default="")


def _entry_link(entry: Mapping[str, Any], base: str) -> str | None:
    link = _safe_link(entry.get("link"), base)
    if link:
        return link
    for item in entry.get("links") or []:
        if item.get("rel", "alternate") == "alternate":
            link = _safe_link(item.get("href"), base)
            if link:
                return link
    return None


def _when(entry: Mapping[str, Any]) -> datetime | None:
    """Aware UTC datetime from feedparser's parsed dates (which are already in UTC)."""
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if value:
            try:
                return datetime(*value[:6]).replace(tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def _entry_id(entry: Mapping[str, Any]) -> str | None:
    ident = entry.get("id")
    if isinstance(ident, str) and ident.strip():
        return ident.strip()[:MAX_KEY_CHARS]
    return None


def _content_key(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


@dataclass(slots=True)
class _Entry:
    """One entry's values before it gets its key."""

    ident: str | None
    link: str | None
    title: str
    text: str
    former_title: str  # title and text as release 0.1.0 had them (markup kept in titles)
    former_text: str
    raw: Mapping[str, Any]


def _keys(entries: list[_Entry]) -> list[tuple[str, str | None]]:
    """(key, former key) of each entry: what makes it the same entry on the next poll.

    The entry's id when it has one; else its link, when no other id-less entry of this feed
    has the same link; else the link plus a hash of the title (of title and text when the
    title does not tell them apart either), so that a live blog whose updates all link to one
    page keeps every update. Without id or link, a hash of title and text.

    The former key is the key release 0.1.0 gave the entry (link only, title with markup),
    when it differs: a source upgraded from it is moved to the new keys without reporting
    what it had already seen (see `monitor.detect.novelty`).
    """
    links: dict[str, int] = {}
    titles: dict[tuple[str, str], int] = {}
    for e in entries:
        if e.ident is None and e.link:
            links[e.link] = links.get(e.link, 0) + 1
            titles[e.link, e.title] = titles.get((e.link, e.title), 0) + 1
    out: list[tuple[str, str | None]] = []
    for e in entries:
        if e.ident is not None:
            out.append((e.ident, None))
        elif e.link:
            link = e.link[:MAX_KEY_CHARS]
            if links[e.link] == 1:
                out.append((link, None))
                continue
            told_apart = e.title and titles[e.link, e.title] == 1
            digest = _content_key(e.title, "" if told_apart else e.text)[:16]
            out.append((f"{link[: MAX_KEY_CHARS - 17]}#{digest}", link))
        else:
            key = _content_key(e.title, e.text)
            former = _content_key(e.former_title, e.former_text)
            out.append((key, former if former != key else None))
    return out


def _prepare(
    body: bytes, url: str, content_type: str | None
) -> tuple[bytes, dict[str, str], list[str]]:
    """Decoded, DTD-free UTF-8 bytes plus the response headers to give feedparser."""
    decoded = decode(
        body,
        [
            ("XML declaration", xml_declared_encoding(body)),
            ("HTTP header", charset_from_content_type(content_type)),
        ],
    )
    warnings = list(decoded.warnings)
    text = _XML_INVALID.sub("", decoded.text)
    error = _not_a_feed(text, _root_element(text))
    if error:
        raise error
    text = strip_dtd(text)
    text = _XML_DECL_ENCODING.sub(lambda m: f"{m.group(1)}{m.group(2)}utf-8{m.group(2)}", text, 1)
    mtype = media_type(content_type)
    if mtype.endswith(("/xml", "+xml")):
        xml_type = mtype
    else:
        xml_type = "application/xml"
        if mtype and mtype not in {"text/plain", "application/octet-stream", "binary/octet-stream"}:
            warnings.append(f"served as {mtype}; parsed as XML")
    headers = {"content-type": f"{xml_type}; charset=utf-8", "content-location": url}
    return text.encode("utf-8"), headers, warnings


def _parse(
    data: bytes, url: str, headers: dict[str, str]
) -> tuple[list[Any], Mapping[str, Any], str, str | None]:
    """(entries, feed, version, bozo problem): the lxml fast path, else feedparser."""
    if FAST_PATH:
        fast = parse_fast(data, url)
        if fast is not None:
            return fast.entries, fast.feed, fast.version, None
    result = feedparser.parse(
        io.BytesIO(data), response_headers=headers, resolve_relative_uris=True, sanitize_html=True
    )
    entries = list(result.get("entries") or [])
    version = result.get("version") or ""
    problem = _first_line(result.get("bozo_exception")) if result.get("bozo") else None
    return entries, result.get("feed") or {}, version, problem


def parse_feed(
    body: bytes,
    url: str,
    content_type: str | None = None,
    max_items: int = 200,
    *,
    max_bytes: int = MAX_FEED_BYTES,
    record_only: bool = False,
) -> Document:
    """Parse an RSS/Atom/RDF body into a Document with one Passage per entry.

    Raises ExtractError("not a feed: ...") for bodies that are not feeds (HTML error pages,
    JSON, garbage) and ExtractError("feed too large: ...") above ``max_bytes``.
    ``record_only`` (a baseline poll: entries are only recorded as seen) leaves the entries'
    languages out, which only matching uses.
    """
    if len(body) > max_bytes:
        raise ExtractError(f"feed too large: {len(body)} bytes (limit {max_bytes})")
    if not body.strip():
        raise ExtractError("not a feed: empty body")
    labels = (xml_declared_encoding(body), charset_from_content_type(content_type))
    if refused := binary_message(body, url, content_type, labels):
        raise ExtractError(refused)
    data, headers, warnings = _prepare(body, url, content_type)
    entries, feed, version, problem = _parse(data, url, headers)
    if not entries:
        if problem:
            raise ExtractError(f"not a feed: {problem}")
        root = _root_element(data.decode("utf-8", "replace"))
        if not version and (root or "").split(":")[-1] not in _FEED_ROOTS:
            raise ExtractError(f"not a feed: unexpected root element <{root}>")
    elif problem:
        warnings.append(f"feed is not well-formed ({problem}); parsed leniently")

    feed_language = language_from_tag(feed.get("language"))
    if len(entries) > max_items:
        warnings.append(f"feed has {len(entries)} entries; kept the newest {max_items}")
        entries = _newest(entries, max_items)

    kept: list[_Entry] = []
    for entry in entries:
        shown = _detail_text(entry.get("title_detail")) or clean_text(entry.get("title") or "")
        former_title = " ".join(shown.split())
        title = title_text(former_title)
        text = _entry_text(entry)
        if len(text) > MAX_ENTRY_CHARS:
            text = text[:MAX_ENTRY_CHARS].rsplit(" ", 1)[0]
            warnings.append(f"entry {title[:60]!r} truncated to {MAX_ENTRY_CHARS} characters")
        # Headline-only feeds: the title is the only text there is to match.
        former_text = text or former_title
        text = text or title
        link = _entry_link(entry, url)
        if not text and not link:
            continue  # nothing to match and nothing to point to
        kept.append(_Entry(_entry_id(entry), link, title, text, former_title, former_text, entry))

    passages: list[Passage] = []
    seen: set[str] = set()
    duplicates = 0
    for item, (key, former) in zip(kept, _keys(kept), strict=True):
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        title, text = item.title, item.text
        language: str | None = None
        if not record_only:
            language, sure = detect_language_scored(f"{title}\n{text}")
            if not sure and feed_language:
                language = feed_language
        passages.append(
            Passage(
                key=key,
                text=text,
                title=title or None,
                link=item.link,
                published=_when(item.raw),
                language=language,
                former_key=former,
            )
        )
    if duplicates:
        warnings.append(f"{duplicates} entries repeated an earlier id and were skipped")
    if problem and not passages:
        raise ExtractError(f"not a feed: {problem}")

    feed_title = title_text(
        _detail_text(feed.get("title_detail")) or clean_text(feed.get("title") or "")
    )
    return Document(
        url=url,
        kind="feed",
        title=feed_title or None,
        language=feed_language or _majority([p.language for p in passages]),
        published=_when(feed),
        passages=passages,
        warnings=warnings,
    )


def _newest(entries: list[Any], limit: int) -> list[Any]:
    """The ``limit`` newest entries in feed order; undated entries count as oldest."""
    order = sorted(
        range(len(entries)),
        key=lambda i: (_when(entries[i]) or datetime.min.replace(tzinfo=UTC), -i),
        reverse=True,
    )
    keep = sorted(order[:limit])
    return [entries[i] for i in keep]


def _majority(languages: list[str | None]) -> str | None:
    counts: dict[str, int] = {}
    for lang in languages:
        if lang:
            counts[lang] = counts.get(lang, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else None
