"""Being a good guest: per-host and global concurrency, spacing, Retry-After, robots.txt."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from protego import Protego

# A server's wish to be left alone, or to be asked less often, is honoured up to one day; beyond
# that a typo or a hostile header would silence a source for good.
MAX_WAIT_SECONDS = 86400.0


@dataclass
class _Host:
    slots: asyncio.Semaphore
    spacing: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0
    users: int = 0


class HostLimiter:
    """At most `per_host` requests at once to one host and `total` overall, and requests to one
    host started at least `delay` seconds apart."""

    def __init__(self, total: int, per_host: int, delay: float) -> None:
        self._global = asyncio.Semaphore(total)
        self._per_host = per_host
        self._delay = delay
        self._hosts: dict[str, _Host] = {}

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold a request slot for `host` (waiting for it, and for the spacing, first)."""
        entry = self._hosts.get(host)
        if entry is None:
            self._prune()
            entry = self._hosts[host] = _Host(asyncio.Semaphore(self._per_host))
        entry.users += 1
        try:
            # The host slot is taken before the global one, so requests queued behind one busy
            # host do not hold global slots that other hosts could use.
            async with entry.slots:
                if self._delay:
                    async with entry.spacing:
                        loop = asyncio.get_running_loop()
                        wait = entry.next_start - loop.time()
                        if wait > 0:
                            await asyncio.sleep(wait)
                        entry.next_start = loop.time() + self._delay
                async with self._global:
                    yield
        finally:
            entry.users -= 1

    def _prune(self) -> None:
        # One entry per host ever seen would grow without bound over a million sources; an entry
        # nobody uses and whose spacing has passed carries no information.
        if len(self._hosts) < 1024:
            return
        now = asyncio.get_running_loop().time()
        for host in [h for h, e in self._hosts.items() if not e.users and e.next_start <= now]:
            del self._hosts[host]


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), capped at one day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_WAIT_SECONDS)


def parse_max_age(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Freshness in seconds from Cache-Control max-age, else from Expires (minus Date)."""
    for directive in headers.get("cache-control", "").split(","):
        name, _, arg = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            arg = arg.strip().strip('"')
            if arg.isdigit():
                return min(float(arg), MAX_WAIT_SECONDS)
            return None
    expires = headers.get("expires")
    if not expires:
        return None
    try:
        until = parsedate_to_datetime(expires)
        base = parsedate_to_datetime(headers["date"]) if "date" in headers else None
    except (TypeError, ValueError, IndexError):
        return None
    base = base or now or datetime.now(UTC)
    if until.tzinfo is None or base.tzinfo is None:
        return None
    return min(max((until - base).total_seconds(), 0.0), MAX_WAIT_SECONDS)


@dataclass
class _Rules:
    parser: Protego | None  # None: everything is allowed
    expires: float


class RobotsCache:
    """robots.txt rules per origin, kept in memory for `ttl` seconds (errors for `error_ttl`)."""

    def __init__(self, ttl: float = 86400.0, error_ttl: float = 3600.0, max_entries: int = 10000):
        self.ttl = ttl
        self.error_ttl = error_ttl
        self._max = max_entries
        self._rules: dict[str, _Rules] = {}
        # One lock per origin so concurrent fetches to a new host load robots.txt once; weak
        # values let a lock vanish once nobody waits on it.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def lock(self, origin: str) -> asyncio.Lock:
        """The lock to hold while loading `origin`'s robots.txt."""
        lock = self._locks.get(origin)
        if lock is None:
            lock = self._locks[origin] = asyncio.Lock()
        return lock

    def known(self, origin: str) -> bool:
        """Whether fresh rules for `origin` are cached."""
        rules = self._rules.get(origin)
        return rules is not None and rules.expires > time.monotonic()

    def allows(self, origin: str, url: str, agent: str) -> bool:
        """Whether cached rules let `agent` fetch `url` (unknown origins are allowed)."""
        rules = self._rules.get(origin)
        if rules is None or rules.parser is None:
            return True
        return bool(rules.parser.can_fetch(url, agent))

    def store(self, origin: str, text: str | None, ttl: float) -> None:
        """Remember the robots.txt `text` of `origin` (None: allow everything) for `ttl` seconds."""
        # Protego, not urllib.robotparser: it follows RFC 9309 (the longest matching rule wins
        # whatever its order; `*` and `$` are patterns), as the crawlers publishers test with do.
        parser = Protego.parse(text) if text is not None else None
        self._rules.pop(origin, None)
        if len(self._rules) >= self._max:
            # Dicts keep insertion order, so the first entry is the oldest one stored.
            del self._rules[next(iter(self._rules))]
        self._rules[origin] = _Rules(parser, time.monotonic() + ttl)
