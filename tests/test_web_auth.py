"""Web security: every route refuses without its credential (read off the route table, so a
route added later without auth fails here), CSRF and cross-site checks on every state change,
signed feedback pages that a GET never changes, and no path out of the state folder."""

from __future__ import annotations

import base64
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from monitor import wiring
from monitor.daemon import Daemon
from monitor.feedback.links import LinkSigner, signer_for
from monitor.web import PUBLIC, SIGNED_PREFIX, make_app
from tests.conftest import ContentServer
from tests.test_daemon import FEED, config_text, free_port, wait_for
from tests.test_daemon import Daemon as DaemonProcess

TOKEN = "s3cret-token-for-tests"
SIGNED = SIGNED_PREFIX + "{token}"


def routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, path) of every route, HEAD left out (aiohttp adds one for each GET)."""
    out = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = info.get("path") or info.get("formatter")
        if route.method != "HEAD":
            out.append((route.method, path))
    return sorted(set(out))


def concrete(path: str) -> str:
    return path.replace("{topic}", "t").replace("{token}", "abc.def")


async def test_every_route_refuses_without_its_credential(tmp_path: Path) -> None:
    signer = LinkSigner(b"k" * 32)
    app = make_app(Daemon(tmp_path / "config.toml"), token=TOKEN, signer=signer)
    table = routes(app)
    assert ("POST", "/feedback/mark") in table and ("GET", "/feedback") in table
    # Only the probes and the signed pages go without the token; nothing else may.
    exempt = {(m, p) for m, p in table if p in PUBLIC or p == SIGNED}
    assert {p for _, p in exempt} == {"/healthz", "/readyz", SIGNED}
    basic = base64.b64encode(f"anna:{TOKEN}".encode()).decode()
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        for method, path in table:
            url = concrete(path)
            if (method, path) in exempt:
                if path == SIGNED:
                    # Its credential is its signature: a made-up one is refused, GET or POST.
                    resp = await client.request(method, url)
                    assert resp.status == 403, (method, path)
                continue
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                resp = await client.request(method, url, headers=headers)
                assert resp.status == 401, (method, path, headers)
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
            if method == "POST":
                # With the token but without the page's CSRF token, or with a wrong one: refused.
                auth = {"Authorization": f"Basic {basic}"}
                for data in ({}, {"csrf": "forged"}):
                    resp = await client.post(url, headers=auth, data=data)
                    assert resp.status == 403, (path, data)
                # The CSRF token belongs to one credential: another user's does not pass.
                other = signer.csrf_token(f"ben\x00{TOKEN}")
                resp = await client.post(url, headers=auth, data={"csrf": other})
                assert resp.status == 403, path
                # From another site: refused before anything is read.
                mine = signer.csrf_token(f"anna\x00{TOKEN}")
                for cross in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
                    resp = await client.post(url, headers=auth | cross, data={"csrf": mine})
                    assert resp.status == 403, (path, cross)
        for method, path in exempt:
            if path in PUBLIC:  # the probes answer without a token (503: no daemon running)
                assert (await client.request(method, path)).status in (200, 503)
        # Pages must not be framed (a one-button page clicked through another site's frame).
        resp = await client.get("/healthz")
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def _request(
    url: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


def feedback_rows(db: Path) -> list[tuple[str, str, str, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT kind, topic, who, undone_by FROM feedback ORDER BY id"
        ).fetchall()


@pytest.fixture
def daemon(tmp_path: Path, content_server: ContentServer):  # type: ignore[no-untyped-def]
    content_server.set("/feed.xml", FEED, "application/rss+xml")
    port = free_port()
    cfg = tmp_path / "config.toml"
    (tmp_path / "seeds").mkdir()
    cfg.write_text(config_text(content_server, port))
    proc = DaemonProcess(cfg)
    yield proc, cfg, f"http://127.0.0.1:{port}", content_server
    proc.proc.terminate()
    proc.proc.wait(timeout=30)


def test_the_daemon_guards_feedback_with_token_signature_and_csrf(daemon) -> None:  # type: ignore[no-untyped-def]
    proc, cfg, base, srv = daemon
    state = cfg.parent / "state"
    db = state / "monitor.db"
    assert wait_for(lambda: _request(base + "/healthz")[0] == 200, 60), proc.text()
    # No token configured: one was made, private to this user, and is needed everywhere.
    token_file = state / "web.token"
    assert token_file.stat().st_mode & 0o077 == 0
    token = token_file.read_text().strip()
    assert _request(base + "/feedback")[0] == 401
    # The first poll is the baseline; the feed then gains an entry that matches topic "t".
    assert wait_for(lambda: (state / "feeds" / "t.atom").exists(), 60), proc.text()
    newer = FEED.replace(
        "</channel>",
        "<item><guid>b</guid><title>Entry B</title><description>Text B</description></item>"
        "</channel>",
    )
    srv.set("/feed.xml", newer, "application/rss+xml")
    item_id = wait_item(db)

    signer = signer_for(wiring.load(cfg))
    now = datetime.now(UTC)
    link = f"{base}/fb/{signer.token(item_id, 't', 'mute', now)}"
    # Mail scanners open links: a GET shows one button and records nothing.
    status, page = _request(link)
    assert status == 200 and 'id="confirm"' in page and "Entry B" in page
    assert token not in page and feedback_rows(db) == []
    # A link for another item, or forged, records nothing either.
    assert _request(f"{base}/fb/{signer.token(item_id + 1, 't', 'mute', now)}", {})[0] == 403
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert _request(tampered, {})[0] == 403
    assert _request(link, {}, {"Origin": "https://evil.example"})[0] == 403
    assert feedback_rows(db) == []
    # The button posts it: recorded once, as given by an email link.
    status, page = _request(link, {})
    assert status == 200 and 'id="done"' in page
    assert _request(link, {})[0] == 200
    assert feedback_rows(db) == [("mute", "t", "email link", None)]

    # The authenticated page lists it with an undo button carrying the CSRF token.
    basic = {"Authorization": "Basic " + base64.b64encode(f"anna:{token}".encode()).decode()}
    status, page = _request(base + "/feedback", headers=basic)
    assert status == 200 and "email link" in page
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    fid = re.search(r'name="id" value="(\d+)"', page)
    assert csrf and fid
    mark = {"item_id": str(item_id), "topic": "t", "action": "not_relevant"}
    assert _request(base + "/feedback/mark", mark, basic)[0] == 403  # no CSRF token
    assert _request(base + "/feedback/mark", mark | {"csrf": csrf[1]}, basic)[0] == 303
    assert _request(base + "/feedback/undo", {"id": fid[1], "csrf": csrf[1]}, basic)[0] == 303
    assert feedback_rows(db) == [
        ("mute", "t", "email link", "anna"),
        ("not_relevant", "t", "anna", None),
    ]
    # No path out of the state folder, with or without the token.
    bearer = {"Authorization": f"Bearer {token}"}
    for path in (
        "/feeds/..%2Fmonitor.db.atom",
        "/feeds/..%2F..%2Fconfig.toml.atom",
        "/fb/..%2Fmonitor.db",
        "/feedback/..%2F..%2Fmonitor.db",
    ):
        status, body = _request(base + path, headers=bearer)
        assert status in (403, 404, 405) and "SQLite" not in body, path


def wait_item(db: Path) -> int:
    found: list[int] = []

    def item() -> bool:
        with sqlite3.connect(db) as conn:
            found[:] = [r[0] for r in conn.execute("SELECT id FROM items")]
        return bool(found)

    assert wait_for(item, 60)
    return found[0]
