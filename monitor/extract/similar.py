"""Near-duplicate grouping of syndicated stories (the same wire story on several outlets).

MinHash over word 2-shingles of the normalised, volatile-masked text, with an LSH index for
sub-linear lookup. Short shingles keep a story recognisable through the small edits outlets make
(a changed word costs two shingles, not five); outlet boilerplate only adds a few shingles, and
stories that merely share a subject still overlap little (Jaccard < 0.1 in the tests).
LSH retrieves candidates at a lower threshold than the one confirmed with the MinHash estimate,
so borderline pairs are not lost to banding.
"""

from __future__ import annotations

import re
from datetime import datetime

from datasketch import LeanMinHash, MinHash, MinHashLSH

from monitor.extract.text import normalise
from monitor.volatile import mask_volatile

DEFAULT_NUM_PERM = 128
DEFAULT_THRESHOLD = 0.6
SHINGLE_WORDS = 2
_SEED = 1
_BYTEORDER = "<"  # fixed, so stored signatures read back the same on any machine
_TOKEN = re.compile(r"[^\W_]+")


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    """Word n-grams of the normalised text (all words as one shingle if there are fewer)."""
    words = _TOKEN.findall(mask_volatile(normalise(text)).replace("{v}", " "))
    if not words:
        return set()
    if len(words) < size:
        return {" ".join(words).encode("utf-8")}
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


def signature(text: str, num_perm: int = DEFAULT_NUM_PERM) -> LeanMinHash | None:
    """MinHash signature of a text, or None when it has no words."""
    grams = shingles(text)
    if not grams:
        return None
    minhash = MinHash(num_perm=num_perm, seed=_SEED)
    minhash.update_batch(sorted(grams))
    return LeanMinHash(minhash)


def to_bytes(sig: LeanMinHash) -> bytes:
    """Serialise a signature (for a SQLite BLOB)."""
    buf = bytearray(sig.bytesize(byteorder=_BYTEORDER))
    sig.serialize(buf, byteorder=_BYTEORDER)
    return bytes(buf)


def minhash_bytes(text: str, num_perm: int = DEFAULT_NUM_PERM) -> bytes:
    """Serialised signature of a text; b"" when it has no words."""
    sig = signature(text, num_perm)
    return to_bytes(sig) if sig is not None else b""


def from_bytes(data: bytes) -> LeanMinHash:
    """The signature stored by ``minhash_bytes``/``to_bytes``."""
    if not data:
        raise ValueError("empty signature")
    return LeanMinHash.deserialize(bytearray(data), byteorder=_BYTEORDER)


class StoryIndex:
    """Remembers stories and tells, for each new one, which earlier story it repeats.

    Groups are anchored on their first story: if B repeats A and C repeats B, both B and C
    report A, so one syndicated story forms one group.

    Stories added with a time can be forgotten once older than a window (`forget_before`), so a
    long-running poller holds days of stories, not months; with a `limit`, the oldest stories
    also go once there are more than that many (each costs about 12 KB with the LSH index).
    """

    def __init__(
        self,
        threshold: float = DEFAULT_THRESHOLD,
        num_perm: int = DEFAULT_NUM_PERM,
        limit: int | None = None,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.limit = limit
        self.threshold = threshold
        self.num_perm = num_perm
        # Candidate retrieval is deliberately looser than the confirmed threshold.
        self._lsh = MinHashLSH(threshold=max(0.2, threshold - 0.2), num_perm=num_perm)
        self._signatures: dict[str, LeanMinHash] = {}
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
        sig = signature(text, self.num_perm)
        if sig is None:
            return None
        return self.add_signature(key, sig)

    def add_bytes(self, key: str, data: bytes, at: datetime | None = None) -> str | None:
        """Like ``add`` for a signature stored with ``minhash_bytes`` (rebuilding at start-up)."""
        return self.add_signature(key, from_bytes(data), at)

    def add_signature(self, key: str, sig: LeanMinHash, at: datetime | None = None) -> str | None:
        """Like ``add`` for a ready signature; `at` (when the story was seen) lets
        `forget_before` drop it later."""
        if len(sig.hashvalues) != self.num_perm:
            raise ValueError(
                f"signature has {len(sig.hashvalues)} permutations, the index {self.num_perm}"
            )
        if key in self._signatures:
            group = self._group[key]
            return None if group == key else group
        best = self.nearest(sig)
        self._lsh.insert(key, sig)
        self._signatures[key] = sig
        self._order[key] = self._next
        self._next += 1
        if at is not None:
            self._added[key] = at
        root = self._group[best] if best is not None else key
        self._group[key] = root
        if self.limit is not None:
            while len(self._signatures) > self.limit:
                self.remove(next(iter(self._signatures)))  # dicts keep arrival order
        return None if root == key else root

    def remove(self, key: str) -> None:
        """Forget a story. Stories grouped under it keep its key as their group's name."""
        if self._signatures.pop(key, None) is None:
            return
        self._lsh.remove(key)
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

    def nearest(self, sig: LeanMinHash) -> str | None:
        """Key of the most similar indexed story at or above the threshold (earliest on ties)."""
        best: str | None = None
        best_score = -1.0
        for candidate in self._lsh.query(sig):
            score = sig.jaccard(self._signatures[candidate])
            if score < self.threshold:
                continue
            if score > best_score or (
                score == best_score and best is not None
                and self._order[candidate] < self._order[best]
            ):  # fmt: skip
                best, best_score = candidate, score
        return best

    def similarity(self, a: str, b: str) -> float:
        """Estimated Jaccard similarity of two indexed stories."""
        return float(self._signatures[a].jaccard(self._signatures[b]))
