"""The SSRF gate's connect-time checks: resolve a name, and refuse it if any address is refused.

`transport.py` plugs `resolve_checked` into the connection pool as its resolver, so that only
checked IP literals are ever connected to.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from collections.abc import Iterable
from concurrent.futures import Executor

import httpx

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
        raise httpx.ConnectTimeout(f"resolving {host} timed out") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise httpx.ConnectError(f"cannot resolve {host}: {exc}") from None
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise httpx.ConnectError(f"cannot resolve {host}: no addresses")
    for address in addresses:
        reason = describe_address(address, allowed)
        if reason is not None:
            raise AddressRefused(host, address, reason)
    return addresses
