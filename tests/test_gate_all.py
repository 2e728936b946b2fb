"""One address gate for every outbound connection (issue 12, point 4).

Every source kind (feed, page, seed-cited page, the robots.txt asked for first, follow_links
articles) and every channel that connects (email, webhook in the standard, Slack and Teams
formats) is pointed at forbidden addresses. The standard library's connect calls are wrapped to
record every peer address attempted: the proof is that none of them is ever attempted, and that
each one is reported as refused. With the opt-in, a local relay (aiosmtpd on 127.0.0.1) works.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor import wiring
from monitor.config import Config, gate_opt_ins
from monitor.fetch import Fetcher
from monitor.outbox import flush, queue_digest
from monitor.pipeline import CycleSummary, Poller
from monitor.sources import load_sources
from monitor.store import Store, utcnow
from monitor.topics import compile_topics
from tests.conftest import ContentServer, SmtpSink, free_port

Peer = tuple[str, int]

TOPIC = '[topics.troops]\nquery = "Truppe*"\n'


def forbidden_hosts() -> dict[str, str]:
    """Label -> host as written in a URL or a channel's `host`, one of each kind of refusal."""
    return {
        "loop2": "127.0.0.2",
        "v6loop": "::1",
        "metadata": "169.254.169.254",
        "private": "10.0.0.1",
        "name": "localhost",  # a name that resolves to loopback
    }


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _peer(address: Any) -> Peer | None:
    # Only network peers; multiprocessing's AF_UNIX connects (parser processes) are paths.
    if isinstance(address, tuple) and len(address) >= 2:
        return str(address[0]), int(address[1])
    return None


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Peer]]:
    """Every peer address a connect was attempted to, recorded by wrapping the standard
    library's blocking and asyncio connects (instrumentation, not a stand-in: the real connect
    still runs)."""
    seen: list[Peer] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    # The event loop of the tests (and of the daemon on Linux); aiohttp and asyncio's own
    # create_connection/open_connection connect through its sock_connect.
    loop_class = asyncio.SelectorEventLoop
    real_sock_connect = loop_class.sock_connect

    def record(address: Any) -> None:
        if (peer := _peer(address)) is not None:
            seen.append(peer)

    def connect(self: socket.socket, address: Any) -> None:
        record(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        record(address)
        return real_connect_ex(self, address)

    async def sock_connect(
        self: asyncio.AbstractEventLoop, sock: socket.socket, address: Any
    ) -> None:
        record(address)
        return await real_sock_connect(self, sock, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(loop_class, "sock_connect", sock_connect)
    yield seen


def write_config(tmp_path: Path, body: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(
        # A short connect time-out: should the gate ever let one through, the test fails
        # quickly instead of waiting on an unroutable address.
        "[http]\nconnect_timeout = 1\ntotal_timeout = 5\n" + body + TOPIC,
        encoding="utf-8",
    )
    return wiring.load(path)


async def poll_once(config: Config, store: Store) -> CycleSummary:
    poller = Poller(
        config, store, compile_topics(config.topics, config.aliases), load_sources(config)
    )
    try:
        async with Fetcher(config.http) as fetcher:
            return await poller.cycle(fetcher, only_due=False)
    finally:
        poller.close()


async def test_every_source_kind_is_refused_before_any_connect(
    tmp_path: Path, connects: list[Peer], caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    targets = {label: f"http://{url_host(h)}:{port}" for label, h in forbidden_hosts().items()}
    targets["metadata"] = "http://169.254.169.254"  # the well-known spelling, port 80
    sources = "".join(
        f'[[sources]]\nurl = "{base}/{kind}"\nkind = "{kind}"\nname = "{label}-{kind}"\n'
        for label, base in targets.items()
        for kind in ("feed", "page")
    )
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "brief.md").write_text(
        "# Lage\n\n"
        + "\n".join(f"Siehe [Quelle {label}]({base}/cited)." for label, base in targets.items())
        + "\n",
        encoding="utf-8",
    )
    # respect_robots is on (the default): robots.txt is asked for first, and refused too.
    config = write_config(tmp_path, "[seeds]\npath = 'seeds'\n" + sources)
    loaded = load_sources(config)
    assert len(loaded) == 3 * len(targets)
    store = Store(config.state_dir)
    with caplog.at_level(logging.WARNING):
        summary = await poll_once(config, store)

    assert connects == []
    assert summary.refused == len(loaded) and summary.fetched == 0 and summary.failed == 0
    health = {h.url: h for h in store.health()}
    for label, base in targets.items():
        for path in ("feed", "page", "cited"):
            error = health[f"{base}/{path}"].last_error or ""
            assert "refused" in error, (label, path, error)
    reasons = "\n".join(h.last_error or "" for h in health.values())
    for words in (
        "127.0.0.2 is loopback",
        "::1 is loopback",
        "169.254.169.254 is link-local (cloud metadata)",
        "10.0.0.1 is private",
    ):
        assert words in reasons
    assert "localhost resolves to " in reasons
    # Cited pages on a host name are asked for (and refused at connect time) like any other.
    robots = [r.getMessage() for r in caplog.records if "robots.txt" in r.getMessage()]
    assert any(
        f"robots.txt of http://localhost:{port} not read (address refused" in m for m in robots
    )
    assert any(
        f"robots.txt of http://127.0.0.2:{port} not read (address refused" in m for m in robots
    )


async def test_follow_links_articles_are_refused_before_any_connect(
    tmp_path: Path,
    content_server: ContentServer,
    connects: list[Peer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    srv = content_server
    port = free_port()
    # localhost resolves to 127.0.0.1, which this config allows for the feed's own server.
    links = [
        f"http://{url_host(h)}:{port}/story"
        for label, h in forbidden_hosts().items()
        if label != "name"
    ]
    items = "".join(
        f"<item><guid>s{i}</guid><title>Truppen {i}</title><link>{link}</link>"
        "<description>Mehr dazu im Artikel.</description></item>"
        for i, link in enumerate(links)
    )
    srv.set(
        "/feed",
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>',
        "application/rss+xml",
    )
    config = write_config(
        tmp_path,
        'allow_networks = ["127.0.0.1/32"]\n[poll]\nbaseline = false\n[seeds]\nenabled = false\n'
        f'[[sources]]\nurl = "{srv.base}/feed"\nkind = "feed"\nfollow_links = true\n',
    )
    store = Store(config.state_dir)
    with caplog.at_level(logging.WARNING):
        summary = await poll_once(config, store)

    assert summary.fetched == 1 and summary.new_passages == len(links)
    # The feed itself was fetched, and that is the only peer ever connected to.
    assert ("127.0.0.1", srv.port) in connects
    assert set(connects) == {("127.0.0.1", srv.port)}
    followed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("follow_links")]
    for link in links:
        assert any(m.startswith(f"follow_links: {link}: address refused") for m in followed), link


def channels_at(hosts: dict[str, str], port: int) -> str:
    """An email channel and a webhook channel of each format for every forbidden host."""
    out = []
    for label, host in hosts.items():
        out.append(
            f'[channels.mail_{label}]\nkind = "email"\nhost = "{host}"\nport = {port}\n'
            'sender = "m@example.org"\nrecipients = ["a@example.org"]\n'
        )
        for fmt in ("standard", "slack", "teams"):
            out.append(
                f'[channels.{fmt}_{label}]\nkind = "webhook"\nformat = "{fmt}"\n'
                f'url = "http://{url_host(host)}:{port}/hook"\n'
            )
    return "".join(out)


async def test_every_channel_kind_is_refused_before_any_connect_and_stays_queued(
    tmp_path: Path, connects: list[Peer]
) -> None:
    port = free_port()
    hosts = forbidden_hosts()
    config = write_config(
        tmp_path,
        "[seeds]\nenabled = false\n"
        + channels_at(hosts, port)
        # allow_private admits a local relay, never the metadata service
        + f'[channels.relay_meta]\nkind = "email"\nhost = "169.254.169.254"\nport = {port}\n'
        'sender = "m@example.org"\nrecipients = ["a@example.org"]\nallow_private = true\n'
        # the file channel connects nowhere and is delivered as usual
        '[channels.files]\nkind = "file"\n',
    )
    store = Store(config.state_dir)
    now = utcnow()
    for name in config.channels:
        assert queue_digest(config, store, name, [], now) is not None, name
    async with Fetcher(config.http) as fetcher:
        deliveries = {d.channel: d for d in await flush(config, store, fetcher, now)}

    assert connects == []
    assert set(deliveries) == set(config.channels)
    assert deliveries["files"].ok
    for name, delivery in deliveries.items():
        if name == "files":
            continue
        assert not delivery.ok and not delivery.permanent, name
        assert "refused" in delivery.detail and "\n" not in delivery.detail, name
    details = {name: d.detail for name, d in deliveries.items()}
    assert details["mail_metadata"] == (
        "email channel mail_metadata: 169.254.169.254 is link-local (cloud metadata); refused "
        "(allow_private does not cover this address; list its network in [http] "
        "allow_networks only if it really is your relay)"
    )
    assert details["mail_name"] == (
        "email channel mail_name: localhost resolves to 127.0.0.1, which is loopback; refused "
        "(set allow_private = true in [channels.mail_name] to allow a local relay)"
    )
    assert details["mail_v6loop"].startswith("email channel mail_v6loop: ::1 is loopback; refused")
    assert details["mail_private"].startswith("email channel mail_private: 10.0.0.1 is private")
    assert details["relay_meta"].startswith(
        "email channel relay_meta: 169.254.169.254 is link-local (cloud metadata); refused"
    )
    assert details["teams_loop2"] == (
        f"webhook http://127.0.0.2:{port}: address refused: 127.0.0.2 is loopback — list its "
        "network in [http] allow_networks to allow a local receiver"
    )
    assert "localhost resolves to 127.0.0.1, which is loopback" in details["slack_name"]
    # Nothing is lost: every refused digest is still queued for the next attempt.
    rows = {row["channel"]: row["status"] for row in store.outbox(limit=100)}
    assert rows.pop("files") == "sent"
    assert set(rows.values()) == {"pending"}
    assert len(store.pending(now + timedelta(days=1))) == len(config.channels) - 1


async def test_a_local_relay_works_with_the_logged_opt_in(
    tmp_path: Path,
    smtp_server: SmtpSink,
    connects: list[Peer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    mail = (
        f'kind = "email"\nport = {smtp_server.port}\nsecurity = "none"\n'
        'sender = "m@example.org"\nrecipients = ["a@example.org"]\n'
    )
    config = write_config(
        tmp_path,
        "[seeds]\nenabled = false\n"
        f'[channels.relay]\nhost = "localhost"\nallow_private = true\n{mail}'
        f'[channels.plain]\nhost = "127.0.0.1"\n{mail}',
    )
    # What the daemon logs at start and reload, and `monitor check` shows.
    assert gate_opt_ins(config) == [
        f"email channel relay: allow_private = true; its SMTP host localhost:{smtp_server.port} "
        "may be a local relay on this machine or a private network"
    ]
    store = Store(config.state_dir)
    now = utcnow()
    for name in ("relay", "plain"):
        queue_digest(config, store, name, [], now)
    async with Fetcher(config.http) as fetcher:
        deliveries = {d.channel: d for d in await flush(config, store, fetcher, now)}

    assert deliveries["relay"].ok, deliveries["relay"].detail
    assert len(smtp_server.wait(1)) == 1
    # The opt-in is per channel: the other one, at the very same server, is still refused.
    assert not deliveries["plain"].ok
    assert deliveries["plain"].detail.startswith("email channel plain: 127.0.0.1 is loopback")
    assert ("127.0.0.1", smtp_server.port) in connects
    assert set(connects) <= {("127.0.0.1", smtp_server.port), ("::1", smtp_server.port)}
