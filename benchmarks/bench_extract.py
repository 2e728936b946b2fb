"""Per-document extraction CPU time of corpus pages (benchmarks/corpus_server.py:page).

Runs `monitor.source_kinds.extract_document` on N generated pages, best of R rounds (other work on
the machine only ever makes a round slower), and prints ms/page. `--eval` times the pages in
benchmarks/extract_eval/ instead (smaller, more varied markup); `--profile` adds a cProfile of
one round; `--dir DIR` times the pages of another set. `--against TREE` times a second source
tree (a directory holding `monitor/`, e.g. `git archive main monitor | tar -x -C /tmp/before`)
in the same run, round by round in turns, and prints both with their ratio.

    python benchmarks/bench_extract.py [--pages 100] [--rounds 3] [--eval | --dir DIR]
                                       [--profile] [--against TREE]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# `--tree` (set by `--against` for its child runs): the source tree whose monitor/ is timed.
TREE = Path(sys.argv[sys.argv.index("--tree") + 1]) if "--tree" in sys.argv else REPO
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(TREE))

from corpus_server import page  # noqa: E402

from monitor.source_kinds import extract_document  # noqa: E402


def run(bodies: list[bytes]) -> float:
    """CPU seconds of this process to extract every body once (other work on the machine,
    shared by several, does not count)."""
    started = time.process_time()
    for i, body in enumerate(bodies):
        extract_document("page", body, f"https://news.example.org/doc/{i}", "text/html", 100, ())
    return time.process_time() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--eval", action="store_true", help="time benchmarks/extract_eval/ pages")
    ap.add_argument("--dir", type=Path, help="time the *.html pages of this directory")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one round")
    ap.add_argument("--against", type=Path, help="also time this source tree, in turns")
    ap.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.against:
        compare(args)
        return
    if args.eval or args.dir:
        folder = args.dir or REPO / "benchmarks/extract_eval"
        bodies = [p.read_bytes() for p in sorted(folder.glob("*.html"))]
    else:
        # Odd documents are pages in the corpus; half of them carry an update paragraph.
        bodies = [page(2 * i + 1, i % 2) for i in range(args.pages)]
    run(bodies)  # warm-up: imports, lazy dictionaries, regex compilation, on every page
    best = min(run(bodies) for _ in range(args.rounds))
    size = sum(map(len, bodies)) / len(bodies) / 1024
    print(
        f"{len(bodies)} pages of {size:.0f} KB, best of {args.rounds}: "
        f"{best * 1000 / len(bodies):.2f} ms/page"
    )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(run, bodies)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def compare(args: argparse.Namespace) -> None:
    """Best ms/page of `--against`'s tree and this one, one round each in turns (so that the
    machine's load falls on both alike), each in a fresh process."""
    common = ["--pages", str(args.pages), "--rounds", "1"]
    if args.eval:
        common.append("--eval")
    if args.dir:
        common += ["--dir", str(args.dir)]
    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for label, tree in (("before", args.against), ("after", REPO)):
            done = subprocess.run(
                [sys.executable, __file__, *common, "--tree", str(tree)],
                capture_output=True,
                text=True,
                check=True,
            )
            found = re.search(r"([\d.]+) ms/page", done.stdout)
            assert found, done.stdout + done.stderr
            best[label] = min(best.get(label, float("inf")), float(found[1]))
    print(
        f"best of {args.rounds}: {args.against} {best['before']:.2f} ms/page, "
        f"{REPO} {best['after']:.2f} ms/page, ratio {best['after'] / best['before']:.2f}"
    )


if __name__ == "__main__":
    main()
