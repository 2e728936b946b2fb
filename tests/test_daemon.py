"""The real daemon in a subprocess: polls, serves health and metrics, reloads, stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.daemon import missed_digest
from tests.conftest import ContentServer

FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
<item><guid>a</guid><title>Entry A</title><description>Text A</description></item>
</channel></rss>"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_text(srv: ContentServer, port: int, extra: str = "") -> str:
    return f"""
[http]
allow_networks = ["127.0.0.1/32"]

[poll]
tick_seconds = 1

[web]
port = {port}

[seeds]
path = "seeds"

[[sources]]
name = "local feed"
url = "{srv.base}/feed.xml"
kind = "feed"
interval = "1s"
{extra}
[topics.t]
query = "entry"

[channels.files]
kind = "file"
"""


def get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def wait_for(predicate, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


class Daemon:
    def __init__(self, cfg: Path) -> None:
        self.log = cfg.parent / "daemon.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(cfg), "run"],
            cwd=cfg.parent,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def text(self) -> str:
        return self.log.read_text()


@pytest.fixture
def running(tmp_path: Path, content_server: ContentServer):  # type: ignore[no-untyped-def]
    content_server.set("/feed.xml", FEED, "application/rss+xml")
    port = free_port()
    cfg = tmp_path / "config.toml"
    (tmp_path / "seeds").mkdir()
    cfg.write_text(config_text(content_server, port))
    daemon = Daemon(cfg)
    base = f"http://127.0.0.1:{port}"
    yield daemon, cfg, base, content_server, port
    if daemon.proc.poll() is None:
        daemon.proc.kill()
        daemon.proc.wait()


def test_daemon_polls_serves_reloads_and_stops(running) -> None:  # type: ignore[no-untyped-def]
    daemon, cfg, base, srv, port = running
    assert wait_for(lambda: get(base + "/healthz")[0] == 200), daemon.text()
    assert wait_for(lambda: srv.hits("/feed.xml") >= 2), "the tick polls the due source again"

    # No token configured: the daemon made one in the state folder, and every route but the
    # probes needs it (before issue 18 they were open on loopback).
    assert get(base + "/metrics")[0] == 401
    token = (cfg.parent / "state" / "web.token").read_text().strip()
    status, body = get(base + "/metrics", token)
    assert status == 200
    for series in (
        "monitor_poll_cycles_total",
        'monitor_fetches_total{outcome="ok"}',
        "monitor_outbox_depth",
        'monitor_sources{state="ok"}',
        "monitor_last_tick_timestamp_seconds",
    ):
        assert series in body, series
    assert srv.base not in body  # no per-URL labels
    assert get(base + "/readyz")[0] == 200
    status, page = get(base + "/", token)
    assert status == 200 and "local feed" in page
    status, atom = get(base + "/feeds/t.atom", token)
    assert status == 200 and atom.startswith("<?xml") and "http://www.w3.org/2005/Atom" in atom
    assert get(base + "/feeds/nope.atom", token)[0] == 404
    assert get(base + "/feeds/..%2Fmonitor.db.atom", token)[0] == 404

    # A second instance on the same state folder refuses to start.
    second = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "run"],
        cwd=cfg.parent,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode == 3
    assert "another monitor" in second.stderr and "is using" in second.stderr

    # An invalid config on SIGHUP is refused and the daemon keeps running on the old one.
    good = cfg.read_text()
    cfg.write_text(good.replace('kind = "feed"', 'kind = "fax"'))
    daemon.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "config reload refused" in daemon.text()), daemon.text()
    assert get(base + "/healthz")[0] == 200

    # A valid one is applied.
    srv.set("/page", "<html><body><p>hello</p></body></html>")
    cfg.write_text(
        config_text(srv, port, f'\n[[sources]]\nurl = "{srv.base}/page"\nkind = "page"\n')
    )
    daemon.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "config reloaded: 2 sources" in daemon.text()), daemon.text()
    assert wait_for(lambda: srv.hits("/page") >= 1)

    # With watch_config, saving the file is enough.
    cfg.write_text(
        config_text(srv, port).replace("tick_seconds = 1", "tick_seconds = 1\nwatch_config = true")
    )
    daemon.proc.send_signal(signal.SIGHUP)
    assert wait_for(lambda: "config reloaded: 1 sources" in daemon.text()), daemon.text()
    cfg.write_text(cfg.read_text() + "\n[channels.more]\nkind = 'file'\n")
    assert wait_for(lambda: "config file changed; reloading" in daemon.text()), daemon.text()
    assert wait_for(lambda: "1 topics, 2 channels" in daemon.text()), daemon.text()

    # A document dropped into seeds/ adds the pages it cites, without a restart.
    srv.set("/cited", "<html><body><p>Zitierte Seite.</p></body></html>")
    (cfg.parent / "seeds" / "brief.md").write_text(f"Siehe [Quelle]({srv.base}/cited).\n")
    assert wait_for(lambda: "seed documents changed" in daemon.text()), daemon.text()
    assert wait_for(lambda: srv.hits("/cited") >= 1), daemon.text()

    # SIGTERM: exit 0 within the bound, state intact.
    started = time.monotonic()
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=30) == 0
    assert time.monotonic() - started < 25
    with sqlite3.connect(cfg.parent / "state" / "monitor.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert '"msg": "stopped"' in daemon.text()  # JSON logs when not on a terminal


def test_web_needs_a_token_beyond_loopback(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[web]\nhost = "0.0.0.0"\n')
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 2
    assert "web: listening on 0.0.0.0 reaches beyond this machine; set web.token_env" in run.stderr


def test_a_missed_digest_is_sent_once() -> None:
    weekdays = "30 7 * * 1-5"
    friday = datetime(2026, 11, 20, 6, 31, tzinfo=UTC)  # 07:31 in Berlin: Friday's digest sent
    monday_morning = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert missed_digest(weekdays, "Europe/Berlin", friday, monday_morning)
    saturday = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert not missed_digest(weekdays, "Europe/Berlin", friday, saturday)  # nothing due at weekends
    assert not missed_digest(weekdays, "Europe/Berlin", None, monday_morning)  # a new channel
