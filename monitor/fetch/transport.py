"""The httpx transport every request travels on: aiohttp's connection pool behind the SSRF gate.

httpx builds the requests and reads the responses; the bytes move through aiohttp, whose C HTTP
parser and per-host connection pools cost a fifth of httpcore's CPU per request (a poll cycle is
thousands of small conditional GETs, so that is most of its time). The fetcher's GETs skip
httpx's request and response objects too (`GuardedTransport.exchange`), with the same header
lines and the same errors. The connection pool asks the
gate (`guard.Gate`, shared with every other connector) twice over:

* `GuardedResolver` resolves a host name through `Gate.resolve`, which refuses it if *any*
  address is refused, and hands aiohttp only checked IP literals, so DNS rebinding between check
  and connect cannot slip through;
* `_checked_socket`, aiohttp's socket factory, passes the address of every socket to
  `Gate.check` before it connects, which also covers IP-literal hosts (aiohttp does not resolve
  those).

TLS still verifies the URL's host name (aiohttp sends it as SNI and checks the certificate
against it), and aiohttp's errors become httpx's, so callers see one family of exceptions.

Through a forward proxy (`proxy.ProxyRoutes`), the target's name is resolved here and judged by
the gate before the proxy is asked for it (CONNECT for https, an absolute URL for http); only the
proxy's own address is judged by the proxy's gate, which `proxy_allow_private` widens.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import aiohttp
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from monitor.fetch.aiohttp_internals import BoundedConnector, LineTooLong
from monitor.fetch.guard import AddressRefused, Gate, HeadersTooLarge, Unresolved
from monitor.gate import IPNetwork
from monitor.proxy import Proxy, ProxyRoutes

# aiohttp reads a header section line by line; no line may be longer than this, whatever
# max_header_bytes allows, so an endless header line is cut off early.
_LINE_CAP = 100 * 1024
_MAX_HEADERS = 256
_MAX_IDLE = 100  # idle keep-alive connections kept at most, over all hosts
_CHUNK = 64 * 1024
_URL_IN_TEXT = re.compile(r"\b(https?://[^/\s]+)\S*")


class ProxyAddressRefused(AddressRefused):
    """The gate refused the proxy's own address."""

    def __str__(self) -> str:
        hint = (
            "; set [http] proxy_allow_private = true to use a proxy on a private network"
            if self.reason not in ("link-local", "link-local (cloud metadata)")
            else ""
        )
        return f"proxy {super().__str__()}{hint}"


class GuardedResolver(AbstractResolver):
    """Resolves through `Gate.resolve`: only names whose every address the gate accepts. The
    proxies' names (`proxies`: name -> its gate) are judged by their own gate, and the
    addresses they resolve to are noted in `proxy_addresses` for the socket check."""

    def __init__(
        self,
        gate: Gate,
        proxies: dict[str, Gate] | None = None,
        proxy_addresses: set[str] | None = None,
    ) -> None:
        self._gate = gate
        self._proxies = proxies or {}
        self._proxy_addresses = proxy_addresses if proxy_addresses is not None else set()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            if host in self._proxies:
                try:
                    addresses = await self._proxies[host].resolve(host, port)
                except AddressRefused as exc:
                    raise ProxyAddressRefused(exc.host, exc.address, exc.reason) from None
                self._proxy_addresses.update(addresses)
            else:
                addresses = await self._gate.resolve(host, port)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"resolving {host} timed out") from None
        except Unresolved as exc:
            raise httpx.ConnectError(str(exc)) from None
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=socket.IPPROTO_TCP,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        """Nothing to release: lookups run in the gate's executor."""


class _Body(httpx.AsyncByteStream):
    """The raw (still encoded) body of an aiohttp response, as httpx reads it."""

    def __init__(self, response: aiohttp.ClientResponse, host: str) -> None:
        self._response = response
        self._host = host

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(_CHUNK):
                yield chunk
        except aiohttp.ClientPayloadError as exc:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body"
            ) from exc
        except aiohttp.ClientError as exc:
            raise _mapped(exc, self._host, 0) from _cause(exc)

    async def aclose(self) -> None:
        # Releases the connection to the pool when the body was read to its end, else closes it.
        self._response.release()


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one aiohttp session whose connections all pass the gate."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        allow: Sequence[IPNetwork] = (),
        max_header_bytes: int,
        max_connections: int,
        per_host: int,
        keepalive_expiry: float,
        keep_alive: bool = True,
        resolve_timeout: float | None = None,
        executor: Executor | None = None,
        gate: Gate | None = None,
        proxies: ProxyRoutes | None = None,
        proxy_gate: Gate | None = None,
    ) -> None:
        """`gate` is the shared gate (the Fetcher's); without one, a gate is made from `allow`,
        `resolve_timeout` and `executor`. `proxies` route requests through forward proxies, whose
        own addresses `proxy_gate` judges (default: `gate`)."""
        self._gate = gate or Gate(allow, resolve_timeout=resolve_timeout, executor=executor)
        self._proxies = proxies
        self._proxy_gate = proxy_gate or self._gate
        # Addresses of the proxies, as their names resolved (IP literals as written): sockets to
        # them are judged by the proxy gate.
        self._proxy_addresses: set[str] = {
            p.host.strip("[]") for p in (proxies.proxies if proxies else []) if _is_ip(p.host)
        }
        self._keep_alive = keep_alive
        self._ssl = ssl_context
        self._max_header_bytes = max_header_bytes
        self._max_connections = max_connections
        self._per_host = per_host
        self._keepalive = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _checked_socket(self, addr_info: Any) -> socket.socket:
        family, kind, proto, _name, address = addr_info
        host = str(address[0])
        if host in self._proxy_addresses:
            try:
                self._proxy_gate.check(host, host)
            except AddressRefused as exc:
                raise ProxyAddressRefused(exc.host, exc.address, exc.reason) from None
        else:
            self._gate.check(host, host)
        return socket.socket(family=family, type=kind, proto=proto)

    def _client(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop that aiohttp binds it to.
        if self._session is None:
            connector = BoundedConnector(
                max_idle=min(self._max_connections, _MAX_IDLE),
                max_header_bytes=self._max_header_bytes,
                too_large=HeadersTooLarge,
                limit=self._max_connections,
                limit_per_host=self._per_host,
                keepalive_timeout=self._keepalive if self._keep_alive else None,
                force_close=not self._keep_alive,
                ssl=self._ssl,
                resolver=GuardedResolver(
                    self._gate,
                    {p.host: self._proxy_gate for p in self._proxies.proxies}
                    if self._proxies
                    else None,
                    self._proxy_addresses,
                ),
                socket_factory=self._checked_socket,
            )
            line_cap = min(self._max_header_bytes, _LINE_CAP)
            self._session = aiohttp.ClientSession(
                connector=connector,
                # Proxy variables in the environment must not route around the gate.
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),  # no cookie of one source may reach another
                auto_decompress=False,  # bodies are decoded under a size cap in body.py
                max_line_size=line_cap,
                max_field_size=line_cap,
                max_headers=_MAX_HEADERS,
                timeout=aiohttp.ClientTimeout(total=None),
                # Requests go out with the headers the caller set, and no others.
                skip_auto_headers=("Content-Type",),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        status, raw, body = await self.exchange(
            request.method,
            str(request.url),
            request.url.host,
            request.url.port,
            # Names as written (Title-Case), not httpx's lower-cased view: some servers care.
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            await request.aread(),
            request.extensions.get("timeout", {}),
        )
        return httpx.Response(
            status_code=status,
            headers=raw,
            stream=body,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    @property
    def direct(self) -> bool:
        """Whether requests go straight to their targets (no forward proxy)."""
        return self._proxies is None

    async def exchange(
        self,
        method: str,
        url: str,
        host: str,
        port: int | None,
        headers: list[tuple[str, str]],
        content: bytes | None,
        timeout: Mapping[str, float | None],
    ) -> tuple[int, list[tuple[bytes, bytes]], _Body]:
        """One request as given (`url` normalised by the gate, `headers` exactly as sent):
        (status, raw response headers, the raw body to read and close). What
        `handle_async_request` does without building httpx's request and response objects,
        for the fetcher's GETs (a poll cycle is thousands of them); errors are httpx's."""
        target = URL(url, encoded=True)  # already normalised by the gate
        proxy = self._proxies.for_url(target) if self._proxies else None
        if self._proxies is not None:
            # Judged here whichever way it goes: a proxy would resolve the name out of our
            # sight, and a bypassed host could share an address with the proxy.
            await self._judge_target(host, port or _default_port(target))
        try:
            response = await self._client().request(
                method,
                target,
                headers=headers + _plain_proxy_login(proxy, target),
                data=content or None,
                proxy=proxy.url if proxy else None,
                proxy_headers={"Proxy-Authorization": proxy.authorization}
                if proxy and proxy.authorization
                else None,
                allow_redirects=False,  # each hop is checked by the caller
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        except AddressRefused:
            raise
        except aiohttp.ClientError as exc:
            raise _mapped(exc, host, self._max_header_bytes) from _cause(exc)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connecting to {host} timed out") from exc
        raw = [(bytes(k), bytes(v)) for k, v in response.raw_headers]
        if sum(len(k) + len(v) + 4 for k, v in raw) > self._max_header_bytes:
            response.close()
            raise HeadersTooLarge(self._max_header_bytes)
        return response.status, raw, _Body(response, host)

    async def _judge_target(self, host: str, port: int) -> None:
        """The gate's verdict on the target's own addresses, before any proxy is asked."""
        try:
            await self._gate.resolve(host, port)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"resolving {host} timed out") from None
        except Unresolved as exc:
            raise httpx.ConnectError(str(exc)) from None

    def proxy_for(self, url: str) -> Proxy | None:
        """The proxy a request to `url` would go through (None: straight there)."""
        return self._proxies.for_url(URL(url)) if self._proxies else None

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _plain_proxy_login(proxy: Proxy | None, target: URL) -> list[tuple[str, str]]:
    """The proxy login as a header of a plain-http request, which the proxy reads itself; an
    https request carries none (it goes on the CONNECT, and the target never sees it)."""
    if proxy is None or proxy.authorization is None or target.scheme != "http":
        return []
    return [("Proxy-Authorization", proxy.authorization)]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _default_port(url: URL) -> int:
    return 443 if url.scheme == "https" else 80


def _mapped(exc: aiohttp.ClientError, host: str, header_limit: int) -> Exception:
    """aiohttp's error as the httpx error that says the same, with the cause kept in the chain
    (the fetcher reads TLS and refused-connection causes from it)."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return httpx.ConnectError(str(exc.certificate_error))
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return httpx.ConnectError(f"cannot resolve {host}: {exc.os_error}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(str(exc.os_error) or type(exc.os_error).__name__)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(f"connecting to {host} timed out")
    if isinstance(exc, aiohttp.SocketTimeoutError | aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(f"{host} sent nothing in time")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError("Server disconnected without sending a response.")
    if isinstance(exc, aiohttp.ClientResponseError):
        text = str(exc.message or "")
        lowered = text.lower()
        # Judged by aiohttp's exception, not its message, which may quote the server's text.
        if _caused_by(exc, LineTooLong) or lowered == "too many headers received":
            return HeadersTooLarge(header_limit)
        if "data after `connection: close`" in lowered:
            # llhttp refuses bytes beyond the announced length on a closing connection.
            return httpx.RemoteProtocolError("more body bytes than its Content-Length announced")
        return httpx.RemoteProtocolError(_first_line(text) or "malformed response")
    if isinstance(exc, aiohttp.ClientOSError):
        return httpx.ReadError(_without_paths(str(exc)) or type(exc).__name__)
    return httpx.TransportError(f"{type(exc).__name__}: {_without_paths(str(exc))}")


def _cause(exc: aiohttp.ClientError) -> BaseException:
    """The underlying error (certificate, TLS, refused connection) when aiohttp wraps one."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return exc.certificate_error
    if isinstance(exc, aiohttp.ClientConnectorError):
        return exc.os_error
    return exc


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether `kind` is in the chain of causes of `exc` (aiohttp wraps its parser's errors)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _without_paths(text: str) -> str:
    """aiohttp's message with any URL cut to its origin: a webhook's path may be a secret."""
    return _URL_IN_TEXT.sub(r"\1", text)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
