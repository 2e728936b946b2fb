"""The web surface: with a token, every route except the two probes refuses a request without it."""

from __future__ import annotations

import base64
import platform
import re
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from monitor.daemon import Daemon
from monitor.web import PUBLIC, SIGNED_PREFIX, make_app
from tests.conftest import ContentServer
from tests.test_daemon import FEED, config_text, free_port, wait_for
from tests.test_daemon import Daemon as Daemon_


async def test_every_route_but_the_probes_needs_the_token(tmp_path: Path) -> None:
    app = make_app(Daemon(tmp_path / "config.toml"), token="s3cret-token")
    paths = {
        info.get("path") or info.get("formatter")
        for route in app.router.routes()
        for info in [route.resource.get_info()]
        if route.resource is not None
    }
    assert paths >= {"/", "/metrics", "/healthz", "/readyz", "/feeds/{topic}.atom"}
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        # The signed feedback pages carry their own credential (tests/test_web_auth.py).
        for path in sorted(p for p in paths - PUBLIC if not p.startswith(SIGNED_PREFIX)):
            url = path.replace("{topic}", "t")
            for headers in (
                {},
                {"Authorization": "Bearer wrong"},
                {"Authorization": "s3cret-token"},
            ):
                resp = await client.get(url, headers=headers)
                assert resp.status == 401, (path, headers)
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
        ok = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status == 200 and "monitor_poll_cycles_total" in await ok.text()


async def test_the_token_travels_as_basic_auth_anywhere_and_in_the_url_only_for_feeds(
    tmp_path: Path,
) -> None:
    app = make_app(Daemon(tmp_path / "config.toml"), token="s3cret-token")
    basic = base64.b64encode(b"reader:s3cret-token").decode()
    wrong = base64.b64encode(b"reader:nope").decode()
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        refused = await client.get("/metrics", headers={"Authorization": f"Basic {wrong}"})
        assert refused.status == 401
        assert refused.headers["WWW-Authenticate"].startswith('Basic realm="source-monitor"')
        ok = await client.get("/metrics", headers={"Authorization": f"Basic {basic}"})
        assert ok.status == 200
        # A token in the URL leaks into logs and histories: taken for the feeds only.
        assert (await client.get("/metrics?token=s3cret-token")).status == 401
        assert (await client.get("/feeds/t.atom?token=wrong")).status == 401


def _daemon_config(srv: ContentServer, port: int, extra_web: str = "") -> str:
    return (
        config_text(srv, port)
        .replace(
            f"[web]\nport = {port}\n", f'[web]\nport = {port}\ntoken_env = "MON_TOKEN"\n{extra_web}'
        )
        .replace(
            '[channels.files]\nkind = "file"\n',
            '[channels.files]\nkind = "file"\nschedule = "30 7 * * *"\n',
        )
    )


@pytest.fixture
def tokened(tmp_path: Path, content_server: ContentServer, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    content_server.set("/feed.xml", FEED, "application/rss+xml")
    port = free_port()
    cfg = tmp_path / "config.toml"
    (tmp_path / "seeds").mkdir()
    cfg.write_text(_daemon_config(content_server, port))
    monkeypatch.setenv("MON_TOKEN", "s3cret-token")
    daemon = Daemon_(cfg)
    yield daemon, tmp_path, f"http://127.0.0.1:{port}"
    daemon.proc.terminate()
    daemon.proc.wait(timeout=30)


def _get(url: str, auth: str | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)
    except OSError:  # not listening yet
        return 0, "", {}


def test_served_feeds_carry_a_self_link_and_take_the_token_as_readers_send_it(tokened) -> None:  # type: ignore[no-untyped-def]
    daemon, folder, base = tokened
    feed_file = folder / "state" / "feeds" / "t.atom"
    assert wait_for(feed_file.exists, timeout=60), daemon.text()
    basic = "Basic " + base64.b64encode(b"any:s3cret-token").decode()
    assert _get(f"{base}/feeds/t.atom")[0] == 401
    for url, auth in (
        (f"{base}/feeds/t.atom?token=s3cret-token", None),
        (f"{base}/feeds/t.atom", basic),
        (f"{base}/feeds/t.atom", "Bearer s3cret-token"),
    ):
        status, body, _ = _get(url, auth)
        assert status == 200, (url, auth)
        feed = ET.fromstring(body)
        selves = [
            link.get("href")
            for link in feed.findall("{http://www.w3.org/2005/Atom}link")
            if link.get("rel") == "self"
        ]
        # The address the reader used, never the token it sent.
        assert selves == [f"{base}/feeds/t.atom"], selves


def test_status_page_shows_health_channels_and_outbox(tokened) -> None:  # type: ignore[no-untyped-def]
    daemon, _, base = tokened
    auth = "Basic " + base64.b64encode(b"ops:s3cret-token").decode()
    assert wait_for(lambda: "1 ok" in _get(f"{base}/", auth)[1], timeout=60), daemon.text()
    status, page, _ = _get(f"{base}/", auth)
    assert status == 200
    channels = page[
        page.index('id="channels"') : page.index("</table>", page.index('id="channels"'))
    ]
    assert "<td>files</td>" in channels
    # Next digest: 07:30 UTC today or tomorrow, from the channel's schedule.
    assert re.search(r"<td>\d{4}-\d\d-\d\d 07:30 UTC</td>", channels), channels
    assert "Empty: every digest made was delivered." in page
    status, metrics, _ = _get(f"{base}/metrics", auth)
    assert status == 200
    for name in ("process_resident_memory_bytes", "process_cpu_seconds_total", "python_info",
                 "python_gc_objects_collected_total"):  # fmt: skip
        assert f"\n{name}" in metrics, name
    assert (
        f'monitor_build_info{{python="{platform.python_version()}",version="0.1.0"}} 1.0' in metrics
    )


def test_public_url_gives_the_feed_files_their_self_link(
    tmp_path: Path, content_server: ContentServer
) -> None:
    content_server.set("/feed.xml", FEED, "application/rss+xml")
    cfg = tmp_path / "config.toml"
    (tmp_path / "seeds").mkdir()
    text = config_text(content_server, free_port()).replace(
        "[web]\n", '[web]\npublic_url = "https://monitor.example.org/sm/"\n'
    )
    cfg.write_text(text)
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "once"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    feed = ET.parse(tmp_path / "state" / "feeds" / "t.atom").getroot()
    selves = [
        link.get("href")
        for link in feed.findall("{http://www.w3.org/2005/Atom}link")
        if link.get("rel") == "self"
    ]
    assert selves == ["https://monitor.example.org/sm/feeds/t.atom"]


def test_status_page_leaves_out_what_feedback_suppresses(tokened, content_server) -> None:  # type: ignore[no-untyped-def]
    """Recent matches as the digests show them: a passage marked "not relevant" is not listed,
    and the page says how many were held back."""
    import sqlite3
    from datetime import UTC, datetime

    from monitor.feedback.records import FeedbackRecords
    from monitor.store import Store

    daemon, folder, base = tokened
    auth = "Bearer s3cret-token"
    assert wait_for(lambda: "1 ok" in _get(f"{base}/", auth)[1], timeout=60), daemon.text()
    entries = "".join(
        f"<item><guid>{g}</guid><title>Entry {g}</title><description>Text {g}</description></item>"
        for g in ("B", "C")
    )
    content_server.set(
        "/feed.xml", FEED.replace("<item>", entries + "<item>", 1), "application/rss+xml"
    )

    def recent() -> str:
        page = _get(f"{base}/", auth)[1]
        return page[page.index("<h2>Recent matches</h2>") : page.index("<h2>Recent digests</h2>")]

    assert wait_for(lambda: "Entry B" in recent() and "Entry C" in recent(), timeout=60), (
        daemon.text()
    )
    assert "hidden by feedback" not in recent()
    state = folder / "state"
    with sqlite3.connect(state / "monitor.db") as db:
        [(item_id,)] = db.execute("SELECT id FROM items WHERE title = 'Entry B'").fetchall()
    store = Store(state)
    FeedbackRecords(store.engine).record("not_relevant", item_id, "t", "tester", datetime.now(UTC))
    store.close()
    shown = recent()
    assert "Entry C" in shown and "Entry B" not in shown, shown
    assert "1 of the latest hidden by feedback" in shown
