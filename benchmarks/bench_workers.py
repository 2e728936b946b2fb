"""Sources per minute with 1, 2 and 4 `monitor run` workers sharing one PostgreSQL database.

The local corpus (benchmarks/corpus_server.py: half 20-item RSS feeds, half ~50 KB article pages
on 20 loopback hosts, 50 ms latency, ETags) is polled by W worker processes started as
`monitor run` with MONITOR_DATABASE_URL set, each with one parser process. For each W a fresh
database: the cold pass (every source's first poll, its baseline) is timed until every source
has been polled; then every source is made due again with 5% of the documents changed, and the
warm pass (conditional GETs, the changed ones parsed) is timed the same way.

    python benchmarks/bench_workers.py --sources 2000
    python benchmarks/bench_workers.py --sources 2000 --workers 1 2 4

The PostgreSQL server is started from the pgserver wheel (as the tests do), or the one
MONITOR_TEST_POSTGRES_URL names. Prints, per W and pass: wall seconds from the first stored
poll to the last (start-up left out), sources per minute, and the database's commits per source
(what PostgreSQL must sustain).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corpus_server import serving  # noqa: E402

from monitor.store.postgres import engine_url  # noqa: E402
from tests.pg_server import fresh_database, postgres_server  # noqa: E402


def write_config(folder: Path, n: int, hosts: int, port: int) -> Path:
    lines = [
        "[http]",
        'allow_networks = ["127.0.0.0/8"]',
        "respect_robots = false",
        "concurrency = 100",
        "per_host_concurrency = 16",
        "[seeds]",
        "enabled = false",
        "[poll]",
        "tick_seconds = 1",
        "workers = 1",
        "[web]",
        "enabled = false",
    ]
    for doc in range(n):
        host = f"127.0.0.{doc % hosts + 1}"
        kind = "feed" if doc % 2 == 0 else "page"
        lines += [
            "[[sources]]",
            f'url = "http://{host}:{port}/doc/{doc}"',
            f'kind = "{kind}"',
            'interval = "6h"',
        ]
    topics = (REPO / "config.toml").read_text(encoding="utf-8")
    cfg = folder / "config.toml"
    cfg.write_text("\n".join(lines) + "\n" + topics[topics.index("[aliases]") :], encoding="utf-8")
    return cfg


def scalar(db: object, sql: str) -> object:
    try:
        with db.connect() as conn:  # type: ignore[attr-defined]
            return conn.execute(text(sql)).scalar()
    except Exception:  # the tables do not exist before the first worker made them
        return None


def timed_pass(db: object, n: int, since: str, timeout: float) -> tuple[float, int]:
    """Wait until every source was polled after `since`; (wall seconds from the first stored
    poll to the last, database commits meanwhile). Watched on this process's clock: a cycle
    stamps its sources with its own start time, so the stored times cannot tell."""
    deadline = time.monotonic() + timeout
    commits0 = int(scalar(db, _COMMITS) or 0)  # type: ignore[call-overload]
    polled = f"SELECT count(*) FROM sources WHERE last_polled_at > '{since}'"
    first = None
    while (done := int(scalar(db, polled) or 0)) < n:  # type: ignore[call-overload]
        now = time.monotonic()
        if first is None and done:
            first = now
        if now > deadline:
            raise SystemExit(f"timed out: {done} of {n} sources polled")
        time.sleep(0.2)
    span = time.monotonic() - (first or time.monotonic())
    commits = int(scalar(db, _COMMITS) or 0) - commits0  # type: ignore[call-overload]
    return span, commits


_COMMITS = "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"


def run(base: str, cfg: Path, n: int, workers: int, corpus: str, timeout: float) -> list[str]:
    out = []
    with fresh_database(base) as url:
        db = create_engine(engine_url(url))
        env = {**os.environ, "MONITOR_DATABASE_URL": url}
        logs = [open(cfg.parent / f"w{workers}-{i}.log", "w") for i in range(workers)]  # noqa: SIM115
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(cfg), "run"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cfg.parent,
            )
            for log in logs
        ]
        try:
            cold, commits = timed_pass(db, n, "2000-01-01", timeout)
            out.append(_line(workers, "cold", n, cold, commits))
            mark = scalar(db, "SELECT max(last_polled_at) FROM sources")
            req = urllib.request.Request(f"{corpus}/_bump?fraction=0.05", method="POST")
            urllib.request.urlopen(req).read()
            with db.begin() as conn:  # every source due again now
                conn.execute(text("UPDATE sources SET next_check_at = NULL"))
            warm, commits = timed_pass(db, n, str(mark), timeout)
            out.append(_line(workers, "warm", n, warm, commits))
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(60)
            for log in logs:
                log.close()
            db.dispose()
    return out


def _line(workers: int, what: str, n: int, seconds: float, commits: int) -> str:
    rate = n / seconds * 60 if seconds else float("inf")
    return (
        f"| {workers} | {what} | {n} | {seconds:.1f} s | {rate:,.0f} | {commits / n:.2f} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=2000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--port", type=int, default=18093)
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args()
    with serving(args.sources, args.hosts, args.port):
        corpus = f"http://127.0.0.1:{args.port}"
        lines = ["| workers | pass | sources | first to last poll | sources/min | commits/source |"]
        lines.append("|---|---|---|---|---|---|")
        with tempfile.TemporaryDirectory() as tmp, postgres_server() as base:
            cfg = write_config(Path(tmp), args.sources, args.hosts, args.port)
            for w in args.workers:
                lines += run(base, cfg, args.sources, w, corpus, args.timeout)
                print(lines[-2], lines[-1], sep="\n", flush=True)
        print("\n".join(lines))
        print(json.dumps({"cpus": os.cpu_count(), "sources": args.sources}))


if __name__ == "__main__":
    main()
