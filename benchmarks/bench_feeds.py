"""Feed parsing speed: milliseconds per feed for the corpus server's 20-item RSS feeds.

Usage::

    python benchmarks/bench_feeds.py [--feeds 100] [--rounds 3] [--path auto|feedparser]
                                     [--profile]

Each round parses ``--feeds`` distinct feeds (``benchmarks/corpus_server.py:feed(doc, 0)``)
through ``monitor.source_kinds.extract_document`` exactly as a poll does, and the best round is
reported (others share the cores, so the minimum is the least noisy figure). ``--path
feedparser`` forces the feedparser path for comparison; ``--profile`` prints a cProfile summary
of one extra round.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_server import feed

from monitor.extract import feeds


def _extract(body: bytes, url: str) -> None:
    """What a poll does with a feed body: `extract_document("feed", ...)`."""
    if _EXTRACT_DOCUMENT is not None:
        _EXTRACT_DOCUMENT("feed", body, url, "application/rss+xml", 100, ())
    else:  # identical for feeds: extract_document calls parse_feed with these arguments
        feeds.parse_feed(body, url, "application/rss+xml", max_items=100)


try:  # the pipeline imports the fetcher; while that is being edited, time parse_feed directly
    from monitor.source_kinds import extract_document as _EXTRACT_DOCUMENT
except (ImportError, AttributeError):  # pragma: no cover
    _EXTRACT_DOCUMENT = None


def _round(bodies: list[bytes]) -> float:
    """Seconds to parse every body once."""
    started = time.perf_counter()
    for doc, body in enumerate(bodies):
        _extract(body, f"https://news.example.org/{doc}.xml")
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--feeds", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--path", choices=("auto", "feedparser"), default="auto")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()

    if args.path == "feedparser":
        feeds.FAST_PATH = False
    bodies = [feed(doc, 0) for doc in range(args.feeds)]
    _round(bodies[:5])  # warm imports and caches
    times = []
    for _ in range(args.rounds):
        gc.collect()
        times.append(_round(bodies))
    per_feed = [t / len(bodies) * 1000 for t in times]
    print(
        f"path={args.path} feeds={len(bodies)} rounds={args.rounds} "
        f"best={min(per_feed):.3f} ms/feed  all={' '.join(f'{t:.3f}' for t in per_feed)}"
    )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(_round, bodies)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
