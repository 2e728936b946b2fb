"""`Fetcher`: the one way this program talks HTTP.

Every outbound request (sources, robots.txt, webhooks) goes through `Fetcher`, which owns one
httpx client whose connections are opened by the guarded transport in `transport.py`. Its
`gate` (`guard.Gate`) is the one every other connector uses too (SMTP in `notify/email.py`).
Redirects are followed here, hop by hop, so each target is checked before anything is sent to it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ipaddress
import logging
import os
import re
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import certifi
import httpx

from monitor.fetch.body import BadEncoding, BodyTooLarge, BoundedBody, TruncatedBody
from monitor.fetch.guard import AddressRefused, Gate, HeadersTooLarge
from monitor.fetch.politeness import HostLimiter, RobotsCache, parse_max_age, parse_retry_after
from monitor.fetch.threads import DaemonThreadPool
from monitor.fetch.transport import GuardedTransport
from monitor.gate import LOCAL_RELAY_NETWORKS, UrlRefused, normalize_url, origin, url_host
from monitor.logs import one_line
from monitor.models import FetchOutcome, FetchResult, Validators
from monitor.proxy import proxy_routes

if TYPE_CHECKING:
    # A type only: the fetcher is given its settings, and must not import the config, which
    # imports the channel models, whose senders use the fetcher.
    from monitor.config import HttpConfig

log = logging.getLogger("monitor.fetch")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB
# Headers a caller of `request` may not set: they would change where or how the bytes travel.
_RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "accept-encoding",
        "te",
        "upgrade",
    }
)
_METHOD = re.compile(r"^[A-Z]{3,10}$")
# How far ahead of our clock a server's Last-Modified may be and still be sent back.
_CLOCK_SKEW = timedelta(minutes=5)
# Idle connections are kept this long: reused within a poll cycle, not held between cycles.
_KEEPALIVE_SECONDS = 5.0


@dataclass
class HttpResponse:
    """What `Fetcher.request` returns: the response as received (a 3xx is not followed)."""

    status: int
    headers: dict[str, str]
    body: bytes
    url: str


class FetchError(Exception):
    """`Fetcher.request` could not complete: refused, network failure, or a limit was hit.

    `refused` is true when the address gate refused the destination (nothing was sent)."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


class _Stop(Exception):
    """Internal: end this fetch with `outcome` and the one-line `message`."""

    def __init__(
        self,
        outcome: FetchOutcome,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.url = url
        self.status = status
        self.retry_after = retry_after


@dataclass
class _Session:
    """The httpx client (headers, timeouts, lifecycle) and the guarded transport it owns."""

    client: httpx.AsyncClient
    transport: GuardedTransport
    # The client's own header lines (names as written), which every request starts from.
    base_headers: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in self.client.headers.raw
        ]


@dataclass
class _Reply:
    url: str
    status: int
    headers: dict[str, str]
    body: bytes


def _seconds(value: float) -> str:
    return f"{value:g}"


def _status_line(status: int) -> str:
    # The standard phrase, not the server's: a reason phrase is free text a hostile server chooses.
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


class _Budget:
    """The total time one fetch may spend talking to servers (not waiting for our own slots)."""

    def __init__(self, total: float) -> None:
        self.total = total
        self.left = total

    def expired_message(self) -> str:
        return f"timed out after {_seconds(self.total)} s"

    @asynccontextmanager
    async def spend(self) -> AsyncIterator[None]:
        if self.left <= 0:
            raise _Stop(FetchOutcome.ERROR, self.expired_message())
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.left) as deadline:
                yield
        except TimeoutError:
            if deadline.expired():
                self.left = 0
                raise _Stop(FetchOutcome.ERROR, self.expired_message()) from None
            raise
        finally:
            self.left -= time.monotonic() - started


def _ssl_context(verify: bool) -> ssl.SSLContext:
    if verify:
        return ssl.create_default_context(cafile=certifi.where())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Fetcher:
    """Fetches URLs through the SSRF gate, politely and within the limits of `HttpConfig`.

    Use as `async with Fetcher(config.http) as fetcher: result = await fetcher.fetch(url)`.
    """

    def __init__(self, http: HttpConfig) -> None:
        self._http = http
        self._allow = [ipaddress.ip_network(n, strict=False) for n in http.allow_networks]
        self._limiter = HostLimiter(
            http.concurrency, http.per_host_concurrency, http.per_host_delay
        )
        self._robots = RobotsCache()
        # From the config, else from $HTTPS_PROXY/$HTTP_PROXY/$NO_PROXY (checked at load).
        self._proxies = proxy_routes(http.proxy, http.no_proxy, os.environ)
        # Replaced in __aenter__ by one that resolves in the fetcher's own DNS threads.
        self.gate = Gate(self._allow, resolve_timeout=http.connect_timeout)
        self._sessions: dict[tuple[bool, bool], _Session] = {}  # (verify TLS, keep alive)
        self._resolver: DaemonThreadPool | None = None
        self._open = False

    async def __aenter__(self) -> Fetcher:
        if self._open:
            return self
        # DNS lookups block a thread each; their own pool keeps a slow resolver from starving
        # the default executor, and its daemon threads cannot hold the exit after SIGTERM.
        self._resolver = DaemonThreadPool(min(32, self._http.concurrency), "monitor-dns")
        self.gate = Gate(
            self._allow, resolve_timeout=self._http.connect_timeout, executor=self._resolver
        )
        self._sessions[True, True] = self._make_session(verify=True)
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = False
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.client.aclose()  # closes its transport and every connection
        if self._resolver is not None:
            self._resolver.shutdown(wait=False, cancel_futures=True)
            self._resolver = None

    def _make_session(self, verify: bool, keep_alive: bool = True) -> _Session:
        http = self._http
        transport = GuardedTransport(
            ssl_context=_ssl_context(verify),
            max_header_bytes=http.max_header_bytes,
            max_connections=http.concurrency,
            # The politeness limiter already holds requests to one host to this many.
            per_host=http.per_host_concurrency,
            keepalive_expiry=_KEEPALIVE_SECONDS,
            keep_alive=keep_alive,
            gate=self.gate,
            proxies=self._proxies,
            # A proxy on a private network is an explicit opt-in, as a local SMTP relay is.
            proxy_gate=self.gate.widened(LOCAL_RELAY_NETWORKS)
            if self._http.proxy_allow_private
            else self.gate,
        )
        client = httpx.AsyncClient(
            transport=transport,
            trust_env=False,  # proxy variables in the environment must not route around the gate
            follow_redirects=False,  # followed in `_get`, which checks every hop
            timeout=httpx.Timeout(
                connect=http.connect_timeout,
                read=http.read_timeout,
                write=http.read_timeout,
                pool=http.total_timeout,
            ),
            headers={"User-Agent": http.user_agent_header, "Accept-Encoding": "gzip, deflate"},
            # Sources are polled independently: no cookie set by one may reach another.
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )
        return _Session(client, transport)

    def _session(self, verify: bool, keep_alive: bool = True) -> _Session:
        if not self._open:
            raise RuntimeError("use the Fetcher as `async with Fetcher(config) as fetcher:`")
        if (verify, keep_alive) not in self._sessions:
            self._sessions[verify, keep_alive] = self._make_session(verify, keep_alive)
        return self._sessions[verify, keep_alive]

    # --- public API -------------------------------------------------------------------------

    async def fetch(
        self,
        url: str,
        validators: Validators | None = None,
        *,
        verify_tls: bool = True,
        respect_robots: bool = False,
        accept: str | None = None,
    ) -> FetchResult:
        """GET `url`, conditionally if `validators` are given; never raises for a source's faults.

        NOT_MODIFIED (304, or the same body hash as `validators.body_hash`) comes with an empty
        body and the new validators.
        """
        if not self._open:  # a programming error, not a source's fault: raise it
            raise RuntimeError("use the Fetcher as `async with Fetcher(config) as fetcher:`")
        started = time.monotonic()
        old = validators or Validators()
        try:
            result = await self._fetch(url, old, verify_tls, respect_robots, accept)
        except _Stop as stop:
            result = FetchResult(
                url=url,
                outcome=stop.outcome,
                final_url=stop.url,
                status=stop.status,
                validators=old,
                error=one_line(stop.message, 300),
                retry_after=stop.retry_after,
            )
        except Exception as exc:
            # A bug here must cost one source one poll, not the poller.
            log.exception("unexpected error fetching %s", url)
            result = FetchResult(
                url=url,
                outcome=FetchOutcome.ERROR,
                validators=old,
                error=one_line(f"unexpected error: {type(exc).__name__}: {exc}", 300),
            )
        result.elapsed = time.monotonic() - started
        return result

    async def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> HttpResponse:
        """Send one request (for webhooks) through the same gate; a 3xx is returned, not followed.

        Raises FetchError with a one-line message on refusal, network failure or a limit.
        """
        method = method.upper()
        if not _METHOD.match(method):
            raise ValueError(f"{method!r} is not an HTTP method")
        try:
            target = normalize_url(url)
        except UrlRefused as exc:
            raise FetchError(f"refused: {exc}") from None
        total = timeout if timeout is not None else self._http.total_timeout
        extra = {k: v for k, v in (headers or {}).items() if k.lower() not in _RESERVED_HEADERS}
        per_phase = httpx.Timeout(
            connect=min(self._http.connect_timeout, total),
            read=min(self._http.read_timeout, total),
            write=min(self._http.read_timeout, total),
            pool=total,
        )
        try:
            reply = await self._exchange(
                # A fresh connection for every delivery: a POST is not retried by the pool, so
                # one sent on a kept-alive connection the server has just closed would fail.
                self._session(True, keep_alive=False),
                method,
                target,
                extra,
                budget=_Budget(total),
                content=content,
                wants_body=lambda status: method != "HEAD",
                cap=self._http.max_body_bytes,
                timeout=per_phase,
            )
        except AddressRefused as exc:
            raise FetchError(one_line(f"address refused: {exc}", 300), refused=True) from None
        except _Stop as stop:
            raise FetchError(one_line(stop.message, 300)) from None
        return HttpResponse(reply.status, reply.headers, reply.body, reply.url)

    # --- the fetch pipeline -------------------------------------------------------------------

    async def _fetch(
        self,
        url: str,
        old: Validators,
        verify_tls: bool,
        respect_robots: bool,
        accept: str | None,
    ) -> FetchResult:
        try:
            target = normalize_url(url)
        except UrlRefused as exc:
            raise _Stop(FetchOutcome.REFUSED, f"refused: {exc}") from None
        if not verify_tls:
            log.warning("TLS certificate verification is off for %s (verify_tls = false)", target)
        session = self._session(verify_tls)
        budget = _Budget(self._http.total_timeout)
        headers = {"Accept": accept or "*/*"}
        if old.etag:
            headers["If-None-Match"] = old.etag
        since = _plausible_date(old.last_modified)  # one stored by an older release may not be
        if since:
            headers["If-Modified-Since"] = since
        reply = await self._get(
            session, target, headers, budget, self._http.max_body_bytes, robots=respect_robots
        )
        return self._result(url, target, reply, old)

    def _result(self, url: str, target: str, reply: _Reply, old: Validators) -> FetchResult:
        headers, status = reply.headers, reply.status
        content_type = headers.get("content-type")
        if status == 304:
            return FetchResult(
                url=url,
                outcome=FetchOutcome.NOT_MODIFIED,
                final_url=reply.url,
                status=status,
                content_type=content_type,
                validators=Validators(
                    etag=headers.get("etag") or old.etag,
                    last_modified=_plausible_date(headers.get("last-modified"))
                    or _plausible_date(old.last_modified),
                    body_hash=old.body_hash,
                ),
                max_age=parse_max_age(headers),
            )
        if 200 <= status < 300:
            digest = hashlib.sha256(reply.body).hexdigest()
            same = old.body_hash is not None and old.body_hash == digest
            return FetchResult(
                url=url,
                outcome=FetchOutcome.NOT_MODIFIED if same else FetchOutcome.OK,
                final_url=reply.url,
                status=status,
                body=b"" if same else reply.body,
                content_type=content_type,
                validators=Validators(
                    etag=headers.get("etag"),
                    last_modified=_plausible_date(headers.get("last-modified")),
                    body_hash=digest,
                ),
                max_age=parse_max_age(headers),
            )
        where = "" if reply.url == target else f" at {reply.url}"
        raise _Stop(
            FetchOutcome.ERROR,
            f"{_status_line(status)}{where}",
            url=reply.url,
            status=status,
            retry_after=(
                parse_retry_after(headers.get("retry-after")) if status in (429, 503) else None
            ),
        )

    async def _get(
        self,
        session: _Session,
        url: str,
        headers: dict[str, str],
        budget: _Budget,
        cap: int,
        *,
        robots: bool = False,
    ) -> _Reply:
        """GET with redirects followed by hand, each hop through the gate (and, if `robots`,
        checked against its robots.txt); _Stop on failure."""
        current = url
        for hop in range(self._http.max_redirects + 1):
            if robots and not await self._robots_allow(current, session, budget):
                what = "this URL" if hop == 0 else f"the redirect to {current}"
                raise _Stop(
                    FetchOutcome.ROBOTS,
                    f"robots.txt of {url_host(current)} disallows {what}",
                    url=current,
                )
            try:
                reply = await self._exchange(
                    session,
                    "GET",
                    current,
                    headers,
                    budget=budget,
                    wants_body=lambda status: 200 <= status < 300,
                    cap=cap,
                )
            except AddressRefused as exc:
                if hop == 0:
                    raise _Stop(
                        FetchOutcome.REFUSED, f"address refused: {exc}", url=current
                    ) from None
                raise _Stop(
                    FetchOutcome.REFUSED,
                    f"redirect to {one_line(exc.host, 200)} refused: {exc.detail}",
                    url=current,
                ) from None
            if reply.status not in _REDIRECTS:
                return reply
            location = reply.headers.get("location")
            if not location:
                raise _Stop(
                    FetchOutcome.ERROR,
                    f"{_status_line(reply.status)} without a Location header",
                    url=current,
                    status=reply.status,
                )
            try:
                # Browsers send a bare space in a Location as %20; refusing it would lose sources.
                current = normalize_url(urljoin(current, location.strip().replace(" ", "%20")))
            except (UrlRefused, ValueError) as exc:
                raise _Stop(
                    FetchOutcome.REFUSED,
                    f"redirect to {one_line(location, 200)} refused: {exc}",
                    url=current,
                    status=reply.status,
                ) from None
        raise _Stop(
            FetchOutcome.ERROR,
            f"more than {self._http.max_redirects} redirects (last to {current})",
            url=current,
        )

    async def _exchange(
        self,
        session: _Session,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        budget: _Budget,
        wants_body: Callable[[int], bool],
        cap: int,
        content: bytes | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> _Reply:
        """One request and its response, no redirects; AddressRefused or _Stop on failure."""
        host = _authority(url)[1]  # `url_host`, read off the normalised URL
        reason = self.gate.refusal(host)
        if reason is not None:
            # Known without DNS: say no before waiting for a slot.
            raise AddressRefused(host, host, reason)
        async with self._limiter.slot(host), budget.spend():
            if content is None and session.transport.direct:
                return await self._exchange_direct(
                    session, method, url, headers, wants_body, cap, timeout
                )
            try:
                request = _build_request(session.client, method, url, headers, content, timeout)
                # Straight to the transport: AsyncClient.send() parses a redirect's Location
                # even when not following it, and raises on a malformed one, losing the
                # response; redirects are judged in `_get` instead.
                response = await session.transport.handle_async_request(request)
                response.request = request
                try:
                    body = b""
                    if wants_body(response.status_code):
                        body = await self._read_body(response, cap)
                finally:
                    await response.aclose()
            except HeadersTooLarge as exc:
                raise _Stop(FetchOutcome.ERROR, str(exc), url=url) from None
            except httpx.HTTPError as exc:
                message = self._describe(exc, url, timeout)
                raise _Stop(FetchOutcome.ERROR, message, url=url) from None
        return _Reply(
            url=url,
            status=response.status_code,
            headers=_header_dict(response.headers),
            body=body,
        )

    async def _exchange_direct(
        self,
        session: _Session,
        method: str,
        url: str,
        headers: dict[str, str],
        wants_body: Callable[[int], bool],
        cap: int,
        timeout: httpx.Timeout | None,
    ) -> _Reply:
        """`_exchange`'s request without a body and without a proxy (every GET of a poll):
        the same bytes on the wire and the same reply, without building httpx's request and
        response objects (a fifth of the event loop's CPU per 304). The caller holds the slot
        and the budget."""
        netloc, host, port = _authority(url)
        if "xn--" in host:  # named as httpx names it: the host as written, not in IDNA
            host = _parsed_url(url).host
        try:
            sent = _request_headers(session, netloc, headers)
            status, raw, stream = await session.transport.exchange(
                method,
                url,
                host,
                port,
                sent,
                None,
                (timeout or session.client.timeout).as_dict(),
            )
            try:
                received = _decoded_headers(raw)
                body = b""
                if wants_body(status):
                    body = await self._read_raw(
                        stream,
                        received.get("content-length", ""),
                        received.get("content-encoding"),
                        cap,
                        lambda: str(_parsed_url(url)),  # as httpx spells it (errors only)
                    )
            finally:
                await stream.aclose()
        except HeadersTooLarge as exc:
            raise _Stop(FetchOutcome.ERROR, str(exc), url=url) from None
        except httpx.HTTPError as exc:
            raise _Stop(FetchOutcome.ERROR, self._describe(exc, url, timeout), url=url) from None
        return _Reply(url=url, status=status, headers=received, body=body)

    async def _read_body(self, response: httpx.Response, cap: int) -> bytes:
        return await self._read_raw(
            response.stream,
            response.headers.get("content-length", ""),
            response.headers.get("content-encoding"),
            cap,
            lambda: str(response.url),
        )

    async def _read_raw(
        self,
        stream: httpx.AsyncByteStream | httpx.SyncByteStream,
        declared: str,
        encoding: str | None,
        cap: int,
        url: Callable[[], str],
    ) -> bytes:
        """The body, decoded within `cap`; _Stop naming `url()` (the response's URL) if not."""
        if declared.isdigit() and int(declared) > cap:
            raise _Stop(FetchOutcome.ERROR, f"response larger than {cap} bytes", url=url())
        if not isinstance(stream, httpx.AsyncByteStream):  # the transport's are async
            raise TypeError("expected an async body stream")
        try:
            body = BoundedBody(encoding, cap)
            async for chunk in stream:
                body.feed(chunk)
            return body.finish()
        except TruncatedBody as exc:
            # A fetch error, so the source keeps its old validators and is fetched again.
            where = url()
            raise _Stop(FetchOutcome.ERROR, f"{exc} from {where}", url=where) from None
        except (BodyTooLarge, BadEncoding) as exc:
            raise _Stop(FetchOutcome.ERROR, str(exc), url=url()) from None

    def _describe(self, exc: httpx.HTTPError, url: str, timeout: httpx.Timeout | None) -> str:
        """One plain line for a transport error."""
        host = url_host(url)
        connect_timeout = timeout.connect if timeout else self._http.connect_timeout
        read_timeout = timeout.read if timeout else self._http.read_timeout
        chain: list[BaseException] = []
        cause: BaseException | None = exc
        while cause is not None and len(chain) < 10:
            chain.append(cause)
            cause = cause.__cause__ or cause.__context__
        for link in chain:
            if isinstance(link, ssl.SSLCertVerificationError):
                return (
                    f"TLS certificate not verified: {link.verify_message or link.reason} ({host})"
                )
        for link in chain:
            if isinstance(link, ssl.SSLError):
                return f"TLS handshake with {host} failed: {link.reason or link}"
        text = str(exc)
        if isinstance(exc, httpx.ConnectTimeout):
            return f"connecting to {host} timed out after {_seconds(connect_timeout or 0)} s"
        if isinstance(exc, httpx.ReadTimeout):
            return f"{host} sent nothing for {_seconds(read_timeout or 0)} s"
        if isinstance(exc, httpx.TimeoutException):
            return f"{type(exc).__name__} talking to {host}"
        if isinstance(exc, httpx.ConnectError):
            if any(isinstance(link, ConnectionRefusedError) for link in chain) or "refused" in text:
                return f"connection refused by {host}:{httpx.URL(url).port or _default_port(url)}"
            if "cannot resolve" in text:
                return text
            return f"cannot connect to {host}: {text or type(exc).__name__}"
        if isinstance(exc, httpx.RemoteProtocolError):
            if "Receive buffer too long" in text:
                return f"response headers larger than {self._http.max_header_bytes} bytes"
            if "without sending complete message body" in text:
                return f"{host} closed the connection before the body was complete"
            if "without sending a response" in text:
                return f"{host} closed the connection without a response"
            return f"invalid HTTP response from {host}: {text}"
        if isinstance(exc, httpx.ReadError | httpx.WriteError):
            return f"connection to {host} broke: {text or type(exc).__name__}"
        return f"{type(exc).__name__} talking to {host}: {text}"

    # --- robots.txt ---------------------------------------------------------------------------

    async def _robots_allow(self, url: str, session: _Session, budget: _Budget) -> bool:
        site = origin(url)
        if not self._robots.known(site):
            async with self._robots.lock(site):
                if not self._robots.known(site):
                    await self._load_robots(site, session, budget)
        return self._robots.allows(site, url, self._http.user_agent)

    async def _load_robots(self, origin: str, session: _Session, budget: _Budget) -> None:
        cap = min(self._http.max_body_bytes, _ROBOTS_MAX_BYTES)
        try:
            reply = await self._get(
                session, f"{origin}/robots.txt", {"Accept": "text/plain, */*;q=0.5"}, budget, cap
            )
        except _Stop as stop:
            log.warning("robots.txt of %s not read (%s); treating it as allowing all", origin, stop)
            self._robots.store(origin, None, self._robots.error_ttl)
            return
        if 200 <= reply.status < 300:
            self._robots.store(origin, reply.body.decode("utf-8", "replace"), self._robots.ttl)
        elif 400 <= reply.status < 500:
            self._robots.store(origin, None, self._robots.ttl)  # no robots.txt: all allowed
        else:
            log.warning(
                "robots.txt of %s answered %s; treating it as allowing all",
                origin,
                _status_line(reply.status),
            )
            self._robots.store(origin, None, self._robots.error_ttl)


def _plausible_date(value: str | None) -> str | None:
    """A Last-Modified value worth sending back as If-Modified-Since, else None.

    A date in the future (a wrong server clock, a CMS that writes 2099) would make the server
    answer 304 until that date, whatever changes: such a value is not kept. A clock a few
    minutes ahead is allowed for. Values that are not HTTP dates are left to the server to
    ignore, as before.
    """
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return value
    if when.tzinfo is None:  # "-0000": the zone is unknown; HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    if when > datetime.now(UTC) + _CLOCK_SKEW:
        return None
    return value


def _header_dict(headers: httpx.Headers) -> dict[str, str]:
    # Lower-case names; a repeated header is joined with ", " as RFC 9110 allows for lists.
    out: dict[str, str] = {}
    for name, value in headers.multi_items():
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _authority(url: str) -> tuple[str, str, int | None]:
    """(host[:port], bare host, port or None) of a URL `normalize_url` wrote: what httpx reads
    as its netloc, `raw_host` and port (the gate checked that they agree), without parsing it
    again (lower-case, IDNA, no default port, no user name; a path always follows)."""
    rest = url[url.index("//") + 2 :]
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    netloc = rest[:end]
    if netloc.startswith("["):  # an IPv6 literal
        close = netloc.index("]")
        host, port_text = netloc[1:close], netloc[close + 2 :]
    else:
        host, _, port_text = netloc.partition(":")
    return netloc, host, int(port_text) if port_text else None


def _request_headers(
    session: _Session, netloc: str, headers: dict[str, str]
) -> list[tuple[str, str]]:
    """The header lines `_build_request` would send for a request without a body, in its
    order: Host (`netloc`, see `_authority`), the client's headers less those `headers`
    replaces, then `headers`. Names and values must be ASCII, as httpx asks
    (UnicodeEncodeError otherwise, as there)."""
    replaced = set()
    for name, value in headers.items():
        name.encode("ascii")
        value.encode("ascii")
        replaced.add(name.lower())
    lines = [("Host", netloc)]
    lines += [(k, v) for k, v in session.base_headers if k.lower() not in replaced]
    lines += headers.items()
    return lines


def _decoded_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """`_header_dict` of the httpx.Headers these raw lines make: lower-case names, values
    decoded as ASCII, else UTF-8, else Latin-1 (one choice for all, as httpx makes it)."""
    for encoding in ("ascii", "utf-8", "iso-8859-1"):
        try:
            decoded = [(k.lower().decode(encoding), v.decode(encoding)) for k, v in raw]
        except UnicodeDecodeError:
            continue
        break
    out: dict[str, str] = {}
    for name, value in decoded:
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def _build_request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str],
    content: bytes | None,
    timeout: httpx.Timeout | None,
) -> httpx.Request:
    """What `client.build_request` makes, without its cost: it re-parses and re-validates the
    URL twice to merge query parameters we never pass, and cookies are never sent."""
    merged = httpx.Headers(client.headers)
    merged.update(headers)
    return httpx.Request(
        method,
        _parsed_url(url),
        headers=merged,
        content=content,
        extensions={"timeout": (timeout or client.timeout).as_dict()},
    )


@functools.lru_cache(maxsize=8192)
def _parsed_url(url: str) -> httpx.URL:
    """httpx's parse of a URL the gate has normalised (immutable, so one parse serves all)."""
    return httpx.URL(url)


def _default_port(url: str) -> int:
    return 443 if url.startswith("https:") else 80
