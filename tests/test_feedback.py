"""Feedback from analysts: "not relevant" marks and mutes suppress items in every channel, the
alerts and the Atom feeds; the digest's footer counts them and its HTML carries signed links;
`monitor feedback` reports them per topic. Through the real CLI over a local feed server, and
the real state database."""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor import wiring
from monitor.extract.similar import signature, to_bytes
from monitor.feedback.links import BadLink, LinkSigner, load_key
from monitor.feedback.records import FeedbackRecords, UnknownItem
from monitor.models import Evidence, Passage, TopicMatch
from monitor.outbox import queue_digest
from monitor.sources import load_sources
from monitor.store import Store
from monitor.store.migrations import LATEST
from tests.conftest import REPO, ContentServer, remember
from tests.local_config import LOOPBACK_HTTP, NO_SEEDS
from tests.test_end_to_end import monitor, rss

# Written for these tests: one wire story (and a rewritten copy of it), other stories.
STORY = (
    "Grain ships wait outside Odesa as insurers raise war-risk premiums for the third time "
    "this month. Port officials said forty vessels were anchored in the roads on Tuesday, and "
    "two operators cancelled their sailings until the convoy corridor is confirmed again."
)
COPY = "From our correspondent. " + STORY + " The ministry did not comment on the figures."
OLD = [("old-1", "Harbour fees unchanged", "The harbour authority kept its fees for grain ships.")]
A = ("a-1", "Ships wait outside Odesa", STORY)
B = (
    "b-1",
    "Convoy corridor for grain ships reopened",
    "The grain ships corridor reopened at dawn.",
)
C = ("c-1", "Blog: grain ships and insurance", "A blog post on grain ships and their insurers.")
D = ("d-1", "New grain ships terminal opens", "A terminal for grain ships opened in Izmail.")
A_COPY = ("x-1", "Insurers raise premiums again", COPY)


def write_config(tmp_path: Path, srv: ContentServer, extra: str = "") -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
{LOOPBACK_HTTP}
{NO_SEEDS}
[web]
public_url = "https://monitor.example.org"

[[sources]]
name = "Wire"
url = "{srv.base}/wire.xml"
kind = "feed"

[[sources]]
name = "Blog"
url = "{srv.base}/blog.xml"
kind = "feed"

[[sources]]
name = "Agency"
url = "{srv.base}/agency.xml"
kind = "feed"

[channels.files]
kind = "file"
send_empty = false
alerts = true

[topics.grain]
name = "Grain"
query = 'grain AND ships'
urgent = true

[topics.ports]
name = "Ports"
query = 'ships'
{extra}""",
        encoding="utf-8",
    )
    return cfg


def feeds(srv: ContentServer, wire: list, blog: list, agency: list) -> None:  # type: ignore[type-arg]
    kind = "application/rss+xml; charset=utf-8"
    srv.set("/wire.xml", rss(wire), kind)
    srv.set("/blog.xml", rss(blog), kind)
    srv.set("/agency.xml", rss(agency), kind)


def item_of(state: Path, guid: str) -> int:
    with sqlite3.connect(state / "monitor.db") as db:
        [(item_id,)] = db.execute(
            "SELECT id FROM items WHERE link = ?", (f"https://news.example.org/{guid}",)
        ).fetchall()
    return int(item_id)


def written(state: Path, before: set[Path]) -> tuple[str, str, str]:
    """The text, HTML and JSON of the digests and alerts written since `before`."""
    new = sorted(set((state / "digests").iterdir()) - before)
    pick = lambda suffix: "\n".join(p.read_text("utf-8") for p in new if p.suffix == suffix)  # noqa: E731
    return pick(".txt"), pick(".html"), pick(".json")


def polled_twice(tmp_path: Path, srv: ContentServer) -> tuple[Path, Path]:
    """(config, state folder) after a baseline and a poll that brings stories A, B and C."""
    cfg = write_config(tmp_path, srv)
    feeds(srv, OLD, OLD, OLD)
    assert monitor(cfg, "once").returncode == 0
    feeds(srv, [A, B, *OLD], [C, *OLD], OLD)
    assert monitor(cfg, "once").returncode == 0
    return cfg, tmp_path / "state"


def test_marks_and_mutes_suppress_items_in_every_channel_and_feed(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    cfg, state = polled_twice(tmp_path, srv)
    before: set[Path] = set()
    sent = monitor(cfg, "digest")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    text, html, _ = written(state, before)
    assert "Ships wait outside Odesa" in text and "Blog: grain ships" in text
    # The HTML digest carries signed links for each item and topic, under the public URL.
    assert html.count('href="https://monitor.example.org/fb/') >= 2 * 4
    # So does the plain-text part, for readers whose mail client shows only that.
    assert text.count("Not relevant: https://monitor.example.org/fb/") >= 4
    assert text.count("Mute this source for this topic: https://monitor.example.org/fb/") >= 4
    assert "suppressed" not in text

    records = FeedbackRecords(Store(state).engine)
    now = datetime.now(UTC)
    records.record("not_relevant", item_of(state, "a-1"), "grain", "tester", now)
    records.record("mute", item_of(state, "c-1"), "grain", "tester", now)
    # Recording again while in force adds nothing.
    records.record("mute", item_of(state, "c-1"), "grain", "someone else", now)
    assert len(records.active()) == 2

    # Next poll: a rewritten copy of the marked story on another outlet, a new post on the
    # muted blog, and one new story; urgent topic, so alerts go out too.
    blog_more = ("c-2", "Blog: more grain ships", "Another blog post on grain ships at sea.")
    feeds(srv, [D, A, B, *OLD], [blog_more, C, *OLD], [A_COPY, *OLD])
    before = set((state / "digests").iterdir())
    assert monitor(cfg, "once").returncode == 0
    sent = monitor(cfg, "digest")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    text, html, payload = written(state, before)
    grain = text.split("== Grain (grain)")[1].split("== Ports (ports)")[0]
    assert "New grain ships terminal opens" in grain
    for hidden in ("Insurers raise premiums again", "Blog: more grain ships"):
        assert hidden not in grain, hidden
        assert hidden not in payload.split('"ports"')[0]
    # The mute and the mark hold for their topic only: under "ports" both are shown.
    ports = text.split("== Ports (ports)")[1]
    assert "Insurers raise premiums again" in ports and "Blog: more grain ships" in ports
    footer = "item(s) suppressed by your feedback"
    assert footer in text and footer in html
    assert "https://monitor.example.org/feedback" in text
    # The webhook body counts them too, and says where to undo them.
    digest = next(
        d["data"]
        for p in sorted(set((state / "digests").iterdir()) - before)
        if p.suffix == ".json" and not (d := json.loads(p.read_text("utf-8")))["data"]["urgent"]
    )
    told = int(text.split(footer)[0].rsplit("\n", 1)[-1].split()[0])
    assert digest["suppressed"] == told >= 2
    assert digest["feedback_url"] == "https://monitor.example.org/feedback"

    # The Atom feed of the topic hides them too.
    atom = (state / "feeds" / "grain.atom").read_text("utf-8")
    assert "New grain ships terminal opens" in atom
    for hidden in ("Ships wait outside Odesa", "Insurers raise premiums", "Blog: more grain"):
        assert hidden not in atom, hidden


def test_a_mark_outlives_its_item_and_an_undone_mute_lets_the_source_through(
    tmp_path: Path,
) -> None:
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(
        f"{LOOPBACK_HTTP}{NO_SEEDS}"
        '[[sources]]\nurl = "https://wire.example.org/feed"\nkind = "feed"\nname = "Wire"\n'
        '[[sources]]\nurl = "https://other.example.org/feed"\nkind = "feed"\nname = "Other"\n'
        '[topics.grain]\nquery = "grain"\n[channels.files]\nkind = "file"\n',
        encoding="utf-8",
    )
    cfg = wiring.load(cfg_path)
    store = Store(cfg.state_dir)
    wire, other = load_sources(cfg)
    store.sync_sources([wire, other])
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def add(source_key: str, key: str, text: str, when: datetime) -> int:
        [passage] = remember(store, source_key, [Passage(key, text, title=key)], when)
        sig = signature(f"{key}\n{text}")
        assert sig is not None
        found = [TopicMatch("grain", 1.0, Evidence(("grain",), "grain", text[:80]))]
        sketch = base64.b64encode(to_bytes(sig)).decode()
        return store.add_item(source_key, passage, found, when, minhash=sketch)

    marked = add(wire.key, "w1", STORY, start)
    records = FeedbackRecords(store.engine)
    records.record("not_relevant", marked, "grain", "tester", start)
    mute = records.record("mute", marked, "grain", "tester", start)
    records.undo(mute, "tester", start)
    # Months later retention has pruned the marked item; a copy of its story comes in.
    later = start + timedelta(days=200)
    assert store.prune(later, 30)["items"] >= 1
    with pytest.raises(UnknownItem):
        records.item(marked)
    add(other.key, "o1", COPY, later)
    add(wire.key, "w2", "A new grain harvest estimate was published by the ministry.", later)
    queued = queue_digest(cfg, store, "files", [wire, other], later, dry_run=True)
    assert queued is not None
    digest, rendered = queued
    shown = [m.text for m in digest.topics["grain"]]
    assert shown == ["A new grain harvest estimate was published by the ministry."]
    assert len(digest.suppressed) == 1
    assert "1 item(s) suppressed by your feedback" in rendered.text
    # No public URL configured: no links in the HTML, and the footer names the page's path.
    assert "/fb/" not in rendered.html and "undo at /feedback" in rendered.text


def test_links_are_bound_to_item_topic_and_action_and_expire(tmp_path: Path) -> None:
    key = load_key(tmp_path)
    assert (tmp_path / "feedback.key").stat().st_mode & 0o077 == 0
    assert load_key(tmp_path) == key  # kept, not made again
    signer = LinkSigner(key, days=14)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    token = signer.token(42, "grain", "not_relevant", now)
    claim = signer.check(token, now + timedelta(days=13))
    assert (claim.item_id, claim.topic, claim.action) == (42, "grain", "not_relevant")
    assert key.hex() not in token and base64.urlsafe_b64encode(key).decode()[:20] not in token
    with pytest.raises(BadLink, match="expired"):
        signer.check(token, now + timedelta(days=14, seconds=1))
    # The signed part names item, topic and action: changing any of them breaks the signature.
    body, mac = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for forged in (
        [43, *payload[1:]],
        [42, "ports", *payload[2:]],
        [*payload[:2], "mute", payload[3]],
    ):
        raw = json.dumps(forged, separators=(",", ":")).encode()
        fake = base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + mac
        with pytest.raises(BadLink, match="not valid"):
            signer.check(fake, now)
    # Another installation's key: not valid here.
    with pytest.raises(BadLink):
        LinkSigner(b"k" * 32).check(token, now)
    with pytest.raises(BadLink):
        signer.check("garbage", now)


def test_monitor_feedback_reports_per_topic_and_as_csv(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    cfg, state = polled_twice(tmp_path, srv)
    records = FeedbackRecords(Store(state).engine)
    now = datetime.now(UTC)
    records.record("not_relevant", item_of(state, "a-1"), "grain", "anna", now)
    records.record("not_relevant", item_of(state, "b-1"), "ports", "ben", now)
    records.record("mute", item_of(state, "c-1"), "grain", "anna", now)
    before = cfg.read_bytes()

    out = monitor(cfg, "feedback")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "grain: 1 not relevant, 1 muted sources" in lines
    assert "ports: 1 not relevant, 0 muted sources" in lines
    assert any("not relevant:" in line and "Ships wait outside Odesa" in line for line in lines)

    out = monitor(cfg, "feedback", "--csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert sorted((r["topic"], r["kind"], r["who"]) for r in rows) == [
        ("grain", "mute", "anna"),
        ("grain", "not_relevant", "anna"),
        ("ports", "not_relevant", "ben"),
    ]
    assert [r["text"] for r in rows if r["item_id"] == str(item_of(state, "a-1"))] == [STORY]
    assert cfg.read_bytes() == before  # nothing rewrites config.toml


def test_an_old_state_folder_gains_the_feedback_table(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    shutil.copy(REPO / "tests" / "data" / "state-v0.1.0" / "monitor.db", state / "monitor.db")
    store = Store(state)
    assert store.version == LATEST
    assert FeedbackRecords(store.engine).active() == []
    store.close()
    # Opening again migrates nothing twice.
    assert Store(state).version == LATEST


def test_item_buttons_post_with_the_csrf_token_and_escape_what_they_carry() -> None:
    from monitor.feedback.forms import item_buttons

    html = str(item_buttons(7, 'x"><script>', "https://a.example/?q=<b>", "tok&en"))
    assert html.count('<form method="post" action="/feedback/mark"') == 2
    assert 'name="action" value="not_relevant"' in html and 'name="action" value="mute"' in html
    assert 'name="csrf" value="tok&amp;en"' in html and 'name="item_id" value="7"' in html
    assert "<script>" not in html and "<b>" not in html


def test_feedback_makes_the_atom_feeds_be_rewritten_without_new_matches(tmp_path: Path) -> None:
    import os

    from monitor.outbox import feeds_behind, write_feeds

    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(
        f"{LOOPBACK_HTTP}{NO_SEEDS}"
        '[[sources]]\nurl = "https://wire.example.org/feed"\nkind = "feed"\nname = "Wire"\n'
        '[topics.grain]\nquery = "grain"\n[channels.files]\nkind = "file"\n',
        encoding="utf-8",
    )
    cfg = wiring.load(cfg_path)
    store = Store(cfg.state_dir)
    [wire] = load_sources(cfg)
    store.sync_sources([wire])
    then = datetime.now(UTC) - timedelta(hours=1)
    [passage] = remember(store, wire.key, [Passage("w1", STORY, title="Odesa")], then)
    found = [TopicMatch("grain", 1.0, Evidence(("grain",), "grain", STORY[:80]))]
    item = store.add_item(wire.key, passage, found, then)
    write_feeds(cfg, store, [wire], then)
    folder = cfg.state_dir / "feeds"
    stamp = then.timestamp()
    os.utime(folder, (stamp, stamp))
    assert not feeds_behind(cfg, store)
    FeedbackRecords(store.engine).record("not_relevant", item, "grain", "tester", datetime.now(UTC))
    assert feeds_behind(cfg, store)
    write_feeds(cfg, store, [wire], datetime.now(UTC))
    assert "Odesa" not in (folder / "grain.atom").read_text("utf-8")
