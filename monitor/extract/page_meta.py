"""What a page says about itself: title, author, site, canonical URL, publication time and
language (from its markup, trafilatura's metadata helpers and htmldate)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement

from monitor.extract.blocks import Block
from monitor.extract.language import detect_language, language_from_tag

_PUBLISHED_XPATH = (
    "//meta[@property='article:published_time' or @name='article:published_time'"
    " or @itemprop='datePublished' or @name='date' or @name='dc.date' or @name='DC.date'"
    " or @name='DC.date.issued' or @name='dcterms.created' or @property='og:published_time']"
    "/@content | //time[@itemprop='datePublished' or @pubdate]/@datetime"
)
_JSONLD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')


def parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 time as aware UTC (a time without an offset is taken as UTC), or None."""
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


def published(
    tree: etree._Element | None, html: str, day: Callable[[], str | None]
) -> datetime | None:
    """Publication time: the page's own metadata timestamp when it declares one (it is explicit
    and has a time of day), else the day htmldate finds (asked only then), at midnight UTC."""
    candidates: list[str] = []
    if tree is not None:
        candidates.extend(str(v) for v in tree.xpath(_PUBLISHED_XPATH))
    candidates.extend(_JSONLD_PUBLISHED.findall(html[:500_000]))
    for value in candidates:
        when = parse_datetime(value)
        if when:
            return when
    found = day()
    if found:
        return parse_datetime(found[:10] + "T00:00:00+00:00")
    return None


def page_tree(html: str) -> etree._Element | None:
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        return lxml_html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return None


def trafilatura_tree(html: str) -> HtmlElement | None:
    """The page as trafilatura parses it (None when it would reject the page), parsed once for
    the metadata, the dates and the main text."""
    from trafilatura import load_html

    try:
        return load_html(html)
    except Exception:  # hostile markup: then trafilatura has nothing to work on either
        return None


class PageMeta(NamedTuple):
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


def page_metadata(tree: HtmlElement, url: str) -> PageMeta:
    """Title, author, site name and canonical URL, from trafilatura's metadata helpers.

    Its full metadata pass also finds categories, tags, licence and (with htmldate) the date,
    which cost most of its time; the date is only looked for when the page declares no
    timestamp (see `published`).
    """
    try:
        from monitor.adapters.trafilatura_internals import metadata as tm

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
        return PageMeta()
    return PageMeta(found.title or None, found.author or None, found.sitename or None, found.url)


def htmldate_day(tree: HtmlElement, url: str | None) -> str | None:
    """The page's publication day as htmldate finds it (markup, URL and text patterns)."""
    try:
        from htmldate import find_date

        return find_date(tree, original_date=True, extensive_search=False, url=url)
    except Exception:  # date heuristics over hostile markup: no date rather than no page
        return None


def html_title(tree: etree._Element | None) -> str | None:
    if tree is None:
        return None
    for xpath in ("//meta[@property='og:title']/@content", "//title//text()", "//h1//text()"):
        values = [" ".join(str(v).split()) for v in tree.xpath(xpath)]
        text = " ".join(v for v in values if v)
        if text:
            return text
    return None


def document_language(tree: etree._Element | None, blocks: Sequence[Block]) -> str | None:
    declared = None
    if tree is not None:
        declared = language_from_tag(next(iter(tree.xpath("/html/@lang | /html/@xml:lang")), None))
    sample = " ".join(text for _, text in blocks)[:5000]
    detected = detect_language(sample) if sample else None
    # A template's lang attribute is often left at "en"; the text itself wins when it is clear.
    if detected and detected != "other":
        return detected
    return declared or detected
