"""Bodies and validators a server gets wrong: a compressed body cut off before its end, and a
Last-Modified date in the future. Real servers on 127.0.0.1; the poll tests use a real store."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from monitor.config import HttpConfig
from monitor.fetch import Fetcher
from monitor.models import FetchOutcome, Validators
from monitor.store import Store
from tests.hostile_server import HostileServer, Seen, raw_response, reply
from tests.test_pipeline import cycle, make

FEED = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>'
    + "".join(
        f"<item><guid>https://news.example.org/{i}</guid><title>Meldung {i}</title>"
        f"<description>Text der Meldung {i}, lang genug für einen Absatz.</description></item>"
        for i in range(40)
    )
    + "</channel></rss>"
).encode()
OLD = Validators(etag='"old"', last_modified="Mon, 02 Nov 2026 08:00:00 GMT", body_hash="ab" * 32)


def compress(data: bytes, kind: str) -> bytes:
    if kind == "gzip":
        return gzip.compress(data)
    wbits = zlib.MAX_WBITS if kind == "deflate" else -zlib.MAX_WBITS
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(HttpConfig(allow_networks=["127.0.0.1/32"], total_timeout=5)) as f:
        yield f


# --- a compressed body cut off ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "encoding", "cut"),
    [
        ("gzip", "gzip", 8),  # the trailer (CRC and length) missing
        ("gzip", "gzip", 4),  # half the trailer
        ("gzip", "gzip", 200),  # cut in the middle of the compressed data
        ("deflate", "deflate", 4),  # the zlib checksum missing
        ("deflate", "deflate", 200),
        ("raw-deflate", "deflate", 200),  # no final block
    ],
)
async def test_truncated_compressed_body_is_a_fetch_error_keeping_validators(
    server: HostileServer, fetcher: Fetcher, kind: str, encoding: str, cut: int
) -> None:
    whole = compress(FEED, kind)
    # Content-Length agrees with what is sent: the HTTP message is complete, the stream is not.
    server.route(
        "/feed", reply(200, whole[:-cut], [("Content-Encoding", encoding), ("ETag", '"new"')])
    )
    result = await fetcher.fetch(server.url("/feed"), OLD)
    assert result.outcome is FetchOutcome.ERROR
    assert result.error == f"truncated {encoding} body from {server.url('/feed')}"
    assert result.body == b""
    assert result.validators == OLD  # the next poll asks again, as if this one never happened


@pytest.mark.parametrize(("kind", "encoding"), [("gzip", "gzip"), ("deflate", "deflate"),
                                                 ("raw-deflate", "deflate")])  # fmt: skip
async def test_complete_compressed_body_still_reads(
    server: HostileServer, fetcher: Fetcher, kind: str, encoding: str
) -> None:
    server.route("/feed", reply(200, compress(FEED, kind), [("Content-Encoding", encoding)]))
    result = await fetcher.fetch(server.url("/feed"))
    assert result.outcome is FetchOutcome.OK and result.body == FEED


async def test_empty_body_labelled_gzip_is_not_truncated(
    server: HostileServer, fetcher: Fetcher
) -> None:
    server.route("/empty", reply(200, b"", [("Content-Encoding", "gzip")]))
    result = await fetcher.fetch(server.url("/empty"))
    assert result.outcome is FetchOutcome.OK and result.body == b""


async def test_truncated_gzip_poll_keeps_stored_validators(
    tmp_path: Path, server: HostileServer
) -> None:
    """Through the poller and the store: the cut-off body is not taken as the new feed, the
    stored ETag and body hash stay, and the next poll asks with the old ETag."""
    whole = gzip.compress(FEED)
    answers = [
        raw_response(200, whole, [("Content-Encoding", "gzip"), ("ETag", '"v1"')]),
        raw_response(200, whole[:-8], [("Content-Encoding", "gzip"), ("ETag", '"v2"')]),
    ]

    async def handler(request: Seen, writer: asyncio.StreamWriter) -> None:
        writer.write(answers.pop(0) if answers else raw_response(304, b"", [("ETag", '"v1"')]))

    server.route("/feed.xml", handler)
    config = make(tmp_path, f'[[sources]]\nurl = "{server.url("/feed.xml")}"\nkind = "feed"\n')
    store = Store(tmp_path / "state")
    try:
        await cycle(config, store)  # the baseline, ETag "v1"
        key = server.url("/feed.xml")
        before = store.source_state(key).validators
        assert before.etag == '"v1"'
        poller = await cycle(config, store)  # the truncated answer
        assert poller.last.failed == 1  # type: ignore[attr-defined]
        [health] = store.health([key])
        assert health.state == "failing"
        assert health.last_error == f"truncated gzip body from {key}"
        assert store.source_state(key).validators == before
        await cycle(config, store)
        assert server.requests[-1].headers.get("if-none-match") == '"v1"'
    finally:
        store.close()


# --- Last-Modified in the future ----------------------------------------------------------------


@pytest.mark.parametrize(
    "future", ["Thu, 01 Jan 2099 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"]
)
async def test_future_last_modified_is_not_kept(
    server: HostileServer, fetcher: Fetcher, future: str
) -> None:
    server.route("/feed", reply(200, FEED, [("Last-Modified", future), ("ETag", '"e1"')]))
    result = await fetcher.fetch(server.url("/feed"))
    assert result.outcome is FetchOutcome.OK
    assert result.validators.last_modified is None
    assert result.validators.etag == '"e1"'  # the ETag is still good
    await fetcher.fetch(server.url("/feed"), result.validators)
    assert "if-modified-since" not in server.requests[-1].headers
    assert server.requests[-1].headers.get("if-none-match") == '"e1"'


async def test_past_last_modified_is_echoed(server: HostileServer, fetcher: Fetcher) -> None:
    past = "Mon, 02 Nov 2026 08:00:00 GMT"
    server.route("/feed", reply(200, FEED, [("Last-Modified", past)]))
    result = await fetcher.fetch(server.url("/feed"))
    assert result.validators.last_modified == past
    await fetcher.fetch(server.url("/feed"), result.validators)
    assert server.requests[-1].headers.get("if-modified-since") == past


async def test_future_last_modified_stored_by_an_older_release_is_not_sent(
    server: HostileServer, fetcher: Fetcher
) -> None:
    server.route("/feed", reply(304, b"", [("Last-Modified", "Thu, 01 Jan 2099 00:00:00 GMT")]))
    stored = Validators(etag=None, last_modified="Thu, 01 Jan 2099 00:00:00 GMT")
    result = await fetcher.fetch(server.url("/feed"), stored)
    assert "if-modified-since" not in server.requests[-1].headers
    assert result.validators.last_modified is None  # and a 304 does not bring it back
