"""What the checks at opening cost: `Store()` reads the file header and runs SQLite's
`PRAGMA quick_check` before anything else touches the database (every command and the daemon's
start pay it once). Builds a state database of about --mb megabytes of fingerprints, then times
the checks alone and a whole `Store()` open, warm (file in the page cache).

    python benchmarks/bench_state_open.py --mb 50
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.store import Store  # noqa: E402
from monitor.store.faults import check_contents, check_file  # noqa: E402

ROW_BYTES = 170  # about what one fingerprint row and its index entry take


def build(state: Path, megabytes: int) -> Path:
    Store(state).close()
    db = state / "monitor.db"
    rows = megabytes * 1_000_000 // ROW_BYTES
    with closing(sqlite3.connect(db)) as conn:
        conn.executemany(
            "INSERT INTO seen (source_key, fingerprint, first_seen, last_seen) "
            "VALUES (?, ?, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            ((f"src{i % 1000}", f"{i:032x}") for i in range(rows)),
        )
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def best_of(runs: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50, help="database size to build")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        db = build(state, args.mb)
        size = db.stat().st_size / 1e6

        def checks() -> None:
            check_file(db)
            check_contents(db)

        checked = best_of(args.runs, checks)
        whole = best_of(args.runs, lambda: Store(state).close())
        print(
            f"database {size:.1f} MB: checks {checked * 1000:.0f} ms, Store() {whole * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
