"""Several real `monitor run` workers on one real PostgreSQL database, one host, one state
folder: each due source is polled by one worker, a worker killed (SIGKILL) in the middle of a
poll has its sources taken over once its lease passes, one digest goes out per channel and
scheduled time, and a worker killed in the middle of a delivery has it resent once, under the
same webhook-id, by another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from monitor.daemon import scheduled_time
from monitor.store.postgres import engine_url
from tests.conftest import ContentServer
from tests.local_config import LOOPBACK_HTTP, NO_SEEDS, source
from tests.test_end_to_end import rss

FEEDS = 9
LEASE = 5  # seconds: short, so that takeovers come quickly; long enough for a loaded machine
WAIT = 150.0  # seconds any one stage may take on a loaded two-core machine


class HoldingReceiver:
    """A webhook receiver whose first delivery hangs (no answer) until `release` is set: the
    sender is killed mid-send. Every request's webhook-id is kept."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.bodies: list[dict] = []
        self.first = threading.Event()  # the first delivery arrived and hangs
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.ids.append(self.headers.get("webhook-id", ""))
                receiver.bodies.append(json.loads(body))
                if not receiver.first.is_set():
                    receiver.first.set()
                    receiver.release.wait(WAIT)
                try:
                    self.send_response(200)
                    self.end_headers()
                except OSError:  # the sender was killed meanwhile
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[HoldingReceiver]:
    rcv = HoldingReceiver()
    thread = threading.Thread(target=rcv.httpd.serve_forever, daemon=True)
    thread.start()
    yield rcv
    rcv.release.set()
    rcv.httpd.shutdown()
    rcv.httpd.server_close()


def feed(i: int, new: bool) -> str:
    entries = [(f"old-{i}", f"Report {i}", f"Troops seen near Kursk, report number {i}.")]
    if new:
        entries.insert(0, (f"new-{i}", f"Update {i}", f"More troops reach Kursk, update {i}."))
    return rss(entries)


def until(what: str, check: Callable[[], object], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.3)


def pid_of(claimed_by: str) -> int:
    return int(claimed_by.split(":")[1])


def test_workers_share_sources_and_survive_sigkill(
    tmp_path: Path, content_server: ContentServer, receiver: HoldingReceiver, pg_url: str
) -> None:
    for i in range(FEEDS):
        content_server.set(f"/f{i}.xml", feed(i, new=False), "application/rss+xml")
    # One feed answers only after a long while: whoever polls it is killed while it waits.
    content_server.set("/slow.xml", feed(99, new=False), "application/rss+xml", delay=40)
    sources = "".join(
        source(f"{content_server.base}/f{i}.xml", f"Feed {i}") + 'interval = "2s"\n'
        for i in range(FEEDS)
    ) + source(f"{content_server.base}/slow.xml", "Slow") + 'interval = "2s"\n'
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""{LOOPBACK_HTTP}{NO_SEEDS}
[poll]
tick_seconds = 1
workers = 1

[state]
lease = {LEASE}

[web]
enabled = false

{sources}
[topics.kursk]
query = "Kursk"

[channels.hook]
kind = "webhook"
url = "{receiver.url}"
schedule = "* * * * *"
send_empty = true
""",
        encoding="utf-8",
    )
    env = {**os.environ, "MONITOR_DATABASE_URL": pg_url}
    logs = [open(tmp_path / f"worker{n}.log", "w") for n in range(3)]  # noqa: SIM115
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(cfg), "run"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
        for log in logs
    ]
    db = create_engine(engine_url(pg_url))

    def one(sql: str) -> object:
        try:
            with db.connect() as conn:
                return conn.execute(text(sql)).scalar()
        except ProgrammingError:  # the first worker has not made the tables yet
            return None

    def tail() -> str:
        return "\n".join(
            f"--- worker {n}\n" + (tmp_path / f"worker{n}.log").read_text()[-3000:]
            for n in range(3)
        )

    try:
        slow = f"{content_server.base}/slow.xml"
        # Mid-cycle: the worker that claimed the slow feed hangs on it; kill it there.
        until("a worker claims the slow feed", lambda: one(
            f"SELECT claimed_by FROM sources WHERE url = '{slow}' AND lease_until IS NOT NULL"
        ))
        holder = str(one(f"SELECT claimed_by FROM sources WHERE url = '{slow}'"))
        killed = [w for w in workers if w.pid == pid_of(holder)]
        assert killed, (holder, [w.pid for w in workers])
        killed[0].send_signal(signal.SIGKILL)
        killed[0].wait(10)
        content_server.set("/slow.xml", feed(99, new=False), "application/rss+xml")
        # Its lease passes, another worker takes the feed over; every baseline gets taken.
        until("the slow feed is polled by another worker", lambda: one(
            f"SELECT last_polled_at IS NOT NULL FROM sources WHERE url = '{slow}'"
        ))
        assert str(one(f"SELECT claimed_by FROM sources WHERE url = '{slow}'")) != holder
        until("every feed has its baseline", lambda: one(
            "SELECT count(*) FROM sources WHERE baseline_done"
        ) == FEEDS + 1)

        # New entries everywhere: each is found once, by whichever worker polls its feed.
        for i in range(FEEDS):
            content_server.set(f"/f{i}.xml", feed(i, new=True), "application/rss+xml")
        until("every new entry is matched", lambda: one(
            "SELECT count(*) FROM matches"
        ) == FEEDS, )
        # Mid-delivery: the first digest's sender hangs on the receiver; kill it there.
        until("a digest delivery hangs", receiver.first.is_set)
        sender = one("SELECT claimed_by FROM digests WHERE lease_until IS NOT NULL")
        assert sender, tail()
        victims = [w for w in workers if w.pid == pid_of(str(sender)) and w.poll() is None]
        assert victims, (sender, tail())
        victims[0].send_signal(signal.SIGKILL)
        victims[0].wait(10)
        receiver.release.set()
        # The survivor takes the cut delivery over and delivers every match.
        until("every match is delivered", lambda: one(
            "SELECT count(*) FROM digest_matches dm JOIN digests d ON d.id = dm.digest_id "
            "WHERE d.status = 'sent'"
        ) == FEEDS, )
        until("the outbox is empty", lambda: one(
            "SELECT count(*) FROM digests WHERE status <> 'sent'"
        ) == 0)
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(20)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait(5)
        for log in logs:
            log.close()
    survivors = [w for w in workers if w not in (killed[0], victims[0])]
    assert [w.returncode for w in survivors] == [0], tail()

    # Each digest went out once, except the one cut mid-send: once more, under the same id.
    with db.connect() as conn:
        digests = conn.execute(
            text("SELECT id, created_at FROM digests WHERE kind = 'digest' ORDER BY created_at")
        ).all()
        sent = dict(conn.execute(text("SELECT id, attempts FROM digests")).all())
    counts = {i: receiver.ids.count(i) for i in set(receiver.ids)}
    assert set(counts) == set(sent), (counts, sent)
    assert sorted(counts.values())[-1] == 2 and sorted(counts.values())[:-1] == [1] * (
        len(counts) - 1
    ), counts
    assert counts[receiver.ids[0]] == 2  # the one cut mid-send
    # One digest per scheduled minute, however many workers fired their schedule.
    periods = [
        scheduled_time("* * * * *", "UTC", created.replace(tzinfo=UTC)) for _, created in digests
    ]
    assert len(periods) == len(set(periods)), digests
    db.dispose()
