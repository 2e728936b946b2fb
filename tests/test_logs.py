"""Log lines off a terminal are JSON objects that log shippers can parse, one per line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ContentServer
from tests.test_daemon import FEED, Daemon, config_text, free_port, wait_for


def test_the_daemon_logs_json_lines_when_stderr_is_not_a_terminal(
    tmp_path: Path, content_server: ContentServer
) -> None:
    content_server.set("/feed.xml", FEED, "application/rss+xml")
    cfg = tmp_path / "config.toml"
    (tmp_path / "seeds").mkdir()
    cfg.write_text(config_text(content_server, free_port()))
    daemon = Daemon(cfg)
    try:
        assert wait_for(lambda: content_server.hits("/feed.xml") > 0, timeout=60), daemon.text()
    finally:
        daemon.proc.terminate()
        daemon.proc.wait(timeout=30)
    lines = [json.loads(line) for line in daemon.text().splitlines() if line.strip()]
    assert len(lines) >= 2, lines
    for line in lines:
        assert {"ts", "level", "logger", "msg"} <= line.keys(), line
        assert line["ts"].endswith("+00:00") and line["level"] == line["level"].lower()
    assert "exc" not in {key for line in lines for key in line}
