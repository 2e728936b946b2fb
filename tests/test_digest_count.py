"""The digest's header counts the stories it shows: an item listed under two topics is one story.
Driven through the real CLI over a local feed, written by the file channel."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import ContentServer
from tests.local_config import LOOPBACK_HTTP, NO_SEEDS
from tests.test_end_to_end import monitor, rss

OLD = [("old-1", "Football: Bayern beat Dortmund", "A late goal decided the match in Munich.")]
# Matches both topics below: one story, shown under each topic.
BOTH = (
    "new-1",
    "North Korean troops in Kursk, Pyongyang cites the treaty",
    "North Korean troops arrived in Kursk; Pyongyang cites Article 4 of its treaty with Moscow.",
)
ONE = (
    "new-2",
    "More North Korean troops reach Kursk",
    "Another 2,000 North Korean troops reached Kursk by train, officials in Seoul said.",
)


def test_header_counts_each_story_once(tmp_path: Path, content_server: ContentServer) -> None:
    srv = content_server
    srv.set("/feed.xml", rss(OLD), "application/rss+xml; charset=utf-8")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
{LOOPBACK_HTTP}
{NO_SEEDS}
[[sources]]
name = "Wire"
url = "{srv.base}/feed.xml"
kind = "feed"

[channels.files]
kind = "file"
send_empty = false

[topics.troops]
name = "Troops"
query = 'Kursk AND troops'

[topics.treaty]
name = "Treaty"
query = 'treaty AND Article'
""",
        encoding="utf-8",
    )
    assert monitor(cfg, "once").returncode == 0
    srv.set("/feed.xml", rss([BOTH, ONE, *OLD]), "application/rss+xml; charset=utf-8")
    polled = monitor(cfg, "once")
    assert polled.returncode == 0 and "troops: 2" in polled.stdout and "treaty: 1" in polled.stdout
    sent = monitor(cfg, "digest")
    assert sent.returncode == 0, sent.stdout + sent.stderr

    folder = tmp_path / "state" / "digests"
    [text] = [p.read_text(encoding="utf-8") for p in folder.glob("*.txt")]
    [html] = [p.read_text(encoding="utf-8") for p in folder.glob("*.html")]
    [data] = [json.loads(p.read_text(encoding="utf-8"))["data"] for p in folder.glob("*.json")]
    # Two stories shown (one of them under both topics): the header, the subject and the
    # payload say 2; each topic still counts its own items.
    assert text.splitlines()[1] == "2 new items"
    assert "== Troops (troops) — 2 ==" in text and "== Treaty (treaty) — 1 ==" in text
    assert re.search(r'<p class="summary"[^>]*>2 new items</p>', html)
    assert data["subject"].startswith("[source-monitor] 2 new items: troops 2, treaty 1")
    assert data["story_count"] == 2 and data["item_count"] == 3
