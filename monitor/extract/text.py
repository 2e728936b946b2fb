"""Plain-text helpers: HTML to text, normalisation, fingerprints (with the volatile parts that
`monitor.volatile` masks), PDF de-hyphenation and paragraph splitting. Language detection is in
`monitor.extract.language`.

All functions are pure: text in, text (or a small value) out.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from monitor.extract.language import (
    LATIN1_FOLD,
    LATIN1_WORD_BYTES,
    detect_language,
    detect_language_scored,
    score_language,
)
from monitor.volatile import canonical_only_volatile, is_latin1, mask_lowered, mask_volatile

if TYPE_CHECKING:
    from lxml import etree

    from monitor.patterns import IgnorePattern

# --------------------------------------------------------------------------------------------
# HTML -> text
# --------------------------------------------------------------------------------------------

# Elements whose content is never readable text (code, media, form controls, document head).
_SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "head", "title", "iframe", "frame",
        "frameset", "object", "embed", "applet", "svg", "math", "canvas", "select", "option",
        "button", "input", "textarea", "map", "audio", "video", "source", "track", "dialog",
    }
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd",
        "details", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li",
        "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot",
        "thead", "tr", "ul",
    }
)  # fmt: skip
_CELL_TAGS = frozenset({"td", "th"})
_VOID_TAGS = frozenset({"input", "source", "track", "embed"})

_BLOCK = "\x00B\x00"  # marker for a block boundary while collecting text
_LINE = "\x00L\x00"  # marker for <br>
# Characters that are invisible in a browser but break matching and hashing.
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff\u180e]")
# C0/C1 controls except tab and newline; some feeds and PDFs carry them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[^\S\n]+")


def _collect_text(root: etree._Element) -> list[str]:
    """Walk the tree without recursion (hostile input can nest deeply) and collect text."""
    chunks: list[str] = []
    # Each stack entry is (element, closing); closing entries emit the tail text.
    stack: list[tuple[etree._Element, bool]] = [(root, False)]
    while stack:
        el, closing = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.rsplit("}", 1)[-1].lower()
        if closing:
            if tag in _BLOCK_TAGS:
                chunks.append(_BLOCK)
            elif tag in _CELL_TAGS:
                chunks.append(" ")
            if el.tail:
                chunks.append(el.tail)
            continue
        # Comments and processing instructions have a non-string tag: keep only their tail.
        if not tag or tag in _SKIP_TAGS or el.get("hidden") is not None:
            if el.tail:
                chunks.append(el.tail)
            continue
        if tag == "br":
            chunks.append(_LINE)
            if el.tail:
                chunks.append(el.tail)
            continue
        if tag in _BLOCK_TAGS:
            chunks.append(_BLOCK)
        elif tag in _CELL_TAGS:
            chunks.append(" ")
        if el.text:
            chunks.append(el.text)
        stack.append((el, True))
        stack.extend((child, False) for child in reversed(el))
    return chunks


def _tidy_blocks(raw: str) -> str:
    blocks: list[str] = []
    for block in raw.split(_BLOCK):
        lines = []
        for line in block.replace("\n", " ").split(_LINE):
            # = _SPACES.sub(" ", line).strip() without newlines: re's \s is str.isspace().
            line = " ".join(line.split())
            if line:
                lines.append(line)
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def html_to_text(html: str) -> str:
    """Readable text of an HTML fragment or document.

    Scripts, styles and other non-text elements are dropped, entities are decoded exactly once
    (so ``&lt;script&gt;`` in the source becomes the *text* ``<script>``, never a tag), block
    elements become paragraphs separated by a blank line and whitespace is collapsed.
    """
    if not html or not html.strip():
        return ""
    html = _CONTROL.sub("", html)
    if "<" not in html and "&" not in html:
        return _tidy_blocks(_INVISIBLE.sub("", html))
    # Here, not at the top: seed documents in plain text and the commands that only read them
    # (check, sources) need this module but not the HTML parser.
    from lxml import etree
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True
    )
    try:
        root = lxml_html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return ""
    if any(entry.type_name == "ERR_RESOURCE_LIMIT" for entry in parser.error_log):
        # libxml2 stops building the tree past its depth limit and would lose the text below;
        # the event-based parser has no such limit.
        text = _StreamText.convert(html)
    else:
        text = "".join(_collect_text(root))
    return _tidy_blocks(_INVISIBLE.sub("", text))


class _StreamText(HTMLParser):
    """Event-based HTML to text for documents nested too deeply for libxml2."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping: list[str] = []

    @classmethod
    def convert(cls, html: str) -> str:
        parser = cls()
        parser.feed(html)
        parser.close()
        return "".join(parser.chunks)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS and tag not in _VOID_TAGS:
            self.skipping.append(tag)
        elif tag == "br":
            self.chunks.append(_LINE)
        elif tag in _BLOCK_TAGS:
            self.chunks.append(_BLOCK)
        elif tag in _CELL_TAGS:
            self.chunks.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()
        elif tag in _BLOCK_TAGS:
            self.chunks.append(_BLOCK)
        elif tag in _CELL_TAGS:
            self.chunks.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.chunks.append(data)


def clean_text(text: str) -> str:
    """Plain text with invisible characters removed and whitespace collapsed, paragraphs kept."""
    text = _INVISIBLE.sub("", _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))
    return "\n\n".join(split_paragraphs(text))


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_QUOTES = str.maketrans(
    {
        "„": '"', "“": '"', "”": '"', "‟": '"', "«": '"', "»": '"', "″": '"', "〝": '"',
        "〞": '"', "‚": "'", "‘": "'", "’": "'", "‛": "'", "‹": "'", "›": "'", "′": "'",
        "`": "'", "´": "'", "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-",
        "⁃": "-", "−": "-", "﹘": "-", "﹣": "-", "－": "-",
    }
)  # fmt: skip
# The same characters as a class: searching is far cheaper than translating every paragraph.
_QUOTE_CHARS = re.compile("[" + re.escape("".join(chr(c) for c in _QUOTES)) + "]")


# Every Unicode format character (category Cf: soft hyphen, zero-width, bidi marks, tags), as
# ranges; a test checks the class against unicodedata for every code point.
_FORMAT_CHARS = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"
)


def normalise(text: str) -> str:
    """Canonical form for matching and hashing.

    NFKC, casefolded, format characters (soft hyphen, zero-width, bidi marks) removed, quotes and
    dashes unified, all whitespace collapsed to single spaces.
    """
    if text.isascii():
        # Most paragraphs of English text: NFKC and casefold reduce to lower() here, and the
        # backtick is the only ASCII character in the quote table (str.translate with a dict
        # costs a lookup per character).
        return " ".join(text.lower().replace("`", "'").split())
    text = unicodedata.normalize("NFKC", text)
    # Casefolding can produce unnormalised sequences, hence the second NFKC.
    text = unicodedata.normalize("NFKC", text.casefold())
    if not is_latin1(text):
        text = _FORMAT_CHARS.sub("", text)
        if _QUOTE_CHARS.search(text):
            text = text.translate(_QUOTES)
    else:
        # Latin-1 holds one format character and three of the quotes ("´" is gone after
        # NFKC): cheaper to look for them than to scan with the classes.
        text = text.replace("\xad", "")
        if "«" in text or "»" in text or "`" in text:
            text = text.translate(_QUOTES)
    return " ".join(text.split())


def canonical(text: str, ignore: Sequence[IgnorePattern] = ()) -> str:
    """The form a paragraph is compared in: ignored parts removed, normalised, volatile masked."""
    for pattern in ignore:
        text = pattern.sub(" ", text)
    return mask_volatile(normalise(text))


def canonical_and_language(text: str) -> tuple[str, str, bool]:
    """``(canonical(text), *detect_language_scored(text))``, sharing the casefolding both do.

    For ASCII and for plain Latin-1 text (most paragraphs) one lowercased copy serves
    normalisation, masking and word counting; other text takes the two functions' own way.
    """
    if len(text) <= 5000:  # detect_language_scored looks at the first 5,000 characters
        try:
            raw = text.encode("latin-1")
        except UnicodeEncodeError:
            raw = b""
        # Most paragraphs: none of the slow characters and no whitespace but spaces, in one
        # pass; otherwise the two are told apart.
        plain = bool(raw) and len(raw.translate(None, _LATIN1_SLOW_OR_SPACES)) == len(raw)
        if plain or (raw and len(raw.translate(None, _LATIN1_SLOW)) == len(raw)):
            # normalise(text): its NFKC steps change nothing here (split() takes the no-break
            # space for a space, as NFKC would), and the folded text is lowercase Latin-1.
            # ASCII text takes this way too: its only quote is "`", its folding lower().
            if b"\xdf" in raw:  # "ß" casefolds to "ss", which no byte table does
                folded = text.casefold()
                data = folded.encode("latin-1")
            else:  # the same as text.casefold(), in one pass over bytes (a test checks)
                data = raw.translate(LATIN1_FOLD)
                folded = data.decode("latin-1")
            if b"`" in data or b"\xab" in data or b"\xbb" in data:  # quotes: ` « »
                norm = " ".join(folded.translate(_QUOTES).split())
            elif _collapsed(data, plain):
                norm = folded  # blocks mostly arrive with their whitespace collapsed
            else:
                norm = " ".join(folded.split())
            umlaut = b"\xe4" in data or b"\xf6" in data or b"\xfc" in data or b"\xdf" in raw
            words = data.translate(LATIN1_WORD_BYTES).decode("latin-1").split()
            return mask_lowered(norm, norm, latin1=True), *score_language(words, umlaut)
    return canonical(text), *detect_language_scored(text)


def _collapsed(data: bytes, spaces_only: bool = False) -> bool:
    """Whether Latin-1 bytes are already what ``" ".join(text.split())`` makes of them: no
    whitespace but single spaces between words. ``spaces_only``: the caller knows the bytes
    hold no whitespace but spaces."""
    return (
        b"  " not in data
        and data[:1] != b" "
        and data[-1:] != b" "
        and (spaces_only or len(data.translate(None, _LATIN1_OTHER_SPACES)) == len(data))
    )


# Latin-1 characters whose NFKC form differs (bar the no-break space) and the soft hyphen:
# Latin-1 text without them casefolds to Latin-1 text without them (a test checks this), so
# normalise() only needs to casefold and collapse whitespace.
_LATIN1_SLOW = bytes(
    code
    for code in range(0xA1, 0x100)
    if code == 0xAD or unicodedata.normalize("NFKC", chr(code)) != chr(code)
)
# The whitespace of Latin-1 (what str.split() splits at) other than the space.
_LATIN1_OTHER_SPACES = bytes(code for code in range(256) if chr(code).isspace() and code != 0x20)
_LATIN1_SLOW_OR_SPACES = _LATIN1_SLOW + _LATIN1_OTHER_SPACES


def only_volatile(text: str) -> bool:
    """True when nothing but timestamps, counters and punctuation remains after masking."""
    return canonical_only_volatile(canonical(text))


def canonical_fingerprint(canon: str) -> str:
    """`fingerprint` for a text already in canonical form."""
    return hashlib.blake2b(canon.encode("utf-8"), digest_size=16).hexdigest()


def fingerprint(text: str, ignore: Sequence[IgnorePattern] = ()) -> str:
    """Stable hex id of a paragraph: blake2b-128 of its masked, normalised text.

    ``ignore`` holds per-source patterns; their matches are removed before hashing.
    """
    return canonical_fingerprint(canonical(text, ignore))


def remove_ignored(text: str, ignore: Sequence[IgnorePattern]) -> str:
    """Text with every match of the per-source ignore patterns removed, whitespace tidied."""
    for pattern in ignore:
        text = pattern.sub(" ", text)
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip())


# --------------------------------------------------------------------------------------------
# Paragraphs and PDF text
# --------------------------------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of plain text, each on one line with whitespace collapsed.

    Blank lines separate paragraphs. Inside a block, short lines that run on without sentence
    punctuation are hard wraps and are joined; long lines, or lines that mostly end a sentence,
    are paragraphs of their own (text saved from a web page, one paragraph per line).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs: list[str] = []
    for chunk in _BLANK_LINE.split(text):
        lines = [" ".join(line.split()) for line in chunk.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            continue
        if len(lines) == 1 or not _hard_wrapped(lines):
            paragraphs.extend(lines)
        else:
            paragraphs.append(" ".join(lines))
    return paragraphs


def _hard_wrapped(lines: Sequence[str]) -> bool:
    """Whether a block's lines are one paragraph wrapped at a fixed width."""
    body = lines[:-1]
    width = max(len(line) for line in lines)
    mean = sum(len(line) for line in body) / len(body)
    ends = sum(bool(_SENTENCE_END.search(line)) for line in body)
    # Wrapped lines fill most of the width; a short line before a long one is a heading.
    even = all(len(line) >= 0.5 * width for line in body)
    return even and mean < 100 and ends < 0.6 * len(body)


# A URL ending in one of these was cut by wrapping; it continues on the next line.
_URL_BROKEN_END = frozenset("-_=&?%")
_URL_ONLY = re.compile(r"^(?:<?https?://\S+>?\s*)+$", re.IGNORECASE)
_URL_AT_END = re.compile(r"(https?://\S+)$", re.IGNORECASE)
_URL_CONTINUATION = re.compile(r"^[\w\-.~%/?#=&+:;@!$,*'()]+")
# "Sicherheits- und Verteidigungspartnerschaft": the hyphen stands for an omitted word part.
_SUSPENDED_NEXT = frozenset(
    {"und", "oder", "bzw.", "bzw", "sowie", "bis", "als", "wie", "noch", "respektive", "and", "or"}
)
# English prefixes that form real hyphenated compounds; only used for English text.
_EN_COMPOUND_LEFT = frozenset(
    {
        "well", "self", "non", "co", "ex", "anti", "pro", "long", "short", "high", "low", "all",
        "cross", "full", "half", "multi", "post", "pre", "re", "semi", "so", "twenty", "thirty",
        "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "one", "two", "three", "four",
        "five", "six", "seven", "eight", "nine", "ten", "north", "south", "east", "west", "mid",
    }
)  # fmt: skip
# Line ends that close a sentence: punctuation, optionally followed by closing quotes/brackets.
_SENTENCE_END = re.compile(r"[.!?][\"'»«“”’)\]]*$")
# Abbreviations and ordinals that end in a full stop without ending the sentence.
_NO_END = re.compile(
    r"(?:\b(?:z|u|d|o|s|v|vgl|bzw|ca|etc|dr|prof|nr|no|st|mr|mrs|ms|jr|sr|vs|bspw|evtl|ggf|inkl"
    r"|zzgl|usw|u\.a|z\.b|d\.h|i\.e|e\.g|jan|feb|aug|sept|okt|nov|dez|dec|oct|abs|art|bd|hrsg"
    r"|s\.o|u\.s|gen)\.|(?:^|\s)\d{1,2}\.)$",
    re.IGNORECASE,
)
_BULLETS = frozenset("•∎▪■●◦‣")
_PAGE_NUMBER = re.compile(
    r"^(?:-\s*)?\d{1,4}(?:\s*-)?$|^(?:seite|page)\s+\d+(?:\s*(?:/|of|von)\s*\d+)?$", re.IGNORECASE
)


def _furniture(lines: Sequence[str]) -> set[str]:
    """Short lines repeated across pages (running headers and footers) of PDF text."""
    counts: dict[str, int] = {}
    for line in lines:
        if line and len(line) <= 60 and not _URL_ONLY.match(line):
            counts[line] = counts.get(line, 0) + 1
    return {line for line, n in counts.items() if n >= 3}


def _join_hyphenated(left: str, right: str, english: bool) -> str:
    """Join a line ending in a hyphen with the next line."""
    url = _URL_AT_END.search(left)
    if url:
        return left + right
    word_start = right.split(maxsplit=1)[0] if right else ""
    if word_start.lower() in _SUSPENDED_NEXT:
        return f"{left} {right}"
    if right[:1].islower():
        stem = re.search(r"([^\W\d_]+)-$", left)
        if english and stem and stem.group(1).lower() in _EN_COMPOUND_LEFT:
            return left + right
        # German (and most English) line-end hyphens before a lowercase word are syllable breaks.
        return left[:-1] + right
    # Uppercase or digit after the hyphen: a real compound ("Nordkorea-Russland-Kooperation").
    return left + right


def _continues_url(left: str, right: str) -> bool:
    """Whether ``right`` is the rest of a URL that PDF wrapping broke at the end of ``left``."""
    url = _URL_AT_END.search(left)
    if not url or not right:
        return False
    head = _URL_CONTINUATION.match(right)
    if not head or head.end() < len(right.split(maxsplit=1)[0]):
        return False
    token = head.group(0)
    if url.group(1)[-1] in "-_=&?%":
        return True
    # After a slash, only a token that itself looks like a path continues the URL.
    return url.group(1).endswith("/") and bool(re.search(r"[/\-_.=?&%#]\w", token))


def dehyphenate(text: str) -> str:
    """Repair text extracted from a PDF.

    Words split at a line end are joined ("Truppen-/entsendung" -> "Truppenentsendung"; before an
    uppercase letter the hyphen stays: "Nordkorea-/Russland" -> "Nordkorea-Russland"), hard-wrapped
    lines are rejoined into paragraphs (a line that does not end a sentence continues on the next
    line), URLs broken by wrapping are rejoined, lines that only list URLs (link annotations) are
    moved behind the paragraph they interrupted, and repeated running headers, footers and page
    numbers are dropped. Paragraphs are separated by a blank line.
    """
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    raw_lines = [ln.strip() for ln in text.split("\n")]
    furniture = _furniture(raw_lines)
    english = detect_language(" ".join(raw_lines[:400])) == "en"

    paragraphs: list[str] = []
    current = ""
    pending_urls: list[str] = []

    def flush() -> None:
        nonlocal current
        if current:
            paragraphs.append(current)
        if pending_urls:
            paragraphs.append("\n".join(pending_urls))
            pending_urls.clear()
        current = ""

    for line in raw_lines:
        line = _INVISIBLE.sub("", line)
        if not line or line in furniture or _PAGE_NUMBER.match(line):
            continue
        line = " ".join(line.split())
        if (
            _URL_ONLY.match(line)
            and not (current and _continues_url(current, line))
            and line[-1] not in _URL_BROKEN_END
        ):
            if current:
                pending_urls.append(line)
            else:
                paragraphs.append(line)
            continue
        if not current:
            current = line
        elif _continues_url(current, line):
            current += line
        elif current.endswith("-") and len(current) > 1 and current[-2].isalpha():
            current = _join_hyphenated(current, line, english)
        elif current.endswith("-") and len(current) > 1 and current[-2].isdigit():
            current += line  # "Track-1.5-" + "Dialogen"
        elif line[0] in _BULLETS or (
            _SENTENCE_END.search(current) and not _NO_END.search(current) and not line[:1].islower()
        ):
            flush()
            current = line
        else:
            current = f"{current} {line}"
    flush()
    return "\n\n".join(paragraphs)
