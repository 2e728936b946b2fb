"""Per-document extraction time of corpus pages (benchmarks/corpus_server.py:page).

Runs `monitor.source_kinds.extract_document` on N generated pages, best of R rounds (other work on
the machine only ever makes a round slower), and prints ms/page. `--eval` times the pages in
benchmarks/extract_eval/ instead (smaller, more varied markup); `--profile` adds a cProfile of
one round.

    python benchmarks/bench_extract.py [--pages 100] [--rounds 3] [--eval] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from corpus_server import page  # noqa: E402

from monitor.source_kinds import extract_document  # noqa: E402


def run(bodies: list[bytes]) -> float:
    """Seconds to extract every body once."""
    started = time.perf_counter()
    for i, body in enumerate(bodies):
        extract_document("page", body, f"https://news.example.org/doc/{i}", "text/html", 100, ())
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--eval", action="store_true", help="time benchmarks/extract_eval/ pages")
    ap.add_argument("--profile", action="store_true", help="print a cProfile of one round")
    args = ap.parse_args()

    if args.eval:
        bodies = [p.read_bytes() for p in sorted((REPO / "benchmarks/extract_eval").glob("*.html"))]
    else:
        # Odd documents are pages in the corpus; half of them carry an update paragraph.
        bodies = [page(2 * i + 1, i % 2) for i in range(args.pages)]
    run(bodies[:5])  # warm-up: imports, lazy dictionaries, regex compilation
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


if __name__ == "__main__":
    main()
