"""What changed on a page: which removed paragraph a new one replaces, and the words that differ.

Novelty itself is decided by fingerprints (`monitor.detect.novelty`: a paragraph is new if its
source never had it); this module only explains an edit, e.g. a figure updated from 3,000 to
10,000 troops, against the page's paragraphs at its last poll (its snapshot).
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

from monitor.models import Passage

# Two paragraphs sharing at least this share of their words are one paragraph, edited.
EDIT_SIMILARITY = 0.6


def previous_version(text: str, removed: Sequence[str]) -> str | None:
    """The removed paragraph that `text` most likely replaces, or None if none is close."""
    words = text.split()
    best, best_ratio = None, EDIT_SIMILARITY
    for old in removed:
        matcher = SequenceMatcher(None, old.split(), words, autojunk=False)
        # quick_ratio is an upper bound of ratio: skip the exact computation when it cannot win.
        if matcher.quick_ratio() < best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio >= best_ratio:
            best, best_ratio = old, ratio
    return best


def page_snapshot(passages: Sequence[Passage]) -> list[str]:
    """What is kept of a page's poll to explain the edits of the next one: its paragraphs."""
    return [p.text for p in passages]


def previous_versions(
    fresh: Sequence[Passage], current: Sequence[str], snapshot: Sequence[str]
) -> list[str | None]:
    """For each new paragraph, the paragraph of the last snapshot it replaced (None if none):
    only paragraphs no longer on the page (`current`) can have been replaced."""
    still_there = set(current)
    removed = [t for t in snapshot if t not in still_there]
    if not removed:
        return [None] * len(fresh)
    return [previous_version(p.text, removed) for p in fresh]


def changed_words(old: str, new: str) -> list[tuple[str, str]]:
    """The edit as (removed words, inserted words) pairs, e.g. [("3,000", "10,000")]."""
    a, b = old.split(), new.split()
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append((" ".join(a[i1:i2]), " ".join(b[j1:j2])))
    return out
