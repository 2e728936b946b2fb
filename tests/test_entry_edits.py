"""Edited feed entries through the real CLI (issue 14, point 1): a local feed edits an entry
between polls; `monitor once` polls, `monitor digest` delivers by a real SMTP server, a real
webhook receiver and the file channel; the Atom feed is read from the state folder."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from monitor import wiring
from monitor.fetch import Fetcher
from monitor.outbox import flush, queue_digest
from monitor.sources import load_sources
from monitor.store import Store, utcnow
from tests.conftest import ContentServer, SmtpSink, WebhookReceiver
from tests.local_config import LOOPBACK_HTTP, NO_SEEDS, delivery_channels, source
from tests.test_end_to_end import SECRET_ENV, bodies, monitor, rss, shipped_topics

RSS = "application/rss+xml; charset=utf-8"
CALM = ("calm-1", "Football: Bayern beat Dortmund", "A late goal decided the match in Munich.")
TITLE = "Pentagon: 10,000 North Korean soldiers now in Kursk"
TEXT = (
    "Updated 08:05 UTC. The Pentagon said about 10,000 North Korean troops have moved into "
    "Russia's Kursk region and are expected to join combat against Ukrainian forces soon."
)
# The analysts receive TEXT; then the entry is revised twice before their next digest.
REVISED = TEXT.replace("10,000", "12,000")
DENIED = REVISED + " Pyongyang denied that any of its soldiers were in Russia."
# Not material: a typo fixed, white space, the time stamp of the entry.
COSMETIC = TEXT.replace("Updated 08:05", "Updated 09:41").replace("moved into", "moved  in to")
PORT = ("port-1", "Ferry traffic resumes in Rason", "Ferries run again between Rason and Najin.")
PORT_TROOPS = (
    "port-1",
    "North Korean troops board ships in Rason",
    "Ferries in Rason carried 2,000 North Korean soldiers toward Vladivostok for deployment to "
    "Russia, South Korea's intelligence service said.",
)


def write_config(tmp: Path, srv: ContentServer, smtp: SmtpSink, hook: WebhookReceiver) -> Path:
    cfg = tmp / "config.toml"
    cfg.write_text(
        f"""
{LOOPBACK_HTTP}
{NO_SEEDS}
{source(f"{srv.base}/feed.xml", "Test wire")}
{delivery_channels(smtp.port, hook.url, SECRET_ENV, hook_alerts=True)}
{shipped_topics()}
""",
        encoding="utf-8",
    )
    return cfg


def serve(srv: ContentServer, *entries: tuple[str, str, str]) -> None:
    srv.set("/feed.xml", rss(list(entries)), RSS)


def poll(cfg: Path) -> str:
    done = monitor(cfg, "once")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def digest(cfg: Path, hook: WebhookReceiver) -> None:
    sent = monitor(cfg, "digest", env={SECRET_ENV: hook.secret or ""})
    assert sent.returncode == 0, sent.stdout + sent.stderr


def hook_items(payload: dict) -> list[dict]:
    return [i for t in payload["data"]["topics"].values() for i in t["items"]]


def test_an_edited_entry_is_one_update_with_the_net_change_in_every_format(
    tmp_path: Path,
    content_server: ContentServer,
    smtp_server: SmtpSink,
    webhook_receiver: WebhookReceiver,
) -> None:
    srv, hook = content_server, webhook_receiver
    cfg = write_config(tmp_path, srv, smtp_server, hook)
    serve(srv, CALM, PORT)
    assert "baseline" in poll(cfg)
    serve(srv, ("kursk-1", TITLE, TEXT), CALM, PORT)
    assert "1 new passages" in poll(cfg)
    digest(cfg, hook)
    [first] = smtp_server.wait(1)
    assert "10,000 North Korean soldiers" in bodies(first)[0]

    # A typo fix, white space and a new time stamp: nothing to report.
    serve(srv, ("kursk-1", TITLE, COSMETIC), CALM, PORT)
    poll(cfg)
    digest(cfg, hook)
    assert len(smtp_server.messages) == 1 and len(hook.accepted) == 1

    # Revised twice between two digests: the figure, then a denial added.
    serve(srv, ("kursk-1", TITLE.replace("10,000", "12,000"), REVISED), CALM, PORT)
    poll(cfg)
    serve(srv, ("kursk-1", TITLE.replace("10,000", "12,000"), DENIED), CALM, PORT)
    poll(cfg)
    digest(cfg, hook)
    assert len(smtp_server.wait(2)) == 2
    text, html = bodies(smtp_server.messages[1])
    # One update, with the change since what the analysts received (10,000), not since the
    # intermediate version (12,000 without the denial).
    assert text.count("[Update]") == 1 and "12,000 North Korean soldiers" in text
    for part in (text, html):
        flat = " ".join(part.split())
        assert "What changed:" in flat
        assert "“10,000” became “12,000”" in flat
        assert "Pyongyang denied that any of its soldiers were in Russia" in flat
        assert "was added" in flat
    assert "<del>" not in html and "<ins>" not in html
    [update] = hook_items(hook.accepted[1])
    assert update["kind"] == "update"
    assert update["previous_title"] == TITLE
    assert {"before": "10,000", "after": "12,000"} in update["changes"]
    assert "denied" in update["change_summary"] and "10,000" in update["previous"]
    written = sorted((tmp_path / "state" / "digests").glob("*.json"))
    assert len(written) == 2
    # File names do not sort by time: the first digest has the new item, the second the update.
    kinds = [[i["kind"] for i in hook_items(json.loads(p.read_text("utf-8")))] for p in written]
    assert sorted(kinds) == [["new"], ["update"]]
    atom = (tmp_path / "state" / "feeds" / "troop_deployment.atom").read_text(encoding="utf-8")
    assert "Update: Pentagon: 12,000 North Korean soldiers now in Kursk" in atom
    assert "What changed:" in atom

    # Sent once: nothing is left for another digest.
    digest(cfg, hook)
    assert len(smtp_server.messages) == 2 and len(hook.accepted) == 2


def test_an_entry_never_reported_is_new_when_an_edit_makes_it_match(
    tmp_path: Path,
    content_server: ContentServer,
    smtp_server: SmtpSink,
    webhook_receiver: WebhookReceiver,
) -> None:
    srv, hook = content_server, webhook_receiver
    cfg = write_config(tmp_path, srv, smtp_server, hook)
    serve(srv, CALM, PORT)
    poll(cfg)
    serve(srv, CALM, PORT_TROOPS)  # the same entry (same guid), now about troops
    out = poll(cfg)
    assert "troop_deployment: 1" in out, out
    digest(cfg, hook)
    [mail] = smtp_server.wait(1)
    text, html = bodies(mail)
    assert "North Korean troops board ships in Rason" in text
    # The analysts never received the ferry story: this is news, not an update of it.
    assert "[Update]" not in text and "What changed" not in text and "What changed" not in html
    [item] = hook_items(hook.accepted[0])
    assert item["kind"] == "new" and item["previous"] == "" and item["changes"] == []


def test_an_edit_that_makes_an_urgent_topic_match_alerts_at_once(
    tmp_path: Path,
    content_server: ContentServer,
    smtp_server: SmtpSink,
    webhook_receiver: WebhookReceiver,
) -> None:
    srv, hook = content_server, webhook_receiver
    cfg = write_config(tmp_path, srv, smtp_server, hook)
    serve(srv, CALM, PORT)
    poll(cfg)
    serve(srv, CALM, PORT_TROOPS)
    poll(cfg)

    # What the daemon does after each poll cycle: queue and send the alerts of urgent topics.
    config = wiring.load(cfg)
    store = Store(config.state_dir)
    try:
        sources = load_sources(config)
        queued = queue_digest(config, store, "hook", sources, utcnow(), alert=True)
        assert queued is not None and list(queued[0].topics) == ["troop_deployment"]

        async def send() -> None:
            async with Fetcher(config.http) as fetcher:
                await flush(config, store, fetcher, utcnow(), "hook")

        import os

        os.environ[SECRET_ENV] = hook.secret or ""
        try:
            asyncio.run(send())
        finally:
            del os.environ[SECRET_ENV]
    finally:
        store.close()
    [alert] = hook.accepted
    assert alert["type"] == "alert.created"
    assert [i["title"] for i in hook_items(alert)] == ["North Korean troops board ships in Rason"]


def test_versions_are_kept_per_entry_and_only_material_edits_replace_them(
    tmp_path: Path,
    content_server: ContentServer,
    smtp_server: SmtpSink,
    webhook_receiver: WebhookReceiver,
) -> None:
    srv = content_server
    cfg = write_config(tmp_path, srv, smtp_server, webhook_receiver)
    serve(srv, ("kursk-1", TITLE, TEXT), CALM)
    poll(cfg)
    serve(srv, ("kursk-1", TITLE, COSMETIC), CALM)
    poll(cfg)

    def kept() -> dict[str, str]:
        with sqlite3.connect(tmp_path / "state" / "monitor.db") as db:
            rows = db.execute("SELECT passage_key, text FROM entry_versions")
            return {key.rsplit("/", 1)[-1]: body for key, body in rows}  # guid, made a URL

    # The cosmetic edit leaves the kept version as it was, so edits cannot add up unseen.
    assert kept() == {"kursk-1": TEXT, "calm-1": CALM[2]}
    serve(srv, ("kursk-1", TITLE, REVISED), CALM)
    out = poll(cfg)
    assert "troop_deployment: 1" in out, out
    assert kept()["kursk-1"] == REVISED
