"""Which requests go through a forward proxy, and to which one.

Corporate networks often reach the web only through an HTTP proxy. It is taken from `[http]
proxy` (and `no_proxy`), else from the usual environment variables: `HTTPS_PROXY` for https URLs,
`HTTP_PROXY` for http URLs, `NO_PROXY` for the hosts that bypass it (lower-case names win, as
curl does). Credentials belong in the environment variable (`http://user:pass@proxy:3128`),
never in the config file.

The proxy changes the route, not the rules: the transport resolves every target's name itself and
puts it to the address gate before the proxy is asked to connect (`transport.GuardedTransport`),
so a proxy cannot be used to reach a private address. The proxy's own address passes the same
gate, and a proxy on a private network needs `[http] proxy_allow_private = true`, as a local
SMTP relay needs `allow_private` (link-local addresses stay refused).
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yarl import URL


class ProxyRefused(ValueError):
    """A proxy setting that cannot be used; the message says which and what to do."""


@dataclass(frozen=True)
class Proxy:
    """One proxy: where it listens (no credentials in it) and how to log in to it."""

    url: URL
    authorization: str | None  # the Proxy-Authorization value, from the URL's credentials
    origin: str  # where the setting came from, for messages: "[http] proxy", "$HTTPS_PROXY"

    @property
    def host(self) -> str:
        return self.url.host or ""


def parse_proxy(value: str, origin: str) -> Proxy:
    """A proxy from its URL; ProxyRefused for anything but a plain http:// proxy."""
    # Here, not at the top: every config load asks for the routes, few configs name a proxy.
    from yarl import URL

    url = URL(value.strip() if "://" in value else f"http://{value.strip()}")
    if url.scheme != "http" or not url.host:
        raise ProxyRefused(
            f"{origin} = {url.with_user(None).with_password(None)}: only http:// proxies are "
            "supported (they tunnel https with CONNECT); give http://host:port"
        )
    authorization = None
    if url.user:
        pair = f"{url.user}:{url.password or ''}".encode()
        authorization = "Basic " + base64.b64encode(pair).decode("ascii")
    return Proxy(url.with_user(None).with_password(None).with_path(""), authorization, origin)


def _bypass_entries(value: str | Sequence[str]) -> tuple[str, ...]:
    parts = [p.strip() for p in (value.split(",") if isinstance(value, str) else value)]
    # ".example.org" and "example.org" both mean the domain and its subdomains, as curl reads them.
    return tuple(p if p == "*" else p.lower().lstrip(".") for p in parts if p)


@dataclass(frozen=True)
class ProxyRoutes:
    """The proxy for each scheme and the hosts that bypass it."""

    https: Proxy | None
    http: Proxy | None
    bypass: tuple[str, ...] = ()

    @property
    def proxies(self) -> list[Proxy]:
        return [p for p in (self.https, self.http) if p is not None]

    def for_url(self, url: URL) -> Proxy | None:
        """The proxy a request to `url` goes through (None: straight to the host)."""
        proxy = self.https if url.scheme == "https" else self.http
        if proxy is None or self._bypassed((url.host or "").lower().strip("[]"), url.port):
            return None
        return proxy

    def _bypassed(self, host: str, port: int | None) -> bool:
        for entry in self.bypass:
            if entry == "*":
                return True
            name, _, entry_port = entry.rpartition(":") if _has_port(entry) else (entry, "", "")
            if entry_port and str(port) != entry_port:
                continue
            try:
                network = ipaddress.ip_network(name.strip("[]"), strict=False)
                if ipaddress.ip_address(host) in network:
                    return True
                continue
            except ValueError:
                pass  # a name, not an address or network
            if host == name or host.endswith("." + name):
                return True
        return False


def _has_port(entry: str) -> bool:
    # "host:8080" or "[::1]:8080"; a bare IPv6 address has colons but no port.
    return entry.count(":") == 1 or (entry.startswith("[") and "]:" in entry)


def proxy_routes(
    proxy: str | None, no_proxy: Sequence[str], environ: Mapping[str, str]
) -> ProxyRoutes | None:
    """The routes from the config's `proxy`/`no_proxy`, else from the environment; None when
    no proxy is set. ProxyRefused names a setting that cannot be used."""

    def env(name: str) -> tuple[str, str] | None:
        for key in (name.lower(), name.upper()):
            if environ.get(key, "").strip():
                return environ[key], f"${key}"
        return None

    if proxy:
        one = parse_proxy(proxy, "[http] proxy")
        return ProxyRoutes(one, one, _bypass_entries(no_proxy))
    https, http = env("HTTPS_PROXY"), env("HTTP_PROXY")
    if https is None and http is None:
        return None
    bypass = no_proxy or (env("NO_PROXY") or ("", ""))[0]
    return ProxyRoutes(
        parse_proxy(*https) if https else None,
        parse_proxy(*http) if http else None,
        _bypass_entries(bypass),
    )
