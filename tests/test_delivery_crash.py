"""Exactly once across a crash: the process is SIGKILLed while a digest is on the wire, then
restarted; the receiver gets the same digest again under the same idempotency key, and every match
arrives once per channel."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.conftest import ContentServer, SmtpSink
from tests.test_end_to_end import NEW_RELEVANT, OLD_ENTRIES, rss, shipped_topics


class StallingReceiver:
    """Records each delivery as it arrives; stalls the first one until released."""

    def __init__(self) -> None:
        self.arrived: list[dict] = []
        self.first = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.arrived.append({"id": self.headers["webhook-id"], **json.loads(body)})
                if len(receiver.arrived) == 1:
                    receiver.first.set()
                    receiver.release.wait(30)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_sigkill_mid_delivery_then_restart(
    tmp_path: Path, content_server: ContentServer, smtp_server: SmtpSink
) -> None:
    hook = StallingReceiver()
    srv = content_server
    srv.set("/feed.xml", rss(OLD_ENTRIES), "application/rss+xml")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
[http]
allow_networks = ["127.0.0.1/32"]
[seeds]
enabled = false
[[sources]]
url = "{srv.base}/feed.xml"
kind = "feed"
[channels.hook]
kind = "webhook"
url = "{hook.url}"
send_empty = false
[channels.mail]
kind = "email"
host = "127.0.0.1"
port = {smtp_server.port}
security = "none"
sender = "monitor@example.org"
recipients = ["a@example.org"]
send_empty = false
{shipped_topics()}
""",
        encoding="utf-8",
    )

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(cfg), *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )

    assert cli("once").returncode == 0
    srv.set("/feed.xml", rss([NEW_RELEVANT, *OLD_ENTRIES]), "application/rss+xml")
    assert cli("once").returncode == 0

    # The digest run is killed while the webhook delivery is in flight.
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "digest", "--channel", "hook"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert hook.first.wait(60), "the delivery never started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    hook.release.set()

    # Restarted: the queued digest goes out again, same id; nothing new is queued beside it.
    again = cli("digest")
    assert again.returncode == 0, again.stdout + again.stderr
    deadline = time.monotonic() + 10
    while len(hook.arrived) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(hook.arrived) == 2
    assert hook.arrived[0]["id"] == hook.arrived[1]["id"]
    assert hook.arrived[0]["data"] == hook.arrived[1]["data"]
    assert "Kursk" in json.dumps(hook.arrived[1], ensure_ascii=False)

    # The mail channel had its own copy claimed once, and a further run sends nothing more.
    assert len(smtp_server.wait(1)) == 1
    assert cli("digest").returncode == 0
    assert len(hook.arrived) == 2 and len(smtp_server.messages) == 1
    hook.httpd.shutdown()


def test_sigkill_between_detection_and_storage_loses_nothing(
    tmp_path: Path, content_server: ContentServer
) -> None:
    """The feed's new entry is detected, then the process dies while fetching the linked article
    (follow_links). Nothing of that source was committed, so the next poll finds the entry new
    again and stores its match."""
    srv = content_server
    feed = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{}</channel></rss>'
    srv.set("/feed.xml", feed.format(""), "application/rss+xml")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
[http]
allow_networks = ["127.0.0.1/32"]
respect_robots = false
[seeds]
enabled = false
[[sources]]
url = "{srv.base}/feed.xml"
kind = "feed"
follow_links = true
[channels.files]
kind = "file"
{shipped_topics()}
""",
        encoding="utf-8",
    )
    args = [sys.executable, "-m", "monitor", "--config", str(cfg), "once"]
    assert subprocess.run(args, capture_output=True, timeout=120, cwd=tmp_path).returncode == 0
    entry = (
        f"<item><guid>k1</guid><title>{NEW_RELEVANT[1]}</title><link>{srv.base}/story</link>"
        f"<description>{NEW_RELEVANT[2]}</description></item>"
    )
    srv.set("/feed.xml", feed.format(entry), "application/rss+xml")
    srv.set("/story", "<html><body><p>" + NEW_RELEVANT[2] + "</p></body></html>", delay=30)
    proc = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while srv.hits("/story") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.hits("/story") == 1, "the article fetch never started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    srv.set("/story", "<html><body><p>" + NEW_RELEVANT[2] + "</p></body></html>")
    again = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "1 new passages" in again.stdout and "troop_deployment: 1" in again.stdout
