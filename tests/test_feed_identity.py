"""Feed entries: identity beyond the link, and titles as text.

Entries without a guid that share one link (a live blog, a feed linking every item to its home
page) are each their own entry; markup in titles, however escaped, never reaches the store, the
mail, the webhook JSON or the Atom output. Parsing is checked on both feed paths; delivery runs
the real CLI against a local feed server, SMTP server and webhook receiver.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.digest.atom import topic_feed
from monitor.digest.render import render_digest
from monitor.extract.feeds import parse_feed
from tests.conftest import ContentServer, SmtpSink, WebhookReceiver
from tests.test_digest_render import digest, match
from tests.test_end_to_end import bodies, monitor
from tests.test_extract_feeds_paths import atom, both, rss

LIVE = "https://news.example.org/live"
SECRET_ENV = "TEST_MONITOR_IDENTITY_SECRET"


def live_item(n: int, title: str | None = None) -> str:
    return (
        f"<item><title>{title or f'Live update {n}'}</title><link>{LIVE}</link>"
        f"<description>Update number {n} from the live coverage.</description></item>"
    )


# --- identity -----------------------------------------------------------------------------------


def test_guidless_entries_sharing_a_link_are_all_kept() -> None:
    doc, fast = both(rss("".join(live_item(n) for n in range(1, 17))))
    assert fast  # the lxml path takes the feed, and gives the same keys as feedparser
    assert [p.title for p in doc.passages] == [f"Live update {n}" for n in range(1, 17)]
    assert len({p.key for p in doc.passages}) == 16
    assert all(p.link == LIVE for p in doc.passages)
    assert not any("repeated" in w for w in doc.warnings)


def test_same_link_and_title_told_apart_by_text() -> None:
    doc, _ = both(rss(live_item(1, "Liveblog") + live_item(2, "Liveblog") + live_item(3)))
    assert len({p.key for p in doc.passages}) == 3


def test_guidless_entry_with_its_own_link_keeps_the_link_as_key() -> None:
    """Unchanged since 0.1.0, so such feeds are not moved to new keys at all."""
    doc, _ = both(
        rss(
            "<item><title>A</title><link>https://news.example.org/a</link></item>"
            + live_item(1)
            + live_item(2)
        )
    )
    assert doc.passages[0].key == "https://news.example.org/a"
    assert doc.passages[0].former_key is None
    assert {p.former_key for p in doc.passages[1:]} == {LIVE}


def test_keys_do_not_depend_on_the_order_of_the_feed() -> None:
    items = [live_item(n) for n in range(1, 6)]
    forward = parse_feed(rss("".join(items)), "https://x.example/f")
    backward = parse_feed(rss("".join(reversed(items))), "https://x.example/f")
    assert {p.key for p in forward.passages} == {p.key for p in backward.passages}


# --- titles -------------------------------------------------------------------------------------

MARKED_UP = {
    "escaped once and cdata": (
        rss("<item><guid>t1</guid><title>&lt;b&gt;Troops&lt;/b&gt; <![CDATA[<i>x</i>]]></title>"
            "<description>d</description></item>"),
        "Troops x",
    ),
    "escaped twice": (
        rss("<item><guid>t2</guid><title>&amp;lt;b&amp;gt;Troops&amp;lt;/b&amp;gt; cross"
            "</title><description>d</description></item>"),
        "Troops cross",
    ),
    "script escaped twice": (
        rss("<item><guid>t3</guid><title>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;"
            " Kursk</title><description>d</description></item>"),
        "Kursk",
    ),
    "atom text with literal tags": (
        atom('<entry><id>t4</id><title type="text">&lt;b&gt;Troops&lt;/b&gt; &amp;amp; co'
             "</title><summary>d</summary></entry>"),
        "Troops & co",
    ),
    "atom html escaped twice": (
        atom('<entry><id>t5</id><title type="html">&amp;lt;em&amp;gt;Eil&amp;lt;/em&amp;gt;'
             "</title><summary>d</summary></entry>"),
        "Eil",
    ),
    "comparison is not markup": (
        rss("<item><guid>t6</guid><title>Kosten &lt; 5 Mio, Ziel &gt; 2030</title>"
            "<description>d</description></item>"),
        "Kosten < 5 Mio, Ziel > 2030",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(MARKED_UP))
def test_feed_titles_are_plain_text_on_both_paths(name: str) -> None:
    body, expected = MARKED_UP[name]
    doc, _ = both(body)
    assert [p.title for p in doc.passages] == [expected]


def test_feed_title_of_the_channel_is_plain_text() -> None:
    doc, _ = both(rss("", channel="<title>&amp;lt;b&amp;gt;Kanal&amp;lt;/b&amp;gt;</title>"))
    assert doc.title == "Kanal"


def test_titles_stored_with_markup_by_an_older_release_are_shown_as_text() -> None:
    """Items already in the store keep their old title; every output strips it as well."""
    old = match(1, "troop_deployment", title="<b>Troops</b> in &lt;Kursk&gt;")
    out = render_digest(digest({"troop_deployment": [old]}))
    assert "1. Troops in <Kursk>\n" in out.text
    payload = out.payload["data"]["topics"]["troop_deployment"]["items"][0]
    assert payload["title"] == "Troops in <Kursk>"
    assert "Troops in &lt;Kursk&gt;" in out.html and "<b>Troops" not in out.html
    feed = topic_feed("troop_deployment", "Troops", [old], old.first_seen, "https://x.example/a")
    assert b'<title type="text">Troops in &lt;Kursk&gt;</title>' in feed


# --- through the CLI to every channel -----------------------------------------------------------


def test_markup_titles_reach_no_channel_and_shared_links_all_count(
    tmp_path: Path,
    content_server: ContentServer,
    smtp_server: SmtpSink,
    webhook_receiver: WebhookReceiver,
) -> None:
    srv = content_server
    first = "".join(live_item(n) for n in range(1, 4))
    srv.set("/feed.xml", rss(first), "application/rss+xml")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
[http]
allow_networks = ["127.0.0.1/32"]
respect_robots = false

[seeds]
enabled = false

[[sources]]
name = "Wire"
url = "{srv.base}/feed.xml"
kind = "feed"

[channels.mail]
kind = "email"
host = "127.0.0.1"
port = {smtp_server.port}
security = "none"
sender = "monitor@example.org"
recipients = ["analysts@example.org"]
send_empty = false

[channels.hook]
kind = "webhook"
url = "{webhook_receiver.url}"
secret_env = "{SECRET_ENV}"
send_empty = false

[topics.troops]
name = "Troops"
query = "troops OR Truppen"
""",
        encoding="utf-8",
    )
    env = {SECRET_ENV: webhook_receiver.secret or ""}
    baseline = monitor(cfg, "once", env=env)
    # The first poll is kept unparsed; its 3 entries are recorded when the feed changes.
    assert "1 first poll kept unparsed" in baseline.stdout, baseline.stdout + baseline.stderr

    marked = (
        "&amp;lt;b&amp;gt;Truppen&amp;lt;/b&amp;gt; an der Grenze &amp;lt;script&amp;gt;"
        "alert(1)&amp;lt;/script&amp;gt; Kosten &lt; 5 Mio"
    )
    srv.set(
        "/feed.xml",
        rss(live_item(4, marked) + live_item(5, "Troops &lt;i&gt;advance&lt;/i&gt;") + first),
        "application/rss+xml",
    )
    second = monitor(cfg, "once", env=env)
    # Both new updates share the link of the three known ones, and both are new.
    assert "2 new passages (3 baseline)" in second.stdout, second.stdout + second.stderr
    sent = monitor(cfg, "digest", env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr

    want = ["Truppen an der Grenze Kosten < 5 Mio", "Troops advance"]
    [hook] = webhook_receiver.accepted
    titles = [i["title"] for i in hook["data"]["topics"]["troops"]["items"]]
    assert sorted(titles) == sorted(want)
    assert "<b>" not in json.dumps(hook) and "alert(1)" not in json.dumps(hook)
    [mail] = smtp_server.wait(1)
    text, html = bodies(mail)
    for title in want:
        assert title in text
    assert "<b>" not in text and "<i>" not in text and "alert(1)" not in text
    assert "Truppen an der Grenze Kosten &lt; 5 Mio" in html  # escaped, not markup
    assert "alert(1)" not in html
