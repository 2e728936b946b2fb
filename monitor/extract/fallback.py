"""The fallback when trafilatura finds no main text: a BeautifulSoup pass over the page minus
its obvious boilerplate (menus, banners, cookie notices, share bars...)."""

from __future__ import annotations

import re
from typing import Any

from monitor.extract.blocks import Block, BlockKind
from monitor.extract.text import split_paragraphs

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


def fallback_blocks(html: str) -> list[Block]:
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
