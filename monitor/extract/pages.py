"""Web page bytes -> Document with one Passage per paragraph of the main text.

trafilatura finds the main text (favouring precision, so navigation, teasers and comments stay
out); its output tree keeps paragraph, heading, list-item and table-row boundaries. When it finds
nothing, a BeautifulSoup pass over the page minus its obvious boilerplate takes over. Each
paragraph is keyed by its fingerprint, so only paragraphs whose text changed look new.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from copy import copy
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from monitor.extract.charset import (
    binary_message,
    charset_from_content_type,
    decode,
    html_meta_charset,
    media_type,
)
from monitor.extract.errors import ExtractError
from monitor.extract.language import detect_language, detect_language_scored, language_from_tag
from monitor.extract.text import (
    canonical,
    canonical_and_language,
    canonical_fingerprint,
    clean_text,
    normalise,
    remove_ignored,
    split_paragraphs,
)
from monitor.models import Document, Passage
from monitor.volatile import canonical_only_volatile

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
    if not len(el) and el.tag != "ref":
        # Most paragraphs are a single text node; the walk below would give the same.
        return " ".join((el.text or "").split()), 0
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


def _trafilatura(tree: HtmlElement, html: str, url: str) -> list[Block] | None:
    """Blocks of trafilatura's main text, or None when it finds none.

    Fast mode (no readability/jusText comparison) first; the full run only when the fast
    result is not certain to be what the full run would return (see `_full_run_agrees`).
    """
    import trafilatura

    # trafilatura works on a copy of a tree it is given. A fragment's element (a page without
    # <html> or doctype up front) is handed over as text, as trafilatura then works on the
    # element inside its document.
    source: HtmlElement | str = tree if tree.getparent() is None else html
    body = None
    try:
        if _TEASER_MARK not in html and _fast_checks() is not None:
            result = trafilatura.bare_extraction(source, options=_options(url, fast=True))
            body = getattr(result, "body", None)
            if body is not None and not _full_run_agrees(body, tree):
                body = None
        if body is None:
            result = trafilatura.bare_extraction(source, options=_options(url, fast=False))
            body = getattr(result, "body", None)
    # trafilatura runs several third-party heuristics over hostile markup; any failure in them
    # means "no main text", and the fallback takes over.
    except Exception:
        return None
    if body is None:
        return None
    return [block for block in _tree_blocks(body) if block is not None]


@lru_cache(maxsize=2)
def _base_options(fast: bool) -> Any:
    """trafilatura's options; building them parses its config, so it is done once."""
    from trafilatura.settings import Extractor

    return Extractor(
        # Not "python": that renders the body as text too, which is not used here.
        output_format="txt",
        fast=fast,
        precision=FAVOR_PRECISION,
        comments=False,
        tables=True,
        images=False,
        links=True,  # only to measure link density; links are not kept
        dedup=False,
        with_metadata=False,  # see _page_metadata
    )


def _options(url: str, fast: bool) -> Any:
    options = copy(_base_options(fast))
    options.url = url
    options.source = url
    return options


# trafilatura's fast mode differs from its full run in two places (precision mode, no
# comments). Its wild-text recovery (run when the main pass finds under MIN_EXTRACTED_SIZE
# characters) keeps blocks whose class or id holds "teaser": such pages take the full run. And
# it skips compare_extraction, which replaces the result with readability's or jusText's only
# when the result is short (under MIN_EXTRACTED_SIZE), holds no <p> text or more tables than
# paragraphs, keeps tags jusText is called for (SANITIZED_XPATH), or readability's text is over
# twice as long. The full run costs about twice the fast one.
_TEASER_MARK = "easer"
# The trafilatura releases whose full run was checked to behave as described above.
_CHECKED_TRAFILATURA = (2, 3)


class _FastChecks(NamedTuple):
    min_extracted_size: int
    unclean: Callable[[etree._Element], bool]  # holds tags that send a result to jusText


@lru_cache(maxsize=1)
def _fast_checks() -> _FastChecks | None:
    """What `_full_run_agrees` needs from trafilatura, or None: always take the full run."""
    try:
        from importlib.metadata import version

        from trafilatura.external import SANITIZED_XPATH

        release = tuple(int(part) for part in version("trafilatura").split(".")[:2])
    except (ImportError, ValueError):
        return None
    if release[:1] != _CHECKED_TRAFILATURA[:1] or release < _CHECKED_TRAFILATURA:
        return None
    minimum = _base_options(fast=False).min_extracted_size
    parts = [re.fullmatch(r"\.//([a-z]+)", part) for part in SANITIZED_XPATH.split("|")]
    if all(parts):
        # A union of ".//tag" paths: one walk over the tree instead of one per tag.
        tags = tuple(part[1] for part in parts if part)
        return _FastChecks(minimum, lambda body: next(body.iter(*tags), None) is not None)
    xpath = etree.XPath(SANITIZED_XPATH)
    return _FastChecks(minimum, lambda body: bool(xpath(body)))


_ALL_TEXT = etree.XPath("string()")
_TEXT_NODES = etree.XPath("count(.//text())")
_NO_P_TEXT = etree.XPath("not(.//p//text())")
_TABLE_DOMINATED = etree.XPath("count(.//table) > count(.//p)")
_READABILITY_DROPS = ("script", "style", "fencedframe")
_SAFETY = 1.05


def _full_run_agrees(body: etree._Element, tree: HtmlElement) -> bool:
    """Whether trafilatura's full run would return the same body as its fast run did."""
    checks = _fast_checks()
    if checks is None:
        return False
    # Never longer than the text trafilatura compares (" ".join(itertext()), stripped, before
    # it drops repeated elements); string() is much faster than itertext().
    length = len(_ALL_TEXT(body).strip())
    if length < checks.min_extracted_size or checks.unclean(body):
        return False
    if _NO_P_TEXT(body) or _TABLE_DOMINATED(body):
        return False
    # Readability's text is part of the page's text: it can only be over twice as long if the
    # page's text is.
    return 2 * length >= _SAFETY * _readability_bound(tree, length)


def _readability_bound(tree: HtmlElement, length: int) -> int:
    """An upper bound on the whitespace-collapsed length of any text readability returns.

    Readability keeps a subset of the page's text nodes in document order, minus scripts,
    styles and "unlikely candidates" (subtrees whose class or id says comments, footer,
    menu...), and writes "VIDEO" into the video iframes it keeps. Collapsing the whitespace of
    joined pieces gives at most the sum of each stripped piece plus one separator. A cheap,
    looser bound is returned when it already clears ``length`` (the extracted text's).
    """
    dropped = [el.text for el in tree.iter(*_READABILITY_DROPS) if el.text]
    videos = 6 * sum(1 for _ in tree.iter("iframe"))
    # Every text node unstripped, with the unlikely candidates: looser, but computed in C.
    loose = len(_ALL_TEXT(tree)) + int(_TEXT_NODES(tree)) + videos
    loose -= sum(map(len, dropped)) + len(dropped)
    if 2 * length >= _SAFETY * loose:
        return loose
    return _kept_text_bound(tree)


def _kept_text_bound(tree: HtmlElement) -> int:
    """`_readability_bound` from the text readability can keep, stripped piece by piece."""
    unlikely = _unlikely_candidate()
    total = 0
    stack = [tree]
    while stack:
        el = stack.pop()
        if el is not tree and el.tail and (piece := el.tail.strip()):
            total += len(piece) + 1  # a dropped element's tail stays
        tag = el.tag
        if not isinstance(tag, str) or tag in _READABILITY_DROPS:
            continue
        if el is not tree and unlikely(el):
            continue
        if el.text and (piece := el.text.strip()):
            total += len(piece) + 1
        if tag == "iframe":
            total += 6
        stack.extend(el)
    return total


@lru_cache(maxsize=1)
def _unlikely_candidate() -> Callable[[etree._Element], bool]:
    """Readability's test for the elements it drops first (its own rule, via its patterns)."""
    try:
        from trafilatura.readability_lxml import FRAME_TAGS, REGEXES

        unlikely, maybe = REGEXES["unlikelyCandidatesRe"], REGEXES["okMaybeItsACandidateRe"]
    except (ImportError, KeyError):  # another trafilatura: assume it drops nothing
        return lambda _el: False

    def test(el: etree._Element) -> bool:
        attrs = " ".join(filter(None, (el.get("class"), el.get("id"))))
        if len(attrs) < 2 or el.tag in FRAME_TAGS:
            return False
        low = attrs.lower()
        return bool(unlikely.search(low)) and not maybe.search(low)

    return test


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


def _published(
    tree: etree._Element | None, html: str, day: Callable[[], str | None]
) -> datetime | None:
    """Publication time: the page's own metadata timestamp when it declares one (it is explicit
    and has a time of day), else the day htmldate finds (asked only then), at midnight UTC."""
    candidates: list[str] = []
    if tree is not None:
        candidates.extend(str(v) for v in tree.xpath(_PUBLISHED_XPATH))
    candidates.extend(_JSONLD_PUBLISHED.findall(html[:500_000]))
    for value in candidates:
        when = _parse_datetime(value)
        if when:
            return when
    found = day()
    if found:
        return _parse_datetime(found[:10] + "T00:00:00+00:00")
    return None


def _page_tree(html: str) -> etree._Element | None:
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        return lxml_html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return None


def _trafilatura_tree(html: str) -> HtmlElement | None:
    """The page as trafilatura parses it (None when it would reject the page), parsed once for
    the metadata, the dates and the main text."""
    from trafilatura import load_html

    try:
        return load_html(html)
    except Exception:  # hostile markup: then trafilatura has nothing to work on either
        return None


class _Meta(NamedTuple):
    title: str | None = None
    author: str | None = None
    site: str | None = None
    url: str | None = None  # the canonical URL, where htmldate looks for a date


# trafilatura's byline search (extract_author) runs regex tests on every element. Its XPaths
# only match an <author> or <rel> element or one whose rel, id, class, itemprop, data-testid or
# data-component attribute holds one of these words, so a page without any has no byline.
_BYLINE_ATTRIBUTES = ("class", "id", "rel", "itemprop", "data-testid", "data-component")
_BYLINE_WORDS = (
    "uthor", "byl", "Byl", "BBL", "username", "zuozhe", "bianji", "xiaobian", "channel-name",
    "submitted-by", "posted-by", "journalist-name", "screenname", "writer",
)  # fmt: skip


def _may_have_byline(tree: HtmlElement) -> bool:
    for el in tree.iter():
        if el.tag in ("author", "rel"):
            return True
        attrib = el.attrib
        if not attrib:
            continue
        for name in _BYLINE_ATTRIBUTES:
            value = attrib.get(name)
            if value and any(word in value for word in _BYLINE_WORDS):
                return True
    return False


def _page_metadata(tree: HtmlElement, url: str) -> _Meta:
    """Title, author, site name and canonical URL, from trafilatura's metadata helpers.

    Its full metadata pass also finds categories, tags, licence and (with htmldate) the date,
    which cost most of its time; the date is only looked for when the page declares no
    timestamp (see `_published`).
    """
    try:
        from trafilatura import metadata as tm

        found = tm.examine_meta(tree)
        if found.author and " " not in found.author:
            found.author = None  # a single word in an author tag is a handle or a site name
        found = tm.extract_meta_json(tree, found)
        found.title = found.title or tm.extract_title(tree)
        if not found.author and _may_have_byline(tree):
            found.author = tm.extract_author(tree)
        found.url = found.url or tm.extract_url(tree, url)
        found.sitename = found.sitename or tm.extract_sitename(tree)
        if found.sitename:
            found.sitename = found.sitename.lstrip("@")
            if found.sitename and "." not in found.sitename and not found.sitename[0].isupper():
                found.sitename = found.sitename.title()
        elif found.url and (host := tm.META_URL.match(found.url)):
            found.sitename = host[1]
        found.clean_and_trim()
    # The helpers parse JSON-LD and run heuristics over arbitrary markup; a failure in them
    # costs the metadata, not the text.
    except Exception:
        return _Meta()
    return _Meta(found.title or None, found.author or None, found.sitename or None, found.url)


def _htmldate(tree: HtmlElement, url: str | None) -> str | None:
    """The page's publication day as htmldate finds it (markup, URL and text patterns)."""
    try:
        from htmldate import find_date

        return find_date(tree, original_date=True, extensive_search=False, url=url)
    except Exception:  # date heuristics over hostile markup: no date rather than no page
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
    *,
    with_language: bool = True,
) -> list[Passage]:
    """One passage per paragraph; headings become the title of the paragraphs below them.

    Without ``with_language`` the passages carry no language (nothing will match them).
    """
    title_norm = normalise(title) if title else None
    heading: str | None = None
    seen: set[str] = set()
    passages: list[Passage] = []
    for index, (kind, raw) in enumerate(blocks):
        # Blocks arrive with their whitespace collapsed.
        text = remove_ignored(raw, ignore) if ignore else raw
        if not text:
            continue
        if kind == "head" and len(text) <= MAX_HEADING_CHARS and _has_body(blocks, index):
            # The page title repeated as <h1> is not a section heading.
            heading = None if normalise(text) == title_norm else text
            continue
        if kind == "head" and title_norm and normalise(text) == title_norm:
            continue
        lang: str | None
        if not with_language:
            canon, lang, sure = canonical(text, ignore), None, False
        elif ignore:
            canon, (lang, sure) = canonical(text, ignore), detect_language_scored(text)
        else:
            canon, lang, sure = canonical_and_language(text)
        if canonical_only_volatile(canon):
            continue  # a bare timestamp or counter line can only ever look "new"
        key = canonical_fingerprint(canon)
        if key in seen:
            continue
        seen.add(key)
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
    record_only: bool = False,
) -> Document:
    """Main text of an HTML page (or a plain-text or PDF response) as paragraph passages.

    ``ignore`` holds a source's ignore patterns: their matches are removed from the passages'
    text and do not count towards the fingerprints. ``record_only``: the passages are only
    recorded as seen (a baseline poll), never matched or shown, so the publication date and
    the languages, which only matching and digests use, are not worked out. Keys and texts are
    the same either way.
    """
    mtype = media_type(content_type)
    if mtype in _PDF_TYPES or body[:5] == b"%PDF-":
        return _document_from_text(_pdf(body), url, "", ignore)
    if mtype in _HTML_TYPES or mtype in _TEXT_TYPES or mtype.startswith("text/"):
        labels = (charset_from_content_type(content_type), html_meta_charset(body))
        if refused := binary_message(body, url, content_type, labels):
            raise ExtractError(refused)
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
    # One parse serves the metadata, the dates and trafilatura (which works on a copy).
    parsed = _trafilatura_tree(html)
    blocks = _trafilatura(parsed, html, url) if parsed is not None else None
    # trafilatura's metadata comes with a result, as before: none when it rejects the page.
    meta = _page_metadata(parsed, url) if parsed is not None and blocks is not None else _Meta()

    def day() -> str | None:
        return _htmldate(parsed, meta.url) if parsed is not None and meta.url else None

    tree = parsed if parsed is not None else _page_tree(html)
    if not blocks:
        blocks = _fallback_blocks(html)
        warnings.append(FALLBACK_WARNING)
    title = meta.title or _html_title(tree)
    language = None if record_only else _document_language(tree, blocks)
    passages = _passages(blocks, url, title, language, ignore, with_language=not record_only)
    if not passages:
        warnings.append("no text found on the page")
    return Document(
        url=url,
        kind="page",
        title=title,
        language=language,
        published=None if record_only else _published(tree, html, day),
        passages=passages,
        warnings=warnings,
        author=meta.author,
        site=meta.site,
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
