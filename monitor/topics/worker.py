"""What a parser process runs to match (see `monitor.sandbox`): the compiled topics, installed
once per process, and the new passages of a poll -> the topics they match.

Matching reads text from the web, so it runs where it can be stopped, like extraction.
"""

from __future__ import annotations

import pickle

from monitor.extract.language import detect_language
from monitor.models import TopicMatch
from monitor.topics.matcher import Matcher, cap_text

# The compiled topics of this parser process, installed once by `install_matcher`.
_matcher: Matcher | None = None


def freeze_matcher(matcher: Matcher, *, for_workers: bool = False) -> bytes:
    """The compiled topics as bytes a parser process loads without compiling again.

    A Matcher pickles as its config, and compiling it again costs a second or more (the
    dictionaries are read for every word of every topic); its compiled state is about 200 KB
    and loads in milliseconds, which matters when a killed process is replaced.

    `for_workers`: without the topics' config, which only serves to pickle the matcher again
    (a parser process never does): its pydantic models would make every new process import
    pydantic and the config models to read it, 0.1–0.2 s of CPU each.
    """
    state = vars(matcher)
    if for_workers:
        state = {k: v for k, v in state.items() if k != "_config"}
    return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)


def install_matcher(frozen: bytes) -> None:
    """Setup of a parser process: the topics it matches with (see `freeze_matcher`)."""
    global _matcher
    matcher = Matcher.__new__(Matcher)
    vars(matcher).update(pickle.loads(frozen))
    _matcher = matcher


def match_passages(
    passages: list[tuple[str, str | None, str | None]]
    | list[tuple[str, str | None, str | None, bool]],
) -> list[tuple[str | None, list[TopicMatch], bool]]:
    """(text, title, language[, context]) of each new passage -> (its language, the topics it
    matches, whether its text was longer than the matcher reads: see
    `monitor.topics.MAX_MATCH_CHARS`). `context`: the title is the page's headline the passage
    shares with other paragraphs (see `Matcher.match`).

    The language is detected here when the source did not give one: that, too, reads text
    from the web.
    """
    matcher = _installed()
    out: list[tuple[str | None, list[TopicMatch], bool]] = []
    for text, title, language, *flags in passages:
        context = bool(flags and flags[0])
        text_cut = len(text) > matcher.max_chars
        if text_cut:  # the language is told by what is matched, not by a tail never read
            text = cap_text(text, matcher.max_chars)[0]
        language = language or detect_language(f"{title or ''} {text}")
        found = matcher.match(text, title=title, language=language, context=context)
        out.append((language, found, text_cut))
    return out


def _installed() -> Matcher:
    if _matcher is None:
        raise RuntimeError("no topics installed in this parser process")
    return _matcher


def match_text(
    text: str, title: str | None, explain: bool
) -> tuple[str | None, list[TopicMatch], dict[str, str] | None]:
    """`monitor match`: one text with the installed topics; the reasons too when asked."""
    matcher = _installed()
    language = detect_language(cap_text(text, matcher.max_chars)[0])
    found = matcher.match(text, title=title, language=language)
    reasons = matcher.explain(text, title=title, language=language) if explain else None
    return language, found, reasons
