"""A discussion thread's posts that trafilatura's runs lose: replies in a comment area, and
sibling posts past the first one.

A news page's reader comments are no source text, and trafilatura (run without comments) and
our recall rules keep them out. On a discussion page they are the text: a forum thread whose
posts all stand in a "comments" box (Invision's `#comments`), or a link aggregator's self post
with the replies in its "commentarea" (every labelled set counts each post of a thread as main
text; measured before this module: recall 0.07 and 0.42 on such pages, 0.67 on another whose
opening post was read). The two are told apart by what the page's kept text is: a thread's
opening post is a post like its replies, written in a box of the replies' own class, or stands
in the comment area itself; an article's paragraphs stand in a box of their own. Threads whose
posts are siblings outside any comment area: `with_sibling_posts`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

from lxml import etree
from lxml.html import HtmlElement

from monitor.extract.blocks import TEXT_HOLDING, Block, page_text
from monitor.extract.boilerplate import (
    FURNITURE_TAGS,
    boilerplate,
    furniture_box,
    furniture_class,
    furniture_tag,
    in_furniture,
)

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
# A post removed by its author or a moderator leaves only such a mark ("[removed]", "removed by
# mod", "[gelöscht]"), with at most the moderator's reason beside it.
_GONE_MARKS = frozenset(
    {"removed", "deleted", "removed by mod", "removed by moderator", "removed by author"}
    | {"flagged", "dead"}  # a link aggregator's hidden replies
    | {"deleted by author", "deleted by user", "comment removed", "comment deleted"}
    | {"gelöscht", "entfernt", "supprimé", "eliminado", "rimosso", "usunięto", "удалено"}
)


def _gone(text: str) -> bool:
    return len(text) <= 40 and text.strip("[]()*_ .").lower() in _GONE_MARKS


MIN_POSTS = 2
THIN_OUTSIDE_CHARS = 300
SHORT_OPENER_CHARS = 1000
OWN_TEXT_MIN_CHARS = 40
REPLIES_PER_OPENER = 3
SENTENCE_END = re.compile(r"[.!?…:;)\"”»'’]$")


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


def _first_class_key(el: etree._Element) -> tuple[str, str] | None:
    """A post's text box by its tag and first class word: a link aggregator marks each reply's
    text with a colour of its own beside it ("commtext c00", "commtext c5a")."""
    words = (el.get("class") or "").split()
    return (el.tag, words[0]) if words else None


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
    found_boxes: list[etree._Element] = []
    for area in areas:
        for p in area.iter("p"):
            if not SENTENCE_END.search(page_text(p)):
                continue
            box = _text_box(p, area)
            if box is None or furniture_box(box):  # a post's signature
                continue
            if box not in found_boxes:
                found_boxes.append(box)
        # A reply written as its box's own text, with no <p> ("<div class="commtext">Text").
        for el in area.iter("div", "td", "span"):
            own = " ".join((el.text or "").split())
            if (
                len(own) >= OWN_TEXT_MIN_CHARS
                and el.get("class")
                and el not in found_boxes
                and not furniture_box(el)
            ):
                found_boxes.append(el)
    # By their whole class, or by its first word where that groups more of them (see
    # `_first_class_key`).
    best: tuple[int, _KeyOf, set[tuple[str, str]]] | None = None
    key_ofs: tuple[_KeyOf, ...] = (_box_key, _first_class_key)
    for candidate in key_ofs:
        counts = Counter(candidate(box) for box in found_boxes)
        found = {key for key, n in counts.items() if key is not None and n >= MIN_POSTS}
        grouped = sum(counts[key] for key in found)
        if found and (best is None or grouped > best[0]):
            best = (grouped, candidate, found)
    if best is None:
        return blocks
    _, key_of, keys = best
    kept = {text for _, text in blocks}
    if not _opened_by_a_post(tree, kept, inside, keys, key_of):
        return blocks
    added: list[Block] = []
    seen = set(kept)
    for el in tree.iter():
        # The replies, and the opening post where it stands outside their area.
        if key_of(el) not in keys or (el not in inside and in_furniture(el)):
            continue
        if el in inside and _sponsored(el):
            continue  # an advertiser's post among the replies ("ItemComment Promoted")
        if _nearest_box(el, keys, key_of) is not None:
            continue  # a box inside another post's box is read with it
        runs = _runs(el)
        if any(_gone(text) for _, text in runs):
            continue  # a removed post: its mark, and the moderator's reason beside it
        for kind, text in runs:
            if text not in seen:
                seen.add(text)
                added.append((kind, text))
    return blocks + added if added else blocks


# A rich-text editor writes each paragraph in a wrapper of its own, without a class (Wix's
# "<div type="paragraph"><p>", in a classed "rich-content-viewer"): the post's text box is the
# nearest classed one, a few levels up, short of the comment area itself.
TEXT_BOX_MAX_LEVELS = 3


def _text_box(p: etree._Element, area: etree._Element | None) -> etree._Element | None:
    """The box of a post's paragraph: its parent, or the nearest classed one above it."""
    box = p.getparent()
    for _ in range(TEXT_BOX_MAX_LEVELS):
        if box is None or box.get("class") or box is area:
            break
        up = box.getparent()
        if up is None or up is area or up.tag in {"body", "html"}:
            break
        box = up
    return box


_SPONSORED = re.compile(r"(?:^|\s)(?:promoted|sponsored)(?:$|\s)", re.IGNORECASE)


def _sponsored(el: etree._Element) -> bool:
    """Whether a reply stands in a post marked as paid for."""
    for up in [el, *el.iterancestors()]:
        if up.tag in {"body", "main", "article"}:
            return False
        if _SPONSORED.search(up.get("class") or ""):
            return True
    return False


_KeyOf = Callable[[etree._Element], "tuple[str, str] | None"]


def _nearest_box(
    el: etree._Element, keys: set[tuple[str, str]], key_of: _KeyOf
) -> etree._Element | None:
    for up in el.iterancestors():
        if key_of(up) in keys:
            return up
    return None


def _opened_by_a_post(
    tree: HtmlElement,
    kept: set[str],
    inside: set[etree._Element],
    keys: set[tuple[str, str]],
    key_of: _KeyOf,
) -> bool:
    """Whether the page is the thread: a kept paragraph is a post (in the comment area, or
    outside it in a box of the replies' class and in no furniture: the opening post), or the
    kept text outside the comment area is too thin to be an article (a cookie line, a "sign
    in to reply" prompt: the main pass took no post)."""
    area_texts: set[str] = set()
    for p in tree.iter("p"):
        text = page_text(p)
        if text not in kept:
            continue
        if p in inside:
            return True
        box = _text_box(p, None)
        if box is not None and key_of(box) in keys and not in_furniture(box):
            return True
    for el in inside:
        if el.tag == "p":
            area_texts.add(page_text(el))
    outside = sum(len(text) for text in kept if text not in area_texts)
    posts = sum(len(text) for text in area_texts)
    if outside <= THIN_OUTSIDE_CHARS and 2 * outside <= posts:
        return True
    # A link aggregator's item page: a short opening post over replies many times its length,
    # whose text boxes hold few <p>s ("commtext": a reply's first paragraph is the box's own
    # text), so they are measured whole.
    if outside > SHORT_OPENER_CHARS:
        return False
    replies = sum(
        len(page_text(el))
        for el in inside
        if key_of(el) in keys and _nearest_box(el, keys, key_of) is None
    )
    if replies >= REPLIES_PER_OPENER * outside:
        return True
    # Without a headline (<h1>) the page is no article with reader comments under it: an
    # aggregator's item page titles its submission in a link ("titleline").
    return replies >= outside and next(tree.iter("h1"), None) is None


# A thread whose posts are siblings of one kind ("div.post" on SMF, "li.post" on NodeBB, a
# Telegram channel's "tgme_widget_message"): trafilatura's main pass settles on the first post
# and both its modes lose the others (measured on the forum and channel pages of the labelled
# sets: recall 0.31 to 0.65 on ten of them, for trafilatura too). Where the text we kept stands
# in a post-classed element whose tag and class repeat on the page, the other posts' text, read
# in the same box as the kept one's ("div.inner"), is added after the blocks: not the quotes of
# earlier posts inside it, nor signatures or user boxes beside it.
# The word starts or ends a class word ("post", "message--post", "posts timeline",
# "tgme_widget_message"), not inside one (a page builder's "elementor-widget-theme-post-content"
# is the article's own box).
_POST_WORD = re.compile(
    r"(?:^|\s)(?:posts?|message|comment|reply|msg|tweet|status|email)(?:$|[\s_-])"
    r"|[_-](?:post|message|comment|reply|msg|tweet|status)(?:$|\s)",
    re.IGNORECASE,
)
POST_MAX_LEVELS = 8
POST_PIECE_CHARS = 30
MIN_KEPT_CHARS = 60
_RUN_BREAKS = frozenset({"p", "li", "div", "h2", "h3", "h4", "h5", "h6", "pre", "ul", "ol"})
_QUOTE_TAGS = frozenset({"blockquote", "aside"})
# Media and their captions, scripts, controls: no text of the post.
_NOT_TEXT = frozenset(
    {"figure", "figcaption", "picture", "img", "video", "audio", "iframe", "svg", "script"}
    | {"style", "noscript", "template", "button", "form", "select", "textarea", "input"}
)


def with_sibling_posts(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` with the text of the posts beside the kept one added (see above)."""
    kept_long = [text for kind, text in blocks if kind != "head" and len(text) >= MIN_KEPT_CHARS]
    if not kept_long:
        return blocks
    found = _post_and_box(tree, kept_long[0])
    if found is None:
        return blocks
    posts, post, box = found
    kept = {text for _, text in blocks}
    added: list[Block] = []
    for other in posts:
        if other is post or _aside(other):  # a related list's or sidebar's "posts"
            continue
        runs = [
            run
            for text_box in other.iter(box.tag)
            if text_box.get("class") == box.get("class") and not _quoted(text_box, other)
            for run in _runs(text_box)
        ]
        # A post of which any text is kept is read already (a live page's entries, most of
        # which trafilatura keeps): only the posts it lost whole come in; not a removed one.
        if any(text in kept or _gone(text) for _, text in runs):
            continue
        for kind, text in runs:
            if text not in kept and not boilerplate(kind, text, ()):
                kept.add(text)
                added.append((kind, text))
    return blocks + added if added else blocks


# Where trafilatura's runs keep almost nothing of a thread (Invision's posts, classed "cPost
# ... ipsComment" in a form, in no comment area: a Finnish thread, extract_eval19, recall
# 0.03, trafilatura's 0.36), no kept post points to the others. Where the kept text is too thin
# for an article (a sign-in prompt, a visitor count) and the page holds posts of one kind, the
# posts' paragraphs are its text: the kind with the most of them, read in their paragraphs'
# boxes, quotes of earlier posts left out.
THIN_PAGE_CHARS = 300
# A class word that ends in the post word after a lower-case letter ("cPost", "ipsComment",
# "ipsComment_parent"): the name-spaced word of a forum engine.
_CAMEL_POST = re.compile(r"(?<=[a-z])(?:Post|Comment|Message|Reply)(?:$|[\s_-])")
_POST_CANDIDATES = etree.XPath(
    "//*[contains(@class, 'ost') or contains(@class, 'omment') or contains(@class, 'essage')"
    " or contains(@class, 'eply')]"
)


def with_posts_of_a_thin_page(blocks: list[Block], tree: HtmlElement) -> list[Block]:
    """``blocks`` with the posts of a thread added where they are too thin for an article
    (see above)."""
    if sum(len(text) for kind, text in blocks if kind != "head") > THIN_PAGE_CHARS:
        return blocks
    groups: dict[tuple[str, str], list[etree._Element]] = {}
    for el in _POST_CANDIDATES(tree):
        cls = el.get("class") or ""
        if _POST_WORD.search(cls) or _CAMEL_POST.search(cls):
            groups.setdefault((el.tag, cls.split()[0]), []).append(el)
    best: list[Block] = []
    for posts in groups.values():
        members = set(posts)
        outer = [p for p in posts if not any(up in members for up in p.iterancestors())]
        if len(outer) < MIN_POSTS:
            continue
        if any(next(p.iter("h1"), None) is not None or _aside(p) for p in outer):
            continue
        runs = [run for post in outer for run in _post_paragraphs(post)]
        if sum(len(text) for _, text in runs) > sum(len(text) for _, text in best):
            best = runs
    kept = {text for _, text in blocks}
    added: list[Block] = []
    for kind, text in best:
        if text not in kept and not boilerplate(kind, text, ()):
            kept.add(text)
            added.append((kind, text))
    return blocks + added if added else blocks


def _post_paragraphs(post: etree._Element) -> list[Block]:
    """A post's text: the runs of the boxes that hold its paragraphs, outside quotes and
    furniture (a signature)."""
    boxes: list[etree._Element] = []
    for p in post.iter("p"):
        box = p.getparent()
        if box is None or box in boxes or _quoted(p, post) or furniture_box(box):
            continue
        if _signed(box, post):
            continue
        if not SENTENCE_END.search(page_text(p)):
            continue
        if any(up in boxes for up in box.iterancestors()):
            continue
        boxes.append(box)
    return [run for box in boxes for run in _runs(box)]


def _signed(box: etree._Element, post: etree._Element) -> bool:
    """Whether a box stands in the post's signature, which some engines mark only by a data
    role ("memberSignature")."""
    for el in [box, *box.iterancestors()]:
        if el is post:
            return False
        marks = " ".join(filter(None, (el.get("class"), el.get("id"), el.get("data-role"))))
        if "ignature" in marks:
            return True
    return False


_THREAD_WORDS = re.compile("comment|kommentar|reply|antwort|message", re.IGNORECASE)


def _aside(el: etree._Element) -> bool:
    """Whether a post stands in a box beside the text (a related list, a sidebar, a footer):
    `in_furniture` of its ancestors, but a thread's own boxes ("js-comment-container",
    "comment-list") are no furniture here."""
    for up in el.iterancestors():
        if up.tag in {"article", "main", "body"}:
            return False
        if up.tag in FURNITURE_TAGS and up.tag != "form" and furniture_tag(up):
            return True
        marks = " ".join(filter(None, (up.get("class"), up.get("id"))))
        if marks and furniture_class(marks) and not _THREAD_WORDS.search(marks):
            return True
    return False


def _same_kind(a: etree._Element, b: etree._Element) -> bool:
    """Whether two elements are posts of one kind: one tag, and the same first class word
    (whatever marks one carries besides: "cPost ipsComment ipsComment_parent"), or most of
    their class words in common in another order (GitHub's first comment is classed
    "timeline-comment-group ... js-comment-container ...", the others "js-comment-container
    ... timeline-comment-group")."""
    if a.tag != b.tag:
        return False
    words_a, words_b = (a.get("class") or "").split(), (b.get("class") or "").split()
    if not words_a or not words_b:
        return not words_a and not words_b
    if words_a[0] == words_b[0]:
        return True
    shared = len(set(words_a) & set(words_b))
    return shared >= 2 and 2 * shared >= min(len(words_a), len(words_b))


def _post_and_box(
    tree: HtmlElement, text: str
) -> tuple[list[etree._Element], etree._Element, etree._Element] | None:
    """The thread's posts, the one around a kept block, and the classed box inside it that
    holds the block's text; None where the block stands in no post of a thread. A post is an
    element whose class says post (or message, comment, reply) and whose kind repeats on the
    page; or, in a box so classed ("posts timeline"), the child it holds the block in, where
    its kind repeats among the box's children (NodeBB's items, vBulletin's postbits)."""
    piece = text[:POST_PIECE_CHARS].rsplit(" ", 1)[0]
    node = next(iter(TEXT_HOLDING(tree, piece=piece)), None)
    if node is None:
        # A post kept as plain text, its lines broken by newlines (a mailing list archive's
        # "email-body"): the block's spaces are newlines there.
        node = next(iter(_SPACED_TEXT_HOLDING(tree, piece=piece)), None)
    if node is None:
        return None
    el = node.getparent()
    if el is not None and getattr(node, "is_tail", False):
        el = el.getparent()
    box: etree._Element | None = None
    below: etree._Element | None = None  # the element of the path right under `up`
    for level, up in enumerate([el, *el.iterancestors()] if el is not None else []):
        if level > POST_MAX_LEVELS or up.tag in {"body", "html", "main"}:
            return None
        cls = up.get("class") or ""
        if box is None and cls:
            box = up
        # The box may be the post itself: Vanilla's "Message userContent", the text of the
        # opening post and of each comment, in <br><br> runs with no wrapper of its own.
        if box is not None and _POST_WORD.search(cls):
            if next(up.iter("h1"), None) is not None:
                return None  # the article itself ("post type-post"), which holds the headline
            posts = [other for other in tree.iter(up.tag) if _same_kind(other, up)]
            if len(posts) >= MIN_POSTS:
                return posts, up, box
            if below is not None and below is not box:
                units = [child for child in up if _same_kind(child, below)]
                if len(units) >= MIN_POSTS:
                    return units, below, box
        below = up
    return None


_SPACED_TEXT_HOLDING = etree.XPath("//text()[contains(normalize-space(.), $piece)]")
_QUOTE_CLASS = re.compile("quote|citation", re.IGNORECASE)


def _quote_box(el: etree._Element) -> bool:
    """A quote of an earlier post in a box of its own ("bbcode_quote", "ipsQuote"), or a
    furniture box (a signature)."""
    return bool(_QUOTE_CLASS.search(el.get("class") or "")) or furniture_box(el)


# A video's label in a live page's entry ("Watch: Kim greets Putin at the airport (1:42)").
_VIDEO_LABEL = re.compile(r"\(\d{1,2}:\d{2}\)$")


def text_runs(box: etree._Element) -> list[Block]:
    """A box's text as blocks, read as a post's (`_runs`): quotes, media and furniture out."""
    return _runs(box)


def _runs(box: etree._Element) -> list[Block]:
    """The text of a post's box as blocks: its block children each (a heading a heading), and
    its loose text cut at blank lines (<br><br>); quotes of earlier posts, media with their
    captions and furniture boxes left out."""
    runs: list[Block] = []
    pieces: list[str] = []

    def flush() -> None:
        text = " ".join("".join(pieces).split())
        pieces.clear()
        if text and not _VIDEO_LABEL.search(text):
            runs.append(("p", text))

    pieces.append(box.text or "")
    children = [child for child in box if isinstance(child.tag, str)]
    for i, child in enumerate(children):
        if child.tag in _QUOTE_TAGS or child.tag in _NOT_TEXT or _quote_box(child):
            flush()
        elif child.tag in _RUN_BREAKS:
            flush()
            if child.tag in {"ul", "ol"}:
                runs.extend(("item", t) for li in child if li.tag == "li" and (t := page_text(li)))
            elif (
                next(child.iterdescendants(*_RUN_BREAKS, *_NOT_TEXT, *_QUOTE_TAGS), None)
                is not None
            ):
                runs.extend(_runs(child))
            elif (text := page_text(child)) and not _VIDEO_LABEL.search(text):
                runs.append(("head" if child.tag[0] == "h" else "p", text))
        elif child.tag == "br":
            after = children[i + 1] if i + 1 < len(children) else None
            if after is not None and after.tag == "br" and not (child.tail or "").strip():
                flush()
            else:
                pieces.append(" ")
        else:
            pieces.append(child.text_content())
        pieces.append(child.tail or "")
    flush()
    return runs
