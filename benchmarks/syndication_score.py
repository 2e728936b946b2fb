"""Score story grouping against the labelled syndication set (benchmarks/syndication_eval/).

Usage::

    python benchmarks/syndication_score.py [--method monitor|baseline] [--orders N] [--errors]
    python benchmarks/syndication_score.py --speed [--stories 5000]

For each half of the set (tune, and the frozen held-out half) it prints

- pairwise precision and recall: for every pair of copies, "same story?" as the similarity
  decides it, against the labels;
- grouping precision and recall: the copies are fed one by one (in N shuffled arrival orders)
  into the story index the poller uses, and the pairs that end up in one group are scored;
- split stories (a story whose copies ended in more than one group) and merged groups (a group
  holding copies of more than one story).

`--method baseline` scores the rule before issue 14 (exact Jaccard of word 2-shingles at 0.6,
grouped on the most similar earlier story), so the before figures can be re-run without the
library it used. `--speed` times signing and indexing on a synthetic stream of stories.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks" / "syndication_eval"))

from make_set import SET, SPLIT, digest  # noqa: E402

from monitor.extract import similar  # noqa: E402
from monitor.extract.text import normalise  # noqa: E402
from monitor.volatile import mask_volatile  # noqa: E402

Doc = dict[str, str]


def load() -> tuple[list[Doc], list[Doc]]:
    """(tune half, held-out half); refuses a set whose held-out half changed since it froze."""
    docs = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines()]
    split = json.loads(SPLIT.read_text(encoding="utf-8"))
    held = set(split["heldout_subjects"])
    if digest(docs, held) != split["heldout_sha256"]:
        sys.exit(f"{SPLIT}: the held-out half no longer matches its frozen hash")
    return [d for d in docs if d["subject"] not in held], [d for d in docs if d["subject"] in held]


# -- the rule before issue 14, kept here so that its figures can be reproduced ------------------


def _baseline_shingles(text: str) -> frozenset[str]:
    words = similar._TOKEN.findall(mask_volatile(normalise(text)).replace("{v}", " "))
    if len(words) < 2:
        return frozenset({" ".join(words)} if words else ())
    return frozenset(" ".join(words[i : i + 2]) for i in range(len(words) - 1))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class BaselineIndex:
    """Jaccard >= 0.6 of word 2-shingles, anchored on the first story of a group."""

    def __init__(self) -> None:
        self.sets: dict[str, frozenset[str]] = {}
        self.root: dict[str, str] = {}

    def add(self, key: str, text: str) -> str | None:
        grams = _baseline_shingles(text)
        best, score = None, 0.6
        for other, theirs in self.sets.items():
            j = _jaccard(grams, theirs)
            if j >= score and (best is None or j > score):
                best, score = other, j
        self.sets[key] = grams
        self.root[key] = self.root[best] if best else key  # (no source rule then)
        return None if best is None else self.root[best]


def baseline_same(a: Doc, b: Doc) -> bool:
    return _jaccard(_baseline_shingles(a["text"]), _baseline_shingles(b["text"])) >= 0.6


# -- the monitor's own rule ----------------------------------------------------------------------


def monitor_same(a: Doc, b: Doc) -> bool:
    index = similar.StoryIndex()
    index.add(f"{a['outlet']}\x00a", a["text"])
    return index.add(f"{b['outlet']}\x00b", b["text"]) is not None


# -- scoring -------------------------------------------------------------------------------------


def pr(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0)


def pairwise(docs: Sequence[Doc], same: Callable[[Doc, Doc], bool]) -> tuple[int, int, int, list]:
    tp = fp = fn = 0
    wrong = []
    for a, b in combinations(docs, 2):
        gold, said = a["group"] == b["group"], same(a, b)
        tp += gold and said
        fp += said and not gold
        fn += gold and not said
        if gold != said:
            wrong.append(("false merge" if said else "missed", a["id"], b["id"]))
    return tp, fp, fn, wrong


def grouping(docs: Sequence[Doc], make_index: Callable[[], object], seed: int) -> dict[str, int]:
    order = list(docs)
    random.Random(seed).shuffle(order)
    index = make_index()
    group: dict[str, str] = {}
    for d in order:
        key = f"{d['outlet']}\x00{d['id']}"  # an outlet's copies share its source
        root = index.add(key, d["text"])  # type: ignore[attr-defined]
        group[d["id"]] = (root or key).split("\x00", 1)[1]
    tp = fp = fn = 0
    for a, b in combinations(docs, 2):
        gold, said = a["group"] == b["group"], group[a["id"]] == group[b["id"]]
        tp += gold and said
        fp += said and not gold
        fn += gold and not said
    stories: dict[str, set[str]] = {}
    clusters: dict[str, set[str]] = {}
    for d in docs:
        stories.setdefault(d["group"], set()).add(group[d["id"]])
        clusters.setdefault(group[d["id"]], set()).add(d["group"])
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "split": sum(len(g) > 1 for g in stories.values()),
        "merged": sum(len(s) > 1 for s in clusters.values()),
    }


def report(name: str, docs: Sequence[Doc], method: str, orders: int, errors: bool) -> None:
    same = baseline_same if method == "baseline" else monitor_same
    make = BaselineIndex if method == "baseline" else similar.StoryIndex
    tp, fp, fn, wrong = pairwise(docs, same)
    p, r = pr(tp, fp, fn)
    stories = len({d["group"] for d in docs})
    print(f"{name}: {len(docs)} copies of {stories} stories")
    print(f"  pairwise  precision {p:.3f}  recall {r:.3f}  (tp {tp}, fp {fp}, fn {fn})")
    total = {"tp": 0, "fp": 0, "fn": 0, "split": 0, "merged": 0}
    for seed in range(orders):
        for k, v in grouping(docs, make, seed).items():
            total[k] += v
    gp, gr = pr(total["tp"], total["fp"], total["fn"])
    print(
        f"  grouping  precision {gp:.3f}  recall {gr:.3f}  over {orders} arrival orders: "
        f"{total['split']} split stories, {total['merged']} merged groups in all"
    )
    if errors:
        for kind, a, b in wrong:
            print(f"    {kind}: {a} ~ {b}")


def speed(count: int) -> None:
    """Sign and index `count` synthetic stories of ~250 words, looking each one up first."""
    rng = random.Random(7)
    words = [f"w{i}" for i in range(20000)]
    # Every outlet (50 of them) ends its stories with the same line of its own.
    outro = [" ".join(rng.choices(words, k=15)) for _ in range(50)]
    texts = [f"{' '.join(rng.choices(words, k=250))} {outro[i % 50]}" for i in range(count)]
    start = time.perf_counter()
    index = similar.StoryIndex(limit=count)
    for i, text in enumerate(texts):
        index.add(f"s{i % 50}\x00{i}", text)
    took = time.perf_counter() - start
    # Memory measured in a run of its own: tracing slows every allocation down.
    tracemalloc.start()
    index = similar.StoryIndex(limit=count)
    for i, text in enumerate(texts):
        index.add(f"s{i % 50}\x00{i}", text)
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{count} stories signed, looked up and indexed in {took:.2f} s "
        f"({took / count * 1000:.2f} ms each); index holds {size / count / 1024:.1f} KiB a story"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--method", choices=("monitor", "baseline"), default="monitor")
    ap.add_argument("--orders", type=int, default=5, help="shuffled arrival orders (default 5)")
    ap.add_argument("--errors", action="store_true", help="list the wrong pairs")
    ap.add_argument("--speed", action="store_true", help="time signing and indexing instead")
    ap.add_argument("--stories", type=int, default=5000)
    args = ap.parse_args()
    if args.speed:
        speed(args.stories)
        return
    tune, held = load()
    print(f"method: {args.method}")
    report("tune half", tune, args.method, args.orders, args.errors)
    report("held-out half", held, args.method, args.orders, args.errors)


if __name__ == "__main__":
    main()
