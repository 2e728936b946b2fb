"""What changed: which removed paragraph a new one replaces, the words that differ, and whether
a known feed entry's edit is material.

Novelty itself is decided by fingerprints (`monitor.detect.novelty`: a paragraph is new if its
source never had it); this module explains an edit, e.g. a figure updated from 3,000 to 10,000
troops, against the page's paragraphs at its last poll (its snapshot). A feed entry keeps its key
when it is edited, so its edits are found here instead: against the version kept of it, and only
material ones count (a number, a name, a negation, a sentence; not a typo, a timestamp or a
counter).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from monitor.models import Passage
from monitor.volatile import mask_counter_segments, mask_volatile

# Two paragraphs sharing at least this share of their words are one paragraph, edited.
EDIT_SIMILARITY = 0.6


def previous_version(text: str, removed: Sequence[str]) -> str | None:
    """The removed paragraph that `text` most likely replaces, or None if none is close."""
    return _closest(text.split(), [(old, old.split()) for old in removed])


def _closest(words: list[str], removed: Sequence[tuple[str, list[str]]]) -> str | None:
    """`previous_version` of a text split into `words`, the removed paragraphs split too."""
    best, best_ratio = None, EDIT_SIMILARITY
    # One matcher for the new text: SequenceMatcher indexes its second sequence, so each
    # removed paragraph is set as the first one instead of indexing the new text again.
    matcher = SequenceMatcher(None, (), words, autojunk=False)
    size = len(words)
    for old, old_words in removed:
        # Bounds of ratio, cheapest first (real_quick_ratio >= quick_ratio >= ratio): skip
        # the exact computation when it cannot win. The first is real_quick_ratio itself.
        total = len(old_words) + size
        if total and 2.0 * min(len(old_words), size) / total < best_ratio:
            continue
        matcher.set_seq1(old_words)
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
    split = [(old, old.split()) for old in removed]  # once, not once per new paragraph
    return [_closest(p.text.split(), split) for p in fresh]


def changed_words(old: str, new: str) -> list[tuple[str, str]]:
    """The edit as (removed words, inserted words) pairs, e.g. [("3,000", "10,000")]."""
    a, b = old.split(), new.split()
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append((" ".join(a[i1:i2]), " ".join(b[j1:j2])))
    return out


# --- feed entries: which edits are material ---------------------------------------------------

# A run of at least this many words added, removed or rewritten is a sentence (or clause) changed.
SENTENCE_WORDS = 5
# A name replaced by one this close (character similarity) is a spelling fix: Selensky/Selenskyj.
SPELLING_SIMILARITY = 0.75
# Words that turn a statement into its opposite (DE and EN, folded to lower case).
NEGATIONS = frozenset(
    {
        "not", "no", "never", "none", "nor", "neither", "nobody", "nothing", "without",
        "deny", "denies", "denied", "cannot",
        "nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals",
        "weder", "ohne", "nichts", "niemand", "dementiert", "dementierte", "bestreitet",
        "bestritt", "bestritten",
    }
)  # fmt: skip
_WORD = re.compile(r"\w+(?:[.,'’]\w+)*")
_THOUSANDS = re.compile(r"^\d{1,3}(?:[.,\u202f]\d{3})+$")
_SENTENCE_END = (".", "!", "?", ":", "…")


@dataclass(frozen=True, slots=True)
class Change:
    """One run of words that differs between two versions: removed `before`, inserted `after`
    (either may be empty), and whether it is material (see `is_material_run`)."""

    before: str
    after: str
    material: bool


def _tokens(words: Sequence[str]) -> list[str]:
    """Comparable tokens of some words: punctuation and case gone, 3.000 = 3,000 = 3000."""
    out = []
    for match in _WORD.finditer(" ".join(words)):
        token = match.group().casefold()
        if _THOUSANDS.match(token):
            token = re.sub(r"[.,\u202f]", "", token)
        out.append(token)
    return out


def _names(words: Sequence[str], before: str | None) -> list[str]:
    """Capitalised words that do not start a sentence: names (and, in German, nouns)."""
    out = []
    previous = before
    for word in words:
        stripped = word.strip("\"'“”„‚‘’«»()[]")
        starts = previous is None or previous.endswith(_SENTENCE_END)
        if stripped[:1].isupper() and not starts and not any(c.isdigit() for c in stripped):
            out.append(stripped.rstrip(".,;:!?…").casefold())
        previous = word
    return out


def _respelt(name: str, others: Sequence[str]) -> bool:
    return any(
        SequenceMatcher(None, name, other, autojunk=False).ratio() >= SPELLING_SIMILARITY
        for other in others
    )


def is_material_run(
    removed: Sequence[str], inserted: Sequence[str], before: tuple[str | None, str | None]
) -> bool:
    """Whether replacing the words `removed` by `inserted` changes what a text says.

    Material: a number changed, added or removed; a negation added or removed; a name replaced
    by another (not by a respelling of itself); or a run of at least SENTENCE_WORDS words on
    either side (a sentence added, removed or rewritten). Not material: case, punctuation,
    white space, number separators, the spelling of a word, a plain word swapped for another.
    `before` holds the word preceding the run in the old and in the new text (None at the
    start), which tells a name from a capitalised first word of a sentence.
    """
    a, b = _tokens(removed), _tokens(inserted)
    if a == b:
        return False  # case, punctuation, separators, white space
    if max(len(a), len(b)) >= SENTENCE_WORDS:
        return True
    numbers_a = sorted(t for t in a if any(c.isdigit() for c in t))
    numbers_b = sorted(t for t in b if any(c.isdigit() for c in t))
    if numbers_a != numbers_b:
        return True
    if sorted(t for t in a if t in NEGATIONS) != sorted(t for t in b if t in NEGATIONS):
        return True
    if any(t.endswith(("n't", "n’t")) for t in (*a, *b)):
        return True  # didn't, isn't: a negation added or removed with the run
    old_names, new_names = _names(removed, before[0]), _names(inserted, before[1])
    return any(not _respelt(n, old_names) for n in new_names) or any(
        not _respelt(n, new_names) for n in old_names
    )


def text_changes(old: str, new: str) -> list[Change]:
    """Every run of words that differs between `old` and `new`, with its materiality. Volatile
    parts (timestamps, counters, and a counter set off at the text's end or start such as
    "· 1,234 readers": `monitor.volatile`) are masked on both sides first, so a changed time or
    counter is no change at all."""
    a = mask_volatile(mask_counter_segments(old)).split()
    b = mask_volatile(mask_counter_segments(new)).split()
    out = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        context = (a[i1 - 1] if i1 else None, b[j1 - 1] if j1 else None)
        material = is_material_run(a[i1:i2], b[j1:j2], context)
        out.append(Change(" ".join(a[i1:i2]), " ".join(b[j1:j2]), material))
    return out


def material_changes(old: str, new: str) -> list[Change]:
    """The material runs of `text_changes`: what an analyst is told changed."""
    return [c for c in text_changes(old, new) if c.material]


def entry_edit(
    old: tuple[str, str], new: tuple[str, str]
) -> tuple[list[Change], list[Change]] | None:
    """A known feed entry's (title, text) against the version last kept of it: the material
    changes of its title and of its text, or None when nothing material changed (a typo fix,
    white space, a timestamp or a counter)."""
    if old == new:
        return None
    titles = material_changes(old[0], new[0]) if old[0] != new[0] else []
    texts = material_changes(old[1], new[1]) if old[1] != new[1] else []
    return (titles, texts) if titles or texts else None
