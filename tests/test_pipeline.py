"""Poll cycles in-process against local servers: what counts as new, stories across outlets,
follow_links, ignore patterns, failures and refusals."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from monitor import wiring
from monitor.config import Config
from monitor.fetch import Fetcher
from monitor.outbox import queue_digest
from monitor.pipeline import Poller
from monitor.sources import load_sources
from monitor.store import Store, utcnow
from tests.conftest import ContentServer
from tests.test_end_to_end import article, shipped_topics

STORY = (
    "Nordkorea hat nach Angaben des südkoreanischen Geheimdienstes NIS weitere 3.000 Soldaten "
    "nach Russland entsandt, die in der Region Kursk gegen ukrainische Truppen kämpfen sollen. "
    "Die Soldaten seien per Schiff nach Wladiwostok gebracht und dort ausgebildet worden, hieß es."
)


def outlet_page(
    outlet: str, story: str, stamp: str = "22.11.2026, 07:30 Uhr", views: int = 10
) -> str:
    return (
        "<!doctype html><html lang='de'><head>"
        f"<title>{outlet}: Truppen aus Nordkorea</title></head><body>"
        f"<nav><a href='/'>{outlet}</a> <a href='/politik'>Politik</a></nav><main><article>"
        "<h1>Truppen aus Nordkorea</h1>"
        f"<p class='meta'>Aktualisiert am {stamp} · {views} Aufrufe</p>"
        f"<p>{escape(story)}</p>"
        "<p>Die Regierung in Seoul beobachtet die Entwicklung seit Wochen mit großer Sorge.</p>"
        f"</article></main><footer>© {outlet} · Impressum</footer></body></html>"
    )


def make(tmp_path: Path, body: str) -> Config:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[http]\nallow_networks = ["127.0.0.1/32"]\nrespect_robots = false\n'
        f"[seeds]\npath = 'seeds'\n{body}\n[channels.out]\nkind = 'file'\n{shipped_topics()}",
        encoding="utf-8",
    )
    return wiring.load(cfg)


def poller_for(config: Config, store: Store) -> Poller:
    return wiring.build(config, store).poller


def calm_pages(srv: ContentServer, prefix: str, count: int) -> list[str]:
    """`count` outlet pages that match no topic, served at /<prefix>0, /<prefix>1, ..."""
    paths = [f"/{prefix}{i}" for i in range(count)]
    for path in paths:
        srv.set(path, outlet_page(f"Outlet {path}", "Die Lage in der Region bleibt angespannt."))
    return paths


async def cycle(config: Config, store: Store) -> Poller:
    poller = poller_for(config, store)
    try:
        async with Fetcher(config.http) as fetcher:
            poller.last = await poller.cycle(fetcher, only_due=False)  # type: ignore[attr-defined]
    finally:
        poller.close()
    return poller


async def settle(config: Config, store: Store) -> int:
    """Take the baselines of the first polls that cycles kept unparsed, as the daemon does in
    idle time; return how many were taken."""
    poller = poller_for(config, store)
    taken = 0
    try:
        while True:
            done, left = await poller.settle_kept()
            taken += done
            if not left:
                return taken
    finally:
        poller.close()


def page_sources(srv: ContentServer, *paths: str) -> str:
    return "".join(
        f'[[sources]]\nurl = "{srv.base}{p}"\nkind = "page"\nname = "{p[1:]}"\n' for p in paths
    )


async def test_volatile_changes_are_not_new_but_edits_are(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/a", outlet_page("Kurier", STORY))
    config = make(tmp_path, page_sources(srv, "/a"))
    store = Store(config.state_dir)
    assert (await cycle(config, store)).last.deferred == 1  # type: ignore[attr-defined]

    # Only the timestamp and the view counter changed: nothing is new.
    srv.set("/a", outlet_page("Kurier", STORY, "23.11.2026, 09:15 Uhr", views=4711))
    assert (await cycle(config, store)).last.new_passages == 0  # type: ignore[attr-defined]

    # The figure in the story was edited: that paragraph is new and it matches.
    srv.set("/a", outlet_page("Kurier", STORY.replace("3.000", "10.000")))
    last = (await cycle(config, store)).last  # type: ignore[attr-defined]
    assert last.new_passages == 1
    assert last.matches_by_topic.get("troop_deployment") == 1
    # ...and it is shown with the paragraph it replaced.
    [match] = store.unclaimed_matches("out", "digest", ["troop_deployment"], 0.0, {})
    assert match.previous is not None and "3.000 Soldaten" in match.previous
    assert "10.000 Soldaten" in match.text


async def test_one_story_from_three_outlets_is_one_digest_item(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    for path in ("/x", "/y", "/z"):
        srv.set(path, article(["Die Lage bleibt unübersichtlich, berichten Beobachter vor Ort."]))
    config = make(tmp_path, page_sources(srv, "/x", "/y", "/z"))
    store = Store(config.state_dir)
    await cycle(config, store)  # baselines
    srv.set("/x", outlet_page("Kurier", STORY))
    srv.set("/y", outlet_page("Bote", STORY.replace("hieß es", "hieß es aus Seoul")))
    srv.set("/z", outlet_page("Zeitung", "Laut Agenturberichten: " + STORY))
    await cycle(config, store)
    built = queue_digest(config, store, "out", load_sources(config), utcnow())
    assert built is not None
    digest, rendered = built
    [item] = digest.topics["troop_deployment"]
    assert len(item.also_reported_by) == 2
    assert {item.source_name, *item.also_reported_by} == {"x", "y", "z"}
    assert len(digest.match_ids) >= 3  # the copies are accounted for, not left for tomorrow
    assert "also reported by" in rendered.text.lower() or "auch berichtet" in rendered.text.lower()
    assert queue_digest(config, store, "out", load_sources(config), utcnow()) is not None
    # The next digest (send_empty) holds nothing of the story.
    nxt = store.unclaimed_matches("out", "digest", ["troop_deployment"], 0.0, {})
    assert nxt == []


async def test_follow_links_fetches_the_full_article(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    teaser_feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )
    srv.set("/feed", teaser_feed.format(items=""), "application/rss+xml")
    config = make(
        tmp_path, f'[[sources]]\nurl = "{srv.base}/feed"\nkind = "feed"\nfollow_links = true\n'
    )
    store = Store(config.state_dir)
    await cycle(config, store)
    srv.set("/story", outlet_page("Kurier", STORY))
    item = (
        f"<item><guid>s1</guid><title>Neue Lage im Osten</title><link>{srv.base}/story</link>"
        "<description>Mehr dazu im Artikel.</description></item>"
    )
    srv.set("/feed", teaser_feed.format(items=item), "application/rss+xml")
    last = (await cycle(config, store)).last  # type: ignore[attr-defined]
    # The teaser alone matches nothing; the linked article's main text does.
    assert last.matches_by_topic.get("troop_deployment") == 1
    assert srv.hits("/story") == 1


async def test_ignore_patterns_hide_text_from_detection_and_display(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/a", outlet_page("Kurier", STORY + " Spendenstand: 1200 Euro."))
    config = make(
        tmp_path,
        f'[[sources]]\nurl = "{srv.base}/a"\nkind = "page"\n'
        'ignore = ["Spendenstand: \\\\d+ Euro\\\\."]\n',
    )
    store = Store(config.state_dir)
    await cycle(config, store)
    srv.set("/a", outlet_page("Kurier", STORY + " Spendenstand: 98000 Euro."))
    assert (await cycle(config, store)).last.new_passages == 0  # type: ignore[attr-defined]


async def test_failures_and_refusals_do_not_stop_the_cycle(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/good", outlet_page("Kurier", STORY))
    srv.set("/broken", "<html>this is not a feed</html>", "application/rss+xml")
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "brief.txt").write_text(
        "Interne Quelle: http://10.0.0.5/admin und Metadaten http://169.254.169.254/latest/ "
        "sowie http://[::ffff:10.0.0.9]/ und http://2130706433/.\n",
        encoding="utf-8",
    )
    config = make(
        tmp_path,
        page_sources(srv, "/good", "/missing")
        + f'[[sources]]\nurl = "{srv.base}/broken"\nkind = "feed"\nname = "broken"\n',
    )
    store = Store(config.state_dir)
    sources = load_sources(config)
    cited = [s for s in sources if s.origin == "seed"]
    assert len(cited) == 4 and all(s.refused for s in cited)
    before = len(srv.requests)
    last = (await cycle(config, store)).last  # type: ignore[attr-defined]
    assert last.fetched == 1 and last.failed == 2 and last.refused == 4
    assert len(srv.requests) - before == 3  # nothing was sent for the refused ones
    health = {h.name: h for h in store.health()}
    assert health["missing"].state == "gone" and "404" in (health["missing"].last_error or "")
    assert health["broken"].state == "failing"
    assert "not a feed" in (health["broken"].last_error or "")
    # Failing beyond the grace period shows in the digest's source-health section.
    later = utcnow() + timedelta(days=3)
    failing = store.failing_since(
        later - timedelta(seconds=config.poll.grace_period), [s.key for s in sources]
    )
    assert {h.name for h in failing} >= {"missing", "broken"}


@pytest.mark.parametrize("baseline", [True, False])
async def test_baseline_is_configurable(
    tmp_path: Path, content_server: ContentServer, baseline: bool
) -> None:
    srv = content_server
    srv.set("/a", outlet_page("Kurier", STORY))
    config = make(
        tmp_path, f"[poll]\nbaseline = {str(baseline).lower()}\n" + page_sources(srv, "/a")
    )
    store = Store(config.state_dir)
    last = (await cycle(config, store)).last  # type: ignore[attr-defined]
    assert (last.matches_by_topic.get("troop_deployment", 0) == 0) is baseline


async def test_parser_pool_survives_a_killed_worker(
    tmp_path: Path, content_server: ContentServer
) -> None:
    import multiprocessing
    import os
    import signal

    srv = content_server
    paths = calm_pages(srv, "p", 24)  # enough for the cycle to use the process pool
    config = make(tmp_path, "[poll]\nworkers = 2\n" + page_sources(srv, *paths))
    store = Store(config.state_dir)
    poller = poller_for(config, store)
    try:
        async with Fetcher(config.http) as fetcher:
            first = await poller.cycle(fetcher, only_due=False)
            assert first.fetched == 24 and first.failed == 0
            # First polls keep their bodies unparsed; taking their baselines (the daemon's idle
            # work) starts the processes.
            done, left = await poller.settle_kept(24)
            assert (done, left) == (24, 0)
            workers = multiprocessing.active_children()
            assert workers, "the cycle did not use parser processes"
            os.kill(workers[0].pid, signal.SIGKILL)
            for path in paths:
                srv.set(path, outlet_page(f"Outlet {path}", STORY))
            second = await poller.cycle(fetcher, only_due=False)
        assert second.fetched == 24 and second.failed == 0, second.errors
        assert second.matches_by_topic.get("troop_deployment", 0) >= 1
    finally:
        poller.close()


async def test_baselines_share_commits_and_one_bad_source_costs_only_itself(
    tmp_path: Path, content_server: ContentServer, caplog: pytest.LogCaptureFixture
) -> None:
    """First polls are committed in groups; when a group's transaction fails, each source is
    written alone, so the others keep their first poll and only the bad one is polled again."""
    import sqlite3

    srv = content_server
    paths = calm_pages(srv, "b", 8)
    config = make(tmp_path, "[poll]\nworkers = 1\n" + page_sources(srv, *paths))
    store = Store(config.state_dir)
    poller = poller_for(config, store)
    bad = next(s for s in poller.sources if s.url.endswith("/b3"))

    def vanish(src: object, outcome: str) -> None:
        # Once polled (its writes queued, not yet committed), the source's row vanishes behind
        # the poller's back: its fingerprints now break the foreign key, which fails the
        # shared transaction of the whole group.
        if src is bad:
            with sqlite3.connect(store.path) as db:
                db.execute("DELETE FROM sources WHERE key = ?", (bad.key,))

    try:
        async with Fetcher(config.http) as fetcher:
            summary = await poller.cycle(fetcher, only_due=False, progress=vanish)
    finally:
        poller.close()
    assert summary.fetched == 8 and summary.deferred == 8
    assert "writing 8 baselines together failed" in caplog.text  # the group did fail
    assert f"storing the baseline of {bad.url} failed" in caplog.text
    states = store.source_states([s.key for s in poller.sources])
    assert bad.key not in states
    assert all(state.state == "ok" for state in states.values()) and len(states) == 7
    assert set(store.pending_baselines()) == set(states)  # kept, to be parsed when needed
    assert await settle(config, store) == 7
    states = store.source_states([s.key for s in poller.sources if s is not bad])
    assert all(state.baseline_done for state in states.values()) and len(states) == 7
    with sqlite3.connect(store.path) as db:
        sources_with_fingerprints = db.execute("SELECT COUNT(DISTINCT source_key) FROM seen")
        assert sources_with_fingerprints.fetchone()[0] == 7
