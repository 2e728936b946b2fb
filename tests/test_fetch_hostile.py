"""Fetcher against servers that attack it: SSRF by redirect or name, bombs, slowloris, lies.

Each test bounds both the outcome and the time: a hostile source may fail, but only within its
limits, and it must never reach an address the gate refuses.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from monitor.config import HttpConfig
from monitor.fetch import Fetcher
from monitor.models import FetchOutcome, FetchResult
from tests.hostile_server import (
    HostileServer,
    Seen,
    closed_port,
    compressed_zeros,
    drip,
    endless_chunks,
    raw_response,
    redirect,
    reply,
    stall,
)

CAP = 256 * 1024  # decoded body cap in these tests
TOTAL = 1.0  # total time budget in these tests


def config(**overrides: Any) -> HttpConfig:
    values: dict[str, Any] = {
        "allow_networks": ["127.0.0.1/32"],
        "connect_timeout": 1,
        "read_timeout": 5,  # longer than TOTAL, so that a slow drip meets the total timeout
        "total_timeout": TOTAL,
        "max_body_bytes": CAP,
        "max_redirects": 3,
        "max_header_bytes": 8192,
        "per_host_concurrency": 20,
    }
    values.update(overrides)
    return HttpConfig(**values)


@pytest.fixture
async def other() -> AsyncIterator[HostileServer]:
    """A second server on 127.0.0.2, which the gate does not allow: it must see nothing."""
    async with HostileServer("127.0.0.2") as srv:
        srv.route("*", reply(200, b"internal secret"))
        yield srv


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(config()) as f:
        yield f


async def timed(fetcher: Fetcher, url: str) -> tuple[FetchResult, float]:
    started = time.monotonic()
    result = await fetcher.fetch(url)
    return result, time.monotonic() - started


# --- SSRF: where requests may not go ---------------------------------------------------------


async def test_redirect_to_other_loopback_address_refused(
    server: HostileServer, other: HostileServer, fetcher: Fetcher
) -> None:
    server.route("/", redirect(other.url("/admin")))
    result = await fetcher.fetch(server.url("/"))
    assert result.outcome == FetchOutcome.REFUSED
    assert result.error == "redirect to 127.0.0.2 refused: loopback"
    assert server.paths() == ["/"]
    assert other.connections == 0


async def test_redirect_to_cloud_metadata_refused(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/", redirect("http://169.254.169.254/latest/meta-data/iam/"))
    result = await fetcher.fetch(server.url("/"))
    assert result.outcome == FetchOutcome.REFUSED
    assert result.error == "redirect to 169.254.169.254 refused: link-local (cloud metadata)"


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "file:/etc/passwd",
        "FILE:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "javascript:alert(1)",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://evil@127.0.0.1/",
        "http://a\\@127.0.0.2/",
        "http://[::ffff:169.254.169.254]/",
        "http://[2002:7f00:1::]/",
        "http://[64:ff9b::7f00:2]/",
        "http://100.64.0.1/",
        "http://[::1]/",
    ],
)
async def test_redirect_to_refused_targets(
    server: HostileServer, fetcher: Fetcher, location: str
) -> None:
    server.route("/", redirect(location, 301))
    result = await fetcher.fetch(server.url("/"))
    assert result.outcome == FetchOutcome.REFUSED, result.error
    assert result.error is not None and result.error.startswith("redirect to ")
    assert "refused: " in result.error
    assert server.paths() == ["/"]


async def test_redirect_to_name_resolving_to_loopback_refused_at_connect(
    server: HostileServer, other: HostileServer
) -> None:
    # The name passes the syntax gate; only the connect-time check can see where it leads.
    # Here 127.0.0.2 is the allowed source and "localhost" (127.0.0.1) the internal target.
    other.route("/", redirect(f"http://localhost:{server.port}/admin"))
    server.route("*", reply(200, b"internal secret"))
    async with Fetcher(config(allow_networks=["127.0.0.2/32"])) as f:
        result = await f.fetch(other.url("/"))
    assert result.outcome == FetchOutcome.REFUSED
    assert result.error == "redirect to localhost refused: resolves to 127.0.0.1, which is loopback"
    assert other.paths() == ["/"]
    assert server.connections == 0


async def test_name_resolving_to_loopback_refused_before_connect(server: HostileServer) -> None:
    server.route("*", reply(200, b"local secret"))
    async with Fetcher(config(allow_networks=[])) as strict:
        result = await strict.fetch(server.url("/", host="localhost"))
        literal = await strict.fetch(server.url("/"))
    assert result.outcome == FetchOutcome.REFUSED
    assert result.error == "address refused: localhost resolves to 127.0.0.1, which is loopback"
    assert literal.outcome == FetchOutcome.REFUSED
    assert literal.error == "address refused: 127.0.0.1 is loopback"
    assert server.connections == 0


@pytest.mark.parametrize(
    "spelling",
    ["2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1", "127.1", "evil@127.0.0.1",
     "127.0.0.1\\@example.com"],
)  # fmt: skip
async def test_ip_spellings_never_connect(server: HostileServer, spelling: str) -> None:
    server.route("*", reply(200, b"local secret"))
    async with Fetcher(config(allow_networks=["127.0.0.0/8"])) as lenient:
        # even with loopback allowed, these spellings are refused outright
        result = await lenient.fetch(f"http://{spelling}:{server.port}/")
    assert result.outcome == FetchOutcome.REFUSED, result
    assert server.connections == 0


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "file:/etc/passwd", " FILE:///etc/passwd", "source:file:///etc/passwd",
     "view-source:file:///etc/passwd", "ftp://127.0.0.1/", "gopher://127.0.0.1/", "data:,x",
     "javascript:alert(1)", "jAvAsCrIpT:alert(1)"],
)  # fmt: skip
async def test_other_schemes_refused(fetcher: Fetcher, url: str) -> None:
    result = await fetcher.fetch(url)
    assert result.outcome == FetchOutcome.REFUSED
    assert result.error is not None and "only http and https" in result.error


async def test_redirect_loop_ends_within_cap(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/loop", redirect("/loop"))
    result = await fetcher.fetch(server.url("/loop"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error is not None and result.error.startswith("more than 3 redirects")
    assert len(server.requests) == 4  # the first request and three redirects


# --- size limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "encoding"), [("gzip", "gzip"), ("deflate", "deflate"), ("raw-deflate", "deflate")]
)
async def test_compression_bomb_stops_at_cap(
    server: HostileServer, fetcher: Fetcher, kind: str, encoding: str
) -> None:
    bomb = compressed_zeros(64 * 1024 * 1024, kind)  # 64 MiB of zeros in ~64 KiB
    assert len(bomb) < CAP  # so the Content-Length check cannot be what stops it
    server.route("/", reply(200, bomb, [("Content-Encoding", encoding)]))
    result, took = await timed(fetcher, server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error == f"response larger than {CAP} bytes"
    assert took < 0.5


async def test_endless_gzip_stream_stops_at_cap(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/", endless_chunks(compressed_zeros(8 * 1024 * 1024, "gzip")[:-8],
                                     [("Content-Encoding", "gzip")]))  # fmt: skip
    result, took = await timed(fetcher, server.url("/"))
    assert result.error == f"response larger than {CAP} bytes"
    assert took < 0.5


async def test_endless_chunked_body_stops_at_cap(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/", endless_chunks(b"A" * 16384))
    result, took = await timed(fetcher, server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error == f"response larger than {CAP} bytes"
    assert took < 0.5


async def test_large_content_length_rejected_before_reading(
    server: HostileServer, fetcher: Fetcher
) -> None:
    # The server announces 10 GB and then stalls: only the header is needed to say no.
    server.route("/", stall(raw_response(200, headers=[("Content-Length", str(10**10))])))
    result, took = await timed(fetcher, server.url("/"))
    assert result.error == f"response larger than {CAP} bytes"
    assert took < 0.5


async def test_content_length_shorter_than_body(server: HostileServer, fetcher: Fetcher) -> None:
    # More bytes than announced, then the connection closes: the HTTP parser refuses the
    # message rather than guessing which bytes belong to it.
    server.route("/", reply(200, b"0123456789" + b"X" * 5000, [("Content-Length", "10")]))
    result, took = await timed(fetcher, server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error == (
        "invalid HTTP response from 127.0.0.1: more body bytes than its Content-Length announced"
    )
    assert took < 0.5


async def test_content_length_longer_than_body(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/", reply(200, b"short", [("Content-Length", "5000")]))
    result, took = await timed(fetcher, server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error == "127.0.0.1 closed the connection before the body was complete"
    assert took < 0.5


async def test_conflicting_content_lengths(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/", reply(200, b"abc", [("Content-Length", "3"), ("Content-Length", "300")]))
    result = await fetcher.fetch(server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error is not None and "invalid HTTP response from 127.0.0.1" in result.error


async def test_huge_headers_refused(server: HostileServer, fetcher: Fetcher) -> None:
    many = [(f"X-Filler-{i}", "v" * 100) for i in range(200)]  # about 22 KB > 8192
    server.route("/", reply(200, b"body", many))
    result, took = await timed(fetcher, server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error == "response headers larger than 8192 bytes"
    assert took < 0.5


async def test_headers_just_under_limit_pass(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/", reply(200, b"body", [("X-Filler", "v" * 7000)]))
    assert (await fetcher.fetch(server.url("/"))).outcome == FetchOutcome.OK


async def test_endless_header_line_refused(server: HostileServer) -> None:
    # A limit above h11's own 100 KiB buffer: whichever stops first, the answer is the same.
    server.route("/", stall(b"HTTP/1.1 200 OK\r\nX-Endless: " + b"a" * (1024 * 1024)))
    async with Fetcher(config(max_header_bytes=10 * 1024 * 1024)) as f:
        result, took = await timed(f, server.url("/"))
    assert result.error == f"response headers larger than {10 * 1024 * 1024} bytes"
    assert took < 0.8


async def test_header_section_is_cut_off_at_the_limit_as_it_arrives(
    server: HostileServer,
) -> None:
    # Each line is under the per-line limit and the section never ends: only counting the
    # section's bytes as they arrive stops this before the read timeout.
    lines = b"".join(b"X-Big-%d: " % i + b"b" * 30_000 + b"\r\n" for i in range(3))
    server.route("/", stall(b"HTTP/1.1 200 OK\r\n" + lines))
    async with Fetcher(config(max_header_bytes=64 * 1024, read_timeout=5)) as f:
        result, took = await timed(f, server.url("/"))
    assert result.error == f"response headers larger than {64 * 1024} bytes"
    assert took < 0.5


async def test_unsupported_encoding(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/", reply(200, b"\x1b\x00\x00", [("Content-Encoding", "br")]))
    result = await fetcher.fetch(server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error is not None and "unsupported Content-Encoding 'br'" in result.error


async def test_corrupt_gzip(server: HostileServer, fetcher: Fetcher) -> None:
    broken = b"\x1f\x8b\x08\x00garbage-garbage"
    server.route("/", reply(200, broken, [("Content-Encoding", "gzip")]))
    result = await fetcher.fetch(server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error is not None and result.error.startswith("could not decode the gzip body")


# --- time limits ------------------------------------------------------------------------------


async def test_slow_drip_body_ends_at_total_timeout(
    server: HostileServer, fetcher: Fetcher
) -> None:
    # Each byte arrives well within the read timeout; only the total budget can stop this.
    server.route("/", drip(raw_response(200, b"x" * 1000), 0.02))
    result, took = await timed(fetcher, server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error == "timed out after 1 s"
    assert TOTAL - 0.05 <= took < TOTAL + 0.3


async def test_slow_drip_headers_end_at_total_timeout(
    server: HostileServer, fetcher: Fetcher
) -> None:
    server.route("/", drip(b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"z" * 1000, 0.02))
    result, took = await timed(fetcher, server.url("/"))
    assert result.error == "timed out after 1 s"
    assert took < TOTAL + 0.3


async def test_silent_server_meets_read_timeout(server: HostileServer) -> None:
    server.route("/", stall())
    async with Fetcher(config(read_timeout=0.3)) as f:
        result, took = await timed(f, server.url("/"))
    assert result.error == "127.0.0.1 sent nothing for 0.3 s"
    assert took < 0.6


async def test_redirect_hops_share_one_budget(server: HostileServer, fetcher: Fetcher) -> None:
    async def slow_redirect(request: Seen, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(0.4)
        writer.write(raw_response(302, headers=[("Location", f"/{len(server.requests)}")]))

    server.route("*", slow_redirect)
    result, took = await timed(fetcher, server.url("/0"))
    assert result.error == "timed out after 1 s"
    assert took < TOTAL + 0.3
    assert len(server.requests) == 3


async def test_connection_refused(fetcher: Fetcher) -> None:
    port = closed_port()
    result, took = await timed(fetcher, f"http://127.0.0.1:{port}/")
    assert result.outcome == FetchOutcome.ERROR
    assert result.error == f"connection refused by 127.0.0.1:{port}"
    assert took < 0.5


async def test_server_hangs_up_without_answer(server: HostileServer, fetcher: Fetcher) -> None:
    async def hang_up(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server.route("/", hang_up)
    result = await fetcher.fetch(server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error == "127.0.0.1 closed the connection without a response"


async def test_garbage_instead_of_http(server: HostileServer, fetcher: Fetcher) -> None:
    server.route("/", stall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"))
    result, took = await timed(fetcher, server.url("/"))
    assert result.outcome == FetchOutcome.ERROR
    assert result.error is not None and result.error.startswith("invalid HTTP response")
    assert took < 0.5


# --- all at once ------------------------------------------------------------------------------


async def test_hostile_sources_together_do_not_hold_up_a_good_one(
    server: HostileServer, other: HostileServer, fetcher: Fetcher
) -> None:
    server.route("/good", reply(200, b"good news"))
    server.route("/drip", drip(raw_response(200, b"x" * 1000), 0.02))
    server.route("/stall", stall())
    server.route("/bomb", reply(200, compressed_zeros(32 * 1024 * 1024, "gzip"),
                                [("Content-Encoding", "gzip")]))  # fmt: skip
    server.route("/endless", endless_chunks(b"B" * 8192))
    server.route("/headers", reply(200, b"", [(f"X-{i}", "h" * 200) for i in range(100)]))
    server.route("/loop", redirect("/loop"))
    server.route("/metadata", redirect("http://169.254.169.254/"))
    server.route("/internal", redirect(other.url("/")))
    names = ["good", "drip", "stall", "bomb", "endless", "headers", "loop", "metadata", "internal"]
    urls = [server.url(f"/{name}") for name in names]
    urls.append(f"http://127.0.0.1:{closed_port()}/")
    urls.append(server.url("/", host="0x7f.1"))

    started = time.monotonic()
    results = await asyncio.gather(*(timed(fetcher, url) for url in urls))
    wall = time.monotonic() - started

    outcome = {url: result for url, (result, _) in zip(urls, results, strict=True)}
    good = outcome[server.url("/good")]
    assert good.outcome == FetchOutcome.OK and good.body == b"good news"
    assert good.elapsed < 0.5
    for (result, took), url in zip(results, urls, strict=True):
        assert took < TOTAL + 0.3, (url, result.error)
        if url != server.url("/good"):
            assert result.outcome in (FetchOutcome.ERROR, FetchOutcome.REFUSED), url
    assert wall < TOTAL + 0.5
    assert other.connections == 0
