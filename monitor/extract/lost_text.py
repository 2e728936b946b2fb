"""Text both of trafilatura's runs lose, put back where the page shows it: a chronology's
dates, a wiki's or docs theme's note boxes and callouts, tables drawn with ARIA roles, a
table the default run gave cell by cell, boxes between two kept parts of the article (an
interview's question and answer blocks) and a page builder's text sections of the kept one's
kind. Each step reads the page's own tree and places what it finds beside the kept blocks it
stands between, before or after.
"""

from __future__ import annotations

import re
from copy import copy
from itertools import pairwise

from lxml import etree
from lxml.html import HtmlElement

from monitor.extract.blocks import Block, next_element, page_text
from monitor.extract.boilerplate import (
    boilerplate,
    call_to_action,
    caption,
    furniture_box,
    in_furniture,
)
from monitor.extract.text import only_volatile
from monitor.extract.threads import SENTENCE_END, text_runs

# A timeline's dates ("<li><time>19. Juni 2024</time><h2>Vertrag unterzeichnet</h2><p>...")
# stand in elements of their own, which trafilatura deletes (<time>) or keeps as lines that
# only ever look volatile, so passages drop them: every date of a chronology was lost (seven
# timeline pages of the dev sets, 2 to 6 dates each). A date alone in its element, followed by
# the element of a kept block, is put before that block's text: "19. Juni 2024: Vertrag
# unterzeichnet". Only a chronology's: two dates or more so placed, each with a year and no
# time of day (a live page's entry times stay out, as its entries carry their time), and
# none in the page's furniture. Its head and its headings hold no chronology's date either (a
# heading "2024" titles its section already).
_NO_DATES = frozenset(
    {"head", "script", "style", "noscript", "template", "header", "footer", "nav", "aside"}
    | {"h1", "h2", "h3", "h4", "h5", "h6"}
)
_TIMELINE_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)")
_CLOCK = re.compile(r"\d[:.h]\d\d(?!\d)(?![.]\d)")
_WORDS = re.compile(r"[^\W\d_]{2,}")
DATE_MAX_WORDS = 2
TIMELINE_DATE_MAX_CHARS = 40
TIMELINE_MATCH_CHARS = 15
# The text pieces that may hold a date, found in C: short, with a year's first digits.
_SHORT_YEAR_TEXTS = etree.XPath(
    "//text()[(contains(., '20') or contains(., '19') or contains(., '18'))"
    f" and string-length(normalize-space(.)) <= {TIMELINE_DATE_MAX_CHARS}]"
)


def with_timeline_dates(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` with a chronology's dates put before their entries (see above)."""
    dated: dict[int, str] = {}
    kept = {text for _, text in blocks}
    seen: set[etree._Element] = set()
    for node in _SHORT_YEAR_TEXTS(tree):
        if not _TIMELINE_YEAR.search(node) or len(_WORDS.findall(node)) > DATE_MAX_WORDS:
            continue  # no year, or a line of words (the text's, where one is its piece)
        el = node.getparent()
        if el is not None and getattr(node, "is_tail", False):
            el = el.getparent()
        if el is None or el in seen:
            continue
        seen.add(el)
        if len(el) > 2 or el.tag in _NO_DATES:
            continue
        text = page_text(el)
        if not text or len(text) > TIMELINE_DATE_MAX_CHARS or not _TIMELINE_YEAR.search(text):
            continue
        # A date, not a stamp line ("Zuletzt aktualisiert am 28. April 2025"): at most its
        # month's and weekday's words.
        if len(_WORDS.findall(text)) > DATE_MAX_WORDS or _CLOCK.search(text) or text in kept:
            continue
        if not only_volatile(text):
            continue
        after = next_element(el)
        if after is None:
            continue
        entry = page_text(after)
        at = _entry_block(blocks, entry)
        if at is None or at in dated or text in blocks[at][1] or in_furniture(el):
            continue
        dated[at] = text
    if len(dated) < 2:
        return blocks
    return [
        (kind, f"{dated[i]}: {text}") if i in dated else (kind, text)
        for i, (kind, text) in enumerate(blocks)
    ]


def _entry_block(blocks: list[Block], entry: str) -> int | None:
    """The place of the kept block that an entry's element begins with (its heading or its
    paragraph), or that begins with the entry's text."""
    if len(entry) < TIMELINE_MATCH_CHARS:
        return None
    for i, (_, text) in enumerate(blocks):
        if len(text) >= TIMELINE_MATCH_CHARS and (entry.startswith(text) or text.startswith(entry)):
            return i
    return None


# A wiki's note boxes say "message" too (XWiki's info and warning macros: "box infomessage",
# "box warningmessage"): the text's own notes, which both runs dropped even where the page
# shows one box of a kind. Masked in the precision runs, a box among the text comes in; one
# above the text's first heading does not, and is put before the block after it
# (`with_note_boxes`; recall 0.79 -> 1.0 on such a knowledge-base page, extract_eval20).
# (Masked in the recall runs too, another wiki page's hatnote and infobox came in with it.)
NOTE_BOX = re.compile(
    r"(?:^|\s)box\s+(?:info|warning|error|success)message(?:$|\s)"
    # A docs theme's admonition set as an <aside> (Starlight: "starlight-aside--note"), which
    # trafilatura deletes with every <aside>.
    r"|aside--(?:note|tip|caution|danger|warning|info|important)(?:$|\s)"
    # Callouts, notes set off in the text, which neither run keeps: Ghost's card, Quarto's
    # callout blocks, the French state design system's "fr-callout".
    r"|(?:^|\s)(?:kg-callout-card|fr-callout)(?:$|\s)"
    r"|(?:^|\s)callout-(?:note|tip|warning|important|caution)(?:$|\s)"
)
_NOTE_BOXES = etree.XPath(
    "//*[contains(@class, 'message') or contains(@class, 'callout')]"
    " | //aside[contains(@class, 'aside--')]"
)
NOTE_MIN_CHARS = 40
_ICON = re.compile(r"^[^\w\"'“„«(\[]+")
NOTE_LOOKAHEAD = 3
NOTE_CLIMB = 3


# A table drawn with <div>s and ARIA roles (GitBook's "table-wrapper": role="table", "row",
# "columnheader", "cell") is no <table> to trafilatura, which drops it or reads its cells as
# loose lines (recall 0.88 on such a docs page, extract_eval11). Where no kept block holds its
# rows, they are put before the block after it, a row per line as a <table>'s are.
_ARIA_TABLES = etree.XPath("//*[@role='table' or @role='grid']")
_ARIA_ROWS = etree.XPath(".//*[@role='row']")
_ARIA_CELLS = etree.XPath(
    "./*[@role='cell' or @role='gridcell' or @role='columnheader' or @role='rowheader']"
)


def with_aria_tables(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` with the rows of the page's ARIA tables that none holds (see above)."""
    kept = " ".join(text for _, text in blocks)
    placed: dict[int, list[Block]] = {}
    for table in _ARIA_TABLES(tree):
        if table.tag == "table" or in_furniture(table):
            continue
        rows = [
            " | ".join(page_text(cell) for cell in _ARIA_CELLS(row)) for row in _ARIA_ROWS(table)
        ]
        rows = [row for row in rows if row and row not in kept]
        if len(rows) < MIN_ARIA_ROWS:
            continue
        at = _block_after(table, blocks)
        if at is not None and at not in placed:
            placed[at] = [("row", row) for row in rows]
    return _placed_before(blocks, placed)


MIN_ARIA_ROWS = 2


# trafilatura's full run can take jusText's or readability's result, which gives a data table
# as one paragraph per cell ("Rúa", "Día", ..., "18:00 – 04:00"): its rows fell apart, and
# the cells that are figures alone were dropped as counter lines (recall 0.89 on a council's
# road-closure table, extract_eval21). A run of blocks that is a table's cells, in order, is
# put back together as the table's rows.
_TABLES = etree.XPath("//table[not(ancestor::table)]")
_TABLE_ROWS = etree.XPath("./tr | ./thead/tr | ./tbody/tr | ./tfoot/tr")
MIN_TABLE_CELLS = 4
MIN_TABLE_COLUMNS = 3


def with_table_rows(blocks: list[Block | None], tree: HtmlElement) -> list[Block | None]:
    """The recall run's ``blocks`` with each run of a table's cells read as its rows (see
    above)."""
    texts = [block[1] if block is not None else None for block in blocks]
    for table in _TABLES(tree):
        rows = [
            [page_text(cell) for cell in row if cell.tag in ("td", "th")]
            for row in _TABLE_ROWS(table)
        ]
        rows = [[cell for cell in row if cell] for row in rows]
        cells = [cell for row in rows for cell in row]
        # Two columns are a record's labels and values (a judgment's "Court | High Court"),
        # which stay out as the record's box does.
        if max(map(len, rows), default=0) < MIN_TABLE_COLUMNS or len(rows) < 2:
            continue
        if len(cells) < MIN_TABLE_CELLS or cells[0] not in texts:
            continue
        at = texts.index(cells[0])
        if texts[at : at + len(cells)] != cells:
            continue
        joined: list[Block | None] = [("row", " | ".join(row)) for row in rows if row]
        blocks = blocks[:at] + joined + blocks[at + len(cells) :]
        texts = [block[1] if block is not None else None for block in blocks]
    return blocks


def _block_after(el: etree._Element, blocks: list[Block]) -> int | None:
    """The place of the first kept block among the few elements after ``el`` (a heading
    between may be gone)."""
    after = _following(el)
    for _ in range(NOTE_LOOKAHEAD):
        if after is None:
            return None
        at = _entry_block(blocks, page_text(after))
        if at is not None:
            return at
        after = _following(after)
    return None


def _placed_before(blocks: list[Block], placed: dict[int, list[Block]]) -> list[Block]:
    """``blocks`` with ``placed[i]`` put before block i."""
    if not placed:
        return blocks
    out: list[Block] = []
    for i, block in enumerate(blocks):
        out.extend(placed.get(i, []))
        out.append(block)
    return out


def _following(el: etree._Element) -> etree._Element | None:
    """The element after ``el`` in the page, at its level or, where it is its box's last, at
    the level of the nearest box that has one (a note that ends its section)."""
    for _ in range(NOTE_CLIMB):
        after = next_element(el)
        if after is not None:
            return after
        parent = el.getparent()
        if parent is None:
            return None
        el = parent
    return None


def _note_text(box: etree._Element) -> str:
    """A note box's text without its title ("Note", "Caution")."""
    if not any("title" in (el.get("class") or "") for el in box.iter()):
        return page_text(box)
    box = copy(box)  # the page's tree stays whole
    for el in [el for el in box.iter() if "title" in (el.get("class") or "")]:
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)
    return page_text(box)


def with_note_boxes(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` with the text of the page's note boxes that none holds (see above)."""
    kept = " ".join(text for _, text in blocks)
    placed: dict[int, list[Block]] = {}
    for box in _NOTE_BOXES(tree):
        if not NOTE_BOX.search(box.get("class") or ""):
            continue
        text = _ICON.sub("", _note_text(box))  # the box's icon glyph ("ⓘ") is no word
        # A box that links elsewhere is a pointer (a wiki's hatnote: "This article is about
        # the treaty; for the deployment see <a>...</a>").
        if len(text) < NOTE_MIN_CHARS or text in kept or next(box.iter("a"), None) is not None:
            continue
        if boilerplate("p", text, ()):  # a promotion set as a note ("... for subscribers")
            continue
        at = _block_after(box, blocks)
        if at is not None and at not in placed:
            placed[at] = [("p", text)]
    return _placed_before(blocks, placed)


# Text in <div>s without a <p> between two kept parts of the article: an interview's
# questions and answers in a page builder's blocks ("qa-block" > "qa-question", Sitecore),
# which both of trafilatura's runs lose, as they weigh containers by their paragraphs (a
# Portuguese interview, extract_eval24: recall 0.21, trafilatura's 0.33). A box that stands
# between two boxes of kept text, under the same parent, is the article's too, unless it is
# furniture, a caption, or mostly links (an inline "read also" box).
SANDWICH_MAX_GAP = 6
SANDWICH_KEPT_MIN_CHARS = 40
SANDWICH_MAX_KEPT = 80
SANDWICH_MAX_LINK_SHARE = 0.3
SANDWICH_KEPT_PIECE_CHARS = 20
_SANDWICH_TEXT_TAGS = ("p", "div", "li", "dd", "dt", "td", "th", "span", "blockquote", "pre")
_PIECE_CHARS = 30


def with_sandwiched_text(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` with the text of the boxes that stand between two kept ones (see above)."""
    long_kept = [
        text for kind, text in blocks if kind != "head" and len(text) >= SANDWICH_KEPT_MIN_CHARS
    ]
    if len(long_kept) < 2:
        return blocks
    index = _holders(tree)
    holders = [
        (text, el)
        for text in long_kept[:SANDWICH_MAX_KEPT]
        if (el := index.get(text[:_PIECE_CHARS])) is not None
    ]
    kept = {text for _, text in blocks}
    # Kept text without its spaces: a box that holds any of it is read already, in whatever
    # form the blocks give it (a timeline's "date: entry", a definition's "E01 term").
    squashed = "\n".join("".join(text.split()) for text in kept)
    judged: set[etree._Element] = set()
    after: dict[str, list[Block]] = {}
    for (before_text, a), (_, b) in pairwise(holders):
        gap, kinds = _gap(a, b)
        for box in gap:
            if box in judged or not _article_box(box, kinds):
                continue
            judged.add(box)
            runs = _sandwiched_runs(box, kept, long_kept, squashed)
            for block in runs:
                kept.add(block[1])
            after.setdefault(before_text, []).extend(runs)
    # Sections of the kept one's kind before the first kept block and after the last one.
    leading: list[Block] = []
    if holders:
        for box in _same_kind_sections(holders[0][1], before=True):
            if box not in judged:
                judged.add(box)
                runs = _sandwiched_runs(box, kept, long_kept, squashed)
                kept.update(text for _, text in runs)
                leading.extend(runs)
        for box in _same_kind_sections(holders[-1][1], before=False):
            if box not in judged:
                judged.add(box)
                runs = _sandwiched_runs(box, kept, long_kept, squashed)
                kept.update(text for _, text in runs)
                after.setdefault(holders[-1][0], []).extend(runs)
    if not leading and not any(after.values()):
        return blocks
    out: list[Block] = list(leading)
    for block in blocks:
        out.append(block)
        out.extend(after.pop(block[1], []))
    return out


# A page builder's article is a run of sections of one kind ("s-blog-section
# s-blog-section-text", Strikingly), text in <div>s, images between: trafilatura's precision
# run keeps the last section only, and its default run dumps the page (a handball report,
# extract_eval27: recall 0.24). The sections of the kept one's kind before and after it are
# the article's too, read as a box between kept ones is.
SECTION_MAX_LEVELS = 4


# Not a list's items (a references list), nor a thread's posts, which have rules of their own
# (monitor.extract.threads).
_POST_CLASS = re.compile(r"post|message|comment|reply|tweet|status|entry", re.IGNORECASE)


def _section(box: etree._Element) -> bool:
    return box.tag not in {"li", "tr", "td", "dd", "dt"} and not _POST_CLASS.search(
        box.get("class") or ""
    )


# A wiki's back matter is sections of the article's kind, under a heading of its own: its
# references and links are no text of the article (labelled sets: a wiki reader page lost
# precision .87 -> .69 with them).
_BACK_MATTER = re.compile(
    r"^(?:references|see also|notes|sources|further reading|external links|bibliography"
    r"|einzelnachweise|siehe auch|literatur|weblinks|quellen|anmerkungen|références"
    r"|voir aussi|notes et références|liens externes|referencias|véase también|enlaces"
    r" externos|note|fonti|voci correlate|collegamenti esterni|referências|ver também"
    r"|przypisy|zobacz też|bibliografia|примечания|литература|см\. также|ссылки)$",
    re.IGNORECASE,
)


def _back_matter(box: etree._Element) -> bool:
    heading = next(box.iter("h2", "h3", "h4"), None)
    return heading is not None and bool(_BACK_MATTER.match(page_text(heading).rstrip(":")))


def _same_kind_sections(el: etree._Element, before: bool) -> list[etree._Element]:
    """The siblings of the kind (tag and class) of a classed box around ``el`` (the nearest
    with such siblings, within SECTION_MAX_LEVELS), on one side of it."""
    box: etree._Element | None = el
    for _ in range(SECTION_MAX_LEVELS):
        if box is None or box.tag in {"body", "html"}:
            return []
        parent = box.getparent()
        if box.get("class") and parent is not None and _section(box):
            kind = _kind(box)
            siblings = box.itersiblings(preceding=before)
            found = [
                s
                for s in siblings
                if isinstance(s.tag, str) and _kind(s) == kind and not _back_matter(s)
            ]
            if found:
                return found[::-1] if before else found
        box = parent
    return []


def _holders(tree: HtmlElement) -> dict[str, etree._Element]:
    """The elements of the page's body by the first words of their text pieces (their text,
    or the text after a child: a run between <br>s), whitespace collapsed, in one pass."""
    found: dict[str, etree._Element] = {}
    for piece in _LONG_TEXTS(tree, chars=_PIECE_CHARS):
        # Only the piece's start is collapsed: a long paragraph is not split whole.
        key = " ".join(piece[: 4 * _PIECE_CHARS].split())[:_PIECE_CHARS]
        if len(key) < _PIECE_CHARS or key in found:
            continue
        el = piece.getparent()
        if el is not None and piece.is_tail:
            el = el.getparent()
        if el is not None and el.tag not in _NO_TEXT_TAGS:
            found[key] = el
    return found


# The page's text pieces long enough to start a kept block, found in C.
_LONG_TEXTS = etree.XPath("//body//text()[string-length(.) >= $chars]")
_NO_TEXT_TAGS = frozenset({"script", "style", "noscript", "template"})


_Kind = tuple[str, str]


def _gap(a: etree._Element, b: etree._Element) -> tuple[list[etree._Element], set[_Kind]]:
    """The elements between the boxes of ``a`` and ``b`` under their nearest common parent,
    and the two boxes' kinds (tag, class): none if ``b`` does not follow ``a`` there, or if
    too many stand between."""
    if next_element(a) is b:
        return [], set()  # side by side: nothing between (most pairs)
    ups_a = [a, *a.iterancestors()]
    seen = {up: i for i, up in enumerate(ups_a)}
    below_b = b
    for up in [b, *b.iterancestors()]:
        if up in seen:
            i = seen[up]
            if i == 0 or up is below_b or up.tag in {"body", "html"}:
                return [], set()
            below_a = ups_a[i - 1]
            gap: list[etree._Element] = []
            el = next_element(below_a)
            while el is not None and el is not below_b:
                gap.append(el)
                if len(gap) > SANDWICH_MAX_GAP:
                    return [], set()
                el = next_element(el)
            if el is not below_b:
                return [], set()
            return gap, {_kind(below_a), _kind(below_b)}
        below_b = up
    return [], set()


def _kind(el: etree._Element) -> _Kind:
    return (str(el.tag), " ".join((el.get("class") or "").split()))


# Which boxes between two kept ones are the article's: an interview's questions and answers
# (by their class), a plain box with no class or id of its own, or a box of the same kind as
# the kept ones beside it. Boxes classed otherwise between paragraphs are mostly furniture the
# labels leave out: callouts, pull quotes, subscription prompts, author notes (measured on the
# labelled sets: taking every box between kept ones lost precision on 20 pages).
_QA_CLASS = re.compile(
    r"question|answer|(?:^|[\s_-])q-?a(?:$|[\s_-])|frage|antwort|interview|pergunta|resposta"
    r"|pregunta|respuesta|domanda|risposta|réponse|reponse",
    re.IGNORECASE,
)
_PLAIN_TAGS = frozenset({"div", "p", "section", "span", "blockquote"})


def _article_box(box: etree._Element, kinds: set[_Kind]) -> bool:
    if not isinstance(box.tag, str):
        return False
    marks = " ".join(filter(None, (box.get("class"), box.get("id"))))
    if not marks:
        return box.tag in _PLAIN_TAGS
    return bool(_QA_CLASS.search(marks)) or _kind(box) in kinds


def _sandwiched_runs(
    box: etree._Element, kept: set[str], long_kept: list[str], squashed: str
) -> list[Block]:
    """The text of a box between two kept ones, where it is the article's (see above)."""
    if not isinstance(box.tag, str) or box.tag in _NOT_SANDWICHED:
        return []
    if furniture_box(box) or in_furniture(box) or caption(box):
        return []
    if any(call_to_action(el) for el in box.iter("p", "div")):
        return []  # a sentence, then its own short link ("Mitmachen!")
    text = page_text(box)
    if not text:
        return []
    for el in box.iter(_SANDWICH_TEXT_TAGS):
        piece = "".join(el.text_content().split())
        if len(piece) >= SANDWICH_KEPT_PIECE_CHARS and piece in squashed:
            return []  # a box holding kept text is read already
    # ... or kept text it holds as loose lines (a post's runs between <br>s, read one by one).
    box_squashed = "".join(text.split())
    if any(
        len(piece) >= SANDWICH_KEPT_PIECE_CHARS and piece in box_squashed
        for piece in squashed.split("\n")
    ):
        return []
    # A table has its own rules (rows); a box with a picture is an image's with its caption.
    if next(box.iter("table", *_MEDIA), None) is not None:
        return []
    links = sum(len(page_text(a)) for a in box.iter("a"))
    if links > SANDWICH_MAX_LINK_SHARE * len(text):
        return []
    runs = text_runs(box)
    # A prompt that ends in its link or button ("Alle Premium-Artikel lesen", "Zum Test").
    if runs and any(page_text(el) == runs[-1][1] for el in box.iter("a", "button")):
        return []
    if not any(kind != "head" and SENTENCE_END.search(run) for kind, run in runs):
        return []
    return [
        (kind, run)
        for kind, run in runs
        if run not in kept and not boilerplate(kind, run, long_kept)
    ]


_NOT_SANDWICHED = frozenset(
    {"figure", "figcaption", "picture", "img", "video", "audio", "iframe", "svg", "script"}
    | {"style", "noscript", "template", "form", "table", "h1", "header", "footer", "nav", "aside"}
)
_MEDIA = ("img", "picture", "video", "audio", "iframe", "svg", "figure")
