"""What a parser process runs (see `monitor.sandbox`): fetched bytes -> `Document`, and new
passages -> the topics they match.

Kept apart from the pipeline so that a parser process imports only the extractors (feeds,
pages, text) and the matcher, not the store or the fetcher.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING

from monitor.extract.feeds import parse_feed
from monitor.extract.language import detect_language
from monitor.extract.pages import extract_file, extract_page
from monitor.extract.patterns import compile_pattern
from monitor.models import Document, TopicMatch
from monitor.topics.matcher import cap_text

if TYPE_CHECKING:
    from pathlib import Path

    from monitor.topics import Matcher

# The compiled topics of this parser process, installed once by `install_matcher`.
_matcher: Matcher | None = None


def extract_document(
    kind: str,
    body: bytes,
    url: str,
    content_type: str | None,
    max_items: int,
    ignore: tuple[str, ...],
    record_only: bool = False,
) -> Document:
    """Bytes of one response -> Document. A plain function of its arguments, so that it can
    run in a worker process. ``record_only``: a baseline poll, whose passages are recorded as
    seen and nothing else (see `extract_page` and `parse_feed`)."""
    if kind == "feed":
        return parse_feed(body, url, content_type, max_items=max_items, record_only=record_only)
    # Ignored text is removed from what is shown as well as from what counts as new.
    patterns = [compile_pattern(p) for p in ignore]  # RE2: linear time, whatever the pattern
    doc = extract_page(body, url, content_type, ignore=patterns, record_only=record_only)
    for p in doc.passages:
        p.title = p.title or doc.title
        p.link = p.link or url
        p.published = p.published or doc.published
        p.language = p.language or doc.language
    return doc


def extract_path(path: Path) -> Document:
    """A local file (`monitor extract FILE`) -> Document."""
    return extract_file(path)


def freeze_matcher(matcher: Matcher) -> bytes:
    """The compiled topics as bytes a parser process loads without compiling again.

    A Matcher pickles as its config, and compiling it again costs a second or more (the
    dictionaries are read for every word of every topic); its compiled state is about 200 KB
    and loads in milliseconds, which matters when a killed process is replaced.
    """
    return pickle.dumps(vars(matcher), protocol=pickle.HIGHEST_PROTOCOL)


def install_matcher(frozen: bytes) -> None:
    """Setup of a parser process: the topics it matches with (see `freeze_matcher`)."""
    from monitor.topics import Matcher

    global _matcher
    matcher = Matcher.__new__(Matcher)
    vars(matcher).update(pickle.loads(frozen))
    _matcher = matcher


def match_passages(
    passages: list[tuple[str, str | None, str | None]],
) -> list[tuple[str | None, list[TopicMatch], bool]]:
    """(text, title, language) of each new passage -> (its language, the topics it matches,
    whether its text was longer than the matcher reads: see `monitor.topics.MAX_MATCH_CHARS`).

    The language is detected here when the source did not give one: that, too, reads text
    from the web.
    """
    if _matcher is None:
        raise RuntimeError("no topics installed in this parser process")
    out: list[tuple[str | None, list[TopicMatch], bool]] = []
    for text, title, language in passages:
        text_cut = len(text) > _matcher.max_chars
        if text_cut:  # the language is told by what is matched, not by a tail never read
            text = cap_text(text, _matcher.max_chars)[0]
        language = language or detect_language(f"{title or ''} {text}")
        found = _matcher.match(text, title=title, language=language)
        out.append((language, found, text_cut))
    return out


def match_text(
    matcher: Matcher, text: str, title: str | None, explain: bool
) -> tuple[str | None, list[TopicMatch], dict[str, str] | None]:
    """`monitor match`: one text with the given topics; the reasons too when asked."""
    language = detect_language(cap_text(text, matcher.max_chars)[0])
    found = matcher.match(text, title=title, language=language)
    reasons = matcher.explain(text, title=title, language=language) if explain else None
    return language, found, reasons
