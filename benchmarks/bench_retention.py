"""State size over simulated days of polling, with retention pruning.

Each simulated day every page source shows --paragraphs paragraphs of ~400 characters, of which
--churn are replaced; 2% of new paragraphs match a topic and go into a daily digest that is
delivered; page snapshots are kept; the store is pruned daily with --retention days.

    python benchmarks/bench_retention.py --sources 1000 --days 30 --retention 14
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.models import Digest, Evidence, Passage, RenderedDigest, Source, TopicMatch  # noqa: E402
from monitor.pipeline import detect_new  # noqa: E402
from monitor.store import Store, new_digest_id, utcnow  # noqa: E402

_VOCABULARY = "Truppen Soldaten Kursk Vertrag Sanktionen Moskau Seoul Pjöngjang troops treaty the"
WORDS = _VOCABULARY.split()


def paragraph(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(55))


def size_mb(store: Store) -> float:
    with sqlite3.connect(store.path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store.path.stat().st_size / 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--paragraphs", type=int, default=40)
    ap.add_argument("--churn", type=int, default=4)
    ap.add_argument("--retention", type=int, default=14)
    args = ap.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        sources = [
            Source(
                f"https://site{i}.example.org/page",
                f"https://site{i}.example.org/page",
                "page",
                f"site {i}",
                3600,
                "config",
            )
            for i in range(args.sources)
        ]
        store.sync_sources(sources)
        pages = {s.key: [paragraph(rng) for _ in range(args.paragraphs)] for s in sources}
        start = utcnow()
        for day in range(args.days):
            now = start + timedelta(days=day)
            for src in sources:
                texts = pages[src.key]
                for _ in range(args.churn if day else 0):
                    texts[rng.randrange(len(texts))] = paragraph(rng)
                passages = [Passage(f"{hash(t) & 0xFFFFFFFFFFFFFFFF:032x}", t) for t in texts]
                news = detect_new(store, src.key, passages)
                store.remember_passages(src.key, news.new_keys, news.seen_keys, now)
                for p in news.fresh:
                    if day and rng.random() < 0.02:
                        ev = Evidence(("Truppen",), "Truppe*", p.text[:250], ((0, 7),))
                        store.add_item(src.key, p, [TopicMatch("t", 1.0, ev)], now)
                store.save_page_snapshot(src.key, texts, now)

            def build(found: list, now=now) -> Digest | None:  # type: ignore[no-untyped-def]
                return (
                    Digest(new_digest_id(), "c", now, {"t": found}, {"t": "T"}) if found else None
                )

            def select(conn=None):  # type: ignore[no-untyped-def]
                return store.unclaimed_matches("c", "digest", ["t"], 0.0, {}, conn=conn)

            def render(d: Digest) -> RenderedDigest:
                return RenderedDigest(
                    "s", "text " * 200, "<p>html</p>" * 200, {"n": len(d.match_ids)}
                )

            queued = store.create_digest("c", "digest", build, render, select, now)
            if queued:
                store.delivered(queued[0].id, "ok", now)
            store.prune(now, args.retention)
            if day + 1 in (1, 7, 14, 30, args.days):
                print(f"day {day + 1:3d}: state {size_mb(store):7.1f} MB")
        store.close()


if __name__ == "__main__":
    main()
