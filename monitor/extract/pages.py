"""Web page bytes -> Document with one Passage per paragraph of the main text.

trafilatura finds the main text (`main_text`, favouring precision, so navigation, teasers and
comments stay out; a second, default-mode pass adds what precision mode dropped, minus our own
boilerplate rules in `boilerplate`); its output tree keeps paragraph, heading, list-item and
table-row boundaries (`blocks`). When it finds nothing, a BeautifulSoup pass over the page minus its
obvious boilerplate takes over (`fallback`); title, dates and language come from `page_meta`.
This module decodes the response, routes PDF and plain text, and turns blocks into passages:
each paragraph is keyed by its fingerprint, so only paragraphs whose text changed look new.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from monitor.extract.blocks import Block
from monitor.extract.charset import (
    binary_message,
    charset_from_content_type,
    decode,
    html_meta_charset,
    media_type,
)
from monitor.extract.errors import ExtractError
from monitor.extract.fallback import fallback_blocks
from monitor.extract.language import detect_language, detect_language_scored
from monitor.extract.main_text import main_text_blocks
from monitor.extract.page_meta import (
    PageMeta,
    document_language,
    html_title,
    htmldate_day,
    page_metadata,
    page_tree,
    published,
    trafilatura_tree,
)
from monitor.extract.stories import PageStories, Story
from monitor.extract.text import (
    canonical,
    canonical_and_language,
    canonical_fingerprint,
    clean_text,
    normalise,
    only_volatile,
    remove_ignored,
    split_paragraphs,
)
from monitor.models import Document, Passage
from monitor.patterns import IgnorePattern
from monitor.volatile import canonical_only_volatile

MAX_HEADING_CHARS = 150
FALLBACK_WARNING = "main text not found; used fallback"

_HTML_TYPES = frozenset({"", "text/html", "application/xhtml+xml", "application/xml", "text/xml"})
_TEXT_TYPES = frozenset({"text/plain", "text/markdown"})
_PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})

# trafilatura logs every page it discards at WARNING; the caller reports our own warning instead.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)


# --------------------------------------------------------------------------------------------
# Passages
# --------------------------------------------------------------------------------------------


def _passages(
    blocks: Sequence[Block],
    url: str,
    title: str | None,
    language: str | None,
    ignore: Sequence[IgnorePattern],
    *,
    with_language: bool = True,
    stories: PageStories | None = None,
    sections_in_context: bool = False,
) -> list[Passage]:
    """One passage per paragraph; headings become the title of the paragraphs below them.

    With ``stories``, a paragraph of one entry of a page of several (a live blog) takes its
    entry's own headline and time, never the page's title or another entry's heading; a
    heading of the page's navigation or sidebars, or over a list of links, is nobody's.
    ``sections_in_context``: the page is one article, so a paragraph under a section heading
    is matched with the article's headline too. Without ``with_language`` the passages carry
    no language (nothing will match them).
    """
    title_norm = normalise(title) if title else None
    heading: str | None = None  # section heading of the page's own text
    entry: Story | None = None  # the entry of the paragraph before, and its section heading
    entry_heading: str | None = None
    seen: set[str] = set()
    passages: list[Passage] = []
    data_rows: set[int] | None = None  # figures-only rows of a labelled table, found lazily
    for index, (kind, raw) in enumerate(blocks):
        # Blocks arrive with their whitespace collapsed.
        text = remove_ignored(raw, ignore) if ignore else raw
        if not text:
            continue
        story = stories.story(raw) if stories is not None else None
        if story is not entry:
            entry, entry_heading = story, None
        if kind == "head" and len(text) <= MAX_HEADING_CHARS and _has_body(blocks, index):
            own = normalise(text)
            if stories is not None and stories.is_furniture(raw):
                # A menu's, sidebar's or link list's heading: what follows is not under it.
                heading = entry_heading = None
            elif story is not None:
                headline = normalise(story.headline) if story.headline else None
                entry_heading = None if own in (title_norm, headline) else text
            else:
                # The page title repeated as <h1> is not a section heading.
                heading = None if own == title_norm else text
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
            # A bare timestamp or counter line can only ever look "new"; a row of figures in a
            # table with a labelled row (a score table's "Q1 | 12 | 8") is the table's data.
            if kind != "row":
                continue
            if data_rows is None:
                data_rows = _figure_rows(blocks)
            if index not in data_rows:
                continue
        key = canonical_fingerprint(canon)
        if key in seen:
            continue
        seen.add(key)
        passage = Passage(
            key=key,
            text=text,
            title=heading,
            link=url,
            language=lang if sure or not language else language,
        )
        # The context is what the paragraph is matched with besides its text (see
        # `Passage.context`): its story's headline, and the section heading it stands under.
        if story is not None:
            passage.entry = True
            passage.title = entry_heading or story.headline
            passage.published = story.published
            parts = [story.headline, entry_heading]
        elif heading:
            parts = [title, heading] if sections_in_context else [heading]
        else:
            parts = [title]
        passage.context = " — ".join(part for part in parts if part)
        passages.append(passage)
    return passages


def _figure_rows(blocks: Sequence[Block]) -> set[int]:
    """Indexes of the figures-only rows of tables that hold a row of words (their header or a
    label row), read as runs of consecutive row blocks of two cells or more."""
    found: set[int] = set()
    run: list[int] = []
    for index, (kind, text) in enumerate([*blocks, ("p", "")]):
        if kind == "row" and " | " in text:
            run.append(index)
            continue
        figures = [i for i in run if only_volatile(blocks[i][1])]
        if figures and len(figures) < len(run):
            found.update(figures)
        run = []
    return found


def _has_body(blocks: Sequence[Block], index: int) -> bool:
    """Whether a heading is followed by text before the next heading; if not, it is the text."""
    return index + 1 < len(blocks) and blocks[index + 1][0] != "head"


def extract_page(
    body: bytes,
    url: str,
    content_type: str | None = None,
    *,
    ignore: Sequence[IgnorePattern] = (),
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
    parsed = trafilatura_tree(html)
    blocks = main_text_blocks(parsed, html, url) if parsed is not None else None
    # trafilatura's metadata comes with a result, as before: none when it rejects the page.
    meta = page_metadata(parsed, url) if parsed is not None and blocks is not None else PageMeta()

    def day() -> str | None:
        return htmldate_day(parsed, meta.url) if parsed is not None and meta.url else None

    tree = parsed if parsed is not None else page_tree(html)
    fell_back = not blocks
    if not blocks:
        blocks = fallback_blocks(html)
        warnings.append(FALLBACK_WARNING)
    # A docs page's headline ends in its permalink's mark ("Changelog¶"), as its headings do.
    title = meta.title or html_title(tree)
    if title and title.endswith("¶"):
        title = title.removesuffix("¶").rstrip()
    language = None if record_only else document_language(tree, blocks)
    when = None if record_only else published(tree, html, day)
    # Also for a baseline: its passages are the same either way, titles included.
    stories = PageStories(tree, when)
    passages = _passages(
        blocks,
        url,
        title,
        language,
        ignore,
        with_language=not record_only,
        stories=stories,
        # A page trafilatura finds no article in is rarely one story: its sections stand alone.
        sections_in_context=not stories.several and not fell_back,
    )
    if not passages:
        warnings.append("no text found on the page")
    return Document(
        url=url,
        kind="page",
        title=title,
        language=language,
        published=when,
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
    ignore: Sequence[IgnorePattern],
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
