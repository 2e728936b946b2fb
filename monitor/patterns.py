"""Regular expressions written by the user (a source's ``ignore``), run by RE2.

A backtracking engine (Python's ``re``) can take exponential time on a pattern such as
``(a+)+$``; RE2 takes time linear in the text for every pattern it accepts. It refuses what it
cannot run that way (backreferences, lookarounds, atomic groups), and `PatternRefused` says why.

Patterns keep the meaning they had under ``re``: before RE2 sees a pattern, Python's Unicode
shorthands (``\\d``, ``\\w``, ``\\s``, which RE2 reads as ASCII only) and a few escapes RE2 does
not know (``\\Z``, ``\\u`` with four hex digits, ``\\U`` with eight, ``\\N{name}``,
``{,n}``) are rewritten into RE2 syntax. ``\\b`` cannot be rewritten (RE2 has no
lookarounds): it counts only ASCII letters, digits and ``_`` as word characters.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import re2

# Python's \s for str patterns: the characters for which str.isspace() holds (tested to match).
_SPACES = (
    r"\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
    r"\x{205f}\x{3000}"
)
# Python's \d is the category Nd; \w is str.isalnum() plus "_", which is the categories L and N.
_CLASS_BODY = {"d": r"\p{Nd}", "w": r"\p{L}\p{N}_", "s": _SPACES}
_OUTSIDE = {
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "w": r"[\p{L}\p{N}_]",
    "W": r"[^\p{L}\p{N}_]",
    "s": f"[{_SPACES}]",
    "S": f"[^{_SPACES}]",
}
_HEX = "0123456789abcdefABCDEF"


class PatternRefused(ValueError):
    """A pattern RE2 cannot run (or cannot run with the meaning it has in Python); the message
    says why and what to write instead."""


class IgnorePattern(Protocol):
    """What extraction needs of a compiled pattern (RE2's and Python's both have it)."""

    def sub(self, repl: str, string: str, count: int = 0) -> str: ...


@functools.cache
def _options() -> re2.Options:
    # Made on first use, as RE2 itself is imported: a config without `ignore` patterns, and
    # the commands that read text without them, need neither.
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own copy of the error on stderr
    return options


def compile_pattern(pattern: str) -> IgnorePattern:
    """``pattern`` (Python syntax) compiled by RE2; `PatternRefused` when RE2 cannot run it."""
    import re2

    translated = _to_re2(pattern)
    try:
        compiled: IgnorePattern = re2.compile(translated, _options())
    except re2.error as exc:
        raise PatternRefused(_why(pattern, exc)) from None
    return compiled


def _escape_end(pattern: str, i: int) -> tuple[str, int]:
    """The escape that starts at pattern[i] (a backslash) rewritten for RE2, and where it ends."""
    c = pattern[i + 1] if i + 1 < len(pattern) else ""
    if c in "uU":
        width = 4 if c == "u" else 8
        digits = pattern[i + 2 : i + 2 + width]
        if len(digits) != width or any(d not in _HEX for d in digits):
            raise PatternRefused(f"\\{c} needs {width} hexadecimal digits")
        return f"\\x{{{digits}}}", i + 2 + width
    if c == "N":
        close = pattern.find("}", i + 2)
        if pattern[i + 2 : i + 3] != "{" or close < 0:
            raise PatternRefused("\\N needs a character name in braces, like \\N{EM DASH}")
        name = pattern[i + 3 : close]
        try:
            return f"\\x{{{ord(unicodedata.lookup(name)):x}}}", close + 1
        except KeyError:
            raise PatternRefused(f"\\N{{{name}}} names no character") from None
    if c == "C":
        raise PatternRefused("\\C (one byte of UTF-8) is not supported; use . for a character")
    return pattern[i : i + 2], i + 2


def _to_re2(pattern: str) -> str:
    """Python regex syntax -> RE2 syntax with the same meaning (see the module docstring)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            short = pattern[i + 1 : i + 2]
            if in_class and short in _CLASS_BODY:
                out.append(_CLASS_BODY[short])
            elif in_class and short == "D":
                out.append(r"\P{Nd}")
            elif in_class and short == "b":
                out.append(r"\x08")  # Python's [\b] is a backspace
            elif in_class and short in ("W", "S"):
                raise PatternRefused(
                    f"\\{short} inside [...] is not supported; write (?:\\{short}|[...]) instead"
                )
            elif not in_class and short in _OUTSIDE:
                out.append(_OUTSIDE[short])
            elif not in_class and short == "Z":
                out.append(r"\z")  # Python's \Z is the very end of the text, RE2's \z
            else:
                text, i = _escape_end(pattern, i)
                out.append(text)
                continue
            i += 2
        elif in_class:
            # Python reads "[" inside a class as itself; RE2 would start [:alpha:] there.
            out.append(r"\[" if c == "[" else c)
            in_class = c != "]"
            i += 1
        elif c == "[":
            # A "]" right after "[" or "[^" is a literal member of the class, not its end.
            start = i + 2 if pattern[i + 1 : i + 2] == "^" else i + 1
            end = start + 1 if pattern[start : start + 1] == "]" else start
            out.append(pattern[i:end].replace("]", r"\]"))
            in_class = True
            i = end
        elif c == "{" and pattern[i + 1 : i + 2] == ",":
            # Python reads {,n} as {0,n}; RE2 would match the braces literally.
            close = pattern.find("}", i)
            digits = pattern[i + 2 : close] if close > 0 else ""
            out.append(f"{{0,{digits}}}" if digits.isdigit() else c)
            i = close + 1 if digits.isdigit() else i + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _why(pattern: str, exc: re2.error) -> str:
    """RE2's complaint about ``pattern``, in words that say what to do."""
    raw = exc.args[0] if exc.args else ""
    message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    linear = "RE2, which matches in linear time, cannot run it"
    backreference = "invalid escape sequence: \\" in message and message[-1:].isdigit()
    if backreference or "(?P=" in pattern:
        return f"backreferences (\\1, (?P=name)) are not supported: {linear}; remove it"
    if "invalid perl operator: (?=" in message or "invalid perl operator: (?!" in message:
        return f"lookahead ((?=...), (?!...)) is not supported: {linear}; remove it"
    if "invalid perl operator: (?<" in message:
        return f"lookbehind ((?<=...), (?<!...)) is not supported: {linear}; remove it"
    possessive = "bad repetition operator" in message and message.endswith("+")
    if "invalid perl operator: (?>" in message or possessive:
        return f"atomic groups and possessive repeats are not supported: {linear}"
    if "invalid perl operator: (?" in message:
        return "unsupported inline flag or group; RE2 knows the flags i, m, s and (?P<name>...)"
    if "invalid repetition size" in message:
        return "a repeat count above 1000 is not supported; use * or + instead"
    if "pattern too large" in message:
        return "the pattern is too large for RE2; make it shorter or use fewer repeats"
    return f"not a regular expression RE2 can run ({message})"


def _without_verbose(pattern: str) -> str:
    """A re.VERBOSE pattern written without its layout: unescaped whitespace and comments go
    outside character classes; an escaped space is a space."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            escaped = pattern[i + 1 : i + 2]
            out.append(escaped if escaped.isspace() else pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            # A "]" right after "[" or "[^" is a member of the class, not its end.
            start = i + 2 if pattern[i + 1 : i + 2] == "^" else i + 1
            if pattern[start : start + 1] == "]":
                out.append(pattern[i : start + 1])
                i = start + 1
                continue
        elif c == "#":
            end = pattern.find("\n", i)
            i = n if end < 0 else end
            continue
        elif c.isspace():
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _without_word_bounds(pattern: str) -> str:
    """``pattern`` without its \\b and \\B outside classes: it matches wherever the pattern
    does, and more (RE2's \\b knows only ASCII word characters)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\":
            if in_class or pattern[i + 1 : i + 2] not in ("b", "B"):
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            start = i + 2 if pattern[i + 1 : i + 2] == "^" else i + 1
            if pattern[start : start + 1] == "]":
                out.append(pattern[i : start + 1])
                i = start + 1
                continue
        out.append(c)
        i += 1
    return "".join(out)


def screened_search(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    """Whether ``pattern`` (one of our own, Python syntax) occurs in a text, screened by RE2.

    A long alternation of phrases costs Python's engine a try of every phrase at every
    position (tens of microseconds on a short line, for each block of each page); RE2 runs a
    looser copy of it (no word bounds) in one pass, and only a text that copy matches, a few
    in a hundred, is searched by the pattern itself: the answer is always the pattern's. Where
    RE2 cannot take the pattern, the pattern alone is used."""
    import re2

    flags = "".join(
        letter
        for flag, letter in ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))
        if pattern.flags & flag
    )
    source = pattern.pattern
    if pattern.flags & re.VERBOSE:
        source = _without_verbose(source)
    try:
        loose = re2.compile(
            (f"(?{flags})" if flags else "") + _to_re2(_without_word_bounds(source)), _options()
        )
    except (re2.error, PatternRefused):
        return lambda text: pattern.search(text) is not None
    return lambda text: loose.search(text) is not None and pattern.search(text) is not None
