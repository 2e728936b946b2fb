"""Near-duplicate grouping of syndicated stories (the same wire story on several outlets).

Outlets give an agency story their own headline, an intro or outro, cut its last paragraphs or
print only the first two. So two copies are compared by *containment*: the share of the shorter
text's word 3-shingles that the longer one also has, not by Jaccard over both (a two-paragraph
copy of a six-paragraph story has a Jaccard of 0.3 but a containment near 1). Different stories
on the same subject share names, places and a background sentence now and then, but few runs of
three words: on the labelled set (benchmarks/syndication_eval) copies stay above 0.49 and
different stories below 0.34, so the threshold sits between them. At least `MIN_SHARED` shingles
must be shared too, so that one common sentence never makes a short paragraph a copy.

Each text is kept as a bottom-k sketch: the `SKETCH_SIZE` smallest 64-bit hashes of its shingles
and how many shingles it has (exact for texts up to that size). Below the smaller of two
sketches' largest hashes both sketches hold every shingle of their text, so the shingles the two
texts share there are counted exactly and scaled to the whole text. Candidates come from an
inverted index of each story's `POSTED` smallest hashes. Pure Python and hashlib: no numpy.
"""

from __future__ import annotations

import hashlib
import re
import struct
from array import array
from dataclasses import dataclass
from datetime import datetime

from monitor.extract.text import normalise
from monitor.volatile import mask_volatile

SHINGLE_WORDS = 3
SKETCH_SIZE = 256
POSTED = 64  # smallest hashes of each story in the lookup index
# A hash posted by more stories than this is an outlet's boilerplate ("Mehr zum Thema ..."), not
# a story's: looking it up would compare a new story with every story of that outlet.
COMMON = 100
DEFAULT_THRESHOLD = 0.42  # containment; tuned on the tune half of the labelled set
MIN_SHARED = 10  # shingles two copies share at least (about one sentence)
_MAGIC = b"SK1"  # stored sketches start with it; anything else is from an older release
_HEAD = struct.Struct("<3sI")
_TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Sketch:
    """The smallest hashes of a text's shingles (ascending) and how many shingles it has."""

    hashes: array[int]
    size: int

    @property
    def complete(self) -> bool:
        """Whether the sketch holds every shingle of its text."""
        return len(self.hashes) >= self.size

    def shared(self, other: Sketch) -> tuple[float, float]:
        """(containment of the shorter text in the longer, estimated shingles in common)."""
        bound = min(
            self.hashes[-1] if not self.complete else 1 << 64,
            other.hashes[-1] if not other.complete else 1 << 64,
        )
        mine = {h for h in self.hashes if h <= bound}
        theirs = {h for h in other.hashes if h <= bound}
        if not mine or not theirs:
            return 0.0, 0.0
        common = len(mine & theirs)
        # Below `bound` both sets are complete: scale the exact count to the whole texts.
        smaller = min(len(mine), len(theirs))
        whole = min(self.size, other.size)
        return common / smaller, common * whole / smaller


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[str]:
    """Word n-grams of the normalised, volatile-masked text (all words as one if fewer)."""
    words = _TOKEN.findall(mask_volatile(normalise(text)).replace("{v}", " "))
    if not words:
        return set()
    if len(words) < size:
        return {" ".join(words)}
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def _hash(gram: str) -> int:
    # Stable across processes and machines (Python's own hash() of a str is salted per run).
    return int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest(), "little")


def signature(text: str, k: int = SKETCH_SIZE) -> Sketch | None:
    """The sketch of a text, or None when it has no words."""
    grams = shingles(text)
    if not grams:
        return None
    return Sketch(array("Q", sorted(map(_hash, grams))[:k]), len(grams))


def to_bytes(sig: Sketch) -> bytes:
    """Serialise a sketch (for the store), little-endian so it reads back on any machine."""
    values = array("Q", sig.hashes)
    if values.itemsize != 8:  # pragma: no cover - "Q" is 8 bytes on every supported platform
        raise ValueError("unsigned 64-bit arrays are needed")
    if struct.pack("=H", 1) != struct.pack("<H", 1):  # pragma: no cover - big-endian hosts
        values.byteswap()
    return _HEAD.pack(_MAGIC, sig.size) + values.tobytes()


def minhash_bytes(text: str) -> bytes:
    """Serialised sketch of a text; b"" when it has no words."""
    sig = signature(text)
    return to_bytes(sig) if sig is not None else b""


def from_bytes(data: bytes) -> Sketch:
    """The sketch stored by ``to_bytes``; ValueError for anything else (an older release's
    MinHash: the caller signs the stored text again)."""
    if len(data) < _HEAD.size or data[:3] != _MAGIC or (len(data) - _HEAD.size) % 8:
        raise ValueError("not a story sketch of this release")
    _, size = _HEAD.unpack_from(data)
    values = array("Q")
    values.frombytes(data[_HEAD.size :])
    if struct.pack("=H", 1) != struct.pack("<H", 1):  # pragma: no cover - big-endian hosts
        values.byteswap()
    if not values or size < len(values):
        raise ValueError("damaged story sketch")
    return Sketch(values, size)


def same_story(a: Sketch, b: Sketch, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Whether two sketches are copies of one story."""
    containment, common = a.shared(b)
    return containment >= threshold and common >= MIN_SHARED


def source_of(key: str) -> str:
    """The source part of an index key ("source\\x00passage"); the whole key without one."""
    return key.split("\x00", 1)[0]


class StoryIndex:
    """Remembers stories and tells, for each new one, which earlier story it repeats.

    Keys are "source\\x00passage": a story is never a copy of one from its own source (an
    outlet's own stories share its boilerplate, not their facts). Groups are anchored on their
    first story: if B repeats A and C repeats B, both B and C report A.

    Stories added with a time can be forgotten once older than a window (`forget_before`), so a
    long-running poller holds days of stories, not months; with a `limit`, the oldest stories
    also go once there are more than that many.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, limit: int | None = None) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.limit = limit
        self.threshold = threshold
        self._signatures: dict[str, Sketch] = {}
        self._posted: dict[int, list[str]] = {}  # hash -> keys whose smallest hashes hold it
        self._group: dict[str, str] = {}
        self._order: dict[str, int] = {}
        self._next = 0  # arrival number of the next story (ties go to the earliest)
        self._added: dict[str, datetime] = {}  # key -> when, in order of arrival

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, key: object) -> bool:
        return key in self._signatures

    def add(self, key: str, text: str) -> str | None:
        """Index a story; return the key of the earlier story it nearly duplicates, or None."""
        sig = signature(text)
        if sig is None:
            return None
        return self.add_signature(key, sig)

    def add_bytes(self, key: str, data: bytes, at: datetime | None = None) -> str | None:
        """Like ``add`` for a sketch stored with ``to_bytes`` (rebuilding at start-up)."""
        return self.add_signature(key, from_bytes(data), at)

    def add_signature(self, key: str, sig: Sketch, at: datetime | None = None) -> str | None:
        """Like ``add`` for a ready sketch; `at` (when the story was seen) lets
        `forget_before` drop it later."""
        if key in self._signatures:
            group = self._group[key]
            return None if group == key else group
        best = self.nearest(sig, source_of(key))
        self._signatures[key] = sig
        for h in sig.hashes[:POSTED]:
            self._posted.setdefault(h, []).append(key)
        self._order[key] = self._next
        self._next += 1
        if at is not None:
            self._added[key] = at
        root = self._group.get(best, best) if best is not None else key
        self._group[key] = root
        if self.limit is not None:
            while len(self._signatures) > self.limit:
                self.remove(next(iter(self._signatures)))  # dicts keep arrival order
        return None if root == key else root

    def remove(self, key: str) -> None:
        """Forget a story. Stories grouped under it keep its key as their group's name."""
        sig = self._signatures.pop(key, None)
        if sig is None:
            return
        for h in sig.hashes[:POSTED]:
            keys = self._posted[h]
            keys.remove(key)
            if not keys:
                del self._posted[h]
        del self._group[key], self._order[key]
        self._added.pop(key, None)

    def forget_before(self, cutoff: datetime) -> list[str]:
        """Forget the stories added with a time before `cutoff`; return their keys.

        Stories arrive in time order (polls go forward), so this stops at the first one that is
        recent enough instead of looking at every story.
        """
        old = []
        for key, at in self._added.items():
            if at >= cutoff:
                break
            old.append(key)
        for key in old:
            self.remove(key)
        return old

    def nearest(self, sig: Sketch, source: str | None = None) -> str | None:
        """Key of the indexed story (from another source than `source`) that `sig` copies most
        closely, or None (earliest on ties)."""
        candidates: set[str] = set()
        for h in sig.hashes:
            keys = self._posted.get(h, ())
            if len(keys) <= COMMON:
                candidates.update(keys)
        best: str | None = None
        best_score = -1.0
        for candidate in candidates:
            if source is not None and source_of(candidate) == source:
                continue
            score, common = sig.shared(self._signatures[candidate])
            if score < self.threshold or common < MIN_SHARED:
                continue
            if score > best_score or (
                score == best_score and best is not None
                and self._order[candidate] < self._order[best]
            ):  # fmt: skip
                best, best_score = candidate, score
        return best

    def similarity(self, a: str, b: str) -> float:
        """Estimated containment of the shorter of two indexed stories in the longer."""
        return self._signatures[a].shared(self._signatures[b])[0]
