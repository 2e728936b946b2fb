"""Months of polling in minutes: does memory, open files and state stay bounded?

Drives what the daemon does per tick, in-process: a poll cycle over a changing local corpus
(benchmarks/corpus_server.py), the Atom feeds rewritten, urgent alerts queued, a daily digest
queued, the outbox flushed to a file channel, and the daily retention prune. A simulated clock
moves --hours per cycle, so retention (--retention days) and the story window really happen.
Every --rotate-days simulated days the source list changes (a share of sources removed, others
added) and the poller is rebuilt as a config reload would.

    python benchmarks/soak.py --sources 200 --cycles 1000 --hours 6 --retention 30

Prints a table every --every cycles: RSS of this process and of its process tree (parser
processes included, the corpus server left out), open file descriptors, the database and its
WAL, rows kept, and the story index; then checks that RSS and open files in the last quarter
are within 5% of the second quarter, and that the database levelled off.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sqlite3
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus_server import serving  # noqa: E402

from monitor import wiring  # noqa: E402
from monitor.config import Config  # noqa: E402
from monitor.fetch import Fetcher  # noqa: E402
from monitor.outbox import flush, queue_digest, write_feeds  # noqa: E402
from monitor.pipeline import Poller  # noqa: E402
from monitor.sources import load_sources  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.topics import compile_topics  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")
TOLERANCE = 0.05  # last quarter vs second quarter


class SimClock:
    """The poller's and the store's "now": starts at the real time and moves only when told."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def write_config(
    folder: Path, docs: range, total: int, hosts: int, port: int, retention: int
) -> Path:
    lines = [
        "[http]",
        'allow_networks = ["127.0.0.0/8"]',
        "respect_robots = false",
        "concurrency = 100",
        "per_host_concurrency = 16",
        "[seeds]",
        "enabled = false",
        "[state]",
        f'path = "{folder / "state"}"',
        f"retention_days = {retention}",
        "[poll]",
        'default_interval = "1h"',
        "[channels.files]",
        'kind = "file"',
        "alerts = true",
        "alert_min_interval = 1",
    ]
    for i in docs:
        doc = i % total
        host = f"127.0.0.{doc % hosts + 1}"
        kind = "feed" if doc % 2 == 0 else "page"
        lines += ["[[sources]]", f'url = "http://{host}:{port}/doc/{doc}"', f'kind = "{kind}"']
    topics = (REPO / "config.toml").read_text(encoding="utf-8")
    cfg = folder / "config.toml"
    cfg.write_text("\n".join(lines) + "\n" + topics[topics.index("[aliases]") :], encoding="utf-8")
    return cfg


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20
    except OSError:
        return 0.0


def tree_rss_mb(root: int, leave_out: int) -> tuple[float, int]:
    """RSS of `root` and all its descendants but `leave_out` (MB), and how many processes."""
    kids = _children()
    total, count, todo = 0.0, 0, [root]
    while todo:
        pid = todo.pop()
        if pid == leave_out:
            continue
        total += rss_mb(pid)
        count += 1
        todo.extend(kids.get(pid, []))
    return total, count


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def db_mb(store: Store) -> tuple[float, float, int]:
    """Size of the database and of its WAL (MB), and its free pages."""
    wal = store.path.with_name(store.path.name + "-wal")
    size = store.path.stat().st_size / 2**20
    wal_size = wal.stat().st_size / 2**20 if wal.exists() else 0.0
    with sqlite3.connect(store.path) as conn:
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return size, wal_size, free


def rows(store: Store) -> dict[str, int]:
    with sqlite3.connect(store.path) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("sources", "seen", "items", "digests", "page_snapshots")
        }


@dataclass
class Sample:
    cycle: int
    day: float
    rss: float
    tree: float
    procs: int
    fds: int
    db: float
    wal: float
    free: int
    rows: dict[str, int]
    stories: int
    seconds: float


def post(port: int, path: str) -> None:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST")
    urllib.request.urlopen(req).read()


class Soak:
    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.folder = folder
        self.clock = SimClock()
        self.offset = 0  # first corpus document of the current source list
        self.config = self._config()
        self.store = Store(self.config.state_dir)
        self.poller = self._poller()
        self.samples: list[Sample] = []
        self._snapshot: tracemalloc.Snapshot | None = None

    def _config(self) -> Config:
        a = self.args
        docs = range(self.offset, self.offset + a.sources)
        return wiring.load(
            write_config(self.folder, docs, 2 * a.sources, a.hosts, a.port, a.retention)
        )

    def _poller(self) -> Poller:
        matcher = compile_topics(self.config.topics, self.config.aliases)
        self.store.sync_channels(list(self.config.channels), self.clock())
        poller = Poller(
            self.config, self.store, matcher, load_sources(self.config), clock=self.clock
        )
        poller.wait_ready()
        return poller

    def reload(self) -> None:
        """A changed source list, applied as the daemon applies a reload."""
        self.offset += max(1, int(self.args.sources * self.args.rotate))
        self.config = self._config()
        old = self.poller
        self.poller = self._poller()
        old.close()

    async def tick(self, fetcher: Fetcher) -> None:
        """What `Daemon.tick` does (and the digest job, once a simulated day)."""
        config, store, poller, now = self.config, self.store, self.poller, self.clock()
        summary = await poller.cycle(fetcher)
        if summary.matches or not (config.state_dir / "feeds").exists():
            write_feeds(config, store, poller.sources, now)
        for name in config.channels:
            queue_digest(config, store, name, poller.sources, now, alert=True)
        await flush(config, store, fetcher, now)

    async def daily(self, fetcher: Fetcher) -> None:
        now = self.clock()
        for name in self.config.channels:
            queue_digest(self.config, self.store, name, self.poller.sources, now)
        await flush(self.config, self.store, fetcher, now)
        self.store.prune(now, self.config.state.retention_days, self._keys())

    def _trace(self) -> None:
        """Print where Python memory grew most since the last sample (with --trace)."""
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        if self._snapshot is not None:
            for stat in snap.compare_to(self._snapshot, "lineno")[:5]:
                print(f"       {stat}")
        self._snapshot = snap

    def _keys(self) -> list[str]:
        return [s.key for s in self.poller.sources]

    def sample(self, cycle: int, seconds: float, server: int) -> Sample:
        gc.collect()
        tree, procs = tree_rss_mb(os.getpid(), server)
        db, wal, free = db_mb(self.store)
        return Sample(
            cycle,
            cycle * self.args.hours / 24,
            rss_mb(os.getpid()),
            tree,
            procs,
            open_fds(),
            db,
            wal,
            free,
            rows(self.store),
            len(self.poller.stories),
            seconds,
        )

    async def run(self, server: int) -> None:
        a = self.args
        step = timedelta(hours=a.hours)
        last_day = last_rotate = 0
        spent = 0.0
        print(HEADER)
        async with Fetcher(self.config.http) as fetcher:
            for cycle in range(1, a.cycles + 1):
                started = time.perf_counter()
                post(a.port, f"/_bump?fraction={a.bump}")
                self.clock.advance(step)
                await self.tick(fetcher)
                day = int(cycle * a.hours // 24)
                if day != last_day:
                    last_day = day
                    await self.daily(fetcher)
                if a.rotate and day - last_rotate >= a.rotate_days:
                    last_rotate = day
                    self.reload()
                spent += time.perf_counter() - started
                if cycle % a.every == 0 or cycle == 1:
                    s = self.sample(cycle, spent / (a.every if cycle > 1 else 1), server)
                    spent = 0.0
                    self.samples.append(s)
                    print(row(s), flush=True)
                    if a.trace:
                        self._trace()
        self.poller.close()
        self.store.close()


HEADER = (
    f"{'cycle':>6} {'day':>6} {'RSS MB':>7} {'tree MB':>8} {'procs':>5} {'fds':>4} "
    f"{'db MB':>6} {'wal MB':>6} {'free pg':>7} {'sources':>7} {'seen':>7} {'items':>6} "
    f"{'digests':>7} {'snaps':>5} {'stories':>7} {'s/cycle':>7}"
)


def row(s: Sample) -> str:
    r = s.rows
    return (
        f"{s.cycle:6d} {s.day:6.1f} {s.rss:7.1f} {s.tree:8.1f} {s.procs:5d} {s.fds:4d} "
        f"{s.db:6.2f} {s.wal:6.2f} {s.free:7d} {r['sources']:7d} {r['seen']:7d} "
        f"{r['items']:6d} {r['digests']:7d} {r['page_snapshots']:5d} {s.stories:7d} "
        f"{s.seconds:7.3f}"
    )


def quarter(samples: list[Sample], which: int, total: int) -> list[Sample]:
    lo, hi = total * (which - 1) / 4, total * which / 4
    return [s for s in samples if lo < s.cycle <= hi]


def verdict(samples: list[Sample], cycles: int) -> bool:
    """Last quarter vs second quarter: RSS (process and tree), open files, database + WAL."""
    q2, q4 = quarter(samples, 2, cycles), quarter(samples, 4, cycles)
    if not q2 or not q4:
        print("too few samples for a verdict; use more cycles or a smaller --every")
        return False
    ok = True
    checks = (
        ("RSS, this process (MB)", lambda s: s.rss),
        ("RSS, process tree (MB)", lambda s: s.tree),
        ("open file descriptors", lambda s: float(s.fds)),
        ("database + WAL (MB)", lambda s: s.db + s.wal),
    )
    print()
    for label, get in checks:
        second = sum(map(get, q2)) / len(q2)
        last = sum(map(get, q4)) / len(q4)
        change = (last - second) / second if second else 0.0
        good = change <= TOLERANCE
        ok &= good
        print(
            f"{label:26} 2nd quarter {second:8.2f}  last quarter {last:8.2f}  "
            f"{change:+6.1%}  {'flat' if good else 'GROWS'}"
        )
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sources", type=int, default=200)
    ap.add_argument("--cycles", type=int, default=1000)
    ap.add_argument("--hours", type=float, default=6.0, help="simulated hours per cycle")
    ap.add_argument("--retention", type=int, default=30, help="retention_days")
    ap.add_argument("--bump", type=float, default=0.1, help="share of documents changed per cycle")
    ap.add_argument("--rotate", type=float, default=0.05, help="share of sources replaced")
    ap.add_argument("--rotate-days", type=int, default=7, help="simulated days between reloads")
    ap.add_argument("--every", type=int, default=50, help="cycles between samples")
    ap.add_argument("--hosts", type=int, default=10)
    ap.add_argument("--port", type=int, default=18090)
    ap.add_argument("--trace", action="store_true", help="print Python allocations that grew")
    args = ap.parse_args()
    if args.trace:
        tracemalloc.start(5)
    with serving(2 * args.sources, args.hosts, args.port, latency=0) as server:
        print(
            f"{args.sources} sources, {args.cycles} cycles of {args.hours:g} simulated hours "
            f"({args.cycles * args.hours / 24:.0f} days), retention {args.retention} days, "
            f"{args.bump:.0%} of documents changed per cycle, {args.rotate:.0%} of sources "
            f"replaced every {args.rotate_days} days"
        )
        with tempfile.TemporaryDirectory() as tmp:
            soak = Soak(args, Path(tmp))
            asyncio.run(soak.run(server.pid))
            ok = verdict(soak.samples, args.cycles)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
