"""The SSRF gate's connect-time half: an httpcore network backend that checks where it connects.

httpx resolves nothing itself: httpcore asks its network backend to open a TCP connection to the
URL's host name. `GuardedBackend` resolves that name once, refuses the connection if any address is
refused by `describe_address`, and then connects to the checked IP literal, so a DNS answer that
changes between check and connect (rebinding) cannot slip through. TLS is started by httpcore on
the returned stream with the URL's host name, so SNI and certificate checks are unaffected.

The streams it returns also count the bytes of each response's header section, so our
`max_header_bytes` is enforced before h11 buffers more than that.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

import httpcore

# AutoBackend is what httpcore uses when given no backend (AnyIO on asyncio, or trio). It is not
# exported from httpcore's top level, so it is imported from its module; pinned by httpcore>=1.0.7.
from httpcore._backends.auto import AutoBackend

from monitor.fetch.gate import IPNetwork, describe_address


class AddressRefused(Exception):
    """The gate refused to connect; nothing was sent to `address`."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        self.host = host
        self.address = address
        self.reason = reason
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        """Why, without the host name in front: "resolves to 127.0.0.1, which is loopback"."""
        if self.host == self.address:
            return self.reason
        return f"resolves to {self.address}, which is {self.reason}"

    def __str__(self) -> str:
        if self.host == self.address:
            return f"{self.address} is {self.reason}"
        return f"{self.host} {self.detail}"


class HeadersTooLarge(Exception):
    """A response's header section grew past the configured limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"response headers larger than {limit} bytes")


async def resolve_checked(
    host: str,
    port: int,
    allow_networks: Iterable[IPNetwork],
    timeout: float | None = None,
    executor: Executor | None = None,
) -> list[str]:
    """Resolve `host` and return its addresses; AddressRefused if any of them is refused.

    Refusing when *any* address is bad (not only the one we would pick) keeps a name that mixes
    public and internal answers from being used as a probe. `getaddrinfo` blocks, so it runs in
    `executor` (default: the loop's).
    """
    allowed = list(allow_networks)
    bare = host.strip("[]")
    try:
        literal = ipaddress.ip_address(bare)
    except ValueError:
        literal = None
    if literal is not None:
        reason = describe_address(literal, allowed)
        if reason is not None:
            raise AddressRefused(bare, bare, reason)
        return [str(literal)]
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            lookup = functools.partial(
                socket.getaddrinfo, host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
            infos = await loop.run_in_executor(executor, lookup)
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise httpcore.ConnectError(f"cannot resolve {host}: no addresses")
    for address in addresses:
        reason = describe_address(address, allowed)
        if reason is not None:
            raise AddressRefused(host, address, reason)
    return addresses


# The end of a header section: an empty line, with or without the CR that h11 also tolerates.
_HEAD_END = re.compile(rb"\r?\n\r?\n")


class _LimitedStream(httpcore.AsyncNetworkStream):
    """Passes bytes through, refusing a response whose header section exceeds `max_header_bytes`."""

    def __init__(self, inner: httpcore.AsyncNetworkStream, max_header_bytes: int) -> None:
        self._inner = inner
        self._limit = max_header_bytes
        self._in_head = False
        self._seen = 0
        self._carry = b""

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = await self._inner.read(max_bytes, timeout)
        if self._in_head and data:
            window = self._carry + data
            end = _HEAD_END.search(window)
            if end is not None:
                self._seen += end.end() - len(self._carry)
                self._in_head = False
            else:
                self._seen += len(data)
                self._carry = window[-3:]
            if self._seen > self._limit:
                raise HeadersTooLarge(self._limit)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # HTTP/1.1 without pipelining: every request we write is answered by one new header
        # section, so the count restarts here.
        self._in_head, self._seen, self._carry = True, 0, b""
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        tls = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        return _LimitedStream(tls, self._limit)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Wraps httpcore's AutoBackend: resolve, check every address, connect to a checked IP."""

    def __init__(
        self,
        allow_networks: Sequence[IPNetwork],
        max_header_bytes: int,
        inner: httpcore.AsyncNetworkBackend | None = None,
        resolver: Executor | None = None,
    ) -> None:
        self._allow = list(allow_networks)
        self._max_header_bytes = max_header_bytes
        self._inner = inner or AutoBackend()
        self._resolver = resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_checked(host, port, self._allow, timeout, self._resolver)
        last: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            try:
                self._check_peer(host, stream)
            except AddressRefused:
                await stream.aclose()
                raise
            return _LimitedStream(stream, self._max_header_bytes)
        assert last is not None  # addresses is never empty
        raise last

    def _check_peer(self, host: str, stream: httpcore.AsyncNetworkStream) -> None:
        # Belt and braces: the socket's peer must be an address the gate accepts.
        peer = stream.get_extra_info("server_addr")
        if isinstance(peer, tuple) and peer:
            reason = describe_address(str(peer[0]), self._allow)
            if reason is not None:
                raise AddressRefused(host, str(peer[0]), reason)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused(path, path, "a unix socket, and those are never used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
