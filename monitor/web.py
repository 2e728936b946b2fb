"""Ops endpoints: /healthz, /readyz, /metrics and a read-only status page.

Bound to 127.0.0.1 by default. With a token configured, every route but the two probes needs
`Authorization: Bearer <token>`; the probes reveal only "ok" or "not ok" (/readyz also names
the kind of a state fault, without a path).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from aiohttp import web
from jinja2 import Environment, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.metrics import REGISTRY
from monitor.store import StateError, Store

PUBLIC = frozenset({"/healthz", "/readyz"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Daemonish(Protocol):
    """What the web layer reads from the daemon: nothing it could change."""

    store: Store
    last_tick: float | None
    heartbeat: float | None

    @property
    def state_fault(self) -> StateError | None: ...

    def feed_path(self, topic: str) -> Path | None: ...
    def source_keys(self) -> list[str]: ...
    def topic_ids(self) -> list[str]: ...
    def config_loaded(self) -> bool: ...


_env: Environment = ImmutableSandboxedEnvironment(autoescape=select_autoescape(default=True))
STATUS = _env.from_string(
    """<!doctype html><html><head><meta charset="utf-8"><title>source-monitor status</title>
<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
.bad{color:#a00}</style></head><body>
<h1>source-monitor</h1>
<p>Last poll tick: {{ last_tick or "not yet" }} · outbox: {{ depth }} waiting</p>
<h2>Sources ({{ sources|length }})</h2>
<table><tr><th>name</th><th>state</th><th>since</th><th>last error</th></tr>
{% for s in sources %}<tr><td>{{ s.name }}<br><small>{{ s.url }}</small></td>
<td class="{{ 'bad' if s.state in bad else '' }}">{{ s.state }}</td>
<td>{{ s.since or "" }}</td><td>{{ s.last_error or "" }}</td></tr>{% endfor %}</table>
<h2>Recent matches</h2>
{% for topic, rows in matches.items() %}<h3>{{ topic }}</h3><ul>
{% for m in rows %}<li>{{ m.first_seen }} · {{ m.source_name }} · {{ m.title or "" }}
<br><small>{{ m.evidence.snippet }}</small></li>{% endfor %}</ul>
{% else %}<p>None yet.</p>{% endfor %}
<h2>Recent digests</h2>
<table><tr><th>created</th><th>channel</th><th>kind</th><th>items</th><th>status</th>
<th>attempts</th><th>detail</th></tr>
{% for d in digests %}<tr><td>{{ d.created_at }}</td><td>{{ d.channel }}</td><td>{{ d.kind }}</td>
<td>{{ d.item_count }}</td><td class="{{ 'bad' if d.status != 'sent' else '' }}">{{ d.status }}</td>
<td>{{ d.attempts }}</td><td>{{ d.last_error or d.detail or "" }}</td></tr>{% endfor %}</table>
</body></html>"""
)


def make_app(daemon: Daemonish, token: str | None) -> web.Application:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "")
        if (
            token
            and request.path not in PUBLIC
            and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
        ):
            response: web.StreamResponse = web.Response(status=401, text="token required\n")
        else:
            response = await handler(request)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
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
        html = STATUS.render(
            last_tick=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(daemon.last_tick))
            if daemon.last_tick
            else None,
            depth=store.outbox_depth(),
            sources=store.health(daemon.source_keys()),
            matches={t: store.latest_matches(t, 10, {}) for t in daemon.topic_ids()},
            digests=store.outbox(),
            bad={"failing", "gone", "refused", "robots"},
        )
        return web.Response(text=html, content_type="text/html")

    async def feed(request: web.Request) -> web.Response:
        path = daemon.feed_path(request.match_info["topic"])
        if path is None or not path.is_file():
            raise web.HTTPNotFound(text="no such topic feed\n")
        return web.Response(body=path.read_bytes(), content_type="application/atom+xml")

    app = web.Application(middlewares=[guard])
    app.router.add_get("/feeds/{topic}.atom", feed)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/", status)
    return app


async def start(daemon: Daemonish, host: str, port: int, token: str | None) -> web.AppRunner:
    runner = web.AppRunner(make_app(daemon, token), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
