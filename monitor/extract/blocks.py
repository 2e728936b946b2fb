"""Paragraph blocks: what page extraction hands on, and how they are read off trafilatura's
output tree (its paragraph, heading, list-item, quote and table-row elements)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from copy import copy
from typing import Literal

from lxml import etree

from monitor.extract.text import canonical
from monitor.volatile import canonical_only_volatile

BlockKind = Literal["p", "head", "item", "quote", "row"]
Block = tuple[BlockKind, str]

# trafilatura's inline elements; every other element boundary separates words.
_INLINE = frozenset({"hi", "ref", "del", "span"})
# Block elements a list item can hold (a live-blog entry: heading and paragraphs). They are
# blocks of their own, so the item's text leaves them out; else each would be emitted twice.
_ITEM_BLOCKS = frozenset({"list", "p", "head", "quote", "table", "code"})


def _code_word(code: etree._Element) -> bool:
    """Whether a <code> inside a block is a word of its text ("in <code>repr()</code>."), not
    a block of code: one line. (Spaced as a block, "repr() ." lost its full stop's place.)"""
    return "\n" not in "".join(code.itertext()).strip()


# The page's own tree (not trafilatura's output): an element's text as a block holds it, and
# the text nodes that hold a given piece of a block (to find the block's element).
TEXT_HOLDING = etree.XPath("//text()[contains(., $piece)]")


def page_text(el: etree._Element) -> str:
    """A page element's text, its whitespace collapsed."""
    return " ".join(el.text_content().split())


def next_element(el: etree._Element) -> etree._Element | None:
    """The element after ``el`` at its level, past comments."""
    after = el.getnext()
    while after is not None and not isinstance(after.tag, str):
        after = after.getnext()
    return after


LINK_DENSE = 0.8  # share of a short block's text inside links that marks it as a menu/teaser
LINK_DENSE_MAX_CHARS = 250


def element_text(
    el: etree._Element, skip: frozenset[str] = frozenset(), anchors: bool = True
) -> tuple[str, int]:
    """(text, characters inside links) of an output-tree element, leaving out ``skip`` subtrees.

    Without ``anchors``, links to a fragment (``#section``) do not count as links."""
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
            if tag not in _INLINE and not (tag == "code" and node is not el and _code_word(node)):
                parts.append(" ")
            if node.tail and node is not el:
                parts.append(node.tail)
            continue
        if node is not el and tag in skip:
            if node.tail:
                parts.append(node.tail)
            continue
        if tag == "ref" and (anchors or "#" not in (node.get("target") or "")):
            link_chars += len("".join(node.itertext()).strip())
        inline = tag in _INLINE or (tag == "code" and node is not el and _code_word(node))
        if not inline:
            parts.append(" ")
        if node.text:
            parts.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    return " ".join("".join(parts).split()), link_chars


def _block(kind: BlockKind, el: etree._Element, skip: frozenset[str] = frozenset()) -> Block | None:
    """A block, or None when it is empty or a short run of links (menus, teasers, share bars).

    A heading that links to its own section (``<h2><a href="#costs">``, a permalink anchor) is
    a heading, not a link: a menu's links lead to other pages."""
    text, link_chars = element_text(el, skip, anchors=kind != "head")
    if not text or link_dense_text(text, link_chars) or _dated_link(text, link_chars, el):
        return None
    return kind, text


def link_dense_text(text: str, link_chars: int) -> bool:
    return len(text) < LINK_DENSE_MAX_CHARS and link_chars >= LINK_DENSE * len(text)


# A teaser's line is its link and the link's date and time ("04.12.2026 10:05 <a>Astana airport
# to open second runway</a>", a blog's "<a>Inwangsan at sunset</a> | 2025.09.28"): the figures
# made it too long for a run of links, and a news ticker or an "other posts" table came in
# (extract_eval12, extract_eval9). Weighed by their letters, its words are all the link's.
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")


def _dated_link(text: str, link_chars: int, el: etree._Element) -> bool:
    """Whether a short block's letters are all inside its links (its rest being figures)."""
    if not link_chars or len(text) >= LINK_DENSE_MAX_CHARS:
        return False
    # Words that end a sentence after a link are the text's own ("<a>An interview</a>, in
    # English."), not a teaser's figures or pointer ("Lire aussi : <a>...</a>").
    if _SENTENCE_END.search(text) and not _DIGIT.search(text):
        return False
    inside = sum(len(_LETTER.findall("".join(ref.itertext()))) for ref in el.iter("ref"))
    return inside >= LINK_DENSE * len(_LETTER.findall(text))


def tree_blocks(body: etree._Element) -> Iterator[Block | None]:
    """Blocks of trafilatura's output tree, in document order (None for dropped ones)."""
    # trafilatura may leave text loose in its body, after a heading (a page builder's text
    # module "<h3>Dorfteich</h3>Am Weg ...", Divi: its output keeps it as the heading's tail),
    # or in the one <div> its comparison with readability returns (a PDF converted to lines
    # between <br>s: a council's minutes after the first page, recall 0.59, extract_eval26).
    # Read child by child, every such paragraph was lost (recall 0.49 on a German council
    # page, extract_eval25), and the idle-recall test counted it as kept.
    if _loose_text(body):
        yield from _cell_blocks(body, lead=False, prose=True, sentences=True)
        return
    for child in body:
        yield from _child_blocks(child)


def _child_blocks(child: etree._Element) -> Iterator[Block | None]:
    tag = child.tag
    if not isinstance(tag, str):
        return
    if tag == "head":
        yield _block("head", child)
    elif tag == "list":
        yield from _list_blocks(child)
    elif tag == "table" and _layout_table(child):
        yield from _layout_blocks(child)
    elif tag == "table":
        for row in _rows(child):
            cells = [element_text(cell) for cell in _cells(row)]
            text = " | ".join(t for t, _ in cells if t)
            links = sum(n for _, n in cells)
            if text and not link_dense_text(text, links) and not _dated_link(text, links, row):
                yield "row", text
    elif tag == "quote" and any(c.tag in {"p", "list", "head", "quote"} for c in child):
        if _loose_text(child):
            yield from _cell_blocks(child, lead=False, prose=True)
        else:
            yield from tree_blocks(child)
    elif tag == "quote":
        yield _block("quote", child)
    elif tag in {"graphic", "lb", "ref"}:
        return
    elif tag in {"p", "code"} or not len(child):
        yield _block("p", child)
    elif _loose_text(child):
        # A box of text between its blocks (readability's result, taken by trafilatura's
        # full run: a statute's sections as headings with their text after them; recall 0.51
        # on such a page, extract_eval21). Only runs that end a sentence: a box's loose lines
        # are as often its breadcrumb, its header line or a post's date line.
        yield from _cell_blocks(child, lead=False, prose=True, sentences=True)
    else:
        yield from tree_blocks(child)


# A quote can hold text of its own between its blocks: a forum post kept as one quote, its
# lines between <br>s and a list after them ("I am sure of this:<br><ul>..."). Read only as
# its child blocks, the quote lost that text (an es vBulletin thread, extract_eval17: recall
# 0.19, the opening post's prose gone); it is read as a layout cell's is, its loose runs kept
# where they are prose: an embedded post's attribution ("— Name (@handle) date") and a reply
# preview's sender name stay out (three pages of the dev sets lost precision with them).
def _loose_text(box: etree._Element) -> bool:
    """Whether a box of blocks holds words outside its child elements."""
    return bool((box.text or "").strip()) or any((c.tail or "").strip() for c in box)


# A timeline's date (a definition list's term, trafilatura's item rend="dt-N") is read with
# its entry (rend="dd-N"): "18 October 2024: Seoul says ...". Alone, the date was a passage
# that only ever looked volatile, and was dropped. Only a term that is a date or time alone:
# a field name over a timestamp ("Issued" / "10:14 Wed 22 Jan") stays apart, as the joined
# line would look new at every reissue.
def _dated_entry(term: Block | None, entry: Block | None) -> Block | None:
    if term is None or entry is None:
        return None
    if not canonical_only_volatile(canonical(term[1])) or canonical_only_volatile(
        canonical(entry[1])
    ):
        return None
    return "item", f"{term[1]}: {entry[1]}"


def _list_blocks(lst: etree._Element) -> Iterator[Block | None]:
    term: Block | None = None  # a dt item waiting for its dd
    for item in lst:
        if item.tag != "item":
            continue
        inline = _inline_code(item)
        skip = _ITEM_BLOCKS - {"code"} if inline else _ITEM_BLOCKS
        block = _block("item", item, skip)
        rend = item.get("rend") or ""
        inner = [
            b
            for child in item
            if not (inline and child.tag == "code")
            for b in _child_blocks(child)
        ]
        if term is not None:
            joined = None
            if rend.startswith("dd") and block is not None:
                joined = _dated_entry(term, block)
            elif rend.startswith("dd") and inner and inner[0] is not None:
                # The entry's text in a paragraph of its own ("<dd><p>...</p></dd>").
                joined = _dated_entry(term, inner[0])
                if joined is not None:
                    inner = inner[1:]
            if joined is None:
                yield term
            else:
                block = joined
            term = None
        if rend.startswith("dt") and not any(c.tag in skip for c in item):
            term = block
            continue
        yield block
        yield from inner
    if term is not None:
        yield term


# An item's <code> is a word of its sentence ("A new <code>--dry-run</code> flag ..."), not a
# block of its own, where the item's text runs around it on one line: taken out, the sentence
# lost its word and the word stood alone as a paragraph.
def _inline_code(item: etree._Element) -> bool:
    """Whether every <code> of a list item is a word of its text (none is a code block)."""
    codes = [child for child in item if child.tag == "code"]
    if not codes:
        return False
    # A term that is its code alone ("<dt><code>E01</code></dt>", an error code over its
    # meaning) is read as words too, and joins its entry as a term does.
    return all(_code_word(code) for code in codes)


# Cells holding paragraphs or lists make a table a page layout (2000s markup), not data.
_LAYOUT_CHILDREN = frozenset({"p", "list", "head", "quote", "table"})
# A layout row's cells with under this share of its longest cell's text are side columns
# (a menu, a teaser): the article is the long cell.
SIDE_COLUMN_SHARE = 0.3


# A page layout has a row or a few (header, body, footer); a table of more rows is data, even
# when an editor wrapped each cell's text in <p>.
LAYOUT_MAX_ROWS = 3


def _rows(table: etree._Element) -> list[etree._Element]:
    """A table's own rows, not those of tables nested in its cells."""
    return [row for row in table if row.tag == "row"]


def _cells(row: etree._Element) -> list[etree._Element]:
    return [cell for cell in row if cell.tag == "cell"]


def _layout_table(table: etree._Element) -> bool:
    rows = _rows(table)
    cells = [cell for row in rows for cell in _cells(row)]
    # A table in a cell makes a layout whatever its rows: an HTML e-mail's template (a
    # newsletter archive) nests a table for every text block, and read as data each outer row
    # was the whole newsletter in one line, once for every level of nesting.
    if any(c.tag == "table" for cell in cells for c in cell):
        return True
    if len(cells) == 1 and len(cells[0]):
        return True  # a box around a text block (an e-mail's), not data
    if len(rows) > LAYOUT_MAX_ROWS:
        return False
    if any(_layout_cell(cell) for cell in cells):
        return True
    # A column of links beside one-paragraph cells is a page's menu beside its article (a
    # 1990s layout whose article is one <p> of <br>s), not a data table.
    return any(c.tag == "p" for cell in cells for c in cell) and any(
        _link_column(cell) for cell in cells
    )


def _link_column(cell: etree._Element) -> bool:
    text, link_chars = element_text(cell)
    return bool(text) and link_chars >= LINK_DENSE * len(text)


def _layout_cell(cell: etree._Element) -> bool:
    """Whether a cell holds blocks of a page. A cell that is one paragraph and nothing else is
    a data cell an editor (or a register's export) wrapped in <p>."""
    blocks = [c for c in cell if c.tag in _LAYOUT_CHILDREN]
    if not blocks:
        return False
    if len(blocks) > 1 or blocks[0].tag != "p" or len(cell) > 1:
        return True
    return bool((cell.text or "").strip() or (blocks[0].tail or "").strip())


def _layout_blocks(table: etree._Element) -> Iterator[Block | None]:
    """Blocks of a layout table: each row's main cells, each as a container of blocks.

    Read as a data table, the whole page would be one row: menu, article and teaser column in
    one passage. A cell's text before its first paragraph (a bold headline over <br>) is a
    heading when short, as it stands over the paragraphs.
    """
    for row in _rows(table):
        cells = _cells(row)
        sizes = [len(_ALL_TEXT(cell).strip()) for cell in cells]
        longest = max(sizes, default=0)
        for cell, size in zip(cells, sizes, strict=True):
            if not size or size < SIDE_COLUMN_SHARE * longest:
                continue
            yield from _cell_blocks(cell)
            yield None  # a cell's heading never stands over the next cell's text


LEAD_HEADING_CHARS = 120
# Elements of a layout cell that are blocks of their own; the rest is inline text.
_CELL_BLOCKS = frozenset({"p", "head", "list", "table", "quote", "code", "div"})


def _prose_run(text: str) -> bool:
    """Whether a loose run of text reads as prose: not an attribution line, not a few words
    that end no sentence (a name)."""
    if text[0] in _DASHES:
        return False
    return len(text.split()) > PROSE_MIN_WORDS or _SENTENCE_END.search(text) is not None


_DASHES = "—–-―"
PROSE_MIN_WORDS = 4
_SENTENCE_END = re.compile(r"[.!?:;\"“”»«…)]$")


def _sentence_run(text: str) -> bool:
    """Whether a loose run of text is prose that ends a sentence (or a clause, before a list)."""
    return _prose_run(text) and text[-1] in _RUN_ENDS


_RUN_ENDS = ".!?:;\"”»…—"


def _cell_blocks(
    cell: etree._Element, lead: bool = True, prose: bool = False, sentences: bool = False
) -> Iterator[Block | None]:
    """Blocks of a layout cell: its block elements, and its loose text between them split into
    paragraphs at a blank line (two <br>s), as an e-mail template or a 1990s page writes
    paragraphs. With ``lead``, the text before anything else is a heading when short and more
    follows; with ``prose``, only loose runs that read as prose are kept (`_prose_run`), with
    ``sentences`` only those that end a sentence."""
    pieces: list[str] = []
    links = 0
    first = True

    def flush(more: bool) -> Iterator[Block | None]:
        nonlocal links, first
        text = " ".join("".join(pieces).split())
        pieces.clear()
        if text and (not prose or (_sentence_run(text) if sentences else _prose_run(text))):
            short = len(text) <= LEAD_HEADING_CHARS
            kind: BlockKind = "head" if lead and first and more and short else "p"
            yield None if link_dense_text(text, links) else (kind, text)
            first = False
        links = 0

    pieces.append(cell.text or "")
    children = [c for c in cell if isinstance(c.tag, str)]
    for i, child in enumerate(children):
        if child.tag in _CELL_BLOCKS:
            yield from flush(True)
            first = False
            yield from _child_blocks(child)
        elif child.tag == "lb":
            after = children[i + 1] if i + 1 < len(children) else None
            blank = not (child.tail or "").strip()
            if blank and after is not None and after.tag == "lb" and "".join(pieces).strip():
                yield from flush(True)
            else:
                pieces.append(" ")
        else:
            text, link_chars = element_text(child)
            pieces.append(f" {text} " if child.tag not in _INLINE else text)
            links += link_chars
        pieces.append(child.tail or "")
    yield from flush(False)


_ALL_TEXT = etree.XPath("string()")


# A paragraph of runs between blank lines (<br><br>: a blog's or a regional paper's body
# written in one element, a statement pasted from an e-mail) is that many paragraphs, as the
# page shows them: read whole it was one passage of the whole article, flagged as changed when
# any of its sentences was. Our rules judge it whole (a run alone may be a signature or a
# line of hashtags, which a rule for short lines would take out); it is split when they are
# done (`run_splits`).
def run_splits(*bodies: etree._Element | None) -> dict[str, list[str]]:
    """The text of each paragraph of ``bodies`` that holds blank lines -> its runs' texts."""
    splits: dict[str, list[str]] = {}
    for body in bodies:
        if body is None:
            continue
        for p in body.iter("p"):
            if p.find("lb") is None or p.find("p") is not None:
                continue
            runs = [element_text(run)[0] for run in blank_line_runs(p)]
            runs = [run for run in runs if run]
            if len(runs) > 1:
                text = element_text(p)[0]
                if " ".join(runs) == text:  # the runs are the block, cut at its blank lines
                    splits.setdefault(text, runs)
    return splits


def blank_line_runs(p: etree._Element, lines: bool = False) -> list[etree._Element]:
    """The runs of a paragraph between its blank lines (two <lb/>s with only space between),
    each a <p> of its own with its inline elements; a single <lb/> stays inside its run. One
    run (the paragraph's copy) where it has no blank line. With ``lines``, every <lb/> ends a
    run."""
    if p.find("lb") is None:
        return [p]
    runs = [etree.Element("p")]
    runs[0].text = p.text
    children = list(p)
    i = 0
    while i < len(children):
        child = children[i]
        after = children[i + 1] if i + 1 < len(children) else None
        if (
            child.tag == "lb"
            and after is not None
            and after.tag == "lb"
            and not (child.tail or "").strip()
        ):
            runs.append(etree.Element("p"))
            runs[-1].text = after.tail
            i += 2
            continue
        if lines and child.tag == "lb":
            runs.append(etree.Element("p"))
            runs[-1].text = child.tail
            i += 1
            continue
        runs[-1].append(copy(child))
        i += 1
    return [run for run in runs if "".join(run.itertext()).strip()]
