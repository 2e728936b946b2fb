"""Plain-text helpers: HTML to text, normalisation, volatile-part masking, fingerprints,
PDF de-hyphenation, paragraph splitting and DE/EN language detection.

All functions are pure: text in, text (or a small value) out.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from html.parser import HTMLParser
from itertools import repeat

from lxml import etree
from lxml import html as lxml_html

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
            line = _SPACES.sub(" ", line).strip()
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
    if not _is_latin1(text):
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


# --------------------------------------------------------------------------------------------
# Volatile parts
# --------------------------------------------------------------------------------------------

_MONTHS_EN = (
    r"january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_MONTHS_DE = (
    r"januar|jänner|februar|feber|märz|maerz|april|mai|juni|juli|august|september|oktober"
    r"|november|dezember|jan|feb|mär|mrz|apr|jun|jul|aug|sept|sep|okt|nov|dez"
)
_MONTH = rf"(?:{_MONTHS_DE}|{_MONTHS_EN})"
_WEEKDAY = (
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|montag|dienstag|mittwoch|donnerstag"
    r"|freitag|samstag|sonnabend|sonntag|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
    r"|mo|di|mi|do|fr|sa|so)\.?,?\s+"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_TIME_SUFFIX = r"(?:\s*(?:uhr|h|[ap]\.?\s?m\.?)(?![a-zäöü]))?"
_ZONE = r"(?:\s*\(?(?:utc|gmt|mez|mesz|cet|cest|est|edt|cst|cdt|pst|pdt|bst|kst|msk)\)?(?![a-z]))?"

_V = "{v}"

# Ordered: full timestamps before dates before times, so the longest form wins.
_VOLATILE: list[re.Pattern[str]] = [
    # ISO 8601 date, optionally with a time and an offset.
    re.compile(
        r"(?<!\d)\d{4}-\d{2}-\d{2}"
        r"(?:[t ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?(?!\d)",
        re.IGNORECASE,
    ),
    # 22.11.2026 / 22.11.26 (two dots, so 10.000 or 1.000.000 never match) and 11/22/2026.
    re.compile(
        rf"(?<![\d.])(?:{_WEEKDAY})?{_DAY}\.\s?(?:0?[1-9]|1[0-2])\.\s?(?:\d{{4}}|\d{{2}})(?![\d])",
        re.IGNORECASE,
    ),
    re.compile(r"(?<![\d/])\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})(?![\d/])"),
    # 22. November 2026 / 22 Nov. 2026 / 3rd of March 2026.
    re.compile(
        rf"(?<!\d)(?:{_WEEKDAY})?{_DAY}(?:\.|st|nd|rd|th)?\s*(?:of\s+)?{_MONTH}\.?,?\s+\d{{4}}(?!\d)",
        re.IGNORECASE,
    ),
    # Nov 22, 2026 / Sunday, November 22nd 2026.
    re.compile(
        rf"(?<![a-zäöü])(?:{_WEEKDAY})?(?:{_MONTHS_EN})\.?\s+{_DAY}(?:st|nd|rd|th)?,?\s+\d{{4}}"
        r"(?!\d)",
        re.IGNORECASE,
    ),
    # Day and month without a year, only where a time follows (a timestamp, not a content date).
    re.compile(
        rf"(?<![a-zäöü\d])(?:{_WEEKDAY})?(?:(?:{_MONTHS_EN})\.?\s+{_DAY}(?:st|nd|rd|th)?"
        rf"|{_DAY}\.?\s*{_MONTH}\.?)(?=,?\s+(?:at\s+|um\s+|-\s+)?\d{{1,2}}[:.]\d{{2}})",
        re.IGNORECASE,
    ),
    # 07:30, 7:30:15 pm, 07:30 Uhr, 07:30 MEZ.
    re.compile(rf"(?<![\d.:])\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?!\d|:\d){_TIME_SUFFIX}{_ZONE}", re.I),
    # 7.30 Uhr, 7 Uhr, 7 p.m., 7pm, 7am ("5 am" is left alone: German "am" is a preposition).
    re.compile(r"(?<![\d.,])\d{1,2}(?:\.\d{2})?\s*uhr(?![a-zäöü])", re.IGNORECASE),
    re.compile(
        r"(?<![\d.,])\d{1,2}\s*(?:p\.?\s?m\.?|a\.\s?m\.)(?![a-z])|(?<![\d.,])\d{1,2}am\b", re.I
    ),
    # Relative times.
    re.compile(
        r"(?<![\w.,])(?:(?:about|around|over|almost|nearly|less\s+than|more\s+than)\s+)?"
        r"(?:\d+|an?|one|a\s+few|few|several)\s*"
        r"(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|months?|mos?"
        r"|years?|yrs?)\s+ago\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\bvor\s+(?:(?:etwa|rund|über|mehr\s+als|knapp|wenigen)\s+)?(?:\d+|einer|einem|ein\s+paar|wenigen)"
        r"\s+(?:sek\.?|sekunden?|min\.?|minuten?|std\.?|stunden?|tag(?:en)?|wochen?)(?![a-zäöü])",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:just\s+now|gerade\s+eben)\b", re.IGNORECASE),
]

_NUMBER = r"(?:\d{1,3}(?:[.,\u202f ]\d{3})+|\d+(?:[.,]\d+)?)\s*(?:k|m|mio\.?|tsd\.?|tausend)?"
_COUNTER_LABELS = (
    r"comments?|replies|reply|shares?|likes?|views?|reads?|reactions?|retweets?|reposts?"
    r"|upvotes?|followers?|subscribers?|claps?|bookmarks?|kommentare?|antworten|aufrufe"
    r"|leser(?:innen)?|reaktionen|abonnenten|follower|mal\s+geteilt|mal\s+gelesen|geteilt"
)
_COUNTERS: list[re.Pattern[str]] = [
    re.compile(rf"(?<![\w.,]){_NUMBER}\s+(?:{_COUNTER_LABELS})(?![\wäöü])", re.IGNORECASE),
    re.compile(
        rf"(?<![\wäöü])(?:{_COUNTER_LABELS})\s*(?:[:(]\s*{_NUMBER}\)?|\s{_NUMBER}(?=\s*(?:$|[|·•,;)])))",
        re.IGNORECASE,
    ),
]
# Words that introduce a timestamp; masked only when a masked part or today/yesterday follows.
_STAMP_WORDS = (
    r"(?:zuletzt\s+)?aktualisiert(?:\s+(?:am|um))?|(?:last\s+)?updated(?:\s+(?:on|at))?"
    r"|(?:erstmals\s+)?veröffentlicht(?:\s+(?:am|um))?|published(?:\s+(?:on|at))?"
    r"|posted(?:\s+(?:on|at))?|edited|geändert(?:\s+am)?|stand"
)
_DAY_WORDS = r"(?:heute|gestern|vorgestern|today|yesterday)"
_DAY_BEFORE_STAMP = re.compile(
    rf"(?<![a-zäöü]){_DAY_WORDS}(?:\s*,|\s+(?:at|um))?\s*(?=\{{v\}})", re.IGNORECASE
)
_STAMP = re.compile(
    rf"(?<![a-zäöü])(?:{_STAMP_WORDS})\s*:?\s*(?:(?={{v}})|{_DAY_WORDS}(?![a-zäöü]))",
    re.IGNORECASE,
)
# Adjacent masked parts ("{v}, {v} · {v}") collapse into one so that a timestamp changing shape
# ("5 minutes ago" -> "yesterday, 7:30 pm") still hashes the same.
_RUN = re.compile(
    r"\{v\}(?:[\s,;|·•/()\-]*(?:(?:at|um|am|on)[\s,;|·•/()\-]*)?\{v\})+", re.IGNORECASE
)


_DIGIT = re.compile(r"\d")
_ASCII_DIGITS = "0123456789"
# Cheap necessary conditions, so that each pattern only scans text it could match: the scans
# dominated extraction time. A pattern runs only if all its conditions hold; a condition is a
# substring of the lowercased text, a tuple of substrings (any of them), or a pattern to search
# for. Earlier replacements only turn text into "{v}", so a condition that holds for the text at
# a pattern's turn held for the original. Substrings are checked in str.lower() form, which
# matches IGNORECASE except for "ı", "ſ" and "İ" (see _CASE_TRAPS).
_Condition = str | tuple[str, ...] | re.Pattern[str]
_YEAR = re.compile(r"\d{4}")
_CLOCK = re.compile(r"\d[:.]\d\d")
_DOTTED = re.compile(r"\d\.\s?\d")
# A substring of every month name and abbreviation in _MONTH (and of those in _MONTHS_EN).
_MONTH_STEMS_EN = (
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
)  # fmt: skip
_MONTH_STEMS = (*_MONTH_STEMS_EN, "jän", "mär", "maerz", "mrz", "mai", "okt", "dez")
_DIGIT_CONDITIONS: tuple[tuple[_Condition, ...], ...] = (
    ("-",),  # 2026-11-22
    (_DOTTED,),  # 22.11.2026
    ("/",),  # 11/22/2026
    (_YEAR, _MONTH_STEMS),  # 22. November 2026
    (_YEAR, _MONTH_STEMS_EN),  # Nov 22, 2026
    (_CLOCK, _MONTH_STEMS),  # Nov 22, 07:30
    (":",),  # 07:30
    ("uhr",),  # 7 Uhr
    ("m",),  # 7 pm, 7am
)
_WORDY_CONDITIONS: tuple[tuple[_Condition, ...], ...] = (("ago",), ("vor",), (("now", "eben"),))
_GATED_DIGIT = tuple(zip(_DIGIT_CONDITIONS, _VOLATILE[:-3], strict=True))
_GATED_WORDY = tuple(zip(_WORDY_CONDITIONS, _VOLATILE[-3:], strict=True))
_COUNTER_HINT = re.compile(rf"(?:{_COUNTER_LABELS})", re.IGNORECASE)
_DAY_WORD_HINTS = ("heute", "gestern", "today", "yesterday")
# Letters IGNORECASE matches with an ASCII letter although str.lower() does not give it; text
# holding one of them runs every pattern.
_CASE_TRAPS = "ıſİ"


def _holds(conditions: tuple[_Condition, ...], text: str, low: str) -> bool:
    for condition in conditions:
        if isinstance(condition, str):
            if condition not in low:
                return False
        elif isinstance(condition, tuple):
            if not any(part in low for part in condition):
                return False
        elif not condition.search(text):
            return False
    return True


def _has_digit(text: str) -> bool:
    """Whether the text holds a decimal digit (what \\d matches)."""
    if not _is_latin1(text):
        return _DIGIT.search(text) is not None
    # Latin-1 has no decimal digits beyond 0-9, and memchr scans beat a regex scan.
    return any(map(text.__contains__, _ASCII_DIGITS))


def mask_volatile(text: str) -> str:
    """Replace timestamps, relative times and engagement counters with the marker "{v}".

    Figures that are part of the content ("3,000 troops", "10.000 Soldaten") are kept, so an
    edited figure still changes the fingerprint.
    """
    return _mask(text, text.lower())


def _mask(text: str, low: str, latin1: bool = False) -> str:
    """`mask_volatile`, given ``text.lower()`` (and whether the text is known to be Latin-1)."""
    if not latin1 and not text.isascii() and any(trap in text for trap in _CASE_TRAPS):
        low = ""  # no substring condition can be trusted; "" makes them all hold
        holds = _holds_all_substrings
    else:
        holds = _holds
    # The stamp and run patterns below only ever match next to a marker (or a day word).
    masked = not low or _V in low
    # Most volatile parts contain a digit; paragraphs without one skip those patterns.
    if any(map(text.__contains__, _ASCII_DIGITS)) if latin1 else _has_digit(text):
        gated = (*_GATED_DIGIT, *_GATED_WORDY)
        counters = _COUNTER_HINT.search(text) is not None
    else:
        gated, counters = _GATED_WORDY, False
    for conditions, pattern in gated:
        if holds(conditions, text, low):
            text, n = pattern.subn(_V, text)
            masked = masked or n > 0
    if counters:
        for pattern in _COUNTERS:
            text, n = pattern.subn(_V, text)
            masked = masked or n > 0
    if masked:
        text = _DAY_BEFORE_STAMP.sub(_V, text)
    if masked or any(map(low.__contains__, _DAY_WORD_HINTS)):
        text = _STAMP.sub(_V, text)
    if masked:
        text = _RUN.sub(_V, text)
    return text


def _holds_all_substrings(conditions: tuple[_Condition, ...], text: str, _low: str) -> bool:
    """`_holds` with every substring condition taken as true (text with a case trap)."""
    return all(
        condition.search(text) is not None
        for condition in conditions
        if isinstance(condition, re.Pattern)
    )


_LETTERS = re.compile(r"[^\W\d_]{2,}")
_STAMP_ONLY = re.compile(
    rf"(?<![a-zäöü])(?:{_STAMP_WORDS}|am|um|at|on|uhr|von|by|by\s+the)(?![a-zäöü])", re.IGNORECASE
)
# Every word _STAMP_ONLY can consume (a superset is fine: it only makes the shortcut rarer).
_STAMP_TOKENS = frozenset(re.findall(r"[a-zäöü]{2,}", _STAMP_WORDS)) | {
    "am", "um", "at", "on", "uhr", "von", "by", "the",
}  # fmt: skip
_PLAIN_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzäöüABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜ")


def canonical(text: str, ignore: Sequence[re.Pattern[str]] = ()) -> str:
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
        if text.isascii():
            low = text.lower()
            norm = " ".join(low.replace("`", "'").split())  # = normalise(text)
            words = low.encode("ascii").translate(_LATIN1_WORD_BYTES).decode("ascii").split()
            return _mask(norm, norm, latin1=True), *_score_language(words, False)
        try:
            raw = text.encode("latin-1")
        except UnicodeEncodeError:
            raw = b""
        if raw and len(raw.translate(None, _LATIN1_SLOW)) == len(raw):
            # normalise(text): its NFKC steps change nothing here (split() takes the no-break
            # space for a space, as NFKC would), and the folded text is lowercase Latin-1.
            folded = text.casefold()
            quoted = "«" in folded or "»" in folded or "`" in folded
            norm = " ".join((folded.translate(_QUOTES) if quoted else folded).split())
            data = folded.encode("latin-1")
            umlaut = b"\xe4" in data or b"\xf6" in data or b"\xfc" in data or "ß" in text
            words = data.translate(_LATIN1_WORD_BYTES).decode("latin-1").split()
            return _mask(norm, norm, latin1=True), *_score_language(words, umlaut)
    return canonical(text), *detect_language_scored(text)


# Latin-1 characters whose NFKC form differs (bar the no-break space) and the soft hyphen:
# Latin-1 text without them casefolds to Latin-1 text without them (a test checks this), so
# normalise() only needs to casefold and collapse whitespace.
_LATIN1_SLOW = bytes(
    code
    for code in range(0xA1, 0x100)
    if code == 0xAD or unicodedata.normalize("NFKC", chr(code)) != chr(code)
)


def canonical_only_volatile(canon: str) -> bool:
    """`only_volatile` for a text already in canonical form."""
    rest = canon.replace(_V, " ")
    # Shortcut: a word of plain letters that no stamp pattern can consume survives the removal
    # below, so the text has content. _STAMP_ONLY's matches start and end at [a-zäöü] run
    # boundaries and consist of whole words, so such a word is never partly removed. Without
    # one (other letters, stamp words only), the exact route decides.
    for match in _LETTERS.finditer(rest):
        word = match.group()
        if word.lower() not in _STAMP_TOKENS and _PLAIN_LETTERS.issuperset(word):
            return False
    return not _LETTERS.search(_STAMP_ONLY.sub(" ", rest))


def only_volatile(text: str) -> bool:
    """True when nothing but timestamps, counters and punctuation remains after masking."""
    return canonical_only_volatile(canonical(text))


def canonical_fingerprint(canon: str) -> str:
    """`fingerprint` for a text already in canonical form."""
    return hashlib.blake2b(canon.encode("utf-8"), digest_size=16).hexdigest()


def fingerprint(text: str, ignore: Sequence[re.Pattern[str]] = ()) -> str:
    """Stable hex id of a paragraph: blake2b-128 of its masked, normalised text.

    ``ignore`` holds per-source patterns; their matches are removed before hashing.
    """
    return canonical_fingerprint(canonical(text, ignore))


def remove_ignored(text: str, ignore: Sequence[re.Pattern[str]]) -> str:
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


# --------------------------------------------------------------------------------------------
# Language
# --------------------------------------------------------------------------------------------

# Frequent function words that exist in only one of the two languages ("die", "war", "will",
# "also", "in", "an", "am" are ambiguous and left out).
_EN_LIST = """the and of to is are were that this these those with for on from by as it its has
    have had be been being would which who whom whose but or at they their them he
    she his we our you your said says after about than into over can could should
    there what when where why how not no more most other some such only just been
    also very before while because"""
_EN_WORDS = frozenset(_EN_LIST.split())
_DE_LIST = """der das und ist nicht sich mit dem den des ein eine einer eines einem einen auf
    für von zu zum zur im auch als wird werden wurde wurden sind hat haben hatte
    nach bei aus es sie er wir sein seine seiner ihre ihren ihrem noch wie über
    oder aber nur dass daß um durch gegen bereits schon kein keine keinen diese
    dieser dieses diesen mehr zwischen unter sowie soll sollen kann können ob seit
    vom beim damit jedoch wenn weil laut nun sei seien hatten"""
_DE_WORDS = frozenset(_DE_LIST.split())
_WORD = re.compile(r"[^\W\d_]+")
_LANG_SHIFT = 16  # a sample of 5,000 characters has fewer words than 2**16
_LANG_MASK = (1 << _LANG_SHIFT) - 1
_LANG_WEIGHT = {
    word: (word in _DE_WORDS) + ((word in _EN_WORDS) << _LANG_SHIFT)
    for word in _DE_WORDS | _EN_WORDS
}
# For Latin-1 text, words are found with a byte table instead of _WORD (a regex scan with a
# negated Unicode class is slow): every byte _WORD does not match becomes a space. Casefolding
# keeps Latin-1 letters letters and other characters as they are, so folding before or after
# splitting gives the same words (a test checks this for every Latin-1 character).
_LATIN1_WORD_BYTES = bytes(b if _WORD.fullmatch(chr(b)) else 0x20 for b in range(256))


def _is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _words_and_umlaut(sample: str) -> tuple[list[str], bool]:
    """(``[w.casefold() for w in _WORD.findall(sample)]``, whether ``[äöüß]`` occurs ignoring
    case), several times faster for Latin-1 text."""
    if sample.isascii():
        words = sample.lower().encode("ascii").translate(_LATIN1_WORD_BYTES).decode("ascii")
        return words.split(), False
    folded = sample.casefold()
    if not (_is_latin1(sample) and _is_latin1(folded)):
        words = [w.casefold() for w in _WORD.findall(sample)]
        return words, re.search(r"[äöüß]", sample, re.IGNORECASE) is not None
    data = folded.encode("latin-1")
    # Casefolding turns Ä, Ö, Ü into ä, ö, ü (bytes E4, F6, FC) but ß into "ss".
    umlaut = b"\xe4" in data or b"\xf6" in data or b"\xfc" in data or "ß" in sample
    return data.translate(_LATIN1_WORD_BYTES).decode("latin-1").split(), umlaut


@lru_cache(maxsize=1)
def _simplemma_ready() -> bool:
    try:
        import simplemma  # noqa: F401
    except ImportError:  # pragma: no cover - simplemma is a declared dependency
        return False
    return True


def detect_language_scored(text: str) -> tuple[str, bool]:
    """("de" | "en" | "other", confident) for a text of any length."""
    return _score_language(*_words_and_umlaut(text[:5000]))


def _score_language(words: list[str], umlaut: bool) -> tuple[str, bool]:
    """`detect_language_scored` from the sample's casefolded words and umlaut test."""
    if not words:
        return "other", False
    # One C-level pass counts both: German hits in the low bits, English ones shifted up.
    score = sum(map(_LANG_WEIGHT.get, words, repeat(0, len(words))))
    de, en = (score & _LANG_MASK) + umlaut, score >> _LANG_SHIFT
    best, hits, other = ("de", de, en) if de > en else ("en", en, de)
    if hits and hits >= 2 * other + 1 and hits / len(words) >= 0.06:
        return best, hits >= 2 or len(words) <= 6
    # No decisive function words (headlines, lists of names): ask the DE/EN dictionaries.
    if _simplemma_ready() and len(words) >= 2:
        import simplemma

        # The low-memory store: the same dictionaries, 35 MB instead of 135 MB per process.
        scores = dict(
            simplemma.langdetect(" ".join(words[:200]), lang=("de", "en"), low_memory=True)
        )
        de_s, en_s = scores.get("de", 0.0), scores.get("en", 0.0)
        if max(de_s, en_s) >= 0.5 and abs(de_s - en_s) >= 0.25:
            return ("de" if de_s > en_s else "en"), False
    return "other", False


def detect_language(text: str) -> str:
    """ "de", "en" or "other": function-word counts first, simplemma's dictionaries as tie-break."""
    return detect_language_scored(text)[0]


def language_from_tag(tag: str | None) -> str | None:
    """Map an HTML/feed language tag ("de-DE", "en_us") to "de", "en" or "other"."""
    if not tag or not tag.strip():
        return None
    primary = re.split(r"[-_\s]", tag.strip().lower(), maxsplit=1)[0]
    if primary in {"de", "deu", "ger", "german"}:
        return "de"
    if primary in {"en", "eng", "english"}:
        return "en"
    return "other"
