"""Volatile parts of a text: what changes on every view of an unchanged page (timestamps,
relative times, engagement counters), masked so that it never makes a paragraph look new.

The rule behind every paragraph's fingerprint (extraction computes the fingerprints, detection
compares them) and every story signature. It sits below the stages, so that extract can use it
without importing detect (the stage after it). Keys already stored depend on it byte for byte:
a change here re-reports every page once, so it needs a migration of the stored keys.

All functions are pure: text in, text (or a flag) out.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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
# Last, the part of each pattern from the last digit of its day (or hour) on: every match
# holds one. These start with a digit, so re finds candidates by scanning for digits, where
# the patterns themselves (optional weekday first, a lookbehind) are tried at every position;
# and figures such as "3.000" or a year satisfy the cheaper conditions in most news text.
_I = re.IGNORECASE
_DIGIT_CONDITIONS: tuple[tuple[_Condition, ...], ...] = (
    ("-", re.compile(r"\d{4}-\d{2}-\d{2}")),  # 2026-11-22
    (_DOTTED, re.compile(r"\d\.\s?\d\d?\.\s?\d\d")),  # 22.11.2026
    ("/", re.compile(r"\d/\d\d?/\d\d")),  # 11/22/2026
    (  # 22. November 2026
        _YEAR,
        _MONTH_STEMS,
        re.compile(rf"\d(?:\.|st|nd|rd|th)?\s*(?:of\s+)?{_MONTH}\.?,?\s+\d{{4}}", _I),
    ),
    (_YEAR, _MONTH_STEMS_EN, re.compile(r"\d(?:st|nd|rd|th)?,?\s+\d{4}", _I)),  # Nov 22, 2026
    (  # Nov 22, 07:30
        _CLOCK,
        _MONTH_STEMS,
        re.compile(
            rf"\d(?:(?:st|nd|rd|th)?|\.?\s*{_MONTH}\.?),?\s+(?:at\s+|um\s+|-\s+)?\d{{1,2}}[:.]\d{{2}}",
            _I,
        ),
    ),
    (":", re.compile(r"\d:\d\d")),  # 07:30
    ("uhr", re.compile(r"\d\s*uhr", _I)),  # 7 Uhr
    ("m", re.compile(r"\d\s*(?:p\.?\s?m|a\.?\s?m)", _I)),  # 7 pm, 7am
)
_WORDY_CONDITIONS: tuple[tuple[_Condition, ...], ...] = (("ago",), ("vor",), (("now", "eben"),))
_GATED_DIGIT = tuple(zip(_DIGIT_CONDITIONS, _VOLATILE[:-3], strict=True))
_GATED_WORDY = tuple(zip(_WORDY_CONDITIONS, _VOLATILE[-3:], strict=True))
_GATED_ALL = (*_GATED_DIGIT, *_GATED_WORDY)
_AGO, _VOR, _NOW = _VOLATILE[-3:]
_COUNTER_HINT = re.compile(rf"(?:{_COUNTER_LABELS})", re.IGNORECASE)
# A substring of every counter label (lowercased), found by substring search instead of
# trying the label alternatives at every position.
_COUNTER_STEMS = (
    "comment", "repl", "share", "like", "view", "read", "react", "retweet", "repost", "upvote",
    "follower", "subscriber", "clap", "bookmark", "kommentar", "antworten", "aufrufe", "leser",
    "reaktionen", "abonnenten", "geteilt", "gelesen",
)  # fmt: skip
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
    if not is_latin1(text):
        return _DIGIT.search(text) is not None
    # Latin-1 has no decimal digits beyond 0-9, and memchr scans beat a regex scan.
    return any(map(text.__contains__, _ASCII_DIGITS))


def mask_volatile(text: str) -> str:
    """Replace timestamps, relative times and engagement counters with the marker "{v}".

    Figures that are part of the content ("3,000 troops", "10.000 Soldaten") are kept, so an
    edited figure still changes the fingerprint.
    """
    return mask_lowered(text, text.lower())


def mask_lowered(text: str, low: str, latin1: bool = False) -> str:
    """`mask_volatile`, given ``text.lower()`` (and whether the text is known to be Latin-1)."""
    holds: Callable[[tuple[_Condition, ...], str, str], bool]
    if not latin1 and not text.isascii() and any(trap in text for trap in _CASE_TRAPS):
        low = ""  # no substring condition can be trusted; "" makes them all hold
        holds = _holds_all_substrings
    else:
        holds = _holds
    # The stamp and run patterns below only ever match next to a marker (or a day word).
    masked = not low or _V in low
    # Most volatile parts contain a digit; paragraphs without one skip those patterns.
    if any(map(text.__contains__, _ASCII_DIGITS)) if latin1 else _has_digit(text):
        if low:
            counters = any(map(low.__contains__, _COUNTER_STEMS))
        else:  # a case trap: substrings cannot be trusted
            counters = _COUNTER_HINT.search(text) is not None
        for conditions, pattern in _GATED_ALL:
            if holds(conditions, text, low):
                text, n = pattern.subn(_V, text)
                masked = masked or n > 0
        if counters:
            for pattern in _COUNTERS:
                text, n = pattern.subn(_V, text)
                masked = masked or n > 0
    elif low:
        # _GATED_WORDY's substring conditions, written out: most paragraphs have no digit,
        # and none of these words, so this is all the masking they get.
        if "ago" in low:
            text, n = _AGO.subn(_V, text)
            masked = masked or n > 0
        if "vor" in low:
            text, n = _VOR.subn(_V, text)
            masked = masked or n > 0
        if "now" in low or "eben" in low:
            text, n = _NOW.subn(_V, text)
            masked = masked or n > 0
    else:  # a case trap: every pattern without a digit runs
        for _conditions, pattern in _GATED_WORDY:
            text, n = pattern.subn(_V, text)
            masked = True
    if masked:
        text = _DAY_BEFORE_STAMP.sub(_V, text)
        text = _STAMP.sub(_V, text)
        return _RUN.sub(_V, text)
    if "heute" in low or "gestern" in low or "today" in low or "yesterday" in low:
        text = _STAMP.sub(_V, text)
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
_FIRST_TOKENS = 6


def is_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def canonical_only_volatile(canon: str) -> bool:
    """True when nothing but timestamps, counters and punctuation remains of a text already in
    canonical form (normalised and masked)."""
    # Cheapest shortcut first: one of the first few space-separated tokens is such a word of
    # plain letters (see below); tokens hold no whitespace, so it is a whole word of `rest`.
    for token in canon.split(None, _FIRST_TOKENS)[:_FIRST_TOKENS]:
        if (
            len(token) > 1
            and _PLAIN_LETTERS.issuperset(token)
            and token.lower() not in _STAMP_TOKENS
        ):
            return False
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


# --- short lines whose figures change: learned per source (see monitor.detect.volatile_lines) ---

# A line longer than this, or with more words, is text, never a counter or ticker line.
SHORT_LINE_CHARS = 80
SHORT_LINE_WORDS = 6
# A figure with its sign and separators: "1,234", "15.234,12", "+0,45", "−3".
_FIGURE = re.compile(r"[+\-−±]?\d+(?:[.,'\u202f\u00a0 ]\d+)*")
_WORD = re.compile(r"[^\W\d_]+")
# A line that ends like a sentence ("Troops rose to 12,000.") is text: its figures are news. A
# full stop after a short word is an abbreviation ("Aktualisiert vor 3 Min."), not an end.
_SENTENCE_END = re.compile(r"(?:[!?…]|(?:\d|[^\W\d_]{4,})\.)[\"'”“»«)\]]*$")
_SENTENCE_WORDS = 3


def line_shape(text: str) -> str | None:
    """The shape of a short line holding a figure: lowercased, known volatile parts masked and
    every figure replaced by "#", so "1,234 readers" and "987 readers" share "# readers".

    None for anything else (longer text, a sentence, a line without a figure): only lines with
    a shape can ever be learned as volatile, so the figures of article text are always kept.
    """
    line = " ".join(text.split())
    if not _has_digit(line):
        return None
    if len(line) > SHORT_LINE_CHARS or len(_WORD.findall(line)) > SHORT_LINE_WORDS:
        # A longer line may still carry a counter set off at its end or start ("Most read on
        # sanctions · 1,303 readers"): its shape keeps the rest as it is, figures and all.
        masked = mask_counter_segments(line)
        if masked == line:
            return None
        return mask_volatile(masked).lower()
    masked = mask_volatile(line).lower()
    words = len(_WORD.findall(masked.replace(_V, " ")))
    if words > SHORT_LINE_WORDS:
        return None
    if words >= _SENTENCE_WORDS and _SENTENCE_END.search(line):
        return None
    shape = _FIGURE.sub("#", masked)
    # Without a figure left (only a masked timestamp), the line's key never changes anyway.
    return shape if "#" in shape else None


# A separator between parts of one line of site furniture: "Title · 1,234 readers".
COUNTER_WORDS = 3
_SEGMENTS = re.compile(r"(\s+[·•|]\s+)")


def mask_counter_segments(text: str) -> str:
    """`text` with the figures of a counter set off by a separator at its end masked as "#":
    "… lead paragraph. · 1,234 readers" -> "… lead paragraph. · # readers".

    A counter segment is the last part of the text, of at most COUNTER_WORDS words, with a
    figure and no sentence (what `line_shape` gives a shape to): that is where sites put reader,
    comment and entry counts. A figure anywhere else is left as it is. The cost: a short tail
    such as "· 12 killed" is masked too.
    """
    parts = _SEGMENTS.split(text)
    if len(parts) < 3:
        return text
    last = parts[-1]
    if len(_WORD.findall(last)) <= COUNTER_WORDS and line_shape(last) is not None:
        parts[-1] = _FIGURE.sub("#", last)
    return "".join(parts)
