"""The SSRF gate's connect-time half: `Gate`, the one judge of every outbound connection.

Whatever the daemon connects to (sources, robots.txt, follow_links articles and webhooks through
`transport.py`, SMTP relays through `notify/email.py`, and any later connector such as a proxy)
asks a `Gate` first: `Gate.resolve` resolves a (host, port) destination and refuses it if *any*
of its addresses is refused, `Gate.check` judges one address, and `Gate.connect` opens a TCP
socket to a checked address for connectors that take a ready socket. Callers connect only to
addresses the gate returned, so DNS rebinding between check and connect cannot slip through.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from collections.abc import Iterable
from concurrent.futures import Executor

from monitor.gate import AddressVerdicts, IPNetwork, parse_networks


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


class Unresolved(Exception):
    """A destination's name did not resolve (no such name, no addresses, or the lookup failed)."""

    def __init__(self, host: str, detail: str) -> None:
        self.host = host
        self.detail = detail
        super().__init__(f"cannot resolve {host}: {detail}")


class Gate:
    """Decides, for any (host, port) destination, whether the daemon may connect to it.

    The rules are those of `gate.describe_address` (no loopback, private, link-local, metadata,
    ... addresses) less the networks in `allow_networks`. One gate is shared by everything that
    connects, so one allow list applies to sources, webhooks and SMTP alike; `widened` gives a
    gate with more networks for one destination (an email channel's local relay).
    """

    def __init__(
        self,
        allow_networks: Iterable[str | IPNetwork] = (),
        *,
        resolve_timeout: float | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.allow: list[IPNetwork] = parse_networks(allow_networks)
        self.resolve_timeout = resolve_timeout
        self.executor = executor
        self._verdicts = AddressVerdicts(self.allow)

    def widened(self, networks: Iterable[str | IPNetwork]) -> Gate:
        """This gate with `networks` allowed too (same resolver and time-out)."""
        extra = [n for n in parse_networks(networks) if n not in self.allow]
        if not extra:
            return self
        return Gate(
            [*self.allow, *extra], resolve_timeout=self.resolve_timeout, executor=self.executor
        )

    def refusal(self, host: str) -> str | None:
        """Why `host` is refused if it is an IP literal the gate refuses; None for names (they
        are judged when resolved) and for allowed addresses."""
        return self._verdicts.refusal(host.strip("[]").split("%", 1)[0])

    def check(self, host: str, address: str) -> None:
        """AddressRefused unless the gate lets `address` (what `host` resolved to) through."""
        bare = address.strip("[]").split("%", 1)[0]
        try:
            ipaddress.ip_address(bare)
        except ValueError:
            # Only resolved addresses are connected to; a name here is a caller's mistake.
            raise AddressRefused(host, bare, "not an IP address") from None
        reason = self._verdicts.refusal(bare)
        if reason is not None:
            raise AddressRefused(host.strip("[]"), bare, reason)

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of `host`, every one checked: AddressRefused if any of them is refused,
        Unresolved if there are none, TimeoutError if the lookup outlasts `resolve_timeout`.

        Refusing when *any* address is bad (not only the one a caller would pick) keeps a name
        that mixes public and internal answers from being used as a probe. `getaddrinfo` blocks,
        so it runs in `executor` (default: the loop's).
        """
        bare = host.strip("[]")
        try:
            literal = ipaddress.ip_address(bare)
        except ValueError:
            literal = None
        if literal is not None:
            self.check(bare, bare)
            return [str(literal)]
        loop = asyncio.get_running_loop()
        lookup = functools.partial(
            socket.getaddrinfo, host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
        try:
            async with asyncio.timeout(self.resolve_timeout):
                infos = await loop.run_in_executor(self.executor, lookup)
        except (socket.gaierror, UnicodeError) as exc:
            raise Unresolved(host, str(exc)) from None
        addresses: list[str] = []
        for info in infos:
            address = str(info[4][0]).split("%", 1)[0]
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise Unresolved(host, "no addresses")
        for address in addresses:
            self.check(host, address)
        return addresses

    async def connect(self, host: str, port: int) -> socket.socket:
        """A connected, non-blocking TCP socket to a checked address of `host` (each address
        tried in turn); for connectors that take a ready socket, such as aiosmtplib.

        Raises what `resolve` raises, or the OSError of the last address tried. Bound the
        whole call with `asyncio.timeout`; a cancelled connect closes its socket.
        """
        loop = asyncio.get_running_loop()
        last: OSError | None = None
        for address in await self.resolve(host, port):
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            try:
                sock.setblocking(False)
                await loop.sock_connect(sock, (address, port))
            except OSError as exc:
                sock.close()
                last = exc
                continue
            except BaseException:
                sock.close()
                raise
            return sock
        raise last if last is not None else Unresolved(host, "no addresses")
