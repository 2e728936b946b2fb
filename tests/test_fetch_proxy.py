"""Corporate proxies: requests go through a real forward proxy on 127.0.0.1, and the proxy
changes the route, never the rules (targets judged locally before CONNECT; a private proxy is an
explicit opt-in)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import HttpConfig
from monitor.fetch import Fetcher
from monitor.models import FetchOutcome
from monitor.proxy import ProxyRefused, proxy_routes
from tests.conftest import ContentServer
from tests.forward_proxy import ForwardProxy, forward_proxy

LOOPBACK = ["127.0.0.1/32"]


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    with forward_proxy() as running:
        yield running


async def test_http_and_https_go_through_the_configured_proxy(
    proxy: ForwardProxy, content_server: ContentServer
) -> None:
    content_server.set("/feed.xml", "<rss/>", "application/rss+xml")
    http = HttpConfig(allow_networks=LOOPBACK, proxy=proxy.url)
    async with Fetcher(http) as fetcher:
        got = await fetcher.fetch(f"{content_server.base}/feed.xml")
        assert got.outcome == FetchOutcome.OK, got.error
        port = content_server.base.rsplit(":", 1)[1]
        # https is tunnelled with CONNECT (the local server speaks no TLS, so the fetch fails
        # after the tunnel; what matters is the route it took).
        await fetcher.fetch(f"https://127.0.0.1:{port}/feed.xml")
    assert proxy.requests == [
        f"GET {content_server.base}/feed.xml",
        f"CONNECT 127.0.0.1:{port}",
    ]
    assert content_server.hits("/feed.xml") == 1


@pytest.mark.parametrize("target", ["http://127.0.0.1:9/x", "http://localhost:9/x",
                                    "https://localhost:9/x", "http://10.1.2.3/x"])  # fmt: skip
async def test_a_private_target_is_refused_before_the_proxy_is_asked(
    proxy: ForwardProxy, target: str
) -> None:
    # The proxy itself may sit on loopback (opted in); its targets may not.
    http = HttpConfig(proxy=proxy.url, proxy_allow_private=True)
    async with Fetcher(http) as fetcher:
        got = await fetcher.fetch(target)
    assert got.outcome == FetchOutcome.REFUSED, got.error
    assert proxy.requests == []


async def test_a_proxy_on_a_private_address_needs_the_opt_in(proxy: ForwardProxy) -> None:
    public = "http://9.9.9.9/brief"  # a public address: the test proxy answers 502, never connects
    async with Fetcher(HttpConfig(proxy=proxy.url)) as fetcher:
        refused = await fetcher.fetch(public)
    assert refused.outcome == FetchOutcome.REFUSED
    assert "proxy 127.0.0.1 is loopback" in (refused.error or "")
    assert "proxy_allow_private = true" in (refused.error or "")
    assert proxy.requests == []
    async with Fetcher(HttpConfig(proxy=proxy.url, proxy_allow_private=True)) as fetcher:
        through = await fetcher.fetch(public)
    assert through.outcome == FetchOutcome.ERROR and "502" in (through.error or "")
    assert proxy.requests == [f"GET {public}"]


async def test_environment_variables_credentials_and_no_proxy(
    proxy: ForwardProxy, content_server: ContentServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    content_server.set("/a", "a", "text/plain")
    monkeypatch.setenv("HTTP_PROXY", f"http://ana:s%3Acret@127.0.0.1:{proxy.port}")
    monkeypatch.setenv("NO_PROXY", "intranet.example, .corp.example")
    async with Fetcher(HttpConfig(allow_networks=LOOPBACK)) as fetcher:
        assert (await fetcher.fetch(f"{content_server.base}/a")).outcome == FetchOutcome.OK
    port = content_server.base.rsplit(":", 1)[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://ana:s%3Acret@127.0.0.1:{proxy.port}")
    async with Fetcher(HttpConfig(allow_networks=LOOPBACK)) as fetcher:
        await fetcher.fetch(f"https://127.0.0.1:{port}/a")  # no TLS there: the route is the point
    assert proxy.requests == [f"GET {content_server.base}/a", f"CONNECT 127.0.0.1:{port}"]
    login = "Basic " + base64.b64encode(b"ana:s:cret").decode()
    assert proxy.auth == [login, login]
    monkeypatch.delenv("HTTPS_PROXY")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with Fetcher(HttpConfig(allow_networks=LOOPBACK)) as fetcher:
        assert (await fetcher.fetch(f"{content_server.base}/a")).outcome == FetchOutcome.OK
    assert len(proxy.requests) == 2  # bypassed: straight to the server
    assert content_server.hits("/a") == 2


def test_which_requests_bypass_the_proxy() -> None:
    from yarl import URL

    routes = proxy_routes(
        None,
        [],
        {"https_proxy": "http://p:3128", "NO_PROXY": "example.org,10.0.0.0/8,host:8443,[::1]"},
    )
    assert routes is not None and routes.http is None
    through = routes.for_url
    assert through(URL("https://news.example.com/a")) is not None
    assert through(URL("http://news.example.com/a")) is None  # no HTTP_PROXY: direct
    for direct in ("https://example.org/", "https://www.example.org/", "https://10.2.3.4/",
                   "https://host:8443/", "https://[::1]/"):  # fmt: skip
        assert through(URL(direct)) is None, direct
    assert through(URL("https://notexample.org/")) is not None
    assert through(URL("https://host:443/")) is not None
    with pytest.raises(ProxyRefused, match=r"\$HTTPS_PROXY.*only http:// proxies"):
        proxy_routes(None, [], {"HTTPS_PROXY": "socks5://p:1080"})


def _check(tmp_path: Path, text: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "config.toml").write_text(text)
    (tmp_path / "seeds").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(tmp_path / "config.toml"), "check"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env={**os.environ, **env},
    )  # fmt: skip


def test_check_refuses_credentials_in_the_file_and_a_proxy_it_cannot_use(tmp_path: Path) -> None:
    out = _check(tmp_path, '[http]\nproxy = "http://ana:pw@proxy.corp:3128"\n')
    assert out.returncode == 2
    assert "line 2, http.proxy: credentials do not belong in the file" in out.stderr
    assert "pw" not in out.stderr.replace("password", "")
    out = _check(tmp_path, "", HTTPS_PROXY="socks5://proxy.corp:1080")
    assert out.returncode == 2
    assert "http.proxy: $HTTPS_PROXY = socks5://proxy.corp:1080: only http:// proxies" in out.stderr
    out = _check(tmp_path, '[http]\nproxy = "http://proxy.corp:3128"\nproxy_allow_private = true\n')
    assert out.returncode == 0, out.stderr
    assert "proxy_allow_private" in out.stdout + out.stderr
