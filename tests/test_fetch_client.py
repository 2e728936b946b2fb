"""Fetcher against real local servers: the ordinary paths (200, 304, redirects, politeness, API)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import ipaddress
import itertools
import logging
import re
import ssl
import time
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.config import HttpConfig
from monitor.fetch import Fetcher, FetchError, HttpResponse
from monitor.fetch.guard import AddressRefused
from monitor.fetch.transport import GuardedTransport
from monitor.models import FetchOutcome, Validators
from tests.hostile_server import (
    HostileServer,
    Seen,
    closed_port,
    make_certificate,
    raw_response,
    redirect,
    reply,
    slow,
    stall,
)

LOCAL = ["127.0.0.1/32"]


def config(**overrides: Any) -> HttpConfig:
    """Small limits so that every test ends quickly; 127.0.0.1 allowed."""
    values: dict[str, Any] = {
        "user_agent": "source-monitor-test/1.0",
        "contact": "mailto:ops@example.org",
        "allow_networks": LOCAL,
        "connect_timeout": 2,
        "read_timeout": 2,
        "total_timeout": 3,
        "max_body_bytes": 64 * 1024,
        "max_redirects": 3,
        "max_header_bytes": 8192,
        "per_host_concurrency": 4,
    }
    values.update(overrides)
    return HttpConfig(**values)


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(config()) as f:
        yield f


# --- plain GET ------------------------------------------------------------------------------


async def test_ok_response(server: HostileServer, fetcher: Fetcher) -> None:
    body = b"<rss>hello</rss>"
    server.route(
        "/feed",
        reply(
            200,
            body,
            [
                ("Content-Type", "application/rss+xml; charset=utf-8"),
                ("ETag", '"v1"'),
                ("Last-Modified", "Wed, 01 Jan 2025 10:00:00 GMT"),
                ("Cache-Control", "public, max-age=600"),
            ],
        ),
    )
    result = await fetcher.fetch(server.url("/feed"), accept="application/rss+xml")
    assert result.outcome == FetchOutcome.OK, result.error
    assert result.status == 200
    assert result.body == body
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert result.final_url == server.url("/feed")
    assert result.validators == Validators(
        etag='"v1"',
        last_modified="Wed, 01 Jan 2025 10:00:00 GMT",
        body_hash=hashlib.sha256(body).hexdigest(),
    )
    assert result.max_age == 600
    assert result.error is None and result.retry_after is None
    assert 0 < result.elapsed < 3
    sent = server.requests[0].headers
    assert sent["user-agent"] == "source-monitor-test/1.0 (+mailto:ops@example.org)"
    assert sent["accept-encoding"] == "gzip, deflate"
    assert sent["accept"] == "application/rss+xml"
    assert "if-none-match" not in sent and "if-modified-since" not in sent


@pytest.mark.parametrize("kind", ["gzip", "deflate", "raw-deflate"])
async def test_compressed_bodies_are_decoded(
    server: HostileServer, fetcher: Fetcher, kind: str
) -> None:
    text = b"Nachrichten " * 500
    packed = {
        "gzip": gzip.compress(text),
        "deflate": zlib.compress(text),
        "raw-deflate": zlib.compress(text, wbits=-zlib.MAX_WBITS),
    }[kind]
    encoding = "gzip" if kind == "gzip" else "deflate"
    server.route("/", reply(200, packed, [("Content-Encoding", encoding)]))
    result = await fetcher.fetch(server.url("/"))
    assert result.outcome == FetchOutcome.OK, result.error
    assert result.body == text


async def test_gzip_with_two_members(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/", reply(200, gzip.compress(b"one ") + gzip.compress(b"two"),
                            [("Content-Encoding", "gzip")]))  # fmt: skip
    result = await fetcher.fetch(server.url("/"))
    assert result.body == b"one two"


async def test_http_error_status(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/gone", reply(404, b"<h1>nope</h1>"))
    result = await fetcher.fetch(server.url("/gone"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.status == 404
    assert result.error == "HTTP 404 Not Found"
    assert result.body == b""


async def test_reason_phrase_from_server_is_not_echoed(
    server: HostileServer, fetcher: Fetcher
) -> None:
    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 500 <script>alert(1)</script>\r\nContent-Length: 0\r\n\r\n")

    server.route("/", handler)
    result = await fetcher.fetch(server.url("/"))
    assert result.error == "HTTP 500 Internal Server Error"


# --- conditional GET --------------------------------------------------------------------------


async def test_etag_gives_not_modified(server: HostileServer, fetcher: Fetcher) -> None:
    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        if request.headers.get("if-none-match") == '"v1"':
            cached = [("ETag", '"v1"'), ("Cache-Control", "max-age=60")]
            writer.write(raw_response(304, headers=cached))
        else:
            writer.write(raw_response(200, b"first", [("ETag", '"v1"')]))

    server.route("/", handler)
    first = await fetcher.fetch(server.url("/"))
    assert first.outcome == FetchOutcome.OK
    second = await fetcher.fetch(server.url("/"), first.validators)
    assert second.outcome == FetchOutcome.NOT_MODIFIED
    assert second.status == 304
    assert second.body == b""
    assert second.validators.etag == '"v1"'
    assert second.validators.body_hash == first.validators.body_hash
    assert second.max_age == 60
    assert server.requests[1].headers["if-none-match"] == '"v1"'


async def test_last_modified_gives_not_modified(server: HostileServer, fetcher: Fetcher) -> None:
    stamp = "Tue, 04 Feb 2025 08:00:00 GMT"

    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        if request.headers.get("if-modified-since") == stamp:
            writer.write(raw_response(304))  # no validators repeated: the old ones are kept
        else:
            writer.write(raw_response(200, b"page", [("Last-Modified", stamp)]))

    server.route("/", handler)
    first = await fetcher.fetch(server.url("/"))
    assert first.validators.last_modified == stamp and first.validators.etag is None
    second = await fetcher.fetch(server.url("/"), first.validators)
    assert second.outcome == FetchOutcome.NOT_MODIFIED
    assert second.validators == first.validators
    assert "if-none-match" not in server.requests[1].headers


async def test_same_body_hash_is_not_modified(server: HostileServer, fetcher: Fetcher) -> None:
    bodies = [b"same", b"same", b"changed"]

    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(raw_response(200, bodies.pop(0), [("ETag", '"ignored-anyway"')]))

    server.route("/", handler)
    first = await fetcher.fetch(server.url("/"))
    second = await fetcher.fetch(server.url("/"), first.validators)
    assert second.outcome == FetchOutcome.NOT_MODIFIED
    assert second.status == 200
    assert second.body == b""
    assert second.validators.body_hash == hashlib.sha256(b"same").hexdigest()
    third = await fetcher.fetch(server.url("/"), second.validators)
    assert third.outcome == FetchOutcome.OK
    assert third.body == b"changed"
    assert third.validators.body_hash == hashlib.sha256(b"changed").hexdigest()


# --- redirects --------------------------------------------------------------------------------


async def test_redirect_chain(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/a", redirect("/b", 301))
    server.route("/b", redirect(server.url("/c"), 307))
    server.route("/c", redirect("d?x=1", 308))
    server.route("/d", reply(200, b"arrived"))
    result = await fetcher.fetch(server.url("/a"))
    assert result.outcome == FetchOutcome.OK, result.error
    assert result.body == b"arrived"
    assert result.url == server.url("/a")
    assert result.final_url == server.url("/d?x=1")
    assert server.paths() == ["/a", "/b", "/c", "/d?x=1"]


async def test_error_after_redirect_names_where(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/old", redirect("/new"))
    server.route("/new", reply(410))
    result = await fetcher.fetch(server.url("/old"))
    assert result.error == f"HTTP 410 Gone at {server.url('/new')}"
    assert result.final_url == server.url("/new")


async def test_redirect_without_location(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/", reply(302))
    result = await fetcher.fetch(server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error == "HTTP 302 Found without a Location header"


# --- Retry-After and max-age ----------------------------------------------------------------


async def test_429_retry_after_seconds(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/", reply(429, b"slow down", [("Retry-After", "120")]))
    result = await fetcher.fetch(server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error == "HTTP 429 Too Many Requests"
    assert result.retry_after == 120


async def test_503_retry_after_date(server: HostileServer, fetcher: Fetcher) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    server.route("/", reply(503, b"", [("Retry-After", when)]))
    result = await fetcher.fetch(server.url("/"))
    assert result.error == "HTTP 503 Service Unavailable"
    assert result.retry_after is not None and 3590 <= result.retry_after <= 3600


async def test_retry_after_is_capped_and_garbage_ignored(
    server: HostileServer, fetcher: Fetcher
) -> None:
    server.route("/big", reply(429, b"", [("Retry-After", "99999999999")]))
    server.route("/junk", reply(429, b"", [("Retry-After", "soon, maybe")]))
    assert (await fetcher.fetch(server.url("/big"))).retry_after == 86400
    assert (await fetcher.fetch(server.url("/junk"))).retry_after is None


async def test_max_age_from_expires(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/", reply(200, b"x", [("Date", "Wed, 01 Jan 2025 10:00:00 GMT"),
                                        ("Expires", "Wed, 01 Jan 2025 10:30:00 GMT")]))  # fmt: skip
    assert (await fetcher.fetch(server.url("/"))).max_age == 1800


# --- robots.txt -------------------------------------------------------------------------------


ROBOTS = b"User-agent: *\nDisallow: /private\n"


async def test_robots_disallow(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/robots.txt", reply(200, ROBOTS, [("Content-Type", "text/plain")]))
    server.route("*", reply(200, b"page"))
    blocked = await fetcher.fetch(server.url("/private/x"), respect_robots=True)
    assert blocked.outcome == FetchOutcome.ROBOTS
    assert blocked.error == "robots.txt of 127.0.0.1 disallows this URL"
    allowed = await fetcher.fetch(server.url("/public"), respect_robots=True)
    assert allowed.outcome == FetchOutcome.OK
    # robots.txt was read once (then cached) and the disallowed page was never requested
    assert server.paths() == ["/robots.txt", "/public"]


async def test_robots_checked_on_every_hop(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/robots.txt", reply(200, ROBOTS))
    server.route("/start", redirect("/private/article"))
    server.route("*", reply(200, b"page"))
    result = await fetcher.fetch(server.url("/start"), respect_robots=True)
    assert result.outcome == FetchOutcome.ROBOTS
    assert result.error == (
        f"robots.txt of 127.0.0.1 disallows the redirect to {server.url('/private/article')}"
    )
    assert server.paths() == ["/robots.txt", "/start"]


async def test_robots_names_our_agent(server: HostileServer, fetcher: Fetcher) -> None:
    rules = b"User-agent: source-monitor-test\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    server.route("/robots.txt", reply(200, rules))
    server.route("*", reply(200, b"page"))
    result = await fetcher.fetch(server.url("/anything"), respect_robots=True)
    assert result.outcome == FetchOutcome.ROBOTS


async def test_robots_follow_rfc_9309(server: HostileServer, fetcher: Fetcher) -> None:
    """The most specific rule wins whatever its order, and `*` / `$` are patterns (RFC 9309);
    Python's urllib.robotparser takes the first rule in file order and reads both literally."""
    rules = b"User-agent: *\nDisallow: /news/\nAllow: /news/public/\nDisallow: /*.pdf$\n"
    server.route("/robots.txt", reply(200, rules))
    server.route("*", reply(200, b"page"))
    public = await fetcher.fetch(server.url("/news/public/article"), respect_robots=True)
    assert public.outcome == FetchOutcome.OK
    closed = await fetcher.fetch(server.url("/news/internal"), respect_robots=True)
    assert closed.outcome == FetchOutcome.ROBOTS
    pdf = await fetcher.fetch(server.url("/reports/brief.pdf"), respect_robots=True)
    assert pdf.outcome == FetchOutcome.ROBOTS
    html = await fetcher.fetch(server.url("/reports/brief.pdf.html"), respect_robots=True)
    assert html.outcome == FetchOutcome.OK


async def test_robots_ignored_unless_asked(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/robots.txt", reply(200, b"User-agent: *\nDisallow: /\n"))
    server.route("*", reply(200, b"page"))
    result = await fetcher.fetch(server.url("/feed"))
    assert result.outcome == FetchOutcome.OK
    assert server.paths() == ["/feed"]


async def test_robots_4xx_allows_all(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/robots.txt", reply(404))
    server.route("*", reply(200, b"page"))
    assert (await fetcher.fetch(server.url("/p"), respect_robots=True)).outcome == FetchOutcome.OK
    assert (await fetcher.fetch(server.url("/q"), respect_robots=True)).outcome == FetchOutcome.OK
    assert server.paths() == ["/robots.txt", "/p", "/q"]


async def test_robots_5xx_allows_and_logs(
    server: HostileServer, fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    server.route("/robots.txt", reply(500))
    server.route("*", reply(200, b"page"))
    with caplog.at_level(logging.WARNING, logger="monitor.fetch"):
        result = await fetcher.fetch(server.url("/p"), respect_robots=True)
    assert result.outcome == FetchOutcome.OK
    assert any("robots.txt" in r.getMessage() and "500" in r.getMessage() for r in caplog.records)


async def test_robots_network_error_allows_and_logs(
    server: HostileServer, fetcher: Fetcher, caplog: pytest.LogCaptureFixture
) -> None:
    async def hang_up(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.transport.abort()

    server.route("/robots.txt", hang_up)
    server.route("*", reply(200, b"page"))
    with caplog.at_level(logging.WARNING, logger="monitor.fetch"):
        result = await fetcher.fetch(server.url("/p"), respect_robots=True)
    assert result.outcome == FetchOutcome.OK
    assert any("robots.txt" in r.getMessage() for r in caplog.records)


async def test_robots_loaded_once_for_concurrent_fetches(
    server: HostileServer, fetcher: Fetcher
) -> None:
    server.route("/robots.txt", slow(reply(200, ROBOTS), 0.2))
    server.route("*", reply(200, b"page"))
    results = await asyncio.gather(
        *(fetcher.fetch(server.url(f"/p{i}"), respect_robots=True) for i in range(4))
    )
    assert all(r.outcome == FetchOutcome.OK for r in results)
    assert server.paths().count("/robots.txt") == 1


# --- politeness -------------------------------------------------------------------------------


async def test_per_host_concurrency_is_limited(server: HostileServer) -> None:
    server.route("*", slow(reply(200, b"ok"), 0.25))
    async with Fetcher(config(per_host_concurrency=2)) as f:
        results = await asyncio.gather(*(f.fetch(server.url(f"/{i}")) for i in range(6)))
    assert all(r.outcome == FetchOutcome.OK for r in results)
    assert server.max_active == 2


async def test_global_concurrency_is_limited() -> None:
    active = {"now": 0, "max": 0}

    async def counted(request: Seen, writer: asyncio.StreamWriter) -> None:
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])
        await asyncio.sleep(0.15)
        active["now"] -= 1
        writer.write(raw_response(200, b"ok"))

    async with HostileServer("127.0.0.1") as one, HostileServer("127.0.0.2") as two:
        one.route("*", counted)
        two.route("*", counted)
        cfg = config(concurrency=1, per_host_concurrency=5, allow_networks=["127.0.0.0/30"])
        async with Fetcher(cfg) as f:
            urls = [s.url(f"/{i}") for s in (one, two) for i in range(2)]
            results = await asyncio.gather(*(f.fetch(u) for u in urls))
    assert all(r.outcome == FetchOutcome.OK for r in results)
    assert active["max"] == 1


async def test_per_host_delay_spaces_requests(server: HostileServer) -> None:
    arrivals: list[float] = []

    async def timed(request: Seen, writer: asyncio.StreamWriter) -> None:
        arrivals.append(time.monotonic())
        writer.write(raw_response(200, b"ok"))

    server.route("*", timed)
    async with Fetcher(config(per_host_delay=0.3)) as f:
        await asyncio.gather(*(f.fetch(server.url(f"/{i}")) for i in range(3)))
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(gaps) == 2 and min(gaps) >= 0.25


async def test_cookies_are_not_kept(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/set", reply(200, b"", [("Set-Cookie", "session=secret; Path=/")]))
    server.route("/check", reply(200, b""))
    await fetcher.fetch(server.url("/set"))
    await fetcher.fetch(server.url("/check"))
    assert "cookie" not in server.requests[1].headers


async def test_proxy_environment_cannot_route_around_the_gate(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proxy variables are honoured (tests/test_fetch_proxy.py), but neither a private target
    nor a proxy on a private address passes without the config's say-so. (Before proxies were
    supported, the variables were ignored outright.)"""
    async with HostileServer() as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy"):
            monkeypatch.setenv(name, proxy.url("/"))
        server.route("/", reply(200, b"direct"))
        async with Fetcher(HttpConfig()) as f:
            result = await f.fetch(server.url("/"))
        assert result.outcome == FetchOutcome.REFUSED
        assert proxy.connections == 0 and server.connections == 0


async def test_fetcher_must_be_entered() -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await Fetcher(config()).fetch("http://127.0.0.1:1/")


# --- request(): the webhook path --------------------------------------------------------------


async def test_request_posts_and_returns_response(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/hook", reply(202, b'{"ok":true}', [("Content-Type", "application/json")]))
    response = await fetcher.request(
        "POST",
        server.url("/hook"),
        content=b'{"digest":1}',
        headers={"Content-Type": "application/json", "webhook-id": "msg_1", "Host": "evil"},
    )
    assert response == HttpResponse(
        status=202,
        headers={"content-type": "application/json", "content-length": "11", "connection": "close"},
        body=b'{"ok":true}',
        url=server.url("/hook"),
    )
    seen = server.requests[0]
    assert (seen.method, seen.body) == ("POST", b'{"digest":1}')
    assert seen.headers["webhook-id"] == "msg_1"
    assert seen.headers["host"] == f"127.0.0.1:{server.port}"  # the caller cannot override Host
    assert seen.headers["user-agent"].startswith("source-monitor-test/1.0")


async def test_request_does_not_follow_redirects(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/hook", redirect("http://169.254.169.254/latest/meta-data/", 307))
    response = await fetcher.request("POST", server.url("/hook"), content=b"x")
    assert response.status == 307
    assert response.headers["location"] == "http://169.254.169.254/latest/meta-data/"
    assert server.paths() == ["/hook"]


async def test_request_failures_raise_fetch_error(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/big", reply(200, b"x" * (64 * 1024 + 1)))
    server.route("/stall", stall(raw_response(200, headers=[("Content-Length", "10")])[:-4]))
    with pytest.raises(FetchError, match=r"^address refused: 127\.0\.0\.2 is loopback$"):
        await fetcher.request("POST", f"http://127.0.0.2:{server.port}/hook")
    with pytest.raises(FetchError, match="only http and https"):
        await fetcher.request("POST", "file:///etc/passwd")
    with pytest.raises(FetchError, match="connection refused"):
        await fetcher.request("POST", f"http://127.0.0.1:{closed_port()}/")
    with pytest.raises(FetchError, match="response larger than 65536 bytes"):
        await fetcher.request("GET", server.url("/big"))
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out after 0\.5 s"):
        await fetcher.request("POST", server.url("/stall"), timeout=0.5)
    assert time.monotonic() - started < 1.5
    with pytest.raises(ValueError):
        await fetcher.request("GET\r\nX-Evil: 1", server.url("/"))


# --- TLS --------------------------------------------------------------------------------------


@pytest.fixture
def localhost_cert(tmp_path: Path) -> tuple[Path, Path]:
    made = make_certificate(tmp_path, "localhost")
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    return made


def _server_context(cert: tuple[Path, Path], names: list[str]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*cert)
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,misc,return-value]
    return context


async def test_tls_is_verified_by_default_and_opt_out_is_logged(
    localhost_cert: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    names: list[str] = []
    async with HostileServer(tls=_server_context(localhost_cert, names)) as srv:
        srv.route("/", reply(200, b"secret page"))
        url = srv.url("/", host="localhost")
        async with Fetcher(config()) as f:
            refused = await f.fetch(url)
            assert refused.outcome == FetchOutcome.ERROR
            assert refused.error is not None
            assert refused.error.startswith("TLS certificate not verified: ")
            assert "self" in refused.error and "signed" in refused.error
            with caplog.at_level(logging.WARNING, logger="monitor.fetch"):
                opted_out = await f.fetch(url, verify_tls=False)
            assert opted_out.outcome == FetchOutcome.OK, opted_out.error
            assert opted_out.body == b"secret page"
            warnings = [r for r in caplog.records if r.name == "monitor.fetch"]
            assert any("verification is off" in r.getMessage() for r in warnings)
            # the opt-out is per request: the default client still refuses
            assert (await f.fetch(url)).outcome == FetchOutcome.ERROR
    # the pinned IP was used for the socket, the host name for SNI
    assert names and set(names) == {"localhost"}


def _transport(trust: ssl.SSLContext, allow: list[str]) -> GuardedTransport:
    return GuardedTransport(
        ssl_context=trust,
        allow=[ipaddress.ip_network(n) for n in allow],
        max_header_bytes=8192,
        max_connections=4,
        per_host=2,
        keepalive_expiry=1.0,
    )


@pytest.mark.parametrize(("name", "ok"), [("localhost", True), ("other.test", False)])
async def test_guard_keeps_certificate_checks_on_the_host_name(
    tmp_path: Path, name: str, ok: bool
) -> None:
    """The guard connects to the checked IP, yet TLS still verifies the URL's host name."""
    cert = make_certificate(tmp_path, name)
    if cert is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    names: list[str] = []
    async with HostileServer(tls=_server_context(cert, names)) as srv:
        srv.route("/", reply(200, b"tls ok"))
        trust = ssl.create_default_context(cafile=str(cert[0]))
        transport = _transport(trust, ["127.0.0.1/32"])
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            url = f"https://localhost:{srv.port}/"
            if ok:
                response = await client.get(url)
                assert response.status_code == 200 and response.content == b"tls ok"
            else:
                with pytest.raises(httpx.ConnectError, match="certificate verify failed") as err:
                    await client.get(url)
                assert isinstance(err.value.__cause__, ssl.SSLCertVerificationError)
    assert names == ["localhost"]


async def test_guard_checks_every_socket_even_for_ip_literals() -> None:
    """IP-literal hosts skip the resolver; the socket factory still refuses them."""
    transport = _transport(ssl.create_default_context(), [])
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        with pytest.raises(AddressRefused, match=r"127\.0\.0\.1 is loopback"):
            await client.get(f"http://127.0.0.1:{closed_port()}/")


async def test_guard_resolver_refuses_names_of_refused_addresses() -> None:
    transport = _transport(ssl.create_default_context(), [])
    async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
        with pytest.raises(AddressRefused, match=r"localhost resolves to .*loopback"):
            await client.get(f"http://localhost:{closed_port()}/")


async def test_a_post_carries_only_the_headers_it_was_given(
    server: HostileServer, fetcher: Fetcher
) -> None:
    server.route("/hook", reply(204))
    await fetcher.request("POST", server.url("/hook"), content=b"")
    await fetcher.request("POST", server.url("/hook"), content=b"x")
    assert all("content-type" not in seen.headers for seen in server.requests)


async def test_idle_connections_are_capped_across_hosts() -> None:
    """aiohttp counts only busy connections towards its limit; the transport also caps idle
    keep-alive ones, so a cycle over many hosts does not hold a socket open to each."""

    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Answers every request on the connection and never closes it first.
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    servers = [await asyncio.start_server(keep_alive, "127.0.0.1", 0) for _ in range(70)]
    ports = [srv.sockets[0].getsockname()[1] for srv in servers]
    transport = _transport(ssl.create_default_context(), ["127.0.0.1/32"])
    try:
        async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
            for port in ports:
                assert (await client.get(f"http://127.0.0.1:{port}/")).content == b"ok"
            connector = transport._client().connector
            assert connector is not None
            # 70 idle connections without the cap; at most the cap plus one trim period with it.
            assert 0 < connector.idle_connections <= 4 + 32  # type: ignore[attr-defined]
            connector.trim_idle()  # type: ignore[attr-defined]
            assert connector.idle_connections == 4  # type: ignore[attr-defined]
    finally:
        for srv in servers:
            srv.close()


async def test_deliveries_never_reuse_a_connection_the_server_may_have_closed() -> None:
    """A POST is not retried on a stale kept-alive connection, so deliveries use a new one."""
    seen: list[bytes] = []

    async def one_answer_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head)[1])  # type: ignore[index]
        seen.append(await reader.readexactly(length))
        # Looks kept alive (no Connection: close); a second request on this connection meets
        # a server whose idle timeout has just fired: it hangs up without answering.
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    srv = await asyncio.start_server(one_answer_per_connection, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}/hook"
    try:
        async with Fetcher(config()) as f:
            for body in (b"first", b"second", b"third"):
                assert (await f.request("POST", url, content=body)).status == 200
    finally:
        srv.close()
    assert seen == [b"first", b"second", b"third"]


def test_transport_errors_name_the_origin_not_the_path() -> None:
    """aiohttp puts the URL into some messages; a webhook's path can be its secret."""
    import aiohttp

    from monitor.fetch.transport import _mapped

    error = aiohttp.ClientOSError(
        None, "Can not write request body for http://127.0.0.1:9/hook/T0KEN"
    )
    text = str(_mapped(error, "127.0.0.1", 8192))
    assert "T0KEN" not in text and "/hook" not in text
    assert "http://127.0.0.1:9" in text
