"""Ops endpoints: /healthz, /readyz, /metrics, a read-only status page, the topic feeds, and
the feedback pages (`monitor.feedback.pages`).

Bound to 127.0.0.1 by default. Every route but the two probes and the signed feedback pages
(`/fb/<token>`, whose signature is their credential) needs the token (`[web] token_env`, else
the one generated in state/web.token): as `Authorization: Bearer <token>`, or as the password of
HTTP basic auth (the user name is recorded as who gave feedback), which browsers and feed readers
can send. The Atom feeds also take it as `?token=`, since some readers can send nothing else;
only there, because a URL ends up in logs and histories. The probes reveal only "ok" or "not ok"
(/readyz also names the kind of a state fault, without a path).

Every state change is a POST, refused when it comes from another site (its Origin, or the
browser's Sec-Fetch-Site) and, on authenticated routes, without the CSRF token of the page that
made the form (derived from the credential, see `LinkSigner.csrf_token`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web
from jinja2 import Environment, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment
from lxml import etree
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.feedback.forms import MARK_PATH, UNDO_PATH
from monitor.feedback.links import LinkSigner
from monitor.feedback.pages import CSRF, FORM, WHO, FeedbackPages
from monitor.feedback.suppress import Suppressor
from monitor.inbox.page import add_routes as add_inbox_routes
from monitor.metrics import REGISTRY
from monitor.models import Match
from monitor.store import StateError, Store

PUBLIC = frozenset({"/healthz", "/readyz"})
# The pages a digest's signed feedback links open: the signature in the path is the credential.
SIGNED_PREFIX = "/fb/"
TOKEN_FILE = "web.token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Daemonish(Protocol):
    """What the web layer reads from the daemon: nothing it could change."""

    store: Store
    last_tick: float | None
    heartbeat: float | None

    @property
    def state_fault(self) -> StateError | None: ...

    def feed_path(self, topic: str) -> Path | None: ...
    def channel_times(self) -> list[dict[str, Any]]: ...
    def source_keys(self) -> list[str]: ...
    def topic_ids(self) -> list[str]: ...
    def config_loaded(self) -> bool: ...


_env: Environment = ImmutableSandboxedEnvironment(autoescape=select_autoescape(default=True))
STATUS = _env.from_string(
    """<!doctype html><html><head><meta charset="utf-8"><title>source-monitor status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
.bad{color:#a00}</style></head><body>
<h1>source-monitor</h1>
<p>Last poll tick: {{ last_tick or "not yet" }} · outbox: {{ depth }} waiting</p>
<h2>Sources by health</h2>
<p id="health">{% for state, n in health %}<span class="{{ 'bad' if state in bad else '' }}">
{{ n }} {{ state }}</span>{{ " · " if not loop.last }}{% else %}no sources{% endfor %}</p>
<h2>Channels</h2>
<table id="channels"><tr><th>channel</th><th>last digest</th><th>next digest</th>
<th>last alert</th></tr>
{% for c in channels %}<tr><td>{{ c.name }}</td><td>{{ c.last_digest or "never" }}</td>
<td>{{ c.next_digest or "not scheduled" }}</td><td>{{ c.last_alert or "never" }}</td></tr>
{% endfor %}</table>
<h2>Outbox</h2>
{% if pending %}<table id="outbox"><tr><th>created</th><th>channel</th><th>kind</th>
<th>items</th><th>attempts</th><th>last error</th></tr>
{% for d in pending %}<tr><td>{{ d.created_at }}</td><td>{{ d.channel }}</td><td>{{ d.kind }}</td>
<td>{{ d.item_count }}</td><td>{{ d.attempts }}</td>
<td class="bad">{{ d.last_error or "" }}</td></tr>{% endfor %}</table>
{% else %}<p id="outbox">Empty: every digest made was delivered.</p>{% endif %}
<h2>Sources ({{ sources|length }})</h2>
<table id="sources"><tr><th>name</th><th>state</th><th>since</th><th>last error</th></tr>
{% for s in sources %}<tr><td>{{ s.name }}<br><small>{{ s.url }}</small></td>
<td class="{{ 'bad' if s.state in bad else '' }}">{{ s.state }}</td>
<td>{{ s.since or "" }}</td><td>{{ s.last_error or "" }}</td></tr>{% endfor %}</table>
<h2>Recent matches</h2>
{% for topic, (rows, hidden) in matches.items() %}<h3>{{ topic }}</h3><ul>
{% for m in rows %}<li>{{ m.first_seen }} · {{ m.source_name }} · {{ m.title or "" }}
<br><small>{{ m.evidence.snippet }}</small></li>{% endfor %}</ul>
{% if hidden %}<p class="suppressed">{{ hidden }} of the latest hidden by feedback
(<a href="/feedback">marks and mutes</a>).</p>{% endif %}
{% else %}<p>None yet.</p>{% endfor %}
<h2>Recent digests</h2>
<table><tr><th>created</th><th>channel</th><th>kind</th><th>items</th><th>status</th>
<th>attempts</th><th>detail</th></tr>
{% for d in digests %}<tr><td>{{ d.created_at }}</td><td>{{ d.channel }}</td><td>{{ d.kind }}</td>
<td>{{ d.item_count }}</td><td class="{{ 'bad' if d.status != 'sent' else '' }}">{{ d.status }}</td>
<td>{{ d.attempts }}</td><td>{{ d.last_error or d.detail or "" }}</td></tr>{% endfor %}</table>
</body></html>"""
)
RECENT_SHOWN = 10  # matches per topic on the status page
BAD_STATES = frozenset({"failing", "gone", "refused", "robots"})
ATOM_NS = "http://www.w3.org/2005/Atom"


def _given_token(request: web.Request) -> tuple[str, str | None]:
    """(who, token) the request carries: bearer, basic auth (who: its user name), or (feeds
    only) ?token=."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return "token", value.strip()
    if scheme.lower() == "basic":
        try:
            pair = base64.b64decode(value.strip(), validate=True).decode()
            user, _, password = pair.partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", None
        # Shown on the feedback page as who set a mute: printable and short.
        who = "".join(c for c in user if c.isprintable())[:64].strip()
        return who or "basic auth", password
    if request.path.startswith("/feeds/"):
        return "token", request.query.get("token")
    return "", None


def web_token(state_dir: Path) -> str:
    """The access token when the config names none: made once, kept in state/web.token
    (readable by this user only), so every route but the probes still needs one."""
    path = state_dir / TOKEN_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
    token = path.read_text(encoding="utf-8").strip()
    if len(token) < 16:
        raise ValueError(f"{path}: too short to be an access token; delete it to make a new one")
    return token


def _same_origin(request: web.Request, public_url: str | None) -> bool:
    """Whether a state-changing request comes from a page of this server (CSRF defence): its
    Origin, when the browser sends one, is this server's or the public address's; without
    one, the browser's Sec-Fetch-Site must not say another site. Clients that are no browser
    send neither."""
    origin = request.headers.get("Origin")
    if origin is not None:
        allowed = {f"{request.scheme}://{request.host}"}
        if public_url:
            scheme, _, rest = public_url.partition("://")
            allowed.add(f"{scheme}://{rest.split('/', 1)[0]}")
        return origin in allowed
    return request.headers.get("Sec-Fetch-Site", "same-origin") in {"same-origin", "none"}


def with_self_link(document: bytes, href: str) -> bytes:
    """The Atom document with a rel="self" link to `href` if it has none (our own file: parsed
    without entities or network all the same)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    feed = etree.fromstring(document, parser)
    links = feed.findall(f"{{{ATOM_NS}}}link")
    if any(link.get("rel") == "self" for link in links):
        return document
    link = etree.Element(f"{{{ATOM_NS}}}link", rel="self", type="application/atom+xml", href=href)
    updated = feed.find(f"{{{ATOM_NS}}}updated")
    (updated if updated is not None else feed[-1]).addnext(link)
    out: bytes = etree.tostring(feed, xml_declaration=True, encoding="UTF-8")
    return out


def _when(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else None


def _recent_matches(store: Store, topics: list[str]) -> dict[str, tuple[list[Match], int]]:
    """Per topic: its newest matches as the digests show them (without what feedback
    suppresses), and how many of the newest were held back."""
    suppressor = Suppressor.load(store.engine, topics)
    out: dict[str, tuple[list[Match], int]] = {}
    for topic in topics:
        # Looked at beyond the ten shown, so that a muted busy source does not empty the list.
        kept, hidden = suppressor.split(store.latest_matches(topic, 40, {}), store.engine)
        out[topic] = (kept[:RECENT_SHOWN], len(hidden))
    return out


def make_app(
    daemon: Daemonish,
    token: str | None,
    signer: LinkSigner | None = None,
    public_url: str | None = None,
) -> web.Application:
    """The web server's routes. Without a `token` none can be given (every route but the
    probes and the signed pages refuses); without a `signer` links are checked with a key of
    this process only."""
    secret = token or secrets.token_urlsafe(32)
    signer = signer or LinkSigner(secrets.token_bytes(32))

    async def checked(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method not in SAFE_METHODS and not _same_origin(request, public_url):
            return web.Response(status=403, text="refused: a change asked from another site\n")
        if request.path in PUBLIC or request.path.startswith(SIGNED_PREFIX):
            return await handler(request)
        who, given = _given_token(request)
        if not hmac.compare_digest((given or "").encode(), secret.encode()):
            response = web.Response(status=401, text="token required\n")
            # Browsers and feed readers then ask for it (any user name, the token as password).
            response.headers["WWW-Authenticate"] = 'Basic realm="source-monitor", charset="UTF-8"'
            return response
        credential = f"{who}\x00{secret}"
        request[WHO], request[CSRF] = who, signer.csrf_token(credential)
        if request.method not in SAFE_METHODS:
            form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
            request[FORM] = form
            if not signer.csrf_ok(credential, form.get("csrf", "")):
                return web.Response(
                    status=403, text="refused: CSRF token missing or wrong; reload the page\n"
                )
        return await handler(request)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await checked(request, handler)
        response.headers["X-Content-Type-Options"] = "nosniff"
        # No framing (a one-button page must not be clicked through another site's frame) and
        # forms post to this server only.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        # A signed link's path is its credential: never sent to another site.
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    async def healthz(_r: web.Request) -> web.Response:
        # Alive means the scheduler ran its heartbeat job within the last minute. A stuck poll
        # cycle shows in monitor_last_tick_timestamp_seconds, for alerting, not here.
        if daemon.heartbeat is not None and time.time() - daemon.heartbeat <= 60:
            return web.Response(text="ok\n")
        return web.Response(status=503, text="no recent scheduler heartbeat\n")

    async def readyz(_r: web.Request) -> web.Response:
        # The reason in a few words (no paths: the probe is public); the full line is in the log.
        fault = daemon.state_fault
        if fault is not None:
            return web.Response(status=503, text=f"not ready: state {fault.kind}\n")
        try:
            ok = daemon.config_loaded() and daemon.store.ping()
        except Exception:  # any store error means not ready; the detail is in the logs
            ok = False
        return web.Response(status=200 if ok else 503, text="ready\n" if ok else "not ready\n")

    async def metrics(_r: web.Request) -> web.Response:
        resp = web.Response(body=generate_latest(REGISTRY))
        resp.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return resp

    async def status(_r: web.Request) -> web.Response:
        store = daemon.store
        sources = store.health(daemon.source_keys())
        # Sources in trouble first: they are what an operator opens this page for.
        sources.sort(key=lambda src: (src.state not in BAD_STATES, src.name or ""))
        counts = Counter(src.state for src in sources)
        digests = store.outbox()
        html = STATUS.render(
            last_tick=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(daemon.last_tick))
            if daemon.last_tick
            else None,
            depth=store.outbox_depth(),
            health=sorted(counts.items(), key=lambda kv: (kv[0] not in BAD_STATES, kv[0])),
            channels=[
                {**c, **{k: _when(c[k]) for k in ("last_digest", "next_digest", "last_alert")}}
                for c in daemon.channel_times()
            ],
            pending=[d for d in digests if d["status"] != "sent"],
            sources=sources,
            matches=_recent_matches(store, daemon.topic_ids()),
            digests=digests,
            bad=BAD_STATES,
        )
        return web.Response(text=html, content_type="text/html")

    async def feed(request: web.Request) -> web.Response:
        path = daemon.feed_path(request.match_info["topic"])
        if path is None or not path.is_file():
            raise web.HTTPNotFound(text="no such topic feed\n")
        # Readers recognise a feed by its self link; without [web] public_url the file has
        # none, so it is the address this reader used (never the token it may have sent).
        here = str(request.url.with_query(None))
        body = with_self_link(path.read_bytes(), here)
        return web.Response(body=body, content_type="application/atom+xml")

    pages = FeedbackPages(lambda: daemon.store, signer, daemon.topic_ids)
    app = web.Application(middlewares=[guard], client_max_size=64 * 1024)
    app.router.add_get("/feeds/{topic}.atom", feed)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/", status)
    app.router.add_get(SIGNED_PREFIX + "{token}", pages.link_page)
    app.router.add_post(SIGNED_PREFIX + "{token}", pages.link_post)
    app.router.add_get("/feedback", pages.list_page)
    app.router.add_post(MARK_PATH, pages.mark)
    app.router.add_post(UNDO_PATH, pages.undo)
    add_inbox_routes(app, daemon)
    return app


async def start(
    daemon: Daemonish,
    host: str,
    port: int,
    token: str | None,
    signer: LinkSigner | None = None,
    public_url: str | None = None,
) -> web.AppRunner:
    runner = web.AppRunner(make_app(daemon, token, signer, public_url), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
