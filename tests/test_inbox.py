"""The inbox page, served by the real daemon over a state made by the real CLI (a local feed
polled, a digest made): recent reports by topic, search and filters through the page's form,
hostile text escaped, bad input refused with one line."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import Markup

from monitor.inbox.page import highlight
from monitor.inbox.search_keys import index
from monitor.models import Evidence, Match
from monitor.store import Store
from monitor.store.archive import archive_matches
from tests.conftest import ContentServer
from tests.test_archive import ENGLISH, GERMAN, OLD
from tests.test_daemon import Daemon, free_port, get, wait_for
from tests.test_end_to_end import monitor, rss

HOSTILE_TITLE = '<script>alert("title")</script> Kursk troops'
TOKEN = "inbox-test-token-0123456789abcdef"
HOSTILE_TEXT = "Kursk troops <img src=x onerror=alert(1)> & </article><script>alert(2)</script>"


def _config(srv: ContentServer, port: int) -> str:
    return f"""
[http]
allow_networks = ["127.0.0.1/32"]
respect_robots = false

[poll]
tick_seconds = 1

[seeds]
enabled = false

[web]
port = {port}
token_env = "INBOX_TEST_TOKEN"

[[sources]]
name = "Wire"
url = "{srv.base}/feed.xml"
kind = "feed"
interval = "1h"

[topics.troops]
name = "Troops"
query = 'Kursk AND (troops OR Soldaten)'

[topics.sanctions]
query = 'Sanktion* OR sanctions'

[channels.files]
kind = "file"
schedule = "30 7 * * *"
send_empty = false
"""


def _hostile(mid: int) -> Match:
    return Match(
        id=mid,
        topic="troops",
        score=2.0,
        evidence=Evidence(("Kursk", "troops"), "Kursk AND troops", HOSTILE_TEXT, ((0, 5),)),
        source_key="https://evil.example.org/feed",
        source_name='"><b onmouseover=alert(3)>Evil</b>',
        title=HOSTILE_TITLE,
        link="javascript:alert(4)",
        text=HOSTILE_TEXT,
        language="en",
        published=None,
        first_seen=datetime(2026, 11, 20, 9, tzinfo=UTC),
        also_reported_by=["<i>Copycat</i>"],
        item_id=99_999,
    )


@pytest.fixture
def inbox(
    tmp_path: Path, content_server: ContentServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The base URL of a running daemon whose archive holds two reports from the pipeline and
    one hostile report."""
    content_server.set("/feed.xml", rss(OLD), "application/rss+xml; charset=utf-8")
    port = free_port()
    cfg = tmp_path / "config.toml"
    cfg.write_text(_config(content_server, port), encoding="utf-8")
    assert monitor(cfg, "once").returncode == 0
    content_server.set("/feed.xml", rss([GERMAN, ENGLISH, *OLD]), "application/rss+xml")
    assert monitor(cfg, "once").returncode == 0
    sent = monitor(cfg, "digest")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    store = Store(tmp_path / "state")
    try:
        with store.transaction() as conn:
            archive_matches(conn, [_hostile(10_000)], datetime.now(UTC), index)
    finally:
        store.close()
    monkeypatch.setenv("INBOX_TEST_TOKEN", TOKEN)
    daemon = Daemon(cfg)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: get(base + "/readyz")[0] == 200, 60), daemon.text()
        yield base
    finally:
        daemon.proc.terminate()
        daemon.proc.wait(20)


class _Page(HTMLParser):
    """What a browser would build of the page: its elements, attributes and text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def page(base: str, **params: str) -> tuple[int, str]:
    url = f"{base}/inbox?{urllib.parse.urlencode(params)}" if params else f"{base}/inbox"
    return get(url, TOKEN)


def titles(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r"<h3>(.*?)</h3>", html)]


def test_the_inbox_shows_recent_reports_by_topic_escaped(inbox: str) -> None:
    status, html = page(inbox)
    assert status == 200
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'id="topic-troops"' in html and 'id="topic-sanctions"' in html
    assert "Nothing reported yet." in html  # sanctions
    assert GERMAN[1] in html and ENGLISH[1] in html
    # Hostile text is text: no element, attribute or link comes from it.
    tree = parse(html)
    assert [t for t, _ in tree.tags if t in ("script", "img", "b", "i")] == []
    assert not any("onerror" in attrs or "onmouseover" in attrs for _, attrs in tree.tags)
    hrefs = [attrs.get("href") for t, attrs in tree.tags if t == "a"]
    assert "javascript:alert(4)" not in hrefs
    assert "https://news.example.org/de-1" in hrefs
    shown = "".join(tree.text)
    # Markup in a title is removed (as in the digests); in a text it is shown as text.
    assert "Kursk troops" in titles(html) and "alert(&#34;title&#34;)" not in html
    assert "<img src=x onerror=alert(1)>" in shown
    assert "Also reported by: <i>Copycat</i>" in shown
    # The evidence is marked in the snippet; each report carries what its actions need.
    assert "<mark>Kursk</mark>" in html
    assert 'data-item-id="99999" data-topic="troops"' in html


def test_the_inbox_searches_and_filters_through_its_form(inbox: str) -> None:
    status, html = page(inbox, q="Pjongjang")
    assert status == 200 and "1 hit, newest first" in html
    assert titles(html) == [GERMAN[1]]
    # The form shows what was asked.
    assert 'name="q" value="Pjongjang"' in html
    status, html = page(inbox, q="Kursk", lang="en")
    assert status == 200 and set(titles(html)) == {ENGLISH[1], "Kursk troops"}
    status, html = page(inbox, q="Soldat", topic="troops", since="2020-01-01")
    assert status == 200 and titles(html) == [GERMAN[1]]
    status, html = page(inbox, q="Kursk", until="2020-01-01")
    assert status == 200 and "Nothing reported matches." in html
    status, html = page(inbox, source="Wire")
    assert status == 200 and len(titles(html)) == 2
    assert '<option value="troops">troops</option>' in html

    for params, said in (
        ({"q": "Kursk", "since": "gestern"}, "since: &#39;gestern&#39; is not a date"),
        ({"topic": "<nope>"}, "topic: no topic &#39;&lt;nope&gt;&#39;"),
        ({"q": "-Kursk"}, "search: nothing to search for"),
    ):
        status, html = page(inbox, **params)
        assert status == 400, params
        errors = re.findall(r"<li>(.*?)</li>", html.split('id="errors"')[1].split("</ul>")[0])
        assert len(errors) == 1 and said in errors[0], (params, errors)


def test_highlight_escapes_every_piece() -> None:
    marked = highlight("<b>Kursk</b> & troops", ((3, 8), (15, 21), (4, 6), (40, 50)))
    assert marked == Markup("&lt;b&gt;<mark>Kursk</mark>&lt;/b&gt; &amp; <mark>troops</mark>")


def test_reports_of_a_removed_topic_are_shown_without_feedback_buttons(
    inbox: str, tmp_path: Path
) -> None:
    """The archive keeps what a topic since removed from config.toml reported; feedback on it
    would be refused, so its items say why they have none, while live topics keep theirs."""
    retired = _hostile(10_001)
    retired.topic, retired.item_id = "retired", 99_998
    retired.title, retired.text = "Old convoy report", "An old convoy report from Kursk."
    store = Store(tmp_path / "state")
    try:
        with store.transaction() as conn:
            archive_matches(conn, [retired], datetime.now(UTC), index)
    finally:
        store.close()
    status, html = page(inbox, topic="retired")
    assert status == 200 and titles(html) == ["Old convoy report"]
    assert "Topic “retired” is no longer in config.toml: no feedback on it." in html
    assert 'class="fb-form"' not in html and 'name="topic" value="retired"' not in html
    status, html = page(inbox, topic="troops")
    assert status == 200 and 'name="topic" value="troops"' in html
