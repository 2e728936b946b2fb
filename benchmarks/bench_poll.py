"""Time one cold and one warm poll cycle over N local sources.

Half the sources are 20-item RSS feeds, half ~50 KB article pages, spread over 20 loopback hosts,
each response delayed by the corpus server's latency; between the cycles 5% of documents change.

    python benchmarks/bench_poll.py --sources 1000
    python benchmarks/bench_poll.py --sources 10000

Prints wall time; CPU seconds of this process (the poller's event loop), and of the whole machine
less the corpus server (poller and parser processes); peak RSS of this process; requests sent and
304s received per cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
import urllib.request
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus_server import serving  # noqa: E402

from monitor import wiring  # noqa: E402
from monitor.fetch import Fetcher  # noqa: E402
from monitor.pipeline import Poller  # noqa: E402
from monitor.sources import load_sources  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.topics import compile_topics  # noqa: E402


def write_config(folder: Path, n: int, hosts: int, port: int) -> Path:
    lines = [
        "[http]",
        'allow_networks = ["127.0.0.0/8"]',
        "respect_robots = false",
        "concurrency = 200",
        "per_host_concurrency = 16",
        "[seeds]",
        "enabled = false",
    ]
    for doc in range(n):
        host = f"127.0.0.{doc % hosts + 1}"
        kind = "feed" if doc % 2 == 0 else "page"
        lines += ["[[sources]]", f'url = "http://{host}:{port}/doc/{doc}"', f'kind = "{kind}"']
    topics = (REPO / "config.toml").read_text(encoding="utf-8")
    cfg = folder / "config.toml"
    cfg.write_text("\n".join(lines) + "\n" + topics[topics.index("[aliases]") :], encoding="utf-8")
    return cfg


def stats(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats") as r:
        return json.loads(r.read())


def machine_cpu() -> float:
    """CPU seconds all processes on the machine used so far (user + system, from /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime + c.ru_utime + c.ru_stime


async def measure(poller: Poller, fetcher: Fetcher, port: int, label: str) -> None:
    before = stats(port)
    cpu0, all0, t0 = cpu(), machine_cpu(), time.perf_counter()
    summary = await poller.cycle(fetcher, only_due=False)
    wall, used, everything = time.perf_counter() - t0, cpu() - cpu0, machine_cpu() - all0
    after = stats(port)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    served = after["cpu"] - before["cpu"]
    print(
        f"{label:5} wall {wall:6.2f} s  cpu {used:6.2f} s poller, "
        f"{everything - served:6.2f} s with parsers (corpus server {served:5.2f} s)  "
        f"peak RSS {peak:6.0f} MB  "
        f"requests {after['requests'] - before['requests']:6.0f}  "
        f"304s {after['not_modified'] - before['not_modified']:6.0f}  "
        f"new passages {summary.new_passages + summary.baseline:7d}  failed {summary.failed}"
    )
    for name, error in summary.errors[:3]:
        print(f"      failed: {name}: {error}")


async def profiled(work: Coroutine[Any, Any, None], label: str) -> None:
    """Run a cycle; with BENCH_PROFILE=cold or =warm, print where this process spent its time."""
    if os.environ.get("BENCH_PROFILE") != label:
        await work
        return
    import cProfile
    import pstats

    # BENCH_TIMER=cpu: CPU time of this process rather than wall time (on a busy machine the
    # wall clock also counts the time other processes held the cores).
    timer = time.process_time if os.environ.get("BENCH_TIMER") == "cpu" else time.perf_counter
    prof = cProfile.Profile(timer)
    prof.enable()
    await work
    prof.disable()
    # BENCH_SORT=cumulative and BENCH_ROWS=80 for a wider view.
    order = os.environ.get("BENCH_SORT", "tottime")
    pstats.Stats(prof).sort_stats(order).print_stats(int(os.environ.get("BENCH_ROWS", "25")))


async def run(n: int, hosts: int, port: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = wiring.load(write_config(Path(tmp), n, hosts, port))
        store = Store(config.state_dir)
        poller = Poller(
            config, store, compile_topics(config.topics, config.aliases), load_sources(config)
        )
        # Parser processes start on first use (a cycle of first polls, whose bodies are kept,
        # needs none); started here so that their start-up (a fork server importing the
        # extractors once) is reported apart from the cycles.
        started, spent = time.perf_counter(), machine_cpu()
        await asyncio.to_thread(poller.wait_ready)
        print(
            f"parser processes ready in {time.perf_counter() - started:.2f} s "
            f"({machine_cpu() - spent:.2f} s CPU)"
        )
        async with Fetcher(config.http) as fetcher:
            await profiled(measure(poller, fetcher, port, "cold"), "cold")
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/_bump?fraction=0.05", method="POST"
            )
            urllib.request.urlopen(req).read()
            await profiled(measure(poller, fetcher, port, "warm"), "warm")
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--latency", type=float, default=0.05)
    args = ap.parse_args()
    with serving(args.sources, args.hosts, args.port, args.latency):
        ms = args.latency * 1000
        print(f"N = {args.sources} sources on {args.hosts} hosts, latency {ms:.0f} ms")
        asyncio.run(run(args.sources, args.hosts, args.port))


if __name__ == "__main__":
    main()
