"""Seed documents analysts drop into ``seeds/``: their text, and the http(s) URLs they cite.

Supported: .txt, .md, .html/.htm and .pdf. Text extracted from a PDF (also a .txt that is
plainly a PDF dump, with words hyphenated at line ends) is repaired with ``dehyphenate``.
Every cited URL comes with the sentence around it, so an analyst can see why it is watched.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urljoin, urlsplit, urlunsplit

from monitor.extract.charset import decode, html_meta_charset
from monitor.extract.errors import ExtractError
from monitor.extract.pdf import pdf_link_targets, pdf_page_texts, pdf_text
from monitor.extract.text import dehyphenate, html_to_text, split_paragraphs

if TYPE_CHECKING:
    from lxml import etree

MAX_CONTEXT_CHARS = 300
MIN_CONTEXT_LETTERS = 12  # fewer letters: a bare link line; use the sentence before it
SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".pdf"})


class CitedUrl(NamedTuple):
    """A URL a document cites (fragment removed) and the sentence around the citation."""

    url: str
    context: str


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------

# A line-end hyphen followed, after optional blank lines, by a lowercase word: a PDF dump.
_PDF_HYPHEN_BREAK = re.compile(r"[^\W\d_]-[ \t]*\n(?:[ \t]*\n)*[ \t]*[a-zäöüß]")


def looks_like_pdf_text(text: str) -> bool:
    """True for text that was extracted from a PDF and still has its line-end hyphenation."""
    return len(_PDF_HYPHEN_BREAK.findall(text)) >= 3


def _read_text_file(path: Path) -> str:
    body = path.read_bytes()
    return decode(body, [("file", "utf-8")]).text.replace("\r\n", "\n").replace("\r", "\n")


def _plain_text(text: str) -> str:
    return dehyphenate(text) if looks_like_pdf_text(text) else "\n\n".join(split_paragraphs(text))


def read_document(path: Path) -> str:
    """Plain text of a seed document; paragraphs are separated by a blank line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return pdf_text(path)
    if suffix in {".html", ".htm"}:
        return _html_document(path.read_bytes())[0]
    if suffix in {".md", ".markdown"}:
        return _plain_text(_markdown(_read_text_file(path))[0])
    if suffix == ".txt":
        return _plain_text(_read_text_file(path))
    raise ExtractError(f"unsupported document type {suffix or '(no suffix)'}: {path.name}")


# --------------------------------------------------------------------------------------------
# URLs in plain text
# --------------------------------------------------------------------------------------------

# Stops at whitespace, quotes and brackets that never occur unescaped in a URL as people cite it.
# An optional bracketed IPv6 host first: a document citing http://[::ffff:10.0.0.1]/ must yield a
# (refused) source rather than slip past the gate unseen.
_URL = re.compile(r"https?://(?:\[[0-9a-f:.]+\])?[^\s<>\"'`{}|\\^\[\]«»“”„‘’]*", re.IGNORECASE)
_TRAILING = ".,;:!?'\"»«”’“)]}>*_"


def _without_trailing(raw: str) -> str:
    """A URL as matched in text, minus the sentence punctuation and brackets after it."""
    url = raw.strip().strip("<>")
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break  # a balanced parenthesis is part of the URL (Wikipedia style)
        url = url[:-1]
    return url


def clean_url(raw: str) -> str | None:
    """A cited URL without trailing sentence punctuation and fragment, or None if not http(s)."""
    url = _without_trailing(raw)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path, parts.query, ""))


def _text_urls(text: str) -> list[tuple[str, int]]:
    found = []
    for match in _URL.finditer(text):
        url = clean_url(match.group(0))
        if url:
            found.append((url, match.start()))
    return found


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------

_MD_INLINE = re.compile(
    r"(!?)\[([^\]\n]*)\]\(\s*<?([^\s()<>]+(?:\([^\s)]*\)[^\s()<>]*)*)>?"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
_MD_REF_DEF = re.compile(r"^[ \t]{0,3}\[([^\]\n]+)\]:[ \t]*<?(\S+?)>?(?:[ \t]+.*)?$", re.MULTILINE)
_MD_REF_USE = re.compile(r"\[([^\]\n]+)\](?:\[([^\]\n]*)\])?")
_MD_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>", re.IGNORECASE)


def _markdown(source: str) -> tuple[str, list[tuple[str, int]]]:
    """Plain text of Markdown with links replaced by their text, plus (url, offset) pairs."""
    refs = {m.group(1).strip().lower(): m.group(2) for m in _MD_REF_DEF.finditer(source)}
    source = _MD_REF_DEF.sub("", source)
    out: list[str] = []
    links: list[tuple[str, int]] = []
    length = 0
    pos = 0
    pattern = re.compile(f"{_MD_INLINE.pattern}|{_MD_AUTOLINK.pattern}|{_MD_REF_USE.pattern}", re.I)
    for match in pattern.finditer(source):
        chunk = source[pos : match.start()]
        out.append(chunk)
        length += len(chunk)
        if match.group(3):  # inline link or image
            label = "" if match.group(1) else match.group(2)
            target = match.group(3)
        elif match.group(4):  # <https://...>
            label, target = match.group(4), match.group(4)
        else:  # [text][ref], [ref][] or [ref]
            ref = (match.group(6) or match.group(5)).strip().lower()
            if ref not in refs:
                label, target = match.group(0), ""
            else:
                label, target = match.group(5), refs[ref]
        # An image's source is not a cited source.
        url = clean_url(target) if target and not match.group(1) else None
        if url:
            links.append((url, length))
        out.append(label)
        length += len(label)
        pos = match.end()
    out.append(source[pos:])
    text = "".join(out)
    text = re.sub(r"^[ \t]{0,3}#{1,6}[ \t]+", "", text, flags=re.MULTILINE)
    return text, links


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

_HTML_SKIP = frozenset(
    {"script", "style", "noscript", "template", "head", "nav", "header", "footer", "aside",
     "form", "button", "select", "svg", "iframe"}
)  # fmt: skip
_HTML_BLOCKS = frozenset(
    {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
     "blockquote", "pre", "table", "tr", "section", "article", "main", "figure", "figcaption",
     "address", "hr", "body", "br", "td", "th", "caption"}
)  # fmt: skip


def _html_document(body: bytes) -> tuple[str, list[tuple[str, int]]]:
    """Text of an HTML document (minus navigation, header and footer) with its link offsets."""
    # Here, not at the top: plain-text and Markdown seeds (and `check`, `sources`) need no
    # HTML parser.
    from lxml import etree
    from lxml import html as lxml_html

    text = decode(body, [("meta tag", html_meta_charset(body))]).text
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = lxml_html.document_fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return "", []
    base = next(iter(root.xpath("//base/@href")), None)
    chunks: list[str] = []
    links: list[tuple[str, int]] = []
    length = 0

    def emit(piece: str) -> None:
        nonlocal length
        chunks.append(piece)
        length += len(piece)

    stack: list[tuple[etree._Element, bool]] = [(root, False)]
    while stack:
        el, closing = stack.pop()
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if closing:
            if tag in _HTML_BLOCKS:
                emit("\n\n")
            if el.tail:
                emit(" ".join(el.tail.split(" ")))
            continue
        if not tag or tag in _HTML_SKIP:
            if el.tail:
                emit(el.tail)
            continue
        if tag in _HTML_BLOCKS:
            emit("\n\n")
        if tag == "a" and el.get("href"):
            href = el.get("href", "").strip()
            if base and not re.match(r"^[a-z][a-z0-9+.\-]*:", href, re.IGNORECASE):
                href = urljoin(str(base), href)
            url = clean_url(href)
            if url:
                links.append((url, length))
        if el.text:
            emit(el.text)
        stack.append((el, True))
        stack.extend((child, False) for child in reversed(el))
    raw = "".join(chunks)
    # Collapse whitespace while keeping the link offsets valid: map old offsets to new ones.
    return _collapse_with_offsets(raw, links)


def _collapse_with_offsets(
    raw: str, links: list[tuple[str, int]]
) -> tuple[str, list[tuple[str, int]]]:
    """Collapse whitespace (runs containing a newline become a paragraph break) and move the
    link offsets along with the text."""
    out: list[str] = []
    size = 0
    mapping: list[int] = []  # offset in the collapsed text for every offset in ``raw``
    gap = ""
    for ch in raw:
        mapping.append(size + (len(gap) if gap and out else 0))
        if ch == "\n":
            gap = "\n\n"
        elif ch.isspace():
            gap = gap or " "
        else:
            if gap and out:
                out.append(gap)
                size += len(gap)
            gap = ""
            out.append(ch)
            size += 1
    mapping.append(size)
    text = "".join(out)
    return text, [(url, min(mapping[pos], len(text))) for url, pos in links]


# --------------------------------------------------------------------------------------------
# Contexts
# --------------------------------------------------------------------------------------------

_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"'»«”’)\]]*\s+(?=[\"'„»«(\[]?[A-ZÄÖÜ0-9])")
_NO_BREAK_BEFORE = re.compile(
    r"(?:\b(?:z|u|d|o|s|v|vgl|bzw|ca|etc|dr|prof|nr|no|st|mr|mrs|ms|jr|sr|vs|bspw|evtl|ggf|inkl"
    r"|usw|u\.a|z\.b|d\.h|i\.e|e\.g|abs|art|hrsg|gen)\.|(?:^|\s)\d{1,2}\.|\b[A-Z]\.)$",
    re.IGNORECASE,
)


def _sentences(paragraph: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(paragraph):
        head = paragraph[start : match.start()].rstrip("\"'»«”’)]")
        if _NO_BREAK_BEFORE.search(head):
            continue
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(paragraph)))
    return spans


def _strip_urls(text: str, keep_host: bool = False) -> str:
    """The sentence without its URLs (or with each URL shortened to its host)."""

    def replace(match: re.Match[str]) -> str:
        url = _without_trailing(match.group(0))
        trailing = match.group(0)[len(url) :]
        if not keep_host:
            return f" {trailing}"
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
        return f" {host}{trailing}" if host else f" {trailing}"

    text = _URL.sub(replace, text)
    text = re.sub(r"\(\s*[,;:]?\s*\)|<\s*>|\[\s*\]", " ", text)
    text = re.sub(r"\s+([,.;:!?)])", r"\1", text)
    return " ".join(text.split())


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def _trim(text: str, centre: int) -> str:
    if len(text) <= MAX_CONTEXT_CHARS:
        return text
    half = MAX_CONTEXT_CHARS // 2
    start = max(0, min(centre - half, len(text) - MAX_CONTEXT_CHARS))
    end = start + MAX_CONTEXT_CHARS
    piece = text[start:end]
    if start > 0:
        piece = "…" + piece.split(" ", 1)[-1]
    if end < len(text):
        piece = piece.rsplit(" ", 1)[0] + "…"
    return piece


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for match in re.finditer(r"\n[ \t]*\n", text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def context_at(text: str, pos: int) -> str:
    """The sentence around offset ``pos``, URLs removed, at most ~300 characters.

    A URL standing alone (a list of link annotations, a bare reference line) takes the nearest
    preceding sentence that has words in it.
    """
    paragraphs = _paragraph_spans(text)
    index = next((i for i, (s, e) in enumerate(paragraphs) if s <= pos <= e), len(paragraphs) - 1)
    candidates: list[tuple[str, int]] = []  # (sentence, relative position of the citation)
    p_start, p_end = paragraphs[index]
    paragraph = text[p_start:p_end]
    sentences = _sentences(paragraph)
    rel = pos - p_start
    current = next((i for i, (s, e) in enumerate(sentences) if s <= rel <= e), len(sentences) - 1)
    for i in range(current, -1, -1):
        s, e = sentences[i]
        candidates.append((paragraph[s:e], rel - s if i == current else e - s))
    for j in range(index - 1, -1, -1):
        s0, e0 = paragraphs[j]
        para = text[s0:e0]
        for s, e in reversed(_sentences(para)):
            candidates.append((para[s:e], e - s))
        if len(candidates) > 40:
            break
    for sentence, centre in candidates:
        if _letters(_strip_urls(sentence)) >= MIN_CONTEXT_LETTERS:
            # URLs shortened to their host keep the sentence readable ("see example.org").
            cleaned = _strip_urls(sentence, keep_host=True)
            ratio = centre / max(1, len(sentence))
            return _trim(cleaned, int(ratio * len(cleaned)))
    return ""


# --------------------------------------------------------------------------------------------
# Public
# --------------------------------------------------------------------------------------------


def _dedupe(found: list[tuple[str, str]]) -> list[CitedUrl]:
    seen: set[str] = set()
    result: list[CitedUrl] = []
    for url, context in found:
        if url not in seen:
            seen.add(url)
            result.append(CitedUrl(url, context))
    return result


def _with_contexts(text: str, links: list[tuple[str, int]]) -> list[tuple[str, str]]:
    return [(url, context_at(text, pos)) for url, pos in sorted(links, key=lambda item: item[1])]


def cited_urls(path: Path) -> list[CitedUrl]:
    """Every http(s) URL a document cites, in order of appearance, each once, without fragment.

    Plain-text URLs (also in parentheses or angle brackets, or followed by punctuation),
    Markdown links, HTML ``<a href>`` outside navigation/header/footer, and PDF link annotations.
    Other schemes (javascript:, file:, mailto:, ...) are ignored.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in {".html", ".htm"}:
        text, links = _html_document(path.read_bytes())
        anchor_urls = {url for url, _ in links}
        links += [(u, p) for u, p in _text_urls(text) if u not in anchor_urls]
        return _dedupe(_with_contexts(text, links))
    if suffix in {".md", ".markdown"}:
        plain, links = _markdown(_read_text_file(path))
        covered = {url for url, _ in links}
        links += [(u, p) for u, p in _text_urls(plain) if u not in covered]
        return _dedupe(_with_contexts(plain, links))
    if suffix == ".pdf":
        return _pdf_citations(path)
    text = read_document(path)
    return _dedupe(_with_contexts(text, _text_urls(text)))


def _pdf_citations(path: Path) -> list[CitedUrl]:
    """Per page: URLs written in the text, then link annotations whose URL the text lacks."""
    pages = pdf_page_texts(path)
    annotations: dict[int, list[tuple[str, str]]] = {}
    for number, raw, anchor in pdf_link_targets(path):
        annotations.setdefault(number, []).append((raw, anchor))
    found: list[tuple[str, str]] = []
    for number, page_text in enumerate(pages):
        found.extend(_with_contexts(page_text, _text_urls(page_text)))
        on_page = {url for url, _ in _text_urls(page_text)}
        for raw, anchor in annotations.get(number, []):
            url = clean_url(raw)
            if url and url not in on_page:
                found.append((url, _anchor_context(page_text, anchor)))
    return _dedupe(found)


def _anchor_context(page_text: str, anchor: str) -> str:
    """The sentence of ``page_text`` that contains the link's anchor text, if it can be found."""
    anchor = " ".join(anchor.split())
    if len(anchor) >= 3:
        pos = page_text.find(anchor)
        if pos < 0:
            pos = " ".join(page_text.split()).find(anchor)
            page_text = " ".join(page_text.split()) if pos >= 0 else page_text
        if pos >= 0:
            return context_at(page_text, pos)
    return html_to_text(anchor)[:MAX_CONTEXT_CHARS] if anchor else ""
