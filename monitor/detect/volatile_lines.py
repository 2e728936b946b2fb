"""Volatile lines learned per source: short lines whose figures change from poll to poll with no
editorial meaning ("· 4 entries", "1,234 readers", "Berlin 12 °C", "DAX 15.234 +0,4 %").

`monitor.volatile` masks what looks volatile anywhere (timestamps, "12 comments"); what a site
re-renders beyond that differs from site to site, so it is learned from the site itself. Each
short line holding a figure has a shape (`monitor.volatile.line_shape`: figures replaced by "#").
A shape whose values changed at `LEARN_AFTER` consecutive polls of a page is volatile for that
page: its lines are never reported again. The first change of a shape is held back for one poll
rather than reported: if the line is still the same at the next poll, it was an edit and is
reported then (late, never lost); if it changed again, it is volatile.

Only short lines that are not sentences have a shape, so figures in article text ("Troops rose
to 12,000.") are always news. The state is small (at most `MAX_SHAPES` shapes per source, each
forgotten `FORGET_AFTER` after it was last on the page) and kept by the store between polls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.models import Passage
from monitor.volatile import line_shape

LEARN_AFTER = 2  # consecutive polls at which a shape's values changed: then it is volatile
MAX_SHAPES = 64  # per source: a page has a handful of counters, not hundreds
FORGET_AFTER = timedelta(days=30)  # a shape not on the page for this long is forgotten


@dataclass(frozen=True, slots=True)
class LineShape:
    """What a source's polls taught about one shape."""

    changes: int  # consecutive polls at which its values changed (at most LEARN_AFTER)
    seen: datetime  # the last poll it was on the page

    @property
    def volatile(self) -> bool:
        return self.changes >= LEARN_AFTER


@dataclass(slots=True)
class VolatileSort:
    """A poll's new passages sorted by `sort_volatile`."""

    report: list[Passage]  # new text, matched and reported as usual
    # Keys of volatile lines and of lines held back: not recorded as seen, so a held line is
    # new again at the next poll, and counters do not fill the store with one key per value.
    skipped: set[str] = field(default_factory=set)
    held: int = 0
    masked: int = 0
    shapes: dict[str, LineShape] = field(default_factory=dict)  # the source's state after


def _values(texts: Iterable[str]) -> dict[str, list[str]]:
    """The short lines of a poll by shape, each shape's lines sorted (order does not matter)."""
    out: dict[str, list[str]] = {}
    for text in texts:
        shape = line_shape(text)
        if shape is not None:
            out.setdefault(shape, []).append(" ".join(text.split()))
    for lines in out.values():
        lines.sort()
    return out


def sort_volatile(
    fresh: Sequence[Passage],
    current: Sequence[str],
    snapshot: Sequence[str],
    shapes: Mapping[str, LineShape],
    now: datetime,
) -> VolatileSort:
    """Sort a page's new passages into text to report and volatile lines, and learn.

    `current` are the texts of the page now, `snapshot` those of its last poll, `shapes` what
    earlier polls taught; the returned `shapes` replace them.
    """
    now_values, before = _values(current), _values(snapshot)
    learned = dict(shapes)
    changed: set[str] = set()
    for shape, lines in now_values.items():
        known = learned.get(shape)
        if shape not in before:
            # Not on the last poll: no change to learn from; it is still on the page.
            if known is not None:
                learned[shape] = LineShape(known.changes, now)
            continue
        if lines != before[shape]:
            changed.add(shape)
            count = min(LEARN_AFTER, (known.changes if known else 0) + 1)
            learned[shape] = LineShape(count, now)
        elif known is not None and known.volatile:
            learned[shape] = LineShape(known.changes, now)  # e.g. "· 4 entries" on a quiet day
        else:
            learned.pop(shape, None)  # changed once, then stayed: it was an edit
    out = VolatileSort(report=[], shapes=prune(learned, now))
    for passage in fresh:
        its = line_shape(passage.text)
        known = learned.get(its) if its is not None else None
        if known is not None and known.volatile:
            out.masked += 1
            out.skipped.add(passage.key)
        elif known is not None and its in changed:
            out.held += 1  # its first change: wait for the next poll to tell
            out.skipped.add(passage.key)
        else:
            out.report.append(passage)
    return out


def prune(shapes: Mapping[str, LineShape], now: datetime) -> dict[str, LineShape]:
    """Forget shapes not seen for `FORGET_AFTER`, then keep at most `MAX_SHAPES` (volatile ones
    first, then the most recently seen)."""
    alive = [(k, v) for k, v in shapes.items() if now - v.seen <= FORGET_AFTER]
    alive.sort(key=lambda kv: (kv[1].volatile, kv[1].seen), reverse=True)
    return dict(alive[:MAX_SHAPES])
