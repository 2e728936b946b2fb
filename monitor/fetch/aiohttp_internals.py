"""aiohttp's private parts, used by the fetch transport (monitor/fetch/transport.py).

aiohttp lacks two bounds the transport needs: a cap on the bytes of a header section (it caps
each line and the number of headers, not their sum) and a cap on idle keep-alive connections
over all hosts. Both are added here by subclassing aiohttp's response protocol and connector and
reaching into the connector's private state: its protocol factory (`_factory`), its idle queues
(`_conns`: key -> deque of (protocol, time it became idle)) and its `_release` hook. The error
class for an over-long header line lives in `aiohttp.http_exceptions`, which aiohttp does not
export either.

pyproject.toml bounds aiohttp from above; tests/test_adapters.py fails when a release changes
any of these.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, cast

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.http_exceptions import LineTooLong

__all__ = ["BoundedConnector", "CountingHandler", "LineTooLong", "ResponseHandler"]

# The end of a header section: an empty line, with or without the CR that parsers tolerate.
_HEAD_END = re.compile(rb"\r?\n\r?\n")
# Idle connections are checked against their cap every this many releases (counting them
# walks every host's queue).
_TRIM_EVERY = 32


class CountingHandler(ResponseHandler):
    """aiohttp's response protocol, refusing a header section larger than `limit` bytes as the
    bytes arrive (aiohttp itself bounds each line and the number of headers, not their sum)."""

    def __init__(self, loop: Any, limit: int, too_large: Callable[[int], Exception]) -> None:
        super().__init__(loop)
        self._limit = limit
        self._too_large = too_large
        self._head_bytes = 0
        self._in_head = False
        self._carry = b""

    def set_response_params(self, *args: Any, **kwargs: Any) -> None:
        # Called before each request on this connection: a new header section follows.
        super().set_response_params(*args, **kwargs)
        self._in_head, self._head_bytes, self._carry = True, 0, b""

    def data_received(self, data: bytes) -> None:
        if self._in_head and data:
            window = self._carry + data
            end = _HEAD_END.search(window)
            if end is not None:
                self._head_bytes += end.end() - len(self._carry)
                self._in_head = False
            else:
                self._head_bytes += len(data)
                self._carry = window[-3:]
            if self._head_bytes > self._limit:
                self._in_head = False
                if self.transport is not None:
                    self.transport.close()
                self.set_exception(self._too_large(self._limit))
                return
        super().data_received(data)


class BoundedConnector(aiohttp.TCPConnector):
    """aiohttp's connector with two bounds it lacks: at most about `max_idle` idle keep-alive
    connections in all (it counts only connections in use towards its limit, so a cycle over
    thousands of hosts would keep a socket open to each for the keep-alive time), and the
    header-section cap of `CountingHandler`. Both reach into aiohttp's connector (its
    protocol factory, its idle queues, `_release`); tests/test_adapters.py checks them,
    tests/test_fetch_client.py and tests/test_fetch_hostile.py check what they do."""

    def __init__(
        self,
        *,
        max_idle: int,
        max_header_bytes: int,
        too_large: Callable[[int], Exception],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._max_idle = max_idle
        self._releases = 0
        # aiohttp builds every connection's protocol with this factory; a subclass of its
        # ResponseHandler stands in (the cast: functools.partial is invariant in mypy's view).
        self._factory = cast(
            "functools.partial[ResponseHandler]",
            functools.partial(
                CountingHandler, loop=self._loop, limit=max_header_bytes, too_large=too_large
            ),
        )

    def _release(self, *args: Any, **kwargs: Any) -> None:
        super()._release(*args, **kwargs)
        self._releases += 1
        if self._releases % _TRIM_EVERY == 0:
            self.trim_idle()

    def trim_idle(self) -> int:
        """Close the oldest idle connections beyond `max_idle`; how many were closed."""
        queues = getattr(self, "_conns", None)
        if not isinstance(queues, dict):
            return 0
        # Each queue holds (protocol, time it became idle) pairs.
        idle = [(entry[1], key, entry) for key, queue in queues.items() for entry in queue]
        excess = len(idle) - self._max_idle
        if excess <= 0:
            return 0
        idle.sort(key=lambda item: item[0])
        for _t, key, entry in idle[:excess]:
            queue = queues.get(key)
            if queue is not None and entry in queue:
                queue.remove(entry)
                if not queue:
                    del queues[key]
            entry[0].close()
        return excess

    @property
    def idle_connections(self) -> int:
        """Idle keep-alive connections held now (for tests)."""
        queues = getattr(self, "_conns", None)
        return sum(len(q) for q in queues.values()) if isinstance(queues, dict) else 0
