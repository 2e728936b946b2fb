"""The fetcher's GETs go to the transport without httpx's request and response objects (a fifth
of the event loop's CPU per 304): the same bytes must reach the server and the same reply must
come back as through httpx, to a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from monitor.fetch import Fetcher
from monitor.fetch.client import _authority, _build_request, _header_dict
from monitor.gate import normalize_url, url_host
from monitor.models import FetchOutcome, Validators
from tests.test_fetch_client import config

# A reply with what header decoding must get right: a repeated header (joined), a name in odd
# case, and a UTF-8 value (which makes httpx read every value as UTF-8).
REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nETag: \"v1\"\r\n"
    b"X-Tag: a\r\nx-TAG: b\r\nX-Place: M\xc3\xbcnchen\r\nContent-Length: 5\r\n\r\nhello"
)


class RawServer:
    """Answers every request with REPLY and keeps each request's head as received."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.port = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                self.heads.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(REPLY)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    srv = RawServer()
    server = await asyncio.start_server(srv.serve, "127.0.0.1", 0)
    srv.port = server.sockets[0].getsockname()[1]
    async with server:
        yield srv


async def test_a_get_sends_and_reads_what_httpx_would(raw_server: RawServer) -> None:
    url = f"http://127.0.0.1:{raw_server.port}/feed?x=1"
    old = Validators(etag='"v0"', last_modified="Fri, 20 Nov 2026 08:00:00 GMT")
    async with Fetcher(config()) as fetcher:
        result = await fetcher.fetch(url, old, accept="application/rss+xml")
        assert result.outcome is FetchOutcome.OK and result.body == b"hello"
        assert result.validators.etag == '"v1"'
        # The same request built and read through httpx, as before.
        session = fetcher._session(True)
        headers = {
            "Accept": "application/rss+xml",
            "If-None-Match": '"v0"',
            "If-Modified-Since": "Fri, 20 Nov 2026 08:00:00 GMT",
        }
        request = _build_request(session.client, "GET", url, headers, None, None)
        response = await session.transport.handle_async_request(request)
        await response.aread()
        await response.aclose()
        direct = await fetcher._exchange_direct(
            session, "GET", url, headers, lambda status: True, 1024, None
        )
    first, through_httpx, again = raw_server.heads
    assert first == through_httpx == again
    assert first.startswith(b"GET /feed?x=1 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert direct.headers == _header_dict(response.headers)
    assert direct.headers["x-tag"] == "a, b" and direct.headers["x-place"] == "München"
    assert direct.status == 200 and direct.body == b"hello"


async def test_a_header_that_is_not_ascii_fails_as_through_httpx(raw_server: RawServer) -> None:
    url = f"http://127.0.0.1:{raw_server.port}/"
    async with Fetcher(config()) as fetcher:
        result = await fetcher.fetch(url, Validators(etag='"Münch"'))
        session = fetcher._session(True)
        with pytest.raises(UnicodeEncodeError):
            _build_request(session.client, "GET", url, {"If-None-Match": '"Münch"'}, None, None)
    assert result.outcome is FetchOutcome.ERROR
    assert "UnicodeEncodeError" in (result.error or "")
    assert raw_server.heads == []  # nothing was sent


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/feed?x=1",
        "HTTPS://Example.ORG:443/a/b",
        "http://example.org",
        "http://example.org:80?q=1",
        "http://[::1]:8080/x",
        "https://[2001:db8::1]/",
        "https://bücher.example/straße?ä=1",
        "http://sub.example.co.uk:08080/p#frag",
    ],
)
def test_the_authority_is_read_as_httpx_reads_it(url: str) -> None:
    normal = normalize_url(url)
    parsed = httpx.URL(normal)
    netloc, host, port = _authority(normal)
    assert netloc == parsed.netloc.decode("ascii")
    assert host == parsed.raw_host.decode("ascii").lower() == url_host(normal)
    assert port == parsed.port
