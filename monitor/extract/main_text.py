"""The main text of a page, as trafilatura finds it: blocks of its output tree.

trafilatura favours precision here, so navigation, teasers and comments stay out; a recall pass
in its default mode adds the blocks precision mode dropped, minus our own boilerplate rules
(`monitor.extract.boilerplate`). Its fast run
(no comparison with readability and jusText) is taken where trafilatura 2.3's comparison rules
prove the full run would return the same; the internals that takes sit in
monitor/adapters/trafilatura_internals.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from copy import copy
from functools import lru_cache
from typing import Any, NamedTuple

from lxml import etree
from lxml.html import HtmlElement

from monitor.extract.blocks import (
    LINK_DENSE,
    TEXT_HOLDING,
    Block,
    blank_line_runs,
    element_text,
    link_dense_text,
    next_element,
    page_text,
    run_splits,
    tree_blocks,
)
from monitor.extract.boilerplate import (
    DUMP_MIN_CHARS,
    added_blocks,
    boilerplate,
    call_to_action,
    caption,
    cut_off,
    fragment,
    furniture_box,
    furniture_tag,
    in_furniture,
    teaser_snippet,
    without_edge_lines,
    without_footer_lines,
)
from monitor.extract.lost_text import (
    NOTE_BOX,
    with_aria_tables,
    with_note_boxes,
    with_sandwiched_text,
    with_table_rows,
    with_timeline_dates,
)
from monitor.extract.threads import (
    with_posts_of_a_thin_page,
    with_sibling_posts,
    with_thread_replies,
)

# Precision mode keeps teasers, bylines and comment snippets out; every paragraph that gets in
# can raise an alert, so a missed sentence is cheaper than a false one.
FAVOR_PRECISION = True


def main_text_blocks(tree: HtmlElement, html: str, url: str) -> list[Block] | None:
    """Blocks of trafilatura's main text, or None when it finds none.

    Fast mode (no readability/jusText comparison) first; the full run only when the fast
    result is not certain to be what the full run would return (see `full_run_agrees`).
    """
    # trafilatura works on a copy of a tree it is given. A fragment's element (a page without
    # <html> or doctype up front) is handed over as text, as trafilatura then works on the
    # element inside its document.
    source: HtmlElement | str = tree if tree.getparent() is None else html
    if _SHARE_MARK in html:
        _drop_share_bars(tree)
    _drop_named_anchors(tree)
    posts = post_classes(tree) if _POST_MARK in html else []
    body = None
    recall: etree._Element | None = None  # the recall pass's body, when already run
    try:
        if _TEASER_MARK not in html and _fast_checks() is not None:
            body = _body(source, options(url, fast=True), posts)
            if body is not None and not full_run_agrees(body, tree):
                body, recall = _uncertain(body, source, url, posts)
        if body is None:
            body = _body(source, options(url, fast=False), posts)
    # trafilatura runs several third-party heuristics over hostile markup; any failure in them
    # means "no main text", and the fallback takes over.
    except Exception:
        return None
    if body is None:
        return None
    blocks = without_footer_lines([block for block in tree_blocks(body) if block is not None])
    if RECALL_PASS:
        if recall is None:
            recall = _recall_body(body, source, tree, url)
        blocks = _merged(blocks, body, recall, tree)
        blocks = _without_snippets(blocks, tree)
        if any(mark in html for mark in _POST_BOX_MARKS):
            blocks = _without_post_boxes(blocks, tree)
    if _TEASER_MARK in html:
        blocks = with_teaser_paragraphs(blocks, tree)
    if RECALL_PASS:
        blocks = without_edge_lines(with_fact_boxes(blocks, tree))
    blocks = _without_lines(blocks, _footnote_lines(tree) | _record_box_lines(tree))
    blocks = with_spaced_headings(restore_headings(_without_standfirst(blocks, tree), tree))
    if RECALL_PASS:
        blocks = with_timeline_dates(blocks, tree)
        if "message" in html or "aside--" in html or "callout" in html:
            blocks = with_note_boxes(blocks, tree)
        if 'role="table"' in html or "role='table'" in html or 'role="grid"' in html:
            blocks = with_aria_tables(blocks, tree)
        blocks = with_sandwiched_text(blocks, tree)
    blocks = _split_at_blank_lines(blocks, run_splits(body, recall))
    if not RECALL_PASS:
        return blocks
    if "<b>" in html or "<strong>" in html:
        blocks = with_bold_lines(blocks, tree)
    blocks = with_sibling_posts(with_thread_replies(blocks, tree, html), tree)
    blocks = with_posts_of_a_thin_page(blocks, tree)
    return _without_anchor_marks(blocks)


# A docs site's heading ends in its permalink's mark ("Version 3.4.0¶": Sphinx, MkDocs), which
# stayed in the heading and in the title of every passage under it. Taken off once every rule
# that finds a block's element by its text has run. (The page may write it "&para;".)
_PILCROW = "¶"


def _without_anchor_marks(blocks: list[Block]) -> list[Block]:
    if not any(text.endswith(_PILCROW) for _, text in blocks):
        return blocks
    out: list[Block] = []
    for kind, text in blocks:
        if text.endswith(_PILCROW):
            text = text.rstrip(_PILCROW).rstrip()
            if not text:
                continue
        out.append((kind, text))
    return out


def _split_at_blank_lines(blocks: list[Block], splits: dict[str, list[str]]) -> list[Block]:
    """``blocks`` with each paragraph of runs between blank lines cut into its runs."""
    if not splits:
        return blocks
    out: list[Block] = []
    for kind, text in blocks:
        runs = splits.get(text) if kind == "p" else None
        if not runs:
            out.append((kind, text))
            continue
        for run, after in zip(runs, [*runs[1:], ""], strict=True):
            out.append(("head" if _crosshead(run, after) else "p", run))
    return out


# A short run that ends no sentence, over a run of prose, is the crosshead of that run ("Ein
# Bahnhof unter Aufsicht"), as the page sets it: a title for the paragraphs under it.
RUN_HEADING_MAX_CHARS = 80


def _crosshead(run: str, after: str) -> bool:
    return (
        len(run) <= RUN_HEADING_MAX_CHARS
        and not run.endswith(_LINE_END)
        and len(after) > RUN_HEADING_MAX_CHARS
        and after.endswith(_LINE_END)
    )


# A word set letter by letter ("П О С Т А Н О В Л Е Н И Е", "У С Т А Н О В И Л:",
# "B E S C H L U S S", "G r ü n d e :"): a typewritten document's heading, emphasised by its
# spacing (a court's ruling and its parts, in Russian, Ukrainian, German, Polish...). As a
# paragraph it was lost: its single letters read as units and stamps, so nothing of it was
# matchable and the passage was dropped. It is the heading of the paragraphs under it.
_SPACED_WORD = re.compile(r"(?:[^\W\d_] ){3,}[^\W\d_] ?:?")  # letters, not a pager's figures


def with_spaced_headings(blocks: list[Block]) -> list[Block]:
    """``blocks`` with each paragraph that is one letter-spaced word made a heading."""
    if not any(kind == "p" and _SPACED_WORD.fullmatch(text) for kind, text in blocks):
        return blocks
    return [
        ("head", text) if kind == "p" and _SPACED_WORD.fullmatch(text) else (kind, text)
        for kind, text in blocks
    ]


# Precision mode drops real text on many page types (measured on the issue-15 probe pages:
# recall 0.78; a paragraph after an empty drop-cap span, headings that link to themselves,
# short <div> paragraphs holding a link, boxes with a border). trafilatura's default mode
# keeps them, and more noise: its extra blocks are added only when our own rules
# (`boilerplate`) find nothing against them. Its fast run where that is certain to return
# what its full run would (`full_run_agrees`); else its full run, whose comparison with
# readability finds the text of a page whose main pass settles on one short container (a
# live page's first post, the first of several boxes of an article split across components:
# measured on extract_eval5, recall 0.24 and 0.28 on such pages with the fast run).
RECALL_PASS = True


def _without_snippets(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` without teaser snippets (`teaser_snippet`) precision mode kept too (a card's
    snippet it took for the article's last paragraph); the page is searched only for a block
    that ends cut off."""
    if not any(cut_off(text) for _, text in blocks):
        return blocks
    find = _finder(tree)
    return [block for block in blocks if not (cut_off(block[1]) and teaser_snippet(find(block[1])))]


# A forum post's user box (rank, post count, join date) and signature: precision mode keeps
# them with the post they stand beside, as their classes are none it knows ("postprofile",
# "profile-rank", "signature", "user-info"); the recall pass refuses them by the same class
# words (`in_furniture`). Their lines leave precision mode's blocks too.
_POST_BOX_MARKS = ("ignature", "rofile", "user", "User")  # found in C, unlike a regex
_POST_BOX_CANDIDATES = etree.XPath(
    "//*[contains(@class, 'ignature') or contains(@class, 'rofile')"
    " or contains(@class, 'user') or contains(@class, 'User')]"
)
# Not a post that "has-profile": a profile word only at the start of a class.
_POST_BOX_CLASS = re.compile(
    r"(?:^|[\s_-])(?:signature|user-?(?:title|info|extras|details|stats))(?:$|[\s_-])"
    r"|(?:^|\s)(?:post|user)?profile(?:$|[\s_-])",
    re.IGNORECASE,
)
# A signature is a post's only inside a post (an official text's "signature" is its own).
_SIGNATURE = re.compile("signature", re.IGNORECASE)
_POST_CLASS = re.compile(r"(?:^|[\s_-])(?:post|message|comment|reply)", re.IGNORECASE)


def _post_box(box: etree._Element) -> bool:
    cls = box.get("class") or ""
    if not _POST_BOX_CLASS.search(cls):
        return False
    if not _SIGNATURE.search(cls) or _POST_CLASS.search(cls):
        return True
    return any(
        _POST_CLASS.search(" ".join(filter(None, (el.get("class"), el.get("id")))))
        for el in box.iterancestors()
    )


_POST_BOX_TEXT = ("p", "div", "li", "dd", "dt", "span")


def _without_post_boxes(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` without the lines of forum posts' user boxes and signatures (see above)."""
    lines: set[str] = set()
    for box in _POST_BOX_CANDIDATES(tree):
        if not _post_box(box):
            continue
        if next(box.iter("article", "main", "body"), None) is not None:
            continue
        for el in box.iter(_POST_BOX_TEXT):
            lines.add(" ".join(el.text_content().split()))
    if not lines:
        return blocks
    return [block for block in blocks if block[1] not in lines]


# A list of footnotes or references under the text (a report's "Notes", a wiki's "References",
# "Fußnoten", "Notas"): sources, not the text (every set's labels leave them out: 0 of their
# items in the expected text on 30 dev pages in nine languages, where precision mode or the
# recall pass kept them on 16). Known by its items' ids, which link the text's marks to them
# in any language ("fn3", "fn:2", "cite_note-4", "note1", "ref2"), or by the list's or its
# box's class. Its items leave the blocks, with the heading right over them. (A walk over the
# page's lists alone: cheaper than a search of the page's markup for the marks.)
_FOOTNOTE_ID = re.compile(r"^(?:fn|footnote|endnote|note|cite_note|ref)[-_:]?\d", re.IGNORECASE)
_FOOTNOTE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:foot-?notes?|end-?notes?|fu(?:ss|ß)noten?|voetnot(?:en)?|reflist)(?:$|[\s_-])",
    re.IGNORECASE,
)


def _footnote_list(lst: etree._Element) -> bool:
    items = [li for li in lst if li.tag == "li"]
    if not items:
        return False
    if any(_FOOTNOTE_ID.match(li.get("id") or "") for li in items):
        return True
    parent = lst.getparent()
    return any(
        box is not None and _FOOTNOTE_CLASS.search(box.get("class") or "") for box in (lst, parent)
    )


def _footnote_lines(tree: HtmlElement) -> set[str]:
    """The items of the page's footnote lists (see above)."""
    lines: set[str] = set()
    for lst in tree.iter("ol", "ul"):
        if _footnote_list(lst):
            for li in lst:
                if li.tag == "li":
                    lines.add(" ".join(li.text_content().split()))
                    lines.add(_broken_text(li))
    return lines


# A record's label/value box over or beside its text: "Sponsor: | Sen. ...", "Committees: |
# ...", "Aktenzeichen: | 3 K 1187/24", "Publication Date: 11/28/2026" (a bill's overview, a
# court database's header table, a gazette's document details). Every label ends in a colon
# and few values are sentences: a transcript's table ("Vors. Sabine Kral (SPD): | Ich rufe
# ...") is the text. No set's labels keep such a box (17 boxes on the dev pages in six
# languages); precision mode kept some, the recall pass added others. Its lines leave the
# blocks, with a heading right over them ("Document Details").
RECORD_BOX_MIN_PAIRS = 2


def _label_value_pairs(box: etree._Element) -> list[tuple[str, str]]:
    """(label, value) of a two-column table or a definition list whose labels all end with a
    colon; none if it is not one (read up to its first other label: a data table's cells are
    not all read just to be refused)."""
    pairs: list[tuple[str, str]] = []
    if box.tag == "table":
        for row in box.iter("tr"):
            cells = [cell for cell in row if cell.tag in {"th", "td"}]
            if len(cells) != 2:
                return []
            label = page_text(cells[0])
            if not label.endswith(":"):
                return []
            pairs.append((label, page_text(cells[1])))
        return pairs
    for term in box:
        if term.tag != "dt":
            continue
        value = next_element(term)
        if value is None or value.tag != "dd":
            return []
        label = page_text(term)
        if not label.endswith(":"):
            return []
        pairs.append((label, page_text(value)))
    return pairs


def _record_box_lines(tree: HtmlElement) -> set[str]:
    """The lines of the page's label/value boxes (see above), as trafilatura writes them: a
    table's row with its cells joined, a definition list's terms and values each alone."""
    lines: set[str] = set()
    for box in tree.iter("table", "dl"):
        pairs = _label_value_pairs(box)
        if len(pairs) < RECORD_BOX_MIN_PAIRS:
            continue
        if 2 * sum(1 for _, value in pairs if value.endswith((".", "!", "?"))) >= len(pairs):
            continue
        for label, value in pairs:
            lines.add(f"{label} | {value}")
            if box.tag == "dl":
                lines.update((label, value))
    return lines


def _without_lines(blocks: list[Block], lines: set[str]) -> list[Block]:
    """``blocks`` without those whose text is one of ``lines`` (a heading's are never), nor
    a heading right over them, which heads nothing now ("Notes", "Document Details")."""
    if not lines:
        return blocks
    out: list[Block] = []
    for kind, text in blocks:
        if kind != "head" and text in lines:
            if out and out[-1][0] == "head":
                out.pop()
            continue
        out.append((kind, text))
    return out


# A standfirst: the line or two under the headline that sums the story up ("The two leaders
# hold their third summit. Follow the latest below."), a subtitle, a dek. Precision mode keeps
# it as the article's first block; no set's labels do (a standfirst in the header is not main
# text): measured on the dev pages, leading blocks classed "dek", "standfirst", "subtitle",
# "summary", "bajada", "sommario", "vorspann"... were never in the expected text (500 tokens
# in eleven languages), nor any "intro", "lead" or "perex" inside a header or hero box; an
# "intro" or "lead" of the body is the text more often than not, and stays. Only among the
# header's lines, before the first paragraph: a summary box further down is the article's.
STANDFIRST_MAX_BLOCKS = 5
_STANDFIRST_CLASS = re.compile(
    r"(?:^|[\s_-])(?:dek|deck|standfirst|sub-?title|subtitulo|subline|summary|bajada|sumario"
    r"|sommario|resume|vorspann|chapo|chapeau|entradilla|entradeta|linha-fina)(?:$|[\s_-])",
    re.IGNORECASE,
)
_LEAD_CLASS = re.compile(r"(?:^|[\s_-])(?:intro|lead|perex)(?:$|[\s_-])", re.IGNORECASE)
_HEADER_CLASS = re.compile(
    r"(?:^|[\s_-])(?:header|hero|headline|masthead)(?:$|[\s_-])", re.IGNORECASE
)
# A box's own title ("summary-box__title": "Das Wichtigste in Kürze") heads the box's lines.
_BOX_TITLE_CLASS = re.compile(r"(?<!sub)(?<!sub-)title", re.IGNORECASE)
STANDFIRST_HEADER_LEVELS = 3


# A leading block's element is looked up by the page's text node that holds its first words
# (climbing while an ancestor's text is the block's): an index of all the page's elements by
# their text, or a search of every class, cost a twentieth of the extraction's CPU.
STANDFIRST_PIECE_CHARS = 24


def _block_elements(tree: HtmlElement, text: str) -> Iterator[etree._Element]:
    """The page's elements whose text is ``text``, from the innermost; none where its first
    words are split across inline elements or lines (then no rule applies)."""
    piece = text if len(text) <= STANDFIRST_PIECE_CHARS else text[:STANDFIRST_PIECE_CHARS]
    piece = piece.rsplit(" ", 1)[0] if " " in piece else piece
    for node in TEXT_HOLDING(tree, piece=piece):
        el = node.getparent()
        if el is not None and getattr(node, "is_tail", False):
            el = el.getparent()  # a tail's text belongs to its element's parent
        while el is not None:
            # Up from an inline part ("<em>") to the elements that hold the whole text.
            own = _text_within(el, len(text))
            if own is None:
                break
            if own == text:
                yield el
            el = el.getparent()


def _text_within(el: etree._Element, limit: int) -> str | None:
    """``page_text(el)``, or None where it is longer than ``limit``: read piece by piece, a large
    ancestor's text stops being read once its letters alone outnumber ``limit`` (its text
    with single spaces is no shorter than its letters), not built whole just to be measured."""
    pieces: list[str] = []
    letters = 0
    for piece in el.itertext():
        letters += sum(map(len, piece.split()))
        if letters > limit:
            return None
        pieces.append(piece)
    own = " ".join("".join(pieces).split())
    return None if len(own) > limit else own


# A summary that opens the article's body box ("news-body rich-text" > "summary"), after the
# header box with the headline, is the text's first paragraph, set in bold (a parliament's
# committee news, extract_eval26: labelled as text).
_BODY_BOX_CLASS = re.compile(r"(?:^|[\s_-])(?:body|rich-?text|content)(?:$|[\s_-])", re.IGNORECASE)


def _in_body_box(el: etree._Element) -> bool:
    box = el.getparent()
    if box is None or not _BODY_BOX_CLASS.search(box.get("class") or ""):
        return False
    return next(box.iter("h1"), None) is None and box.getroottree().find(".//h1") is not None


def _standfirst(el: etree._Element) -> bool:
    """Whether an element is classed as a standfirst, or as a lead inside the page's header
    box (see above); a list's or table's line is none."""
    cls = el.get("class") or ""
    if _STANDFIRST_CLASS.search(cls):
        standfirst = not _BOX_TITLE_CLASS.search(cls) and not _in_body_box(el)
    elif _LEAD_CLASS.search(cls):
        standfirst = any(
            up.tag == "header" or _HEADER_CLASS.search(up.get("class") or "")
            for up in list(el.iterancestors())[:STANDFIRST_HEADER_LEVELS]
        )
    else:
        return False
    return standfirst and next(el.iterancestors("li", "td", "dd"), None) is None


def _without_standfirst(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` without the standfirst precision mode kept at their head (see above): looked
    for over the header's other lines (the headline, a kicker, a date: a heading or a few
    words), up to the first paragraph that is none."""
    drop: set[int] = set()
    for i, (kind, text) in enumerate(blocks[:STANDFIRST_MAX_BLOCKS]):
        if kind in {"p", "head"} and any(
            el.tag not in {"li", "td", "dd"} and _standfirst(el)
            for el in _block_elements(tree, text)
        ):
            drop.add(i)
            continue
        if kind != "head" and not fragment(kind, text):
            break
    if not drop or len(drop) == len(blocks):
        return blocks
    return [block for i, block in enumerate(blocks) if i not in drop]


def _with_recall_pass(
    blocks: list[Block],
    precision: etree._Element,
    source: HtmlElement | str,
    tree: HtmlElement,
    url: str,
) -> list[Block]:
    """``blocks`` (of the ``precision`` body) with what the recall pass adds."""
    return _merged(blocks, precision, _recall_body(precision, source, tree, url), tree)


def _merged(
    blocks: list[Block],
    precision: etree._Element,
    recall: etree._Element | None,
    tree: HtmlElement,
) -> list[Block]:
    # On most pages both runs find the same text: nothing to add, nothing to walk.
    if recall is None or _ALL_TEXT(recall) == _ALL_TEXT(precision):
        return blocks
    headline = next(tree.iter("h1"), None)
    _split_runs(recall, [text for _, text in blocks if len(text) >= DUMP_MIN_CHARS])
    return added_blocks(
        blocks,
        with_table_rows(list(tree_blocks(recall)), tree),
        _finder(tree),
        " ".join(headline.text_content().split()) if headline is not None else "",
        " ".join((tree.findtext(".//title") or "").split()),
    )


# trafilatura's main pass, in both modes, drops every element whose class holds "message" (a
# consent or "flash" message) or "widget", with what it holds: the posts of a forum
# ("message message--post", "message-content") or of a messaging app's channel preview
# ("chan_widget_message_text"), the page's whole text (measured on extract_eval8: recall 0.01
# on a channel preview, 0.35 on a forum thread). A class that says "message" and stands on
# two elements or more is a run of posts, not a box that shows a message once: the precision
# runs get those elements with the two words masked in their class (the page's tree is given
# back as it was). The recall run gets the page as it is: where the main pass drops every
# post, its wild-text recovery reads them all, and a post the main pass loses with the mask
# (one after an image's empty link) is found there. (Masked in the recall run too, a forum
# thread's later posts come in, and such a channel post is lost: measured on extract_eval8.)
_POST_MARK = "essage"
_MESSAGE_CLASSED = etree.XPath("//*[contains(@class, 'essage') or contains(@class, 'ESSAGE')]")
_MASKED_WORDS = re.compile("message|widget", re.IGNORECASE)
POST_CLASS_MIN_COUNT = 2


def post_classes(tree: HtmlElement) -> list[tuple[etree._Element, str, str]]:
    """(element, its class, the class masked) of the page's post elements (see above)."""
    found = [(el, el.get("class") or "") for el in _MESSAGE_CLASSED(tree)]
    counts = Counter(cls for _, cls in found)
    return [
        (el, cls, _MASKED_WORDS.sub("m", cls))
        for el, cls in found
        if (counts[cls] >= POST_CLASS_MIN_COUNT or NOTE_BOX.search(cls))
        and _MASKED_WORDS.search(cls)
    ]


def _body(
    source: HtmlElement | str, opts: Any, posts: list[tuple[etree._Element, str, str]]
) -> etree._Element | None:
    """trafilatura's body, from a run with the post elements' classes masked."""
    import trafilatura

    for el, _, masked in posts:
        el.set("class", masked)
    try:
        result = trafilatura.bare_extraction(source, options=opts)
    finally:
        for el, cls, _ in posts:
            el.set("class", cls)
    return getattr(result, "body", None)


# An article written as one element of text runs between <br><br> (a regional paper's or a
# blog's body, a judgment's numbered paragraphs): precision mode reads it as loose text, one
# block per run, but loses the element's first run (its own text, before the first <br>);
# the default run keeps the element whole, one block holding the kept ones, which the merge
# refuses as a dump of the page. Such a block is read at its blank lines instead, each run
# judged on its own: the kept runs match, the lost first one is added where it stands.
# (A dump of the whole page is text without <lb/>: trafilatura's last resort.)
def _split_runs(recall: etree._Element, long_kept: list[str]) -> None:
    """Split the paragraphs of the ``recall`` body that hold kept text at their blank lines."""
    for p in list(recall.iter("p")):
        if p.find("lb") is None or p.find("p") is not None:
            continue
        text = element_text(p)[0]
        inside = [kept for kept in long_kept if kept in text]
        if not inside:
            continue
        for lines in (False, True):
            runs = blank_line_runs(p, lines)
            texts = [element_text(run)[0] for run in runs]
            # Only where each kept block is one run: precision mode read the same runs. A
            # live entry's lines under one <br> each are read so where its blank lines do not
            # cut it so (precision mode loses the entry's first line, a de live ticker).
            if len(runs) > 1 and all(any(kept in run for run in texts) for kept in inside):
                break
        else:
            continue
        parent = p.getparent()
        if parent is None:
            continue
        at = parent.index(p)
        tail = p.tail
        parent.remove(p)
        for i, run in enumerate(runs):
            run.tail = tail if i == len(runs) - 1 else None
            parent.insert(at + i, run)


def _uncertain(
    fast: etree._Element,
    source: HtmlElement | str,
    url: str,
    posts: list[tuple[etree._Element, str, str]],
) -> tuple[etree._Element | None, etree._Element | None]:
    """(precision body, recall body) where the fast precision run's result is not certain.

    The full default run comes first: where it finds more than the fast precision run, the
    fast result is the base and the full run adds to it (one comparison with readability per
    page instead of two, which keeps the extraction's CPU within issue 15's bound). Where it
    finds nothing more, the full precision run is taken as before (its comparison, pruned for
    precision, can find text the default one does not), with no second recall run.
    (None, None): take the full precision run and the recall pass as usual.
    """

    if not RECALL_PASS:
        return None, None
    recall = _body(source, options(url, fast=False, recall=True), [])
    if recall is not None and _adds_to(recall, fast):
        return fast, recall
    return _body(source, options(url, fast=False), posts), recall


def _adds_to(recall: etree._Element, fast: etree._Element) -> bool:
    """Whether the full default run kept every block of the fast precision run and more: it
    only added text. Where its comparison put readability's or jusText's result in place of
    its own (a table layout's menu rows gone), the full precision run's comparison would
    likely have too, and is taken."""
    if _ALL_TEXT(recall) == _ALL_TEXT(fast):
        return False
    kept = " ".join(_ALL_TEXT(recall).split())
    return all(block is None or block[1] in kept for block in tree_blocks(fast))


def _recall_body(
    precision: etree._Element,
    source: HtmlElement | str,
    tree: HtmlElement,
    url: str,
) -> etree._Element | None:
    """trafilatura's default-mode body, or None where it has nothing to add."""
    if SKIP_IDLE_RECALL and _nothing_to_add(precision, tree):
        return None
    try:
        body = _body(source, options(url, fast=True, recall=True), [])
        if body is not None and (
            not full_run_agrees(body, tree) or _escalates(body, tree) or _baseline_body(body)
        ):
            body = _body(source, options(url, fast=False, recall=True), [])
    except Exception:  # the precision result stands (see main_text_blocks)
        return None
    return body


# trafilatura 2.3's default mode retries a short result that covers little of the page
# (under ESCALATION_MAX_LENGTH characters and ESCALATION_PAGE_SHARE of the page's text): its
# full run also weighs jusText's result there, which its fast run does not, so the fast result
# is not the full one (a forum thread of <article> posts: the main pass keeps the first post,
# jusText reads them all; measured on extract_eval9: recall 0.34 on such a thread). The page's
# whole text bounds the text trafilatura measures it against from above.
def _escalates(body: etree._Element, tree: HtmlElement) -> bool:
    from monitor.adapters.trafilatura_internals import escalation_bounds

    max_length, page_share = escalation_bounds()
    length = len(_ALL_TEXT(body).strip())
    return 0 < length < max_length and length < page_share * len(_ALL_TEXT(tree))


# trafilatura's default mode rescues a main-pass result under its minimum size with its
# baseline, at worst the page's whole text in one bare <p> (its lines joined by newlines),
# which the merge refuses as a dump of the page. Its fast run does so at once; its full run
# first weighs readability's and jusText's results against the short one, and takes the
# baseline only where they are short too. A page builder's article (Tilda, Wix, Webflow,
# Elementor: sibling records of <div>s, text runs between <br>s) is such a page: the main pass
# keeps one record, the fast run's baseline dumps the page with its menu, and the full run
# finds every record (measured on extract_eval13: recall 0.25 -> 1.0 on a Tilda page). Only
# the whole-page dump takes the full run (26 of 870 dev pages): a baseline of the page's own
# paragraphs is text the merge can use (taking the full run there too changed no page's text
# and cost 3% more CPU).
def _baseline_body(body: etree._Element) -> bool:
    """Whether a default-mode body is trafilatura's baseline dump of the page (see above)."""
    if len(body) != 1:
        return False
    p = body[0]
    return p.tag == "p" and not p.attrib and len(p) == 0 and "\n" in (p.text or "")


# The recall run is skipped where it cannot add anything our rules keep (`_nothing_to_add`):
# a third of the extraction's CPU on hand-written pages. Off, it runs on every page: the
# output must be the same (tests/test_extract_pages.py).
SKIP_IDLE_RECALL = True

_TEXT_ELEMENTS = ("p", "div", "li", "td", "dd", "blockquote", "h2", "h3", "h4", "h5", "h6", "span")

# Subtrees whose text the recall pass never adds: the page's furniture (whose blocks it
# refuses, see boilerplate.in_furniture), code, and the headline (refused wherever it stands).
# Not <form>: one that shows no control holds text (`furniture_box` judges it).
_CLOSED = frozenset(
    {"head", "script", "style", "noscript", "template", "header", "footer", "nav", "aside"} | {"h1"}
)


@lru_cache(maxsize=1)
def _closed_tags() -> frozenset[str]:
    """_CLOSED, and the tags trafilatura deletes with their text before either run looks for
    the main text (buttons, <time>, <figure>, <label>, dialogs...): what they hold never
    reaches the recall pass. Not <form>, which it keeps when it holds the page's text (both
    modes), nor <figure>, which it keeps when it holds a table (see
    `_nothing_to_add`)."""
    from monitor.adapters.trafilatura_internals import MANUALLY_CLEANED

    return _CLOSED | (frozenset(MANUALLY_CLEANED) - {"form", "figure"})


_WORD = re.compile(r"\w")


def _nothing_to_add(precision: etree._Element, tree: HtmlElement) -> bool:
    """Whether every piece of the page's open text is already in the precision output, or in
    a block the merge would refuse (`_RefusedBlocks`): then the default run has nothing to add
    that our rules would keep, and is not worth its time (on most news pages precision mode
    keeps the whole article; measured on the dev sets, the default run then added nothing in
    9 of 10 runs, mostly for a related-links box, a consent banner or a caption)."""
    kept = " ".join(_ALL_TEXT(precision).split())

    def covered(text: str | None) -> bool:
        if not text:
            return True
        # Most pieces are whole words between single spaces: found as they stand, without
        # collapsing their whitespace first (kept holds no other whitespace, so a piece that
        # holds any is found only once collapsed).
        piece = text.strip()
        if not piece or piece in kept:
            return True
        piece = " ".join(piece.split())
        return piece in kept or not _WORD.search(piece)

    closed = _closed_tags()
    refused = _RefusedBlocks(precision)
    stack = [tree]
    while stack:
        el = stack.pop()
        if el is not tree and not covered(el.tail) and not refused(el.getparent()):
            return False
        if not isinstance(el.tag, str) or el.tag in closed or furniture_box(el):
            continue
        if el.tag == "figure" and el.find(".//table") is None:
            continue  # deleted by trafilatura with its caption, as images are not kept
        if not covered(el.text) and not refused(el) and not _lone_link(el):
            return False
        stack.extend(el)
    return True


_CELL_TAGS = frozenset({"td", "th", "tr", "tbody", "thead", "table", "caption", "li", "dd", "dt"})


def _lone_link(el: etree._Element) -> bool:
    """Whether ``el`` is a link standing alone between blocks (a skip link, a "Subscribe"
    button, a back link): no text beside it in its parent."""
    if el.tag != "a" or len(el):
        return False
    parent = el.getparent()
    if parent is None or parent.tag in _CELL_TAGS:
        return False
    if (el.tail or "").strip():
        return False
    prev = el.getprevious()
    before = (prev.tail if prev is not None else parent.text) or ""
    return not before.strip()


# Elements whose text is one block of trafilatura's output (an inline element's text is its
# block's); a piece of text outside the precision output is judged by its block.
_BLOCK_TAGS = frozenset(
    {"p", "div", "li", "td", "th", "dd", "dt", "blockquote", "pre", "caption", "figcaption"}
    | {"h2", "h3", "h4", "h5", "h6", "section", "article", "main", "body", "ul", "ol", "dl"}
    | {"table", "tr", "tbody"}
)
# Blocks not judged: a table's cell is part of a row block, the others hold the whole text.
_UNJUDGED = frozenset({"td", "th", "tr", "tbody", "table", "caption", "body", "main", "article"})
_HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_NESTED_BLOCKS = etree.XPath(
    "descendant::*[self::p or self::div or self::li or self::td or self::table or self::ul"
    " or self::ol or self::blockquote or self::section or self::br]"
)
REFUSED_MAX_BLOCKS = 40  # more uncovered blocks than this: the recall pass runs


def _link_run(el: etree._Element, text: str, anchors: bool) -> bool:
    """Whether a page element whose text is ``text`` is a short run of links (`link_dense_text`);
    without ``anchors``, links to a fragment ("#costs") do not count."""
    links = sum(
        len(" ".join(a.text_content().split()))
        for a in el.iter("a")
        if anchors or not (a.get("href") or "").startswith("#")
    )
    return link_dense_text(text, links)


class _RefusedBlocks:
    """Whether the block of an uncovered piece of text is one the recall pass's merge refuses
    whatever it holds (`added_blocks`): in the page's furniture, an image's caption, a short
    run of links, or furniture by its words; or a heading or a fragment, which the merge adds
    only over another added block. Blocks it cannot judge so (one with blocks inside it, a long
    one) are not refused: the recall pass runs."""

    def __init__(self, precision: etree._Element) -> None:
        self.precision = precision
        self.long_kept: list[str] | None = None
        # By id: each element is kept here too, as lxml gives a node a new proxy object (and
        # id) once its last one is gone, and may give its id to another node's.
        self.judged: dict[int, tuple[etree._Element, bool]] = {}

    def __call__(self, el: etree._Element | None) -> bool:
        while el is not None and el.tag not in _BLOCK_TAGS:
            el = el.getparent()
        if el is None:
            return False
        key = id(el)
        if key not in self.judged:
            if len(self.judged) >= REFUSED_MAX_BLOCKS:
                return False
            self.judged[key] = (el, self._refused(el))
        return self.judged[key][1]

    def _refused(self, el: etree._Element) -> bool:
        if el.tag in _UNJUDGED or _NESTED_BLOCKS(el):
            return False
        if in_furniture(el) or caption(el) or call_to_action(el):
            return True
        text = " ".join(el.text_content().split())
        if not text:
            return True
        kind = "head" if el.tag in _HEADINGS else "p"
        if _link_run(el, text, anchors=kind != "head"):
            return True
        if kind == "head":
            # A heading is put over the next kept block, even one precision mode kept: refused
            # only over a run of links (a "Most read" box), which clears it.
            after = el.getnext()
            while after is not None and not isinstance(after.tag, str):
                after = after.getnext()
            if after is None:
                return False
            after_text = " ".join(after.text_content().split())
            return bool(after_text) and _link_run(after, after_text, anchors=True)
        if fragment(kind, text):
            return True  # put over a block only the recall pass found: judged on its own
        if self.long_kept is None:
            blocks = tree_blocks(self.precision)
            self.long_kept = [b[1] for b in blocks if b is not None and len(b[1]) >= DUMP_MIN_CHARS]
        return boilerplate(kind, text, self.long_kept)


def _finder(tree: HtmlElement) -> Callable[[str], etree._Element | None]:
    """A lookup of the page element whose text is a given block's; the page is indexed on the
    first call (most pages need none: the recall pass added nothing)."""
    found: dict[str, etree._Element] = {}
    squashed: dict[str, etree._Element] = {}

    def find(text: str) -> etree._Element | None:
        if not found:
            for el in tree.iter(_TEXT_ELEMENTS):
                found.setdefault(" ".join(el.text_content().split()), el)
            # The nearest text element around each line break, indexed by its text as
            # trafilatura reads it (see `_broken_text`).
            broken: set[etree._Element] = set()
            for br in tree.iter("br"):
                el = br.getparent()
                while el is not None and el.tag not in _TEXT_ELEMENTS:
                    el = el.getparent()
                if el is not None and el not in broken:
                    broken.add(el)
                    found.setdefault(_broken_text(el), el)
            found.setdefault("", tree)
        el = found.get(text)
        if el is None and text:
            # trafilatura deletes some inline tags with their surrounding space (a <time>
            # before an author's <span>: "16:42Desislava Manolova"), so a block's text may
            # lack a space the page's has: looked up without spaces.
            if not squashed:
                for key, value in found.items():
                    squashed.setdefault("".join(key.split()), value)
            el = squashed.get("".join(text.split()))
        return el

    return find


# trafilatura reads a <br> as a line break (<lb/>), so a block's text has a space where the
# page's text_content() joins the words on either side ("JUSTICE<br>KING'S"): an element
# holding line breaks is indexed by its text with a space there too, or a block of a court's
# header lines, a byline over a dateline, was never found and no element rule judged it.
def _broken_text(el: etree._Element) -> str:
    """An element's text, whitespace-collapsed, with a space at each <br>."""
    parts: list[str] = []
    for event, node in etree.iterwalk(el, events=("start", "end")):
        if event == "start":
            if node.tag == "br":
                parts.append(" ")
            if isinstance(node.tag, str) and node.text:
                parts.append(node.text)
        elif node is not el and node.tail:
            parts.append(node.tail)
    return " ".join("".join(parts).split())


# trafilatura drops every element whose class says "teaser", in both modes, and CMSs mark
# more than teasers so: TYPO3 puts the lead of a story in <div class="teaser-text"> after the
# byline, editors mark a paragraph of the body "teaser" for the overview page. Such an element
# is put back when it stands among the article's own paragraphs, or just before the body
# after its byline; one in the page's header (a standfirst over the byline), a box of links,
# or one without a sentence stays out.
_TEASERS = etree.XPath("//*[contains(@class, 'easer')]")
_TEASER_CLASS = re.compile(r"teaser", re.IGNORECASE)
_BYLINE_CLASS = re.compile(r"author|byline|autor|meta|dateline", re.IGNORECASE)
TEASER_MIN_CHARS = 40
TEASER_MAX_LINK_SHARE = 0.2
_SENTENCE_END = re.compile(r"[.!?\"“”»«…)]$")


def with_teaser_paragraphs(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` with the article's paragraphs that trafilatura dropped for a teaser class."""
    places = {text: i for i, (_, text) in reversed(list(enumerate(blocks)))}
    added: list[tuple[int, Block]] = []
    for el in _TEASERS(tree):
        if not _TEASER_CLASS.search(el.get("class") or "") or el.getparent() is None:
            continue
        text = " ".join(el.text_content().split())
        if len(text) < TEASER_MIN_CHARS or text in places or not _SENTENCE_END.search(text):
            continue
        links = sum(len(" ".join(a.text_content().split())) for a in el.iter("a"))
        if links > TEASER_MAX_LINK_SHARE * len(text) or in_furniture(el):
            continue
        at = _teaser_place(el, places)
        if at is not None:
            added.append((at, ("p", text)))
    if not added:
        return blocks
    merged = list(blocks)
    for at, block in sorted(added, key=lambda pair: pair[0], reverse=True):
        merged.insert(at, block)
    return merged


def _teaser_place(el: etree._Element, places: dict[str, int]) -> int | None:
    """Where a teaser-classed element goes among the blocks, or None: it is no paragraph of the
    article."""

    def kept(sibling: etree._Element) -> int | None:
        return places.get(" ".join(sibling.text_content().split()))

    before = next((i for s in el.itersiblings(preceding=True) if (i := kept(s)) is not None), None)
    after = next((i for s in el.itersiblings() if (i := kept(s)) is not None), None)
    if before is not None and after is not None:
        return after  # among the body's paragraphs
    # Just before the body: a later sibling holds the article's first paragraph, and nothing
    # between says byline (a standfirst stands over the byline, a lead under it).
    for sibling in el.itersiblings():
        if not isinstance(sibling.tag, str):
            continue
        if _BYLINE_CLASS.search(sibling.get("class") or ""):
            return None
        first = next(
            (i for d in sibling.iter("p", "div") if (i := kept(d)) is not None),
            None,
        )
        if first is not None:
            return first
    return None


# A fact box ("Das Wichtigste in Kürze", "In figures", a list of what was recovered): a heading
# over a list of short lines without links, standing in the article between two of its kept
# blocks. trafilatura drops it in both modes (measured on extract_eval5/6: every such box on
# eight pages, EN and DE), often for a box class ("summary", "kasten") or for its items' size.
# Put back, with its heading, where it stands: between the kept block before it and the one
# after it, which must follow each other in the output (else it is no box of the article's
# own text: a teaser list in a sidebar, a header's byline list).
FACT_BOX_MAX_ITEM_CHARS = 300


def with_fact_boxes(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` with the article's fact boxes put back (see FACT_BOX_MAX_ITEM_CHARS)."""
    if not blocks:
        return blocks
    kept = {text for _, text in blocks}
    boxes: list[tuple[etree._Element, list[str]]] = []
    for lst in tree.iter("ul", "ol"):
        items = _fact_items(lst, kept)
        if items:
            boxes.append((lst, items))
    if not boxes:
        return blocks
    order, places = _kept_places(tree, blocks)
    added: list[tuple[int, list[Block]]] = []
    for lst, items in boxes:
        heading = _box_heading(lst)
        last = lst
        while len(last):
            last = last[-1]
        at = _between_kept((order[heading if heading is not None else lst], order[last]), places)
        if at is None:
            continue
        box: list[Block] = [] if heading is None else [("head", page_text(heading))]
        added.append((at, box + [("item", item) for item in items]))
    merged = list(blocks)
    for at, box in sorted(added, key=lambda pair: pair[0], reverse=True):
        merged[at:at] = box
    return merged


def _fact_items(lst: etree._Element, kept: set[str]) -> list[str] | None:
    """The lines of a list that may be a fact box: none kept, none linked, none nested."""
    items = [li for li in lst if li.tag == "li"]
    if not items or any(el.tag in {"ul", "ol", "li"} for el in lst.iterancestors()):
        return None
    texts = []
    for li in items:
        text = page_text(li)
        if not text or text in kept or len(text) > FACT_BOX_MAX_ITEM_CHARS:
            return None
        if next(li.iter("a", "ul", "ol", "img", "form", "input", "button"), None) is not None:
            return None
        texts.append(text)
    for el in lst.iterancestors():
        if furniture_tag(el):
            return None
    return texts


def _box_heading(lst: etree._Element) -> etree._Element | None:
    """The heading right over a list: its previous sibling, or its wrapper's."""
    before = lst.getprevious()
    while before is not None and not isinstance(before.tag, str):
        before = before.getprevious()
    if before is not None and before.tag in _SECTION_HEADINGS:
        return before
    return None


# Elements whose text may be a kept block of their own.
_BLOCK_TAGS = frozenset(
    {"p", "li", "dd", "dt", "td", "blockquote", "pre", "div", "h2", "h3", "h4", "h5", "h6"}
)


def _kept_places(
    tree: HtmlElement, blocks: list[Block]
) -> tuple[dict[etree._Element, int], list[tuple[int, int]]]:
    """The page's elements in document order (element -> its place), and (place, block index)
    of those whose text is a kept block."""
    index: dict[str, int] = {}
    for i, (_, text) in enumerate(blocks):
        index.setdefault(text, i)
    order: dict[etree._Element, int] = {}
    places: list[tuple[int, int]] = []
    for n, el in enumerate(tree.iter()):
        order[el] = n
        if el.tag in _BLOCK_TAGS and (at := index.get(page_text(el))) is not None:
            places.append((n, at))
    return order, places


def _between_kept(box: tuple[int, int], places: list[tuple[int, int]]) -> int | None:
    """Where a box (its first and last place in the page) goes among the blocks: after the
    kept block just before it, when the kept block just after it follows that one."""
    start, end = box
    before = next((at for n, at in reversed(places) if n < start), None)
    after = next((at for n, at in places if n > end), None)
    if before is None or after is None or after != before + 1:
        return None
    return after


# When trafilatura's main pass settles on one short container (the first <article> or
# "post" of a live blog, one Q&A pair), it recovers the rest of the page as loose text, which
# takes paragraphs but no headings: every entry's or question's heading but the first was
# lost, and its paragraphs stood under the first one's (measured on pages written for the
# issue-15 probes: recall 0.90, the headings). A heading of the page immediately followed by a
# paragraph trafilatura kept is put back over that paragraph. So is a <details>' <summary> (a
# FAQ's question, which trafilatura drops while keeping the answer: fr_ministere_communique_faq
# in extract_eval8, recall 0.71 -> 0.90) over the first paragraph of its answer.
_SECTION_HEADINGS = ("h2", "h3", "h4", "h5", "h6")  # h1 is the page's headline
# Within pages.MAX_HEADING_CHARS: a restored heading titles its paragraphs, never is one.
RESTORED_HEADING_MAX_CHARS = 150


def restore_headings(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` with the headings trafilatura dropped put back over their paragraphs."""
    kept = {text for kind, text in blocks if kind == "head"}
    over: dict[str, str] = {}  # a paragraph's text -> the heading right above it
    for heading in tree.iter(*_SECTION_HEADINGS, "summary"):
        text = " ".join(heading.text_content().split())
        after = next_element(heading)
        if heading.tag == "summary":
            # A disclosure box's question over its answer, which stands in a box of its own.
            if after is not None and after.tag != "p":
                after = next(after.iter("p"), None)
        elif (after is None or after.tag != "p") and _heading_wrapper(heading, text):
            after = next_element(heading.getparent())
        if after is None or after.tag != "p":
            continue
        if not text or text in kept or len(text) > RESTORED_HEADING_MAX_CHARS:
            continue
        # A linked headline over a blurb is a teaser's, whether or not its blurb got in. A link
        # to a place on the page is the heading's own permalink (a docs site's anchor).
        links = sum(
            len(" ".join(a.text_content().split()))
            for a in heading.iter("a")
            if not (a.get("href") or "").startswith("#")
        )
        if link_dense_text(text, links):
            continue
        over.setdefault(" ".join(after.text_content().split()), text)
    if not over:
        return blocks
    restored: list[Block] = []
    for kind, text in blocks:
        heading_text = over.pop(text, None) if kind == "p" else None
        if heading_text is not None:
            restored.append(("head", heading_text))
        restored.append((kind, text))
    return restored


# A text written as runs between <br><br> (a Korean daily's interview, an old CMS's article)
# sets its questions or crossheads as a bold line of their own: "<b>Q. What do they write
# about?</b><br><br>A. Food, first. ...". Both of trafilatura's modes drop such a line and keep
# the run under it (measured on extract_eval11: recall 0.86 on a Q&A page, every question
# lost). A bold line that stands alone between line breaks is put back over the kept run
# after it, where that run is prose (ends a sentence): as a heading where the line ends no
# sentence (a crosshead), else as a paragraph.
BOLD_LINE_MAX_CHARS = 200
_RUN_START_CHARS = 40
_LINE_END = (".", "?", "!", ":", "…", '"', "”", "»")


def with_bold_lines(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` with the bold lines of a <br> text put back over their runs (see above)."""
    starts: dict[str, int] = {}
    for i, (kind, text) in enumerate(blocks):
        if kind == "p" and len(text) >= _RUN_START_CHARS:
            starts.setdefault(text[:_RUN_START_CHARS], i)
    if not starts:
        return blocks
    kept = {text for _, text in blocks}
    over: dict[int, Block] = {}
    for bold in tree.iter("b", "strong"):
        line = page_text(bold)
        if not line or len(line) > BOLD_LINE_MAX_CHARS or line in kept:
            continue
        if not _line_start(bold) or (bold.tail or "").strip():
            continue
        run = _run_after(bold)
        at = starts.get(run[:_RUN_START_CHARS]) if len(run) >= _RUN_START_CHARS else None
        if at is None or at in over or (at > 0 and blocks[at - 1][1] == line):
            continue
        if not blocks[at][1].endswith(_LINE_END):
            continue  # over a label's line ("Pressestelle" over "Ministerium · Nr. 212"), not text
        over[at] = ("p" if line.endswith(_LINE_END) else "head", line)
    if not over:
        return blocks
    out: list[Block] = []
    for i, block in enumerate(blocks):
        if i in over:
            out.append(over[i])
        out.append(block)
    return out


def _line_start(el: etree._Element) -> bool:
    """Whether an inline element starts a line: after a <br>, a block, or a finished sentence
    (nothing of its line's text stands before it)."""
    before = el.getprevious()
    while before is not None and not isinstance(before.tag, str):
        before = before.getprevious()
    if before is None:
        parent = el.getparent()
        lead = (parent.text or "").strip() if parent is not None else ""
        return not lead or lead.endswith(_LINE_END)
    lead = (before.tail or "").strip()
    if lead:
        return lead.endswith(_LINE_END)
    return before.tag == "br" or before.tag in _BLOCK_TAGS


def _run_after(el: etree._Element) -> str:
    """The text of the run after an inline element, past the line breaks right after it;
    empty where no <br> follows it."""
    after = next_element(el)
    if after is None or after.tag != "br":
        return ""
    while after is not None and after.tag == "br" and not (after.tail or "").strip():
        after = next_element(after)
    if after is None:
        return ""
    if after.tag == "br":
        return " ".join((after.tail or "").split())
    return ""


# A heading's own box (a wiki's <div class="mw-heading"><h2>…</h2>[edit]</div>) holds at
# most an edit or anchor link besides it. Its links' words are the wiki's language's, and
# longer than "edit" in most ("[Bearbeiten | Quelltext bearbeiten]", "[править | править
# код]"): link text is bounded on its own, the rest (brackets, bars) by the first bound.
WRAPPER_EXTRA_CHARS = 12
WRAPPER_LINK_CHARS = 40


def _heading_wrapper(heading: etree._Element, text: str) -> bool:
    """Whether the heading's parent is a box around it alone, so that its paragraph follows
    the box."""
    parent = heading.getparent()
    if parent is None or parent.tag in {"body", "article", "main", "section"}:
        return False
    if sum(1 for el in parent if el.tag in _SECTION_HEADINGS) > 1:
        return False
    extra = len("".join(parent.text_content().split())) - len("".join(text.split()))
    if extra <= WRAPPER_EXTRA_CHARS:
        return True
    links = sum(
        len("".join(a.text_content().split()))
        for a in parent.iter("a")
        if not any(up is heading for up in a.iterancestors())
    )
    return links <= WRAPPER_LINK_CHARS and extra - links <= WRAPPER_EXTRA_CHARS


# A share bar in every entry of a live blog ("Copy link", "Share") makes trafilatura drop the
# last entry with it (measured: benchmarks/extract_eval/en_liveblog, recall 0.77). Such bars
# are never content: short runs of links whose class says share. The page tree loses them
# before extraction (stories and metadata have no use for them either).
_SHARE_MARK = "hare"
_SHARE_CLASS = re.compile(r"(?:^|[\s_-])(?:share|sharing|sharebar)(?:$|[\s_-])", re.IGNORECASE)
_SHARE_CANDIDATES = etree.XPath(
    "//*[contains(@class, 'share') or contains(@class, 'Share') or contains(@class, 'SHARE')]"
)
SHARE_BAR_MAX_CHARS = 80


def _drop_share_bars(tree: HtmlElement) -> None:
    for el in _SHARE_CANDIDATES(tree):
        if not _SHARE_CLASS.search(el.get("class") or "") or el.getparent() is None:
            continue
        text = " ".join(el.text_content().split())
        links = sum(len(" ".join(a.text_content().split())) for a in el.iter("a"))
        if len(text) <= SHARE_BAR_MAX_CHARS and links >= LINK_DENSE * len(text):
            el.drop_tree()  # keeps its tail


# A named anchor (<a id="point2"></a>, <a name="s3"></a>: a place to link to, holding no text)
# before a paragraph's text makes trafilatura read that text as the anchor's: its empty
# element takes its tail as text, so the paragraph is one link and is dropped as a run of links
# (a judgment's numbered paragraphs, a docs page's sections; measured on extract_eval9:
# recall 0.49 and 0.68 on two judgments). Such an anchor holds nothing: the page tree loses it,
# its tail staying where it stands. (A link or a button, <a on="tap:...">Log in</a>, has text.)
# A permalink of the same kind, a link to its own place on the page holding no text (a heading's
# <a href="#costs" class="headerlink"></a> or icon on Hexo, Hugo, Jekyll, Sphinx, MkDocs sites),
# takes the heading's text as its own the same way: the heading is read as a link and dropped
# (measured on extract_eval12: every <h2> of a Hexo post lost). It goes too, with its icon.
_NAMED_ANCHORS = etree.XPath(
    "//a[(not(@href) and not(*) or starts-with(@href, '#')) and not(normalize-space())]"
)


def _drop_named_anchors(tree: HtmlElement) -> None:
    for a in _NAMED_ANCHORS(tree):
        if a.getparent() is None:
            continue
        if len(a):
            # An icon: its elements go, the anchor's blank text stays a space between words.
            blank = "".join(a.itertext())
            for child in list(a):
                a.remove(child)
            a.text = " " if blank else None
        a.drop_tag()  # keeps its tail


@lru_cache(maxsize=4)
def _base_options(fast: bool, recall: bool = False) -> Any:
    """trafilatura's options; building them parses its config, so it is done once.

    ``recall``: its default ("balanced") mode, for the recall pass."""
    from monitor.adapters.trafilatura_internals import Extractor

    return Extractor(
        # Not "python": that renders the body as text too, which is not used here.
        output_format="txt",
        fast=fast,
        precision=FAVOR_PRECISION and not recall,
        comments=False,
        tables=True,
        images=False,
        links=True,  # only to measure link density; links are not kept
        dedup=False,
        with_metadata=False,  # see _page_metadata
    )


def options(url: str, fast: bool, recall: bool = False) -> Any:
    options = copy(_base_options(fast, recall))
    # No base URL: trafilatura would resolve every link against it (urljoin per link, a tenth
    # of a run on a page of menus), and links serve here only to measure link density and to
    # tell an anchor ("#section", which keeps its "#" either way).
    options.url = None
    options.source = url  # for trafilatura's log lines
    return options


# trafilatura's fast mode differs from its full run in two places (precision mode, no
# comments). Its wild-text recovery (run when the main pass finds under MIN_EXTRACTED_SIZE
# characters) keeps blocks whose class or id holds "teaser": such pages take the full run. And
# it skips compare_extraction, which replaces the result with readability's or jusText's only
# when the result is short (under MIN_EXTRACTED_SIZE), holds no <p> text or more tables than
# paragraphs, keeps tags jusText is called for (SANITIZED_XPATH), or readability's text is over
# twice as long. The full run costs about twice the fast one.
_TEASER_MARK = "easer"


class _FastChecks(NamedTuple):
    min_extracted_size: int
    unclean: Callable[[etree._Element], bool]  # holds tags that send a result to jusText


@lru_cache(maxsize=1)
def _fast_checks() -> _FastChecks | None:
    """What `full_run_agrees` needs from trafilatura, or None: always take the full run."""
    try:
        from importlib.metadata import version

        from monitor.adapters.trafilatura_internals import CHECKED_RELEASE, SANITIZED_XPATH

        release = tuple(int(part) for part in version("trafilatura").split(".")[:2])
    except (ImportError, ValueError):
        return None
    if release[:1] != CHECKED_RELEASE[:1] or release < CHECKED_RELEASE:
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


def full_run_agrees(body: etree._Element, tree: HtmlElement) -> bool:
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
        from monitor.adapters.trafilatura_internals import FRAME_TAGS, unlikely_patterns

        unlikely, maybe = unlikely_patterns()
    except (ImportError, KeyError):  # another trafilatura: assume it drops nothing
        return lambda _el: False

    def test(el: etree._Element) -> bool:
        attrs = " ".join(filter(None, (el.get("class"), el.get("id"))))
        if len(attrs) < 2 or el.tag in FRAME_TAGS:
            return False
        low = attrs.lower()
        return bool(unlikely.search(low)) and not maybe.search(low)

    return test
