"""A discussion thread's replies, where the page's comment area holds them.

A news page's reader comments are no source text, and trafilatura (run without comments) and
our recall rules keep them out. On a discussion page they are the text: a forum thread whose
posts all stand in a "comments" box (Invision's `#comments`), or a link aggregator's self post
with the replies in its "commentarea" (every labelled set counts each post of a thread as main
text; measured before this module: recall 0.07 and 0.42 on such pages, 0.67 on another whose
opening post was read). The two are told apart by what the page's kept text is: a thread's
opening post is a post like its replies, written in a box of the replies' own class, or stands
in the comment area itself; an article's paragraphs stand in a box of their own.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from monitor.extract.blocks import Block
from monitor.extract.boilerplate import furniture_box, in_furniture

# A class or id word that names a comment area or a reply list ("comments", "commentarea",
# "comment-tree", "comment-list", "kommentare"); not one post's own class ("ipsComment").
_AREA = re.compile(r"^(?:comments?|kommentare?|commentaires?)(?:$|[_-]?(?:area|list|tree|section))")
# A comment area is a box of posts, not the page, nor one line ("(Beifall)" in a record's
# "kommentar" paragraph).
_NOT_AREAS = frozenset(
    {"html", "body", "p", "span", "a", "b", "i", "em", "strong", "small", "h1", "h2", "h3"}
    | {"h4", "h5", "h6", "li", "dt", "dd", "td", "th", "blockquote", "time", "label"}
)
_AREA_MARK = "omment"  # in each word above, in C before any walk
_AREA_CANDIDATES = etree.XPath(
    "//*[contains(@class, 'omment') or contains(@id, 'omment') or contains(@class, 'OMMENT')"
    " or contains(@id, 'OMMENT')]"
)
_POST_BLOCKS = ("p", "li", "h2", "h3", "h4", "pre")
# A post removed by its author or a moderator leaves only this mark.
_GONE = frozenset({"[removed]", "[deleted]", "[gelöscht]", "[supprimé]"})
MIN_POSTS = 2
THIN_OUTSIDE_CHARS = 300
_SENTENCE_END = re.compile(r"[.!?…:;)\"”»'’]$")


def _text(el: etree._Element) -> str:
    return " ".join(el.text_content().split())


def _area(el: etree._Element) -> bool:
    if el.tag in _NOT_AREAS:
        return False
    words = f"{el.get('class') or ''} {el.get('id') or ''}".lower().split()
    return any(_AREA.match(word) for word in words)


def _areas(tree: HtmlElement) -> list[etree._Element]:
    """The page's outermost comment areas."""
    found: list[etree._Element] = []
    for el in _AREA_CANDIDATES(tree):
        if not _area(el) or any(up in found for up in el.iterancestors()):
            continue
        found.append(el)
    return found


def _box_key(el: etree._Element) -> tuple[str, str] | None:
    """A post's text box by its tag and class; None for a box with no class of its own."""
    cls = " ".join((el.get("class") or "").split())
    return (el.tag, cls) if cls else None


def _quoted(el: etree._Element, box: etree._Element) -> bool:
    """Whether ``el`` stands in a quote of an earlier post, inside ``box``."""
    for up in el.iterancestors():
        if up is box:
            return False
        if up.tag == "blockquote":
            return True
    return False


def with_thread_replies(blocks: list[Block], tree: HtmlElement, html: str) -> list[Block]:
    """``blocks`` with the posts of a discussion thread they lack added after them (see
    above): the replies, and the opening post's lists the recall pass can drop."""
    if _AREA_MARK not in html and _AREA_MARK.upper() not in html:
        return blocks
    areas = _areas(tree)
    if not areas:
        return blocks
    inside: set[etree._Element] = set()
    for area in areas:
        inside.update(area.iter())
    # The replies' text boxes: the parents of their paragraphs, by a class two boxes share
    # (not a reply's line of author, points and time over its text: "tagline").
    boxes: dict[tuple[str, str], list[etree._Element]] = {}
    for area in areas:
        for p in area.iter("p"):
            if not _SENTENCE_END.search(_text(p)):
                continue
            box = p.getparent()
            if box is None or furniture_box(box):  # a post's signature
                continue
            key = _box_key(box)
            if key is not None and box not in boxes.setdefault(key, []):
                boxes[key].append(box)
    keys = {key for key, found in boxes.items() if len(found) >= MIN_POSTS}
    if not keys:
        return blocks
    kept = {text for _, text in blocks}
    if not _opened_by_a_post(tree, kept, inside, keys):
        return blocks
    added: list[Block] = []
    seen = set(kept)
    for el in tree.iter():
        # The replies, and the opening post where it stands outside their area.
        if _box_key(el) not in keys or (el not in inside and in_furniture(el)):
            continue
        for part in el.iter(_POST_BLOCKS):
            if part.tag != "p" and next(part.iter("p"), None) is not None:
                continue  # its paragraphs stand for it
            if _quoted(part, el) or _nearest_box(part, keys) is not el:
                continue
            text = _text(part)
            if not text or text in seen or text in _GONE:
                continue
            seen.add(text)
            kind = "item" if part.tag == "li" else "head" if part.tag[0] == "h" else "p"
            added.append((kind, text))
    return blocks + added if added else blocks


def _nearest_box(el: etree._Element, keys: set[tuple[str, str]]) -> etree._Element | None:
    for up in el.iterancestors():
        if _box_key(up) in keys:
            return up
    return None


def _opened_by_a_post(
    tree: HtmlElement,
    kept: set[str],
    inside: set[etree._Element],
    keys: set[tuple[str, str]],
) -> bool:
    """Whether the page is the thread: a kept paragraph is a post (in the comment area, or
    outside it in a box of the replies' class and in no furniture: the opening post), or the
    kept text outside the comment area is too thin to be an article (a cookie line, a "sign
    in to reply" prompt: the main pass took no post)."""
    area_texts: set[str] = set()
    for p in tree.iter("p"):
        text = _text(p)
        if text not in kept:
            continue
        if p in inside:
            return True
        box = p.getparent()
        if box is not None and _box_key(box) in keys and not in_furniture(box):
            return True
    for el in inside:
        if el.tag == "p":
            area_texts.add(_text(el))
    outside = sum(len(text) for text in kept if text not in area_texts)
    posts = sum(len(text) for text in area_texts)
    return outside <= THIN_OUTSIDE_CHARS and 2 * outside <= posts
