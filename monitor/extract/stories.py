"""Which story each paragraph of a page belongs to: the headline and time that are its own.

A page holds one story (an article: its headline is the context of every paragraph) or several
(a live blog, a ticker, a page of short reports: each entry has its own heading and time, and
the page's title belongs to none of them in particular). trafilatura's output keeps the text but
not that structure (it drops and reorders entry headings), so the entries are found in the
parsed page itself and each paragraph is placed by its text:

- a dated entry is the largest element around one ``<time>`` that holds no other one (or, where
  the entries share one parent without a wrapper each, the run of elements from one ``<time>`` to
  the next); a page with two or more of them is a page of entries;
- otherwise, two or more ``<article>`` elements are the entries (a page of reports);
- an entry's headline is its first heading outside page furniture, else a bold line standing
  before its first paragraph;
- a heading inside navigation, the site's header, a footer or a sidebar, or one standing over
  a list of links, is never anyone's context.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from monitor.extract.page_meta import parse_datetime

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Page furniture: a heading here names a menu, a teaser list or the site, never a story.
_FURNITURE = frozenset({"nav", "footer", "aside", "menu"})
MAX_HEADLINE_CHARS = 150
# A <time> in a paragraph or list item with more text than this is a date mentioned in it.
MAX_STAMP_EXTRA_CHARS = 30
_RUNNING_TEXT = ("p", "li", "td", "dd")
_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "table")
LINK_SHARE = 0.8  # share of a block's text inside links that makes it a list of links
# Text an entry must hold beyond its time to be a story (not a bare date line or a clock).
MIN_ENTRY_CHARS = 20
# "03.12.2026, 09:40" / "3.12.2026 9:40 Uhr": the usual German way to write an entry's time.
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}),?\s+(?:um\s+)?(\d{1,2})[:.](\d{2})")


@dataclass(frozen=True, slots=True)
class Story:
    """One entry of a page of several: its own headline (None: it has none) and time (None: it
    shows none that can be read; the digest then says the time is unknown)."""

    headline: str | None
    published: datetime | None


def _compact(text: str) -> str:
    """Text without any whitespace: trafilatura and lxml space element boundaries differently."""
    return "".join(text.split())


def _tag(el: etree._Element) -> str:
    return el.tag if isinstance(el.tag, str) else ""


def _in_furniture(el: etree._Element) -> bool:
    for a in el.iterancestors():
        tag = _tag(a)
        if tag in _FURNITURE or a.get("role") == "navigation":
            return True
        if tag == "header" and next(a.iterancestors("article", "main"), None) is None:
            return True  # the site's header; an article's own <header> holds its headline
    return False


def _text(els: list[etree._Element]) -> str:
    return " ".join(" ".join(" ".join(el.itertext()).split()) for el in els).strip()


def _headline(els: list[etree._Element]) -> str | None:
    """The first heading in these elements (or among them), outside page furniture."""
    for el in els:
        for h in el.iter(*_HEADINGS):
            if _in_furniture(h):
                continue
            text = " ".join(" ".join(h.itertext()).split())
            if text:
                return text if len(text) <= MAX_HEADLINE_CHARS else None
    return _bold_headline(els)


def _bold_headline(els: list[etree._Element]) -> str | None:
    """An entry's bold line before its first paragraph (``<strong>`` loose in the entry, or a
    paragraph of nothing else): the title of entries made without heading tags. trafilatura
    drops such loose text, so without this the entry would have no title at all."""
    for el in els:
        for node in el.iter("strong", "b", *_RUNNING_TEXT):
            tag = _tag(node)
            if tag in _RUNNING_TEXT:
                if node.find(".//strong") is None and node.find(".//b") is None:
                    return None  # running text came first: bold words later are emphasis
                continue
            if _in_furniture(node):
                continue
            text = " ".join(" ".join(node.itertext()).split())
            holder = next(node.iterancestors(*_RUNNING_TEXT), None)
            if holder is not None and _compact(_text([holder])) != _compact(text):
                return None  # bold words inside running text
            if text:
                return text if len(text) <= MAX_HEADLINE_CHARS else None
    return None


def entry_time(el: etree._Element) -> datetime | None:
    """The time a ``<time>`` element states: its ``datetime`` attribute, else its text when
    that carries a full date and time."""
    value = el.get("datetime")
    if value and (when := parse_datetime(value)):
        return when
    text = " ".join(" ".join(el.itertext()).split())
    if found := _DOTTED.search(text):
        day, month, year, hour, minute = (int(g) for g in found.groups())
        try:
            return datetime(year, month, day, hour, minute, tzinfo=UTC)
        except ValueError:
            return None
    return parse_datetime(text) if text else None


def _is_stamp(t: etree._Element) -> bool:
    """Whether a ``<time>`` dates what it stands in, not a date mentioned in running text ("on
    <time>19 June</time> the two signed ..."): the paragraph or list item holding it says
    little else."""
    holder = next(t.iterancestors(*_RUNNING_TEXT), None)
    return holder is None or len(_text([holder])) - len(_text([t])) <= MAX_STAMP_EXTRA_CHARS


def _has_block(els: list[etree._Element], stamp: etree._Element) -> bool:
    """Whether an entry holds a paragraph or heading of its own (beside its time): a line of a
    chronology ("<li><time>2024</time> treaty signed</li>") is not an entry."""
    for el in els:
        for block in el.iter(*_BLOCKS):
            # A lone element that is itself the paragraph holding the time does not count.
            own = block is not el or len(els) > 1
            if own and stamp not in block.iterdescendants("time"):
                return True
    return False


def _time_entries(body: etree._Element) -> list[tuple[list[etree._Element], etree._Element]]:
    """(elements, its <time>) of each dated entry, in document order."""
    times = [t for t in body.iter("time") if not _in_furniture(t) and _is_stamp(t)]
    if len(times) < 2:
        return []
    # How many of these times each element holds.
    held: dict[etree._Element, int] = {}
    for t in times:
        for a in t.iterancestors():
            held[a] = held.get(a, 0) + 1
    starts = set(times)
    entries: list[tuple[list[etree._Element], etree._Element]] = []
    for t in times:
        el = t
        parent = el.getparent()
        while parent is not None and _tag(parent) != "body" and held[parent] == 1:
            el, parent = parent, parent.getparent()
        els = [el]
        stamp_chars = len(_text([t]))
        if len(_text(els)) - stamp_chars < MIN_ENTRY_CHARS:
            # No wrapper of its own: the entry runs on to the next sibling holding a time.
            for sib in el.itersiblings():
                if sib in starts or held.get(sib, 0):
                    break
                els.append(sib)
        if len(_text(els)) - stamp_chars >= MIN_ENTRY_CHARS and _has_block(els, t):
            entries.append((els, t))
    return entries if len(entries) >= 2 else []


def _article_entries(body: etree._Element) -> list[list[etree._Element]]:
    """The innermost ``<article>`` elements holding text, when there are two or more."""
    found = [
        a
        for a in body.iter("article")
        if next(a.iterdescendants("article"), None) is None and not _in_furniture(a)
    ]
    if len(found) < 2:  # one article (or none): the page is one story
        return []
    found = [a for a in found if len(_text([a])) >= MIN_ENTRY_CHARS]
    return [[a] for a in found] if len(found) >= 2 else []


class _Index:
    """Disjoint stories' texts, one after another, so that a paragraph is placed by one search."""

    def __init__(self, stories: list[tuple[list[etree._Element], Story]]) -> None:
        parts: list[str] = []
        self.starts: list[int] = []
        self.stories = [story for _, story in stories]
        at = 0
        for els, _story in stories:
            self.starts.append(at)
            text = "".join(_compact("".join(el.itertext())) for el in els) + "\x00"
            parts.append(text)
            at += len(text)
        self.text = "".join(parts)
        self.last = 0

    def find(self, needle: str) -> Story | None:
        if not needle or not self.stories:
            return None
        # Paragraphs come in document order, mostly: look on from the last one found first,
        # so that a line two entries share goes to the right one.
        at = self.text.find(needle, self.last)
        if at < 0:
            at = self.text.find(needle)
        if at < 0:
            return None
        self.last = at
        return self.stories[bisect_right(self.starts, at) - 1]


class PageStories:
    """The entries of a page, and for each paragraph the entry it belongs to (None: the page's
    own text, whose context is the page's headline)."""

    def __init__(self, tree: etree._Element | None, page_published: datetime | None) -> None:
        body = None if tree is None else next(tree.iter("body"), None)
        self._dated = _Index([])
        self._articles = _Index([])
        self._furniture: set[str] = set()
        if body is None:
            return
        dated = []
        for els, t in _time_entries(body):
            # The page's date is when a blog began, not when this entry was written; only the
            # entry holding the page's <h1> (its main story) may take it.
            when = entry_time(t) or (page_published if _has_h1(els) else None)
            dated.append((els, Story(_headline(els), when)))
        self._dated = _Index(dated)
        self._articles = _Index(
            [
                # An article without a time of its own is mostly the page's main one.
                (els, Story(_headline(els), _first_time(els) or page_published))
                for els in _article_entries(body)
            ]
        )
        furniture: set[str] = set()
        own: set[str] = set()
        for h in body.iter(*_HEADINGS):
            is_furniture = _in_furniture(h) or _heads_links(h)
            (furniture if is_furniture else own).add(_compact(" ".join(h.itertext())))
        self._furniture = furniture - own

    @property
    def several(self) -> bool:
        """Whether the page holds several entries."""
        return bool(self._dated.stories or self._articles.stories)

    def story(self, text: str) -> Story | None:
        """The entry a paragraph of the page's main text belongs to, or None."""
        if not self._dated.stories and not self._articles.stories:
            return None  # a page of one story (most pages): no text to compact and look up
        needle = _compact(text)
        return self._dated.find(needle) or self._articles.find(needle)

    def is_furniture(self, heading: str) -> bool:
        """Whether a heading is one of the page's navigation, header, footer or sidebar."""
        return _compact(heading) in self._furniture


def _heads_links(heading: etree._Element) -> bool:
    """Whether a heading stands over a list of links ("More on this", a teaser box): the text
    after that list is not under it."""
    nxt = heading.getnext()
    while nxt is not None and not isinstance(nxt.tag, str):  # comments
        nxt = nxt.getnext()
    if nxt is None or _tag(nxt) in _HEADINGS:
        return False
    if next(nxt.iter("a"), None) is None:
        return False  # no links: no text at all, or text of which none is in links
    text = " ".join(" ".join(nxt.itertext()).split())
    links = sum(len(" ".join(" ".join(a.itertext()).split())) for a in nxt.iter("a"))
    return bool(text) and links >= LINK_SHARE * len(text)


def _has_h1(els: list[etree._Element]) -> bool:
    return any(next(el.iter("h1"), None) is not None for el in els)


def _first_time(els: list[etree._Element]) -> datetime | None:
    for el in els:
        for t in el.iter("time"):
            if when := entry_time(t):
                return when
    return None
