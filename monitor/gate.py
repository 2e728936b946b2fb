"""The SSRF gate's pure half: URL syntax, normalisation and address classification.

Nothing here touches the network. `check_url_syntax` refuses what can never be fetched (wrong
scheme, user info, backslashes, odd IP spellings); `address_allowed` judges one resolved address.
The connect-time half, which resolves names and pins the checked address, is in `guard.py`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import sys
import urllib.parse
from collections.abc import Iterable
from urllib.parse import quote

import idna

# httpx's URL parser only (no client): a URL is judged as the fetcher will read it.
#
# `import httpx` also imports httpx's command-line client (httpx._main: rich's progress bars,
# pygments; some 40 ms at every start of `monitor`), and puts a stub in its place when that
# fails, as in installs without httpx's `cli` extra. Marked absent (None: "not installed")
# before httpx is first imported (in every command, that is here: loading the config checks
# URLs), it is never loaded; the client and the URL parser are the same.
# tests/test_cli_imports.py checks that the fallback is still there.
if "httpx" not in sys.modules:
    # None is how the import system marks a module absent; typeshed types the values as modules.
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
try:
    from httpx import URL, InvalidURL
except ImportError:  # a release without the fallback: import all of it, as before
    for _name in [n for n in sys.modules if n == "httpx" or n.startswith("httpx.")]:
        del sys.modules[_name]
    from httpx import URL, InvalidURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?$")
_DECIMAL_OCTET = re.compile(r"^(?:0|[1-9][0-9]{0,2})$")
# Characters kept as they are in a path or query; everything else is percent-encoded, so that two
# spellings of one URL normalise to one key. "%" is kept: existing escapes stay untouched.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_MAX_URL = 8192


class UrlRefused(ValueError):
    """A URL the gate will not fetch; the message says why in plain words."""


def _looks_numeric(label: str) -> bool:
    # The WHATWG URL parser (what browsers and many libraries follow) reads a host whose last label
    # is a number as an IPv4 address, in decimal, octal or hex and with fewer than four parts.
    if label.isdigit():
        return True
    return label[:2] in ("0x", "0X") and all(c in "0123456789abcdefABCDEF" for c in label[2:])


def _check_host(raw: str) -> tuple[str, str]:
    """(host as written in the URL, bare host) for a raw authority host, or UrlRefused."""
    if not raw:
        raise UrlRefused("the URL has no host")
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise UrlRefused("unterminated IPv6 address in the URL")
        inner = raw[1:-1]
        if "%" in inner:
            raise UrlRefused("IPv6 zone identifiers are not allowed in URLs")
        try:
            ip = ipaddress.IPv6Address(inner)
        except ValueError:
            raise UrlRefused(f"{inner!r} is not an IPv6 address") from None
        return f"[{ip.compressed}]", ip.compressed
    if "%" in raw:
        raise UrlRefused("percent-encoded characters are not allowed in the host")
    if raw.isascii():
        host = raw.lower()
    else:
        try:
            host = idna.encode(raw, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise UrlRefused(
                f"the host {raw!r} is not a valid international name ({exc})"
            ) from None
    # UTS 46 maps full-width digits and dots to ASCII, so the numeric checks run after mapping.
    host = host.removesuffix(".")
    labels = host.split(".")
    if _looks_numeric(labels[-1]):
        if len(labels) != 4 or not all(_DECIMAL_OCTET.match(p) and int(p) <= 255 for p in labels):
            raise UrlRefused(
                f"the IP address {raw!r} is written in an unusual form; "
                "write it as four decimal numbers such as 192.0.2.1"
            )
        return host, host
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise UrlRefused(f"{raw!r} is not a valid host name")
    return host, host


# URLs known to be their own canonical spelling without asking the parsers again (`known_normal`).
_KNOWN_NORMAL: set[str] = set()


def known_normal(url: str) -> None:
    """Note that `normalize_url(url) == url` was established before: by this process or, for
    a configured source, by the config's checks, whose accepted values are kept in the
    HMAC-checked memo (`monitor.config_memo`). `normalize_url` then returns it as it is, where
    its parsers cost some 0.1 ms at the first fetch of each of ten thousand sources."""
    _KNOWN_NORMAL.add(url)


def normalize_url(url: str) -> str:
    """The canonical spelling of an http(s) URL, or UrlRefused.

    Scheme and host are lower-cased, the host is IDNA-encoded, the default port and the fragment
    are dropped, the path is kept (an empty one becomes "/"), and characters that are not allowed
    in a URL are percent-encoded.
    """
    if url in _KNOWN_NORMAL:
        return url
    return _normalize(url)


# A pure function of its argument, called for every source on every poll: the same few thousand
# URLs come back each cycle. Refusals raise, and exceptions are not cached.
@functools.lru_cache(maxsize=65536)
def _normalize(url: str) -> str:
    if not isinstance(url, str):
        raise UrlRefused("a URL must be text")
    text = url.strip(" \t\r\n")
    if len(text) > _MAX_URL:
        raise UrlRefused(f"the URL is longer than {_MAX_URL} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c.isspace() for c in text):
        raise UrlRefused("the URL contains whitespace or a control character")
    if "\\" in text:
        # Browsers read "\" as "/" in http URLs while Python's parsers do not; such a parser
        # differential is how "http://internal\@public/" reached internal hosts elsewhere.
        raise UrlRefused("backslashes are not allowed in URLs")
    m = _SCHEME.match(text)
    if not m:
        raise UrlRefused("not an absolute URL; only http and https URLs are fetched")
    scheme = m.group(1).lower()
    if scheme not in _DEFAULT_PORTS:
        raise UrlRefused(f"only http and https URLs are fetched, not {scheme}:")
    rest = text[m.end() :]
    if not rest.startswith("//") or rest.startswith("///"):
        raise UrlRefused(f"{scheme} URLs must start with {scheme}:// and a host name")
    rest = rest[2:]
    rest = rest.split("#", 1)[0]
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        raise UrlRefused("URLs with a user name or password are refused")
    host_part, port_text = authority, ""
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            raise UrlRefused("unterminated IPv6 address in the URL")
        host_part, after = authority[: close + 1], authority[close + 1 :]
        if after and not after.startswith(":"):
            raise UrlRefused("unexpected text after the IPv6 address")
        port_text = after[1:]
    elif ":" in authority:
        host_part, port_text = authority.split(":", 1)
    url_host, _ = _check_host(host_part)
    port = _DEFAULT_PORTS[scheme]
    if port_text:
        # Decimal digits only: '²' is a digit to str.isdigit but not to int() (a ValueError
        # where a refusal is caught); full-width digits are decimal and read as ASCII ones.
        if not port_text.isdecimal() or not 0 < int(port_text) <= 65535:
            raise UrlRefused(f"{port_text!r} is not a port number")
        port = int(port_text)
    path, _, query = tail.partition("?")
    path = quote(path, safe=_PATH_SAFE) or "/"
    query = quote(query, safe=_QUERY_SAFE)
    port_part = "" if port == _DEFAULT_PORTS[scheme] else f":{port}"
    normal = f"{scheme}://{url_host}{port_part}{path}" + (f"?{query}" if query else "")
    if len(normal) > _MAX_URL:  # percent-encoding made it longer: judged as it will be read
        raise UrlRefused(f"the URL is longer than {_MAX_URL} characters")
    _check_parsers_agree(normal, url_host)
    return normal


def _check_parsers_agree(normal: str, url_host: str) -> None:
    # The URL is later parsed again by urllib (robots, joins) and by httpx (the request itself);
    # if either reads a different host than we checked, refuse rather than guess who is right.
    bare = url_host.strip("[]")
    try:
        by_urllib = urllib.parse.urlsplit(normal).hostname
        by_httpx = URL(normal).raw_host.decode("ascii")
    except (ValueError, InvalidURL, UnicodeDecodeError) as exc:
        raise UrlRefused(f"the URL cannot be parsed consistently ({exc})") from None
    if by_urllib != bare or by_httpx.lower() != bare:
        raise UrlRefused("the URL's host is read differently by different parsers")


def check_url_syntax(url: str) -> str:
    """Syntax-only gate for config and seed URLs (no DNS): the normalised URL, or UrlRefused.

    Addresses are judged later, at connect time, because only then is the allow-list applied to
    the address a name really resolves to.
    """
    return normalize_url(url)


def url_host(url: str) -> str:
    """The bare host (no brackets, no port) of a URL that `normalize_url` accepted."""
    return URL(url).raw_host.decode("ascii").lower()


# Networks with a plain-words reason, most specific first. Anything else that is not globally
# routable is refused with a generic reason by `ip.is_global` below.
_NAMED: list[tuple[IPNetwork, str]] = [
    (ipaddress.ip_network(net), reason)
    for net, reason in [
        ("0.0.0.0/32", "unspecified"),
        ("0.0.0.0/8", "in 0.0.0.0/8, which reaches this host"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.169.254/32", "link-local (cloud metadata)"),
        ("169.254.0.0/16", "link-local"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("100.64.0.0/10", "shared address space (CGNAT)"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
        ("192.0.0.0/24", "reserved for IETF protocols"),
        ("192.0.2.0/24", "reserved for documentation"),
        ("198.51.100.0/24", "reserved for documentation"),
        ("203.0.113.0/24", "reserved for documentation"),
        ("198.18.0.0/15", "reserved for benchmarking"),
        ("192.88.99.0/24", "a 6to4 relay address"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fd00:ec2::254/128", "link-local (cloud metadata)"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("fc00::/7", "private (unique local)"),
        ("ff00::/8", "multicast"),
        ("2001:db8::/32", "reserved for documentation"),
        ("3fff::/20", "reserved for documentation"),
        ("100::/64", "a discard-only address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("2001::/32", "a Teredo tunnel address"),
        ("::/96", "an IPv4-compatible address (deprecated)"),
    ]
]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Where a local mail relay may live: this host, the private ranges of a LAN or a container
# network, and shared address space (CGNAT, also used by overlay VPNs). An email channel's
# `allow_private = true` adds these for that channel's host only. Link-local is not among them:
# that is where cloud metadata services answer.
LOCAL_RELAY_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "fc00::/7",
    )
)


def parse_networks(allow_networks: Iterable[str | IPNetwork]) -> list[IPNetwork]:
    """Networks from their text form ("10.0.0.0/8"); networks given as objects are kept."""
    return [
        n
        if isinstance(n, ipaddress.IPv4Network | ipaddress.IPv6Network)
        else ipaddress.ip_network(n, strict=False)
        for n in allow_networks
    ]


def _tunnelled_v4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    # The IPv4 address a 6to4 relay or NAT64 gateway would forward a packet for `ip` to.
    if ip.sixtofour is not None:
        return ip.sixtofour, "a 6to4 address"
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "a NAT64 address"
    return None


def describe_address(
    ip: IPAddress | str, allow_networks: Iterable[str | IPNetwork] = ()
) -> str | None:
    """None if the gate lets `ip` through, else what it is ("loopback", "private", ...)."""
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip.split("%", 1)[0])
    allowed = parse_networks(allow_networks)
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            # A socket to ::ffff:a.b.c.d talks to a.b.c.d itself, so the allow-list applies.
            v4 = ip.ipv4_mapped
            inner = describe_address(v4, allowed)
            return None if inner is None else f"an IPv4-mapped address of {v4}, which is {inner}"
        if ip.teredo is not None:
            server, client = ip.teredo
            return f"a Teredo tunnel address (server {server}, client {client})"
        tunnelled = _tunnelled_v4(ip)
        if tunnelled is not None:
            # Through a relay the packet does not come from us, and the allow-list names hosts
            # we reach directly: the wrapped address must be public in its own right.
            v4, form = tunnelled
            inner = describe_address(v4)
            return None if inner is None else f"{form} of {v4}, which is {inner}"
    for net, reason in _NAMED:
        if ip.version == net.version and ip in net:
            return reason
    if not ip.is_global:
        return "not a public address"
    return None


def address_allowed(
    ip: IPAddress | str, allow_networks: Iterable[str | IPNetwork] = ()
) -> str | None:
    """None if the gate lets `ip` through, else the reason, e.g. "127.0.0.1 is loopback"."""
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip.split("%", 1)[0])
    reason = describe_address(ip, allow_networks)
    return None if reason is None else f"{ip} is {reason}"


def origin(url: str) -> str:
    """Scheme, host and port of a URL, nothing else: for messages about URLs whose path or query
    may hold a token (webhooks). "(invalid URL)" if it cannot be parsed."""
    try:
        parsed = URL(url)
        host = parsed.raw_host.decode("ascii")
    except (InvalidURL, UnicodeDecodeError, ValueError):
        return "(invalid URL)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parsed.scheme}://{host}" + (f":{parsed.port}" if parsed.port else "")


class AddressVerdicts:
    """`describe_address` for one allow list, remembered per address: the same few hundred
    hosts come back on every poll. Host names (not IP literals) get None: they are judged
    when resolved."""

    def __init__(self, allow_networks: Iterable[str | IPNetwork], limit: int = 4096) -> None:
        self._allow = parse_networks(allow_networks)
        self._limit = limit
        self._known: dict[str, str | None] = {}

    def refusal(self, host: str) -> str | None:
        """Why the gate refuses `host` if it is a refused IP literal, else None."""
        if host not in self._known:
            if len(self._known) >= self._limit:
                self._known.clear()
            try:
                self._known[host] = describe_address(host, self._allow)
            except ValueError:  # a name, not an address
                self._known[host] = None
        return self._known[host]
