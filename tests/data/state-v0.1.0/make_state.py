"""Write monitor.db here the way release 0.1.0 (commit 40e9177) left it; see README.md.

Run with the interpreter of a checkout of that commit:
    python tests/data/state-v0.1.0/make_state.py
It serves feed-1.xml, runs `monitor once` (the baseline), serves feed-2.xml, runs `monitor
once` again and copies the resulting state/monitor.db next to this file.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFIG = (HERE / "config.toml.in").read_text(encoding="utf-8")  # {base}: the feed server


def main() -> None:
    body = {"data": b""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body["data"])))
            self.end_headers()
            self.wfile.write(body["data"])

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "config.toml").write_text(CONFIG.format(base=base), encoding="utf-8")
        for feed in ("feed-1.xml", "feed-2.xml"):
            body["data"] = (HERE / feed).read_bytes()
            run = subprocess.run(
                [sys.executable, "-m", "monitor", "--config", "config.toml", "once"],
                cwd=work,
                capture_output=True,
                text=True,
                check=True,
            )
            print(feed, run.stdout.strip().splitlines()[-1])
        # One file, no WAL beside it: fold the log into the database before copying.
        with sqlite3.connect(work / "state" / "monitor.db") as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute("PRAGMA journal_mode=DELETE")
        shutil.copy(work / "state" / "monitor.db", HERE / "monitor.db")
    print("source URL in monitor.db:", f"{base}/feed.xml")
    httpd.shutdown()


if __name__ == "__main__":
    main()
