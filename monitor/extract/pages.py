"""Web page bytes -> Document with one Passage per paragraph of the main text.

trafilatura finds the main text (favouring precision, so navigation, teasers and comments stay
out); its output tree keeps paragraph, heading, list-item and table-row boundaries. When it finds
nothing, a BeautifulSoup pass over the page minus its obvious boilerplate takes over. Each
paragraph is keyed by its fingerprint, so only paragraphs whose text changed look new.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from lxml import etree
from lxml import html as lxml_html

from monitor.extract.charset import (
    charset_from_content_type,
    decode,
    html_meta_charset,
    media_type,
)
from monitor.extract.errors import ExtractError
from monitor.extract.text import (
    canonical,
    canonical_fingerprint,
    canonical_only_volatile,
    clean_text,
    detect_language,
    detect_language_scored,
    language_from_tag,
    normalise,
    remove_ignored,
    split_paragraphs,
)
from monitor.models import Document, Passage

BlockKind = Literal["p", "head", "item", "quote", "row"]
Block = tuple[BlockKind, str]

MAX_HEADING_CHARS = 150
# Precision mode keeps teasers, bylines and comment snippets out; every paragraph that gets in
# can raise an alert, so a missed sentence is cheaper than a false one.
FAVOR_PRECISION = True
FALLBACK_WARNING = "main text not found; used fallback"

_HTML_TYPES = frozenset({"", "text/html", "application/xhtml+xml", "application/xml", "text/xml"})
_TEXT_TYPES = frozenset({"text/plain", "text/markdown"})
_PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})

# trafilatura logs every page it discards at WARNING; the caller reports our own warning instead.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)


# --------------------------------------------------------------------------------------------
# trafilatura
# --------------------------------------------------------------------------------------------


# trafilatura's inline elements; every other element boundary separates words.
_INLINE = frozenset({"hi", "ref", "del", "span"})
LINK_DENSE = 0.8  # share of a short block's text inside links that marks it as a menu/teaser
LINK_DENSE_MAX_CHARS = 250


def _element_text(el: etree._Element, skip: frozenset[str] = frozenset()) -> tuple[str, int]:
    """(text, characters inside links) of an output-tree element, leaving out ``skip`` subtrees."""
    parts: list[str] = []
    link_chars = 0
    stack: list[tuple[etree._Element, bool]] = [(el, False)]
    while stack:
        node, closing = stack.pop()
        tag = node.tag if isinstance(node.tag, str) else ""
        if closing:
            if tag not in _INLINE:
                parts.append(" ")
            if node.tail and node is not el:
                parts.append(node.tail)
            continue
        if node is not el and tag in skip:
            if node.tail:
                parts.append(node.tail)
            continue
        if tag == "ref":
            link_chars += len("".join(node.itertext()).strip())
        if tag not in _INLINE:
            parts.append(" ")
        if node.text:
            parts.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    return " ".join("".join(parts).split()), link_chars


def _block(kind: BlockKind, el: etree._Element, skip: frozenset[str] = frozenset()) -> Block | None:
    """A block, or None when it is empty or a short run of links (menus, teasers, share bars)."""
    text, link_chars = _element_text(el, skip)
    if not text or _link_dense_text(text, link_chars):
        return None
    return kind, text


def _link_dense_text(text: str, link_chars: int) -> bool:
    return len(text) < LINK_DENSE_MAX_CHARS and link_chars >= LINK_DENSE * len(text)


def _tree_blocks(body: etree._Element) -> Iterator[Block | None]:
    """Blocks of trafilatura's output tree, in document order (None for dropped ones)."""
    for child in body:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        if tag == "head":
            yield _block("head", child)
        elif tag == "list":
            for item in child:
                if item.tag == "item":
                    yield _block("item", item, frozenset({"list"}))
                    yield from _tree_blocks(item)
        elif tag == "table":
            for row in child.iter("row"):
                cells = [_element_text(cell) for cell in row.iter("cell")]
                text = " | ".join(t for t, _ in cells if t)
                if text and not _link_dense_text(text, sum(n for _, n in cells)):
                    yield "row", text
        elif tag == "quote" and any(c.tag in {"p", "list", "head", "quote"} for c in child):
            yield from _tree_blocks(child)
        elif tag == "quote":
            yield _block("quote", child)
        elif tag in {"graphic", "lb", "ref"}:
            continue
        elif tag in {"p", "code"} or not len(child):
            yield _block("p", child)
        else:
            yield from _tree_blocks(child)


def _trafilatura(html: str, url: str) -> tuple[list[Block], Any]:
    """(blocks, trafilatura Document or None)."""
    import trafilatura

    try:
        result = trafilatura.bare_extraction(
            html,
            url=url,
            favor_precision=FAVOR_PRECISION,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=True,  # only to measure link density; links are not kept
            deduplicate=False,
            date_extraction_params={"original_date": True, "extensive_search": False},
        )
    # trafilatura runs several third-party heuristics over hostile markup; any failure in them
    # means "no main text", and the fallback takes over.
    except Exception:
        return [], None
    if result is None or getattr(result, "body", None) is None:
        return [], result
    blocks = [block for block in _tree_blocks(result.body) if block is not None]
    return blocks, result


# --------------------------------------------------------------------------------------------
# Fallback
# --------------------------------------------------------------------------------------------

_BOILERPLATE_TAGS = (
    "nav", "header", "footer", "aside", "script", "style", "form", "noscript", "template",
    "iframe", "svg", "button", "select", "input", "textarea", "dialog", "menu", "head",
)  # fmt: skip
_BOILERPLATE_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "menu"}
)
_BOILERPLATE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:cookie|consent|gdpr|banner|advert|ads?|adslot|ad-slot|sponsor|promo"
    r"|newsletter|subscribe|paywall|share|sharing|social|related|recommend|comments?|breadcrumbs?"
    r"|popup|modal|overlay|sidebar|widget|footer|header|nav|navbar|menu|skip|tags?)(?:$|[\s_-])",
    re.IGNORECASE,
)
_TEXT_TAGS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "td")


def _fallback_blocks(html: str) -> list[Block]:
    """Paragraph-like blocks of the page after dropping its obvious boilerplate."""
    from bs4 import BeautifulSoup, Tag

    soup = BeautifulSoup(html, "lxml")
    for el in soup.find_all(_BOILERPLATE_TAGS):
        el.decompose()
    for el in soup.find_all(True):
        if not isinstance(el, Tag) or el.decomposed or el.attrs is None:
            continue
        role = str(el.get("role") or "").lower()
        marks = " ".join([*(el.get("class") or []), str(el.get("id") or "")])
        hidden = el.get("hidden") is not None or str(el.get("aria-hidden")).lower() == "true"
        if el.name not in {"html", "body", "main", "article"} and (
            role in _BOILERPLATE_ROLES or hidden or _BOILERPLATE_CLASS.search(marks)
        ):
            el.decompose()

    blocks: list[Block] = []
    linky: list[Block] = []  # link-dense blocks, kept in case they are all the page has
    root = soup.body or soup
    for el in root.find_all(_TEXT_TAGS):
        if el.decomposed:
            continue
        if el.find(_TEXT_TAGS):
            # Only the text that is not inside a nested block, which is visited on its own.
            own = " ".join(
                s.strip() for s in el.find_all(string=True, recursive=False) if s.strip()
            )
            text = " ".join(own.split())
        else:
            text = " ".join(el.get_text(" ").split())
        if not text:
            continue
        kind: BlockKind = "head" if el.name[0] == "h" and el.name[1:].isdigit() else "p"
        if el.name == "li":
            kind = "item"
        elif el.name == "blockquote":
            kind = "quote"
        (linky if _link_dense(el, text) else blocks).append((kind, text))
    # An index page (a list of press releases, say) is nothing but links once the menus are
    # gone; then the links are the content.
    if not any(kind != "head" for kind, _ in blocks) and linky:
        blocks = [*blocks, *linky]
    if not blocks:
        text = root.get_text("\n") if hasattr(root, "get_text") else ""
        blocks = [("p", line) for line in split_paragraphs(text)]
    return blocks


def _link_dense(el: Any, text: str) -> bool:
    """Short blocks that are nearly all link text are menus and teasers, not content."""
    link_chars = sum(len(" ".join(a.get_text(" ").split())) for a in el.find_all("a"))
    return len(text) < 120 and link_chars >= 0.8 * len(text)


# --------------------------------------------------------------------------------------------
# Metadata
# --------------------------------------------------------------------------------------------

_PUBLISHED_XPATH = (
    "//meta[@property='article:published_time' or @name='article:published_time'"
    " or @itemprop='datePublished' or @name='date' or @name='dc.date' or @name='DC.date'"
    " or @name='DC.date.issued' or @name='dcterms.created' or @property='og:published_time']"
    "/@content | //time[@itemprop='datePublished' or @pubdate]/@datetime"
)
_JSONLD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')


def _parse_datetime(value: str) -> datetime | None:
    value = value.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _published(tree: etree._Element | None, html: str, day: str | None) -> datetime | None:
    """Publication time: the page's own metadata timestamp when it declares one (it is explicit
    and has a time of day), else the date trafilatura/htmldate found, at midnight UTC."""
    candidates: list[str] = []
    if tree is not None:
        candidates.extend(str(v) for v in tree.xpath(_PUBLISHED_XPATH))
    candidates.extend(_JSONLD_PUBLISHED.findall(html[:500_000]))
    for value in candidates:
        when = _parse_datetime(value)
        if when:
            return when
    if day:
        return _parse_datetime(day[:10] + "T00:00:00+00:00")
    return None


def _page_tree(html: str) -> etree._Element | None:
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        return lxml_html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return None


def _html_title(tree: etree._Element | None) -> str | None:
    if tree is None:
        return None
    for xpath in ("//meta[@property='og:title']/@content", "//title//text()", "//h1//text()"):
        values = [" ".join(str(v).split()) for v in tree.xpath(xpath)]
        text = " ".join(v for v in values if v)
        if text:
            return text
    return None


# --------------------------------------------------------------------------------------------
# Passages
# --------------------------------------------------------------------------------------------


def _passages(
    blocks: Sequence[Block],
    url: str,
    title: str | None,
    language: str | None,
    ignore: Sequence[re.Pattern[str]],
) -> list[Passage]:
    """One passage per paragraph; headings become the title of the paragraphs below them."""
    title_norm = normalise(title) if title else None
    heading: str | None = None
    seen: set[str] = set()
    passages: list[Passage] = []
    for index, (kind, raw) in enumerate(blocks):
        text = remove_ignored(raw, ignore) if ignore else " ".join(raw.split())
        if not text:
            continue
        if kind == "head" and len(text) <= MAX_HEADING_CHARS and _has_body(blocks, index):
            # The page title repeated as <h1> is not a section heading.
            heading = None if normalise(text) == title_norm else text
            continue
        if kind == "head" and title_norm and normalise(text) == title_norm:
            continue
        canon = canonical(text, ignore)
        if canonical_only_volatile(canon):
            continue  # a bare timestamp or counter line can only ever look "new"
        key = canonical_fingerprint(canon)
        if key in seen:
            continue
        seen.add(key)
        lang, sure = detect_language_scored(text)
        passages.append(
            Passage(
                key=key,
                text=text,
                title=heading,
                link=url,
                language=lang if sure or not language else language,
            )
        )
    return passages


def _has_body(blocks: Sequence[Block], index: int) -> bool:
    """Whether a heading is followed by text before the next heading; if not, it is the text."""
    return index + 1 < len(blocks) and blocks[index + 1][0] != "head"


def _document_language(tree: etree._Element | None, blocks: Sequence[Block]) -> str | None:
    declared = None
    if tree is not None:
        declared = language_from_tag(next(iter(tree.xpath("/html/@lang | /html/@xml:lang")), None))
    sample = " ".join(text for _, text in blocks)[:5000]
    detected = detect_language(sample) if sample else None
    # A template's lang attribute is often left at "en"; the text itself wins when it is clear.
    if detected and detected != "other":
        return detected
    return declared or detected


def extract_page(
    body: bytes,
    url: str,
    content_type: str | None = None,
    *,
    ignore: Sequence[re.Pattern[str]] = (),
) -> Document:
    """Main text of an HTML page (or a plain-text or PDF response) as paragraph passages.

    ``ignore`` holds a source's ignore patterns: their matches are removed from the passages'
    text and do not count towards the fingerprints.
    """
    mtype = media_type(content_type)
    if mtype in _PDF_TYPES or body[:5] == b"%PDF-":
        return _document_from_text(_pdf(body), url, "", ignore)
    decoded = decode(
        body,
        [
            ("HTTP header", charset_from_content_type(content_type)),
            ("meta tag", html_meta_charset(body)),
        ],
    )
    if mtype in _TEXT_TYPES:
        return _document_from_text(clean_text(decoded.text), url, "", ignore, decoded.warnings)
    if mtype not in _HTML_TYPES and not mtype.startswith("text/"):
        raise ExtractError(f"not a page: cannot extract text from {mtype}")

    html = decoded.text
    warnings = list(decoded.warnings)
    if not html.strip():
        return Document(url=url, kind="page", warnings=[*warnings, "empty body"])
    tree = _page_tree(html)
    blocks, meta = _trafilatura(html, url)
    if not blocks:
        blocks = _fallback_blocks(html)
        warnings.append(FALLBACK_WARNING)
    title = getattr(meta, "title", None) or _html_title(tree)
    language = _document_language(tree, blocks)
    passages = _passages(blocks, url, title, language, ignore)
    if not passages:
        warnings.append("no text found on the page")
    return Document(
        url=url,
        kind="page",
        title=title,
        language=language,
        published=_published(tree, html, getattr(meta, "date", None)),
        passages=passages,
        warnings=warnings,
        author=getattr(meta, "author", None) or None,
        site=getattr(meta, "sitename", None) or None,
    )


def _pdf(body: bytes) -> str:
    from monitor.extract.pdf import pdf_text

    return pdf_text(body)


def _document_from_text(
    text: str,
    url: str,
    title: str,
    ignore: Sequence[re.Pattern[str]],
    warnings: Sequence[str] = (),
) -> Document:
    blocks: list[Block] = [("p", p) for p in split_paragraphs(text)]
    language = detect_language(text[:5000]) if text.strip() else None
    return Document(
        url=url,
        kind="page",
        title=title or None,
        language=language,
        passages=_passages(blocks, url, title or None, language, ignore),
        warnings=list(warnings),
    )


_SUFFIX_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xhtml": "application/xhtml+xml",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".pdf": "application/pdf",
}
_FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom", ".rdf"})


def extract_file(path: Path | str) -> Document:
    """Extract a local file (for ``monitor extract FILE``): HTML, text, PDF, or a saved feed."""
    path = Path(path)
    body = path.read_bytes()
    url = path.resolve().as_uri()
    suffix = path.suffix.lower()
    if suffix in _FEED_SUFFIXES:
        from monitor.extract.feeds import parse_feed

        return parse_feed(body, url)
    return extract_page(body, url, _SUFFIX_TYPES.get(suffix, "text/html"))
