"""What `monitor run` and `monitor once` say, through the real CLI in subprocesses: the start-up
summary, the offline warning after a first poll that read nothing, no info line for ticks with
nothing due, and `once`'s progress (a bar on a terminal, log lines otherwise)."""

from __future__ import annotations

import json
import os
import pty
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.conftest import ContentServer
from tests.test_daemon import FEED, free_port, wait_for


class Daemon:
    """`monitor run` in a subprocess, its log (JSON lines: not a terminal) in a file."""

    def __init__(self, cfg: Path, *options: str) -> None:
        self.log = cfg.parent / "daemon.log"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(cfg), *options, "run"],
            cwd=cfg.parent,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def text(self) -> str:
        return self.log.read_text()


def closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(folder: Path, urls: list[str], web_port: int) -> Path:
    (folder / "seeds").mkdir(exist_ok=True)
    sources = "".join(
        f'[[sources]]\nname = "source {n}"\nurl = "{url}"\nkind = "feed"\ninterval = "1h"\n'
        for n, url in enumerate(urls)
    )
    cfg = folder / "config.toml"
    cfg.write_text(
        f"""
[http]
allow_networks = ["127.0.0.1/32"]
respect_robots = false
[poll]
tick_seconds = 1
[web]
port = {web_port}
[seeds]
path = "seeds"
{sources}
[topics.t]
query = "entry"
[channels.files]
kind = "file"
schedule = "30 7 * * 1-5"
timezone = "Europe/Berlin"
""",
        encoding="utf-8",
    )
    return cfg


def log_records(daemon: Daemon) -> list[dict[str, str]]:
    out = []
    for line in daemon.text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def messages(daemon: Daemon, level: str | None = None) -> list[str]:
    return [r["msg"] for r in log_records(daemon) if level is None or r["level"] == level]


def stop(daemon: Daemon) -> None:
    if daemon.proc.poll() is None:
        daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=30) == 0, daemon.text()


def test_run_starts_with_a_summary(tmp_path: Path, content_server: ContentServer) -> None:
    content_server.set("/feed.xml", FEED, "application/rss+xml")
    port = free_port()
    cfg = write_config(tmp_path, [f"{content_server.base}/feed.xml"], port)
    (tmp_path / "seeds" / "note.md").write_text(
        f"See {content_server.base}/cited.html and ftp://example.org/x.\n", encoding="utf-8"
    )
    daemon = Daemon(cfg)
    try:
        assert wait_for(lambda: "monitor running" in daemon.text(), 120), daemon.text()
        said = messages(daemon, "info")
        assert f"config {cfg.resolve()}; state in {tmp_path / 'state'}" in said
        assert (
            f"2 sources: 1 configured (1 feed), 1 cited in {tmp_path / 'seeds'} (1 page)" in said
        ), said
        assert "1 topics: t" in said
        [channel] = [m for m in said if m.startswith("channel files:")]
        assert channel.startswith(f"channel files: files in {tmp_path / 'state' / 'digests'}")
        assert "next digest " in channel and " 07:30 CE" in channel  # CET or CEST
        # No token configured: every route but the probes needs the one made in state/.
        token = tmp_path / "state" / "web.token"
        web = f"http://127.0.0.1:{port}/ (token in {token})"
        assert f"status page, /healthz and /metrics: {web}" in said
        # The summary comes before the first poll's line.
        assert wait_for(lambda: any("poll cycle" in m for m in messages(daemon)), 120)
        order = messages(daemon)
        first_poll = next(i for i, m in enumerate(order) if m.startswith("poll cycle"))
        assert order.index("1 topics: t") < first_poll
        # Some source was read: no offline warning.
        assert not any("Is this machine offline?" in m for m in messages(daemon))
    finally:
        stop(daemon)


def test_run_says_when_no_source_can_be_read(tmp_path: Path) -> None:
    dead = [f"http://127.0.0.1:{closed_port()}/feed.xml" for _ in range(2)]
    cfg = write_config(tmp_path, dead, free_port())
    daemon = Daemon(cfg)
    try:
        assert wait_for(
            lambda: any("Is this machine offline?" in m for m in messages(daemon, "warning")),
            timeout=120,
        ), daemon.text()
        [line] = [m for m in messages(daemon) if "Is this machine offline?" in m]
        assert line.startswith("2 sources: 0 readable. Is this machine offline?")
    finally:
        stop(daemon)


def test_ticks_with_nothing_due_log_nothing_at_info(
    tmp_path: Path, content_server: ContentServer
) -> None:
    content_server.set("/feed.xml", FEED, "application/rss+xml")
    cfg = write_config(tmp_path, [f"{content_server.base}/feed.xml"], free_port())
    daemon = Daemon(cfg, "--log-level", "debug")
    try:
        # Ticks come every second; the source is due once an hour.
        assert wait_for(
            lambda: any(m.startswith("poll cycle: 0 sources") for m in messages(daemon)),
            timeout=120,
        ), daemon.text()
        cycles = [r for r in log_records(daemon) if r["msg"].startswith("poll cycle")]
        assert [r["level"] for r in cycles if r["msg"].startswith("poll cycle: 1 sources")] == [
            "info"
        ]
        assert {r["level"] for r in cycles if r["msg"].startswith("poll cycle: 0 sources")} == {
            "debug"
        }
    finally:
        stop(daemon)


def once_config(tmp_path: Path, content_server: ContentServer) -> Path:
    content_server.set("/feed.xml", FEED, "application/rss+xml")
    urls = [f"{content_server.base}/feed.xml", f"http://127.0.0.1:{closed_port()}/x.xml"]
    return write_config(tmp_path, urls, free_port())


def test_once_logs_each_source_when_not_on_a_terminal(
    tmp_path: Path, content_server: ContentServer
) -> None:
    cfg = once_config(tmp_path, content_server)
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "once"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(x) for x in run.stderr.splitlines() if x.startswith("{")]
    progress = sorted(r["msg"] for r in lines if r["logger"] == "monitor.once")
    # Both are told: the unreadable one because it failed, the feed because it came last or
    # as the closing count (a quiet outcome alone is not logged source by source).
    assert len(progress) == 2, run.stderr
    assert {m.split(" ", 1)[0] for m in progress} == {"1/2", "2/2"}
    assert any("source 0:" in m for m in progress) and any("source 1:" in m for m in progress)
    assert "\x1b[" not in run.stderr  # no bar drawn into a file
    assert "Is this machine offline?" not in run.stderr  # one of the two was read


def test_once_logs_quiet_outcomes_only_as_progress(
    tmp_path: Path, content_server: ContentServer
) -> None:
    """Off a terminal, sources with nothing to tell (unchanged, baseline) are not logged one
    by one: a cycle of many says only its closing count."""
    for n in range(6):
        content_server.set(f"/feed{n}.xml", FEED, "application/rss+xml")
    urls = [f"{content_server.base}/feed{n}.xml" for n in range(6)]
    cfg = write_config(tmp_path, urls, free_port())
    for _ in range(2):  # baseline, then unchanged
        run = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(cfg), "once"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        lines = [json.loads(x) for x in run.stderr.splitlines() if x.startswith("{")]
        progress = [r["msg"] for r in lines if r["logger"] == "monitor.once"]
        assert [m.split(" ", 1)[0] for m in progress] == ["6/6"], run.stderr


def test_once_shows_a_progress_bar_on_a_terminal(
    tmp_path: Path, content_server: ContentServer
) -> None:
    cfg = once_config(tmp_path, content_server)
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "once"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=300) == 0
    os.close(leader)
    screen = seen.decode("utf-8", "replace")
    assert "polling" in screen
    assert "2/2" in screen
    assert "━" in screen  # the bar itself
    assert proc.stdout is not None
    assert proc.stdout.read().decode().startswith("2 sources: 1 fetched")
