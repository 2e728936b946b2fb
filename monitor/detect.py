"""What changed on a page: which removed paragraph a new one replaces, and the words that differ.

Novelty itself is decided by fingerprints in the store (a paragraph is new if its source never had
it); this module only explains an edit, e.g. a figure updated from 3,000 to 10,000 troops.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

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


def changed_words(old: str, new: str) -> list[tuple[str, str]]:
    """The edit as (removed words, inserted words) pairs, e.g. [("3,000", "10,000")]."""
    a, b = old.split(), new.split()
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append((" ".join(a[i1:i2]), " ".join(b[j1:j2])))
    return out
