"""Syndicated stories: one agency story on several outlets is one item, shown by its fullest
copy with "also reported by" the others, in every digest format; another story with the same
names and places stays an item of its own. Through the real CLI over local feeds, and the
digest parts on their own."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from monitor import wiring
from monitor.digest.atom import topic_feed
from monitor.digest.build import build_digest
from monitor.models import Evidence, Match
from monitor.notify.slack import slack_payload
from monitor.notify.teams import teams_payload
from tests.conftest import ContentServer
from tests.test_end_to_end import shipped_topics

ATOM = "{http://www.w3.org/2005/Atom}"

# An agency story written for this test, and the copies three outlets make of it.
WIRE = [
    "South Korea's National Intelligence Service said on Tuesday that North Korea has sent "
    "another 3,000 soldiers to Russia, bringing the total it estimates to about 14,000.",
    "The new troops were flown to Vladivostok and moved by rail to the Kursk region, where "
    "North Korean soldiers have fought alongside Russian units since the autumn.",
    "Lawmakers briefed by the agency said the soldiers included engineers and drone operators, "
    "a sign that Pyongyang was learning from the war in Ukraine.",
    "The Kremlin did not comment. North Korea has never officially confirmed the deployment.",
]
WIRE_TITLE = "Seoul: North Korea sends 3,000 more soldiers to Russia"
# Another story on the same subject: the same agency, names and places, other facts.
OTHER = (
    "Ukraine captures two North Korean soldiers in Kursk",
    "Ukraine's security service said on Tuesday that its forces had captured two North Korean "
    "soldiers in the Kursk region of Russia. South Korea's National Intelligence Service said it "
    "was helping to question them; one of them was wounded. The Kremlin did not comment.",
)


def feed(entries: list[tuple[str, str, str]]) -> str:
    items = "".join(
        f"<item><guid>{escape(guid)}</guid><title>{escape(title)}</title>"
        f"<link>https://outlet.example.org/{escape(guid)}</link>"
        f"<description>{escape(text)}</description>"
        "<pubDate>Tue, 24 Nov 2026 08:00:00 +0000</pubDate></item>"
        for guid, title, text in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Outlet</title>'
        f"<link>https://outlet.example.org/</link>{items}</channel></rss>"
    )


CALM = ("calm", "Weather", "Sunny spells and light winds are expected across the region.")
COPIES = {
    # The agency's own feed: the whole story.
    "/wire.xml": [("w1", WIRE_TITLE, "\n\n".join(WIRE))],
    # An outlet with its own headline and intro, the last paragraph cut.
    "/courier.xml": [
        (
            "c1",
            "More North Korean troops head for Kursk",
            "\n\n".join(
                ["What we know so far, as our correspondents follow the story.", *WIRE[:3]]
            ),
        )
    ],
    # One that prints only the first two paragraphs, and another story on the same subject.
    "/post.xml": [
        ("p1", "North Korea reinforces its troops in Russia", "\n\n".join(WIRE[:2])),
        ("p2", *OTHER),
    ],
}
NAMES = {"/wire.xml": "Agency Wire", "/courier.xml": "Daily Courier", "/post.xml": "Evening Post"}


def monitor(cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), *args],
        capture_output=True, text=True, timeout=180, env=dict(os.environ), cwd=cfg.parent,
    )  # fmt: skip


def test_three_outlets_carrying_one_story_make_one_item_in_every_format(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    for path in COPIES:
        srv.set(path, feed([CALM]), "application/rss+xml; charset=utf-8")
    sources = "".join(
        f'[[sources]]\nname = "{NAMES[p]}"\nurl = "{srv.base}{p}"\nkind = "feed"\n\n'
        for p in COPIES
    )
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[http]\nallow_networks = ["127.0.0.1/32"]\nrespect_robots = false\n'
        "[seeds]\nenabled = false\n\n"
        f"{sources}[channels.files]\nkind = 'file'\nsend_empty = false\n\n{shipped_topics()}",
        encoding="utf-8",
    )
    first = monitor(cfg, "once")
    assert first.returncode == 0, first.stderr
    for path, entries in COPIES.items():
        srv.set(path, feed([*entries, CALM]), "application/rss+xml; charset=utf-8")
    second = monitor(cfg, "once")
    assert second.returncode == 0, second.stderr
    sent = monitor(cfg, "digest")
    assert sent.returncode == 0, sent.stdout + sent.stderr

    folder = tmp_path / "state" / "digests"
    [payload_file] = folder.glob("*.json")
    payload = json.loads(payload_file.read_text(encoding="utf-8"))
    topic = payload["data"]["topics"]["troop_deployment"]
    items = {item["title"]: item for item in topic["items"]}
    # One item for the syndicated story, shown by its fullest copy; the other story apart.
    assert sorted(items) == sorted([WIRE_TITLE, OTHER[0]])
    assert items[WIRE_TITLE]["source"] == "Agency Wire"
    assert items[WIRE_TITLE]["also_reported_by"] == ["Daily Courier", "Evening Post"]
    assert items[OTHER[0]]["also_reported_by"] == []

    [text] = folder.glob("*.txt")
    [html] = folder.glob("*.html")
    for rendered in (text.read_text(encoding="utf-8"), html.read_text(encoding="utf-8")):
        assert rendered.count("North Korea sends 3,000 more soldiers") == 1
        assert "More North Korean troops head for Kursk" not in rendered
        assert "North Korea reinforces its troops" not in rendered
        assert "Also reported by: Daily Courier, Evening Post" in rendered
        assert OTHER[0] in rendered

    # The topic's Atom feed: one entry for the story, the other outlets as contributors.
    atom = etree.parse(str(tmp_path / "state" / "feeds" / "troop_deployment.atom"))
    titles = [e.findtext(f"{ATOM}title") for e in atom.iter(f"{ATOM}entry")]
    assert sorted(titles) == sorted([WIRE_TITLE, OTHER[0]])
    [story] = [e for e in atom.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}title") == WIRE_TITLE]
    names = [c.findtext(f"{ATOM}name") for c in story.iter(f"{ATOM}contributor")]
    assert names == ["Daily Courier", "Evening Post"]


# -- the digest parts on their own ---------------------------------------------------------------


def match(n: int, source: str, text: str, score: float, story: int | None, **kw: Any) -> Match:
    return Match(
        id=n,
        topic="troop_deployment",
        score=score,
        evidence=Evidence(("North Korean", "Kursk"), "rule", text[:120], ()),
        source_key=f"https://{source}.example.org/feed",
        source_name=source,
        title=f"{source}: North Korean troops",
        link=f"https://{source}.example.org/{n}",
        text=text,
        language="en",
        published=None,
        first_seen=datetime(2026, 11, 24, 9, 0, tzinfo=UTC) + timedelta(minutes=n),
        story_id=story,
        **kw,
    )


def copies() -> list[Match]:
    full, short = "\n\n".join(WIRE), "\n\n".join(WIRE[:2])
    return [
        # The short copy came first and scored higher (its terms are denser).
        match(1, "post", short, 3.0, 1, also_reported_by=["courier", "wire"]),
        match(2, "wire", full, 2.0, 1, also_reported_by=["courier", "post"]),
        match(3, "courier", "\n\n".join(WIRE[:3]), 2.5, 1, also_reported_by=["post", "wire"]),
        match(4, "post", OTHER[1], 2.8, None),
    ]


def test_the_fullest_copy_represents_the_story_ranked_by_its_best_score(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"[channels.out]\nkind = 'file'\n\n{shipped_topics()}", encoding="utf-8")
    config = wiring.load(cfg)
    digest = build_digest(config, "out", copies(), [], datetime(2026, 11, 24, 10, tzinfo=UTC))
    assert digest is not None
    story, other = digest.topics["troop_deployment"]
    assert (story.id, story.source_name) == (2, "wire")  # the whole story, not the teaser
    assert story.also_reported_by == ["courier", "post"]
    assert other.id == 4  # the story's best copy scored 3.0, above the other story's 2.8
    assert sorted(digest.absorbed[2]) == [1, 3]

    for payload in (slack_payload(digest), teams_payload(digest)):
        dumped = json.dumps(payload, ensure_ascii=False)
        assert "Also reported by: courier, post" in dumped


def test_atom_shows_a_story_once_under_its_first_id() -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    data = topic_feed("troop_deployment", "Troops", copies(), now, None)
    entries = list(etree.fromstring(data).iter(f"{ATOM}entry"))
    assert len(entries) == 2
    ids = sorted(e.findtext(f"{ATOM}id") or "" for e in entries)
    # The story keeps the id of its first copy, so a fuller copy arriving later updates the
    # entry a reader already has instead of adding a second one.
    assert ids == ["tag:source-monitor,2026:match/1", "tag:source-monitor,2026:match/4"]
    [story] = [e for e in entries if e.findtext(f"{ATOM}id", "").endswith("/1")]
    assert story.findtext(f"{ATOM}author/{ATOM}name") == "wire"
    assert [c.findtext(f"{ATOM}name") for c in story.iter(f"{ATOM}contributor")] == [
        "courier", "post"
    ]  # fmt: skip


def test_stories_stored_with_an_older_releases_minhash_still_group_after_an_upgrade(
    tmp_path: Path,
) -> None:
    # Releases before issue 14 stored datasketch's LeanMinHash (seed, permutations, 128 values):
    # the poller cannot read it, so it signs the item's stored title and text again.
    from monitor.extract.similar import signature
    from monitor.models import Passage, TopicMatch
    from monitor.sources import load_sources
    from monitor.store import Store, utcnow

    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[[sources]]\nname = "Wire"\nurl = "https://wire.example.org/feed"\nkind = "feed"\n'
        f"[seeds]\nenabled = false\n[channels.out]\nkind = 'file'\n\n{shipped_topics()}",
        encoding="utf-8",
    )
    config = wiring.load(cfg)
    store = Store(config.state_dir)
    [source] = load_sources(config)
    store.sync_sources([source])
    old = (1).to_bytes(8, "little") + (128).to_bytes(4, "little") + bytes(range(256)) * 2
    found = [TopicMatch("troop_deployment", 2.0, Evidence(("Kursk",), "r", "s", ()))]
    passage = Passage("w1", "\n\n".join(WIRE), title=WIRE_TITLE, language="en")
    store.add_item(
        source.key, passage, found, utcnow(),
        minhash=base64.b64encode(old).decode(),
    )  # fmt: skip
    poller = wiring.build(config, store).poller
    try:
        assert f"{source.key}\x00w1" in poller.stories
        copy = signature("More North Korean troops head for Kursk\n" + "\n\n".join(WIRE[:2]))
        assert copy is not None
        post = "https://post.example.org/feed"
        assert poller.stories.nearest(copy, post) == f"{source.key}\x00w1"
    finally:
        poller.close()
        store.close()


@pytest.mark.parametrize("lag_hours", [0, 3], ids=["same clock", "wire clock 3 h behind"])
async def test_workers_on_postgresql_group_a_story_another_worker_reported(
    tmp_path: Path, content_server: ContentServer, pg_url: str, lag_hours: int
) -> None:
    # Two workers share the state; each polls one outlet. The agency's story is stored by one;
    # the other, already running, reports a copy at its next cycle: one story, not two. Also
    # when the first worker's clock lags (its items stored as hours old).
    from sqlalchemy import select

    from monitor.fetch import Fetcher
    from monitor.store import Store
    from monitor.store import schema as s

    srv = content_server
    rss_type = "application/rss+xml; charset=utf-8"
    workers = []
    for path in ("/wire.xml", "/courier.xml"):
        srv.set(path, feed([CALM]), rss_type)
        folder = tmp_path / path.strip("/.xml")
        folder.mkdir()
        (folder / "config.toml").write_text(
            '[http]\nallow_networks = ["127.0.0.1/32"]\nrespect_robots = false\n'
            f'[seeds]\nenabled = false\n\n[[sources]]\nname = "{NAMES[path]}"\n'
            f'url = "{srv.base}{path}"\nkind = "feed"\n\n{shipped_topics()}',
            encoding="utf-8",
        )
        config = wiring.load(folder / "config.toml")
        store = Store(config.state_dir, pg_url)
        workers.append((path, store, wiring.build(config, store).poller))
    lag = timedelta(hours=lag_hours)
    workers[0][2].clock = lambda: datetime.now(UTC) - lag

    async def cycle(poller: object) -> None:
        async with Fetcher(workers[0][2].config.http) as fetcher:
            await poller.cycle(fetcher, only_due=False)  # type: ignore[attr-defined]

    try:
        for _, _, poller in workers:  # first polls: baselines
            await cycle(poller)
        for path, _, poller in workers:  # the wire's story, then the courier's copy
            srv.set(path, feed([*COPIES[path], CALM]), rss_type)
            await cycle(poller)
        store = workers[0][1]
        with store.engine.connect() as conn:
            rows = conn.execute(
                select(s.items.c.id, s.items.c.source_key, s.items.c.story_id)
            ).all()
        by_source = {key.rsplit("/", 1)[-1]: (item, story) for item, key, story in rows}
        wire_item, _ = by_source["wire.xml"]
        assert by_source["courier.xml"][1] == wire_item
    finally:
        for _, store, poller in workers:
            poller.close()
            store.close()
