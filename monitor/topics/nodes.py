"""The compiled form of a topic query: a small tree evaluated against one analysed paragraph.

Every node answers three questions about a paragraph:

- `eval`: does it hold, and through which occurrences? `None` means it does not hold; a list
  (possibly empty, for `NOT x` or `lang:de`) means it holds. An occurrence is
  `(first, last, start, end, leaf)`: token positions, character offsets in the title or body,
  and the id of the leaf term that found it.
- `fired`: the part of the query that held, as query text (for the evidence).
- `why_not`: why it did not hold, in a few words (for `monitor match --explain`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import wraps
from typing import TypeVar, cast

# Body positions start here, title positions at 0, so that no phrase or NEAR spans the two.
BODY_BASE = 1_000_000

ANY, TITLE, BODY = 0, 1, 2
ZONE_NAMES = {TITLE: "title", BODY: "body"}

Occurrence = tuple[int, int, int, int, int]
Found = tuple[int, int, int, int]  # what the paragraph index holds per feature


class Doc:
    """One analysed paragraph (and its title) as the nodes see it."""

    __slots__ = ("body", "features", "language", "memo", "title")

    def __init__(
        self, title: str, body: str, features: dict[int, list[Found]], language: str | None
    ):
        self.title = title
        self.body = body
        self.features = features
        self.language = language
        # Alias lists are shared by many topics; each is evaluated once per paragraph.
        self.memo: dict[tuple[int, int], list[Occurrence] | None] = {}

    def surface(self, occ: Occurrence | Found) -> str:
        text = self.body if occ[0] >= BODY_BASE else self.title
        return " ".join(text[occ[2] : occ[3]].split())

    def found(self, fids: tuple[int, ...], zone: int) -> list[Found]:
        """Everything the paragraph holds for any of `fids`, within `zone`."""
        features = self.features
        if len(fids) == 1:
            out = features.get(fids[0], [])
        else:
            out = []
            for fid in fids:
                hits = features.get(fid)
                if hits:
                    out.extend(hits)
            if len(out) > 1:
                out = _outermost(out)
        if zone and out:
            body = zone == BODY
            out = [o for o in out if (o[0] >= BODY_BASE) == body]
        return out


def _outermost(found: list[Found]) -> list[Found]:
    """Drop hits inside another hit (Korea inside the joined Nord-Korea), and duplicates."""
    found.sort(key=lambda o: (o[0], -o[1]))
    kept = [found[0]]
    for o in found[1:]:
        last = kept[-1]
        if o[0] >= last[0] and o[1] <= last[1]:
            continue
        kept.append(o)
    return kept


def _gap(a: Occurrence | Found, b: Occurrence | Found) -> int:
    """Number of words between two occurrences (0 when adjacent or overlapping)."""
    if b[0] > a[1]:
        return b[0] - a[1] - 1
    if a[0] > b[1]:
        return a[0] - b[1] - 1
    return 0


def _within(xs: Sequence[Occurrence], ys: Sequence[Occurrence], n: int) -> list[bool]:
    """For each x: is some y at most `n` words away (`_gap(x, y) <= n`)?

    A y is out of reach of x when it starts more than n words after x ends, or ends more than
    n words before x starts; no y can be both. So x has a y in reach unless every y is one of
    the two, which two binary searches over the sorted starts and ends tell: O((|xs| + |ys|)
    log |ys|) instead of comparing every pair.
    """
    starts = sorted(y[0] for y in ys)
    ends = sorted(y[1] for y in ys)
    total = len(ys)
    reach = n + 1
    out = []
    for x in xs:
        after = total - bisect_right(starts, x[1] + reach)
        before = bisect_left(ends, x[0] - reach)
        out.append(after + before < total)
    return out


def _closest(xs: Sequence[Occurrence], ys: Sequence[Occurrence]) -> int | None:
    """The fewest words between an x and a y (`min _gap`), None when either is empty."""
    if not xs or not ys:
        return None
    starts = sorted(y[0] for y in ys)
    ends = sorted(y[1] for y in ys)
    total = len(ys)
    best: int | None = None
    for x in xs:
        # ys that start after x ends, and ys that end before x starts; any other overlaps x.
        after = bisect_right(starts, x[1])
        before = bisect_left(ends, x[0])
        if (total - after) + before < total:
            return 0
        if after < total:
            gap = starts[after] - x[1] - 1
            best = gap if best is None else min(best, gap)
        if before:
            gap = x[0] - ends[before - 1] - 1
            best = gap if best is None else min(best, gap)
    return best


Eval = TypeVar("Eval", bound=Callable[..., "list[Occurrence] | None"])


def _remembered(method: Eval) -> Eval:
    """Evaluate a node once per paragraph and zone: the evidence asks again for every level
    of the tree (`fired`, `held`), and would otherwise evaluate each subtree once per level.
    """

    @wraps(method)
    def run(self: Node, doc: Doc, zone: int = ANY) -> list[Occurrence] | None:
        key = (id(self), zone)
        memo = doc.memo
        if key in memo:
            return memo[key]
        got = memo[key] = method(self, doc, zone)
        return got

    # Same signature as `method` (wraps keeps its name and docstring); the cast says so.
    return cast(Eval, run)


def _paren(text: str, node: Node) -> str:
    return f"({text})" if isinstance(node, And | Or) and " " in text else text


@dataclass(eq=False)
class Node(ABC):
    """Base of all query nodes."""

    pos: int = field(default=0, kw_only=True)  # where it starts in the query, for messages
    # Set by `seal`: the node's trigger, checked against the paragraph's features before any
    # evaluation, so that a clause whose terms are all absent is rejected by one set operation.
    gate: frozenset[int] | None = field(default=None, kw_only=True, repr=False)

    def seal(self) -> None:
        """Compute the gates of this node and of every node below it (once, after compiling)."""
        for child in self.children():
            child.seal()
        self.gate = self.trigger()

    @abstractmethod
    def eval(self, doc: Doc, zone: int = ANY) -> list[Occurrence] | None:
        """Where this node holds in the paragraph (occurrences), or None where it does not."""

    @abstractmethod
    def render(self) -> str:
        """The node as query text, for evidence and explanations."""

    def fired(self, doc: Doc, zone: int = ANY) -> str:
        return self.render()

    def held(self, doc: Doc, zone: int = ANY) -> bool:
        """Whether the node holds, remembered per paragraph (evidence asks many times)."""
        key = (id(self), zone)
        memo = doc.memo
        if key not in memo:
            memo[key] = self.eval(doc, zone)
        return memo[key] is not None

    def why_not(self, doc: Doc, zone: int = ANY) -> list[str]:
        return [f"{self.render()} not found"]

    def children(self) -> tuple[Node, ...]:
        return ()

    def leaves(self) -> Iterator[Leaf]:
        for child in self.children():
            yield from child.leaves()

    def needs_term(self) -> bool:
        """True when the node can only hold if some term occurs (so it can be prefiltered)."""
        return True

    def trigger(self) -> frozenset[int] | None:
        """Features at least one of which must occur for the node to hold (None: no such set)."""
        return None


@dataclass(eq=False)
class Leaf(Node):
    """A term: a word, a prefix*, a number or an article; `fids` are its features."""

    label: str = ""
    fids: tuple[int, ...] = ()
    id: int = -1
    weight: float = 1.0

    def eval(self, doc: Doc, zone: int = ANY) -> list[Occurrence] | None:
        found = doc.found(self.fids, zone)
        if not found:
            return None
        i = self.id
        return [(o[0], o[1], o[2], o[3], i) for o in found]

    def render(self) -> str:
        return self.label

    def leaves(self) -> Iterator[Leaf]:
        yield self

    def trigger(self) -> frozenset[int] | None:
        return frozenset(self.fids)


@dataclass(eq=False)
class Phrase(Leaf):
    """Words in order and adjacent, or (with `slop`) within `slop` other words in any order."""

    parts: tuple[tuple[int, ...], ...] = ()
    slop: int | None = None

    @_remembered
    def eval(self, doc: Doc, zone: int = ANY) -> list[Occurrence] | None:
        lists = []
        for fids in self.parts:
            found = doc.found(fids, zone)
            if not found:
                return None
            lists.append(found)
        if self.slop is None:
            return self._exact(lists)
        return self._near(lists, self.slop)

    def _exact(self, lists: list[list[Found]]) -> list[Occurrence] | None:
        following: list[dict[int, list[Found]]] = []
        for found in lists[1:]:
            by_first: dict[int, list[Found]] = {}
            for o in found:
                by_first.setdefault(o[0], []).append(o)
            following.append(by_first)
        out: list[Occurrence] = []
        for o in lists[0]:
            end = self._extend(o, following, 0)
            if end is not None:
                out.append((o[0], end[1], o[2], end[3], self.id))
        return out or None

    def _extend(self, o: Found, following: list[dict[int, list[Found]]], k: int) -> Found | None:
        if k == len(following):
            return o
        for nxt in following[k].get(o[1] + 1, ()):
            end = self._extend(nxt, following, k + 1)
            if end is not None:
                return end
        return None

    def _near(self, lists: list[list[Found]], slop: int) -> list[Occurrence] | None:
        """Every hit in some window of hits that holds all words with at most `slop` others.

        The windows are those of a two-pointer sweep over the hits in text order: for each right
        end, every left end from where the last sweep stopped up to the last one that still
        holds all words. Each is tested in O(1) (the first hit starts it, a monotonic queue
        gives the furthest end, prefix sums the words), and the hits of the windows that pass
        are marked as ranges, so the whole is O(n log n) for the sort.
        """
        events = sorted((o[0], k, o) for k, found in enumerate(lists) for o in found)
        need = len(lists)
        counts = [0] * need
        covered = 0
        # words[i]: words covered by the first i hits (hits may overlap; each counts in full).
        words = [0]
        for e in events:
            words.append(words[-1] + e[2][1] - e[2][0] + 1)
        ends: deque[int] = deque()  # window hits by falling last position: the front is the max
        marks = [0] * (len(events) + 1)
        left = 0
        for right in range(len(events)):
            k = events[right][1]
            counts[k] += 1
            if counts[k] == 1:
                covered += 1
            last_here = events[right][2][1]
            while ends and events[ends[-1]][2][1] <= last_here:
                ends.pop()
            ends.append(right)
            while covered == need:
                while ends[0] < left:
                    ends.popleft()
                first = events[left][0]
                last = events[ends[0]][2][1]
                if last - first + 1 - (words[right + 1] - words[left]) <= slop:
                    marks[left] += 1
                    marks[right + 1] -= 1
                lk = events[left][1]
                counts[lk] -= 1
                if counts[lk] == 0:
                    covered -= 1
                left += 1
        used: set[Found] = set()
        depth = 0
        for index, event in enumerate(events):
            depth += marks[index]
            if depth:
                used.add(event[2])
        if not used:
            return None
        i = self.id
        return [(o[0], o[1], o[2], o[3], i) for o in sorted(used)]

    def why_not(self, doc: Doc, zone: int = ANY) -> list[str]:
        if all(doc.found(fids, zone) for fids in self.parts):
            if self.slop is None:
                return [f"{self.label}: its words occur, but not next to each other in this order"]
            return [f"{self.label}: its words occur, but more than {self.slop} words apart"]
        return [f"{self.label} not found"]

    def trigger(self) -> frozenset[int] | None:
        # Any word is necessary; the one with the fewest alternatives is the best filter.
        fewest: tuple[int, ...] = min(self.parts, key=len)
        return frozenset(fewest)


@dataclass(eq=False)
class And(Node):
    items: tuple[Node, ...] = ()

    @_remembered
    def eval(self, doc: Doc, zone: int = ANY) -> list[Occurrence] | None:
        out: list[Occurrence] = []
        present = doc.features.keys()
        for item in self.items:
            gate = item.gate
            if gate is not None and present.isdisjoint(gate):
                return None
            got = item.eval(doc, zone)
            if got is None:
                return None
            out.extend(got)
        return out

    def render(self) -> str:
        return " AND ".join(_paren(i.render(), i) for i in self.items)

    def fired(self, doc: Doc, zone: int = ANY) -> str:
        # Exclusions did not fire; leaving them out keeps the rule short in the digest.
        kept = [i for i in self.items if not isinstance(i, Not | Lang)]
        if not kept:
            return self.render()
        if len(kept) == 1:
            return kept[0].fired(doc, zone)
        return " AND ".join(_paren(i.fired(doc, zone), i) for i in kept)

    def why_not(self, doc: Doc, zone: int = ANY) -> list[str]:
        reasons: list[str] = []
        for item in self.items:
            if not item.held(doc, zone):
                reasons.extend(item.why_not(doc, zone))
        return reasons

    def children(self) -> tuple[Node, ...]:
        return self.items

    def needs_term(self) -> bool:
        return any(i.needs_term() for i in self.items)

    def trigger(self) -> frozenset[int] | None:
        sets = [t for i in self.items if (t := i.trigger()) is not None]
        return min(sets, key=len) if sets else None


@dataclass(eq=False)
class Or(Node):
    items: tuple[Node, ...] = ()

    # Set by `seal`: which alternatives each feature can wake up, so that a long alias list
    # costs one set intersection rather than one test per entry.
    _by_feature: dict[int, tuple[int, ...]] = field(default_factory=dict, repr=False)
    _features: frozenset[int] = field(default=frozenset(), repr=False)
    _always: tuple[int, ...] = field(default=(), repr=False)

    def seal(self) -> None:
        super().seal()
        by_feature: dict[int, list[int]] = {}
        always = []
        for index, item in enumerate(self.items):
            if item.gate is None:
                always.append(index)
            else:
                for fid in item.gate:
                    by_feature.setdefault(fid, []).append(index)
        self._by_feature = {fid: tuple(v) for fid, v in by_feature.items()}
        self._features = frozenset(by_feature)
        self._always = tuple(always)

    @_remembered
    def eval(self, doc: Doc, zone: int = ANY) -> list[Occurrence] | None:
        awake = doc.features.keys() & self._features
        if not awake and not self._always:
            return None
        chosen = set(self._always)
        by_feature = self._by_feature
        for fid in awake:
            chosen.update(by_feature[fid])
        held: list[list[Occurrence]] = []
        items = self.items
        for index in sorted(chosen):
            got = items[index].eval(doc, zone)
            if got is not None:
                held.append(got)
        if not held:
            return None
        if len(held) == 1:
            return held[0]
        # One copy at the end: adding list to list per alternative copies the hits again each time.
        return [o for got in held for o in got]

    def render(self) -> str:
        return " OR ".join(_paren(i.render(), i) for i in self.items)

    def fired(self, doc: Doc, zone: int = ANY) -> str:
        held = [i for i in self.items if i.held(doc, zone)]
        if len(held) == 1:
            return held[0].fired(doc, zone)
        return " OR ".join(_paren(i.fired(doc, zone), i) for i in held)

    def why_not(self, doc: Doc, zone: int = ANY) -> list[str]:
        names = [i.render() for i in self.items]
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        return [f"none of {shown} found"]

    def children(self) -> tuple[Node, ...]:
        return self.items

    def needs_term(self) -> bool:
        return all(i.needs_term() for i in self.items)

    def trigger(self) -> frozenset[int] | None:
        out: set[int] = set()
        for item in self.items:
            t = item.trigger()
            if t is None:
                return None
            out |= t
        return frozenset(out)


@dataclass(eq=False)
class Variants(Or):
    """Spellings of one query word (Nord-Korea: Nordkorea, or Nord and Korea in a row)."""

    label: str = ""

    def render(self) -> str:
        return self.label

    def fired(self, doc: Doc, zone: int = ANY) -> str:
        return self.label

    def why_not(self, doc: Doc, zone: int = ANY) -> list[str]:
        return [f"{self.label} not found"]


@dataclass(eq=False)
class Not(Node):
    item: Node = field(default_factory=Node)

    def eval(self, doc: Doc, zone: int = ANY) -> list[Occurrence] | None:
        return [] if self.item.eval(doc, zone) is None else None

    def render(self) -> str:
        inner = self.item.render()
        return f"NOT ({inner})" if " " in inner and not inner.startswith('"') else f"NOT {inner}"

    def why_not(self, doc: Doc, zone: int = ANY) -> list[str]:
        got = self.item.eval(doc, zone) or []
        seen = list(dict.fromkeys(doc.surface(o) for o in got))
        what = f" (found {', '.join(repr(s) for s in seen[:5])})" if seen else ""
        return [f"excluded by {self.render()}{what}"]

    def children(self) -> tuple[Node, ...]:
        return (self.item,)

    def leaves(self) -> Iterator[Leaf]:
        # Excluded terms never add to a score or to the evidence.
        return iter(())

    def needs_term(self) -> bool:
        return False


@dataclass(eq=False)
class Near(Node):
    """`a NEAR/n b`: both sides hold with at most `n` other words between some of their hits."""

    left: Node = field(default_factory=Node)
    right: Node = field(default_factory=Node)
    distance: int = 10

    @_remembered
    def eval(self, doc: Doc, zone: int = ANY) -> list[Occurrence] | None:
        a = self.left.eval(doc, zone)
        if not a:
            return None
        b = self.right.eval(doc, zone)
        if not b:
            return None
        n = self.distance
        near_a = _within(a, b, n)
        if not any(near_a):
            return None
        near_b = _within(b, a, n)
        return [x for x, ok in zip(a, near_a, strict=True) if ok] + [
            y for y, ok in zip(b, near_b, strict=True) if ok
        ]

    def render(self) -> str:
        left = self.left.render()
        right = self.right.render()
        wrap = (And, Or, Near)
        left = f"({left})" if isinstance(self.left, wrap) else left
        right = f"({right})" if isinstance(self.right, wrap) else right
        return f"{left} NEAR/{self.distance} {right}"

    def why_not(self, doc: Doc, zone: int = ANY) -> list[str]:
        a = self.left.eval(doc, zone)
        b = self.right.eval(doc, zone)
        if not a:
            return self.left.why_not(doc, zone)
        if not b:
            return self.right.why_not(doc, zone)
        # Title and body are apart by design: the closest pair is looked for within each.
        gaps: list[int] = []
        for body in (False, True):
            xs = [x for x in a if (x[0] >= BODY_BASE) == body]
            gap = _closest(xs, [y for y in b if (y[0] >= BODY_BASE) == body])
            if gap is not None:
                gaps.append(gap)
        if not gaps:
            where = f"{self.render()}: both found, but one only in the title, the other only"
            return [f"{where} in the body"]
        closest = min(gaps)
        return [f"{self.render()}: both found, but {closest} words apart (at most {self.distance})"]

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    def trigger(self) -> frozenset[int] | None:
        sets = [t for t in (self.left.trigger(), self.right.trigger()) if t is not None]
        return min(sets, key=len) if sets else None


@dataclass(eq=False)
class Zone(Node):
    """`title:x` or `body:x`: `x` must hold within that part of the item."""

    zone: int = ANY
    item: Node = field(default_factory=Node)

    def eval(self, doc: Doc, zone: int = ANY) -> list[Occurrence] | None:
        return self.item.eval(doc, self.zone)

    def render(self) -> str:
        inner = self.item.render()
        inner = f"({inner})" if isinstance(self.item, And | Or | Near) else inner
        return f"{ZONE_NAMES[self.zone]}:{inner}"

    def fired(self, doc: Doc, zone: int = ANY) -> str:
        inner = self.item.fired(doc, self.zone)
        inner = f"({inner})" if " " in inner and not inner.startswith('"') else inner
        return f"{ZONE_NAMES[self.zone]}:{inner}"

    def why_not(self, doc: Doc, zone: int = ANY) -> list[str]:
        where = ZONE_NAMES[self.zone]
        return [f"{reason} (in the {where})" for reason in self.item.why_not(doc, self.zone)]

    def children(self) -> tuple[Node, ...]:
        return (self.item,)

    def needs_term(self) -> bool:
        return self.item.needs_term()

    def trigger(self) -> frozenset[int] | None:
        return self.item.trigger()


@dataclass(eq=False)
class Lang(Node):
    """`lang:de`: the paragraph is German (given by the source or detected)."""

    language: str = ""

    def eval(self, doc: Doc, zone: int = ANY) -> list[Occurrence] | None:
        return [] if doc.language == self.language else None

    def render(self) -> str:
        return f"lang:{self.language}"

    def why_not(self, doc: Doc, zone: int = ANY) -> list[str]:
        actual = doc.language or "of undetected language"
        return [f"lang:{self.language} does not hold: the text is {actual}"]

    def needs_term(self) -> bool:
        return False


@dataclass(eq=False)
class Alias(Node):
    """`@name`: any entry of a named alias list."""

    name: str = ""
    item: Node = field(default_factory=Node)

    def eval(self, doc: Doc, zone: int = ANY) -> list[Occurrence] | None:
        key = (id(self), zone)
        memo = doc.memo
        if key in memo:
            return memo[key]
        got = memo[key] = self.item.eval(doc, zone)
        return got

    def render(self) -> str:
        return f"@{self.name}"

    def why_not(self, doc: Doc, zone: int = ANY) -> list[str]:
        size = len(self.item.items) if isinstance(self.item, Or) else 1
        return [f"@{self.name} not found (none of its {size} entries)"]

    def children(self) -> tuple[Node, ...]:
        return (self.item,)

    def needs_term(self) -> bool:
        return self.item.needs_term()

    def trigger(self) -> frozenset[int] | None:
        return self.item.trigger()
