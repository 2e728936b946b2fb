"""The outbox with real receivers: retries until delivered under one id, gives up after the
configured time and says so in the next digests, routes topics and urgent alerts per channel."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor import wiring
from monitor.config import Config
from monitor.fetch import Fetcher
from monitor.models import Evidence, Passage, TopicMatch
from monitor.outbox import flush, queue_digest
from monitor.sources import load_sources
from monitor.store import Store, utcnow
from tests.conftest import WebhookReceiver, free_port, remember


@pytest.fixture(autouse=True, params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test on each backend: the store `wiring.open_store` opens follows the DSN."""
    if request.param == "postgresql":
        monkeypatch.setenv("MONITOR_DATABASE_URL", request.getfixturevalue("pg_url"))
    return str(request.param)


def config(tmp_path: Path, channels: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(
        '[http]\nallow_networks = ["127.0.0.1/32"]\n[seeds]\nenabled = false\n'
        '[[sources]]\nurl = "https://wire.example.org/feed"\nkind = "feed"\nname = "Wire"\n'
        '[topics.troops]\nquery = "Truppe*"\nurgent = true\n'
        '[topics.sanctions]\nquery = "Sanktion*"\n' + channels,
        encoding="utf-8",
    )
    return wiring.load(path)


def add_match(store: Store, cfg: Config, key: str, topic: str, text: str) -> None:
    source = load_sources(cfg)[0]
    store.sync_sources([source])
    now = utcnow()
    [passage] = remember(store, source.key, [Passage(key, text, title=text[:30])], now)
    evidence = Evidence((text.split()[0],), "rule", text, ((0, len(text.split()[0])),))
    store.add_item(source.key, passage, [TopicMatch(topic, 1.0, evidence)], now)


async def test_webhook_failing_then_succeeding_is_delivered_once(
    tmp_path: Path, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(
        tmp_path,
        f'[channels.hook]\nkind = "webhook"\nurl = "{webhook_receiver.url}"\n'
        'secret_env = "TEST_HOOK_SECRET"\n',
    )
    monkeypatch.setenv("TEST_HOOK_SECRET", webhook_receiver.secret or "")
    store = wiring.open_store(cfg)
    add_match(store, cfg, "a", "troops", "Truppen aus Nordkorea in Kursk")
    webhook_receiver.fail_next = 3
    assert queue_digest(cfg, store, "hook", load_sources(cfg), utcnow()) is not None
    now = utcnow()
    async with Fetcher(cfg.http) as fetcher:
        flushes = 0
        while not webhook_receiver.accepted and flushes < 6:
            await flush(cfg, store, fetcher, now)
            flushes += 1
            now += timedelta(hours=1)  # past any retry delay of the first attempts
    assert flushes == 4
    assert len(webhook_receiver.received) == 4
    assert len({h["webhook-id"] for h, _ in webhook_receiver.received}) == 1
    assert len(webhook_receiver.accepted) == 1
    [row] = store.outbox()
    assert (row["status"], row["attempts"]) == ("sent", 4)


async def test_undeliverable_digest_is_declared_dead_and_reported(tmp_path: Path) -> None:
    dead_port = free_port()
    cfg = config(
        tmp_path,
        f'[channels.mail]\nkind = "email"\nhost = "127.0.0.1"\nport = {dead_port}\n'
        'security = "none"\nsender = "m@example.org"\nrecipients = ["a@example.org"]\n'
        'give_up_after = "1d"\n'
        '[channels.files]\nkind = "file"\n',
    )
    store = wiring.open_store(cfg)
    add_match(store, cfg, "a", "sanctions", "Sanktionen gegen Reedereien")
    queue_digest(cfg, store, "mail", load_sources(cfg), utcnow())
    now = utcnow()
    async with Fetcher(cfg.http) as fetcher:
        [first] = await flush(cfg, store, fetcher, now)
        assert not first.ok and "connection refused" in first.detail
        assert store.outbox()[0]["status"] == "pending"
        [last] = await flush(cfg, store, fetcher, now + timedelta(days=2))
        assert not last.ok
    [row] = store.outbox()
    assert row["status"] == "failed"
    assert row["last_error"].startswith("given up after 2 attempts in 2.0 days: SMTP 127.0.0.1")
    built = queue_digest(cfg, store, "files", load_sources(cfg), now + timedelta(days=2))
    assert built is not None
    _, rendered = built
    assert "delivery to channel mail" in rendered.text
    assert "1 digest(s) could not be delivered" in rendered.text
    assert "127.0.0.1" not in rendered.text  # the error details stay with the operators


async def test_routing_topics_scores_and_alerts(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        '[channels.troops_only]\nkind = "file"\ntopics = ["troops"]\nalerts = true\n'
        '[channels.strict]\nkind = "file"\nmin_score = 5\nsend_empty = false\n',
    )
    store = wiring.open_store(cfg)
    add_match(store, cfg, "a", "troops", "Truppen aus Nordkorea in Kursk")
    add_match(store, cfg, "b", "sanctions", "Sanktionen gegen Reedereien")
    sources = load_sources(cfg)
    now = utcnow()
    alert = queue_digest(cfg, store, "troops_only", sources, now, alert=True)
    assert alert is not None and alert[0].urgent and list(alert[0].topics) == ["troops"]
    assert "ALERT" in alert[1].subject
    assert queue_digest(cfg, store, "troops_only", sources, now, alert=True) is None
    # The urgent match also appears in the channel's next digest; sanctions never do here.
    digest = queue_digest(cfg, store, "troops_only", sources, now)
    assert digest is not None and list(digest[0].topics) == ["troops"]
    # Below the channel's minimum score nothing is sent, and an empty digest is not wanted.
    assert queue_digest(cfg, store, "strict", sources, now) is None


def test_items_a_chat_message_leaves_out_wait_for_the_next_one(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        '[channels.chat]\nkind = "webhook"\nurl = "https://hooks.example.org/x"\n'
        'format = "slack"\n[channels.mail]\nkind = "file"\n',
    )
    store = wiring.open_store(cfg)
    for i in range(8):
        add_match(store, cfg, f"p{i}", "troops", f"Truppen Meldung Nummer {i} aus Kursk")
    sources = load_sources(cfg)
    first = queue_digest(cfg, store, "chat", sources, utcnow())
    assert first is not None and first[1].payload_ids is not None
    assert len(first[1].payload_ids) == 5  # Slack shows five items per topic
    second = queue_digest(cfg, store, "chat", sources, utcnow())
    assert second is not None and len(second[1].payload_ids or second[0].match_ids) == 3
    third = queue_digest(cfg, store, "chat", sources, utcnow())
    assert third is not None and third[0].match_ids == []  # an empty digest: nothing left
    # A file channel shows everything in its text and HTML, so it claims all eight at once.
    full = queue_digest(cfg, store, "mail", sources, utcnow())
    assert full is not None and len(full[0].match_ids) == 8


async def test_retention_with_two_channels_and_one_pending(tmp_path: Path) -> None:
    cfg = config(tmp_path, '[channels.a]\nkind = "file"\n[channels.b]\nkind = "file"\n')
    store = wiring.open_store(cfg)
    add_match(store, cfg, "p1", "troops", "Truppen in Kursk")
    sources = load_sources(cfg)
    now = utcnow()
    queue_digest(cfg, store, "a", sources, now)
    queue_digest(cfg, store, "b", sources, now)
    [a_entry] = store.pending(now, "a")
    store.delivered(a_entry.id, "ok", now)
    pruned = store.prune(now + timedelta(days=400), 180)  # must not trip over b's claims
    assert pruned["items"] == 0  # still needed by the pending digest of b
    assert [e.channel for e in store.pending(now)] == ["b"]


def test_a_channel_added_later_gets_only_what_is_found_after(tmp_path: Path) -> None:
    cfg = config(tmp_path, '[channels.old]\nkind = "file"\n')
    store = wiring.open_store(cfg)
    store.sync_channels(["old"], utcnow())
    add_match(store, cfg, "p1", "troops", "Truppen in Kursk")
    cfg = config(
        tmp_path,
        '[channels.old]\nkind = "file"\n[channels.new]\nkind = "file"\nsend_empty = false\n',
    )
    store.sync_channels(["old", "new"], utcnow())
    sources = load_sources(cfg)
    assert queue_digest(cfg, store, "new", sources, utcnow()) is None
    old = queue_digest(cfg, store, "old", sources, utcnow())
    assert old is not None and len(old[0].match_ids) == 1
    add_match(store, cfg, "p2", "troops", "Weitere Truppen in Kursk")
    new = queue_digest(cfg, store, "new", sources, utcnow())
    assert new is not None and len(new[0].match_ids) == 1
    # Both channels now remember when they last ran, for the catch-up after downtime.
    assert store.channel_run("new")[0] is not None and store.channel_run("old")[0] is not None


async def test_webhook_url_can_come_from_the_environment(
    tmp_path: Path, webhook_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", webhook_receiver.secret or "")
    cfg = config(
        tmp_path,
        '[channels.hook]\nkind = "webhook"\nurl_env = "TEST_HOOK_URL"\n'
        'secret_env = "TEST_HOOK_SECRET"\n',
    )
    store = wiring.open_store(cfg)
    add_match(store, cfg, "a", "troops", "Truppen aus Nordkorea in Kursk")
    queue_digest(cfg, store, "hook", load_sources(cfg), utcnow())
    async with Fetcher(cfg.http) as fetcher:
        [missing] = await flush(cfg, store, fetcher, utcnow())
        assert not missing.ok and "TEST_HOOK_URL" in missing.detail
        monkeypatch.setenv("TEST_HOOK_URL", webhook_receiver.url)
        [sent] = await flush(cfg, store, fetcher, utcnow() + timedelta(hours=1))
    assert sent.ok and len(webhook_receiver.received) == 1
    assert "/hook" not in sent.detail  # only scheme and host of a secret URL are shown
