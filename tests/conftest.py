"""Real local parts for tests: content server, SMTP server, webhook receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.hostile_server import HostileServer

if TYPE_CHECKING:
    from monitor.models import Passage
    from monitor.store import Store

REPO = Path(__file__).resolve().parent.parent


def remember(store: Store, key: str, passages: list[Passage], now: datetime) -> list[Passage]:
    """Store a source's passages as a poll does (detect decides, the store records); return
    the new ones."""
    from monitor.pipeline import detect_new

    news = detect_new(store, key, passages)
    store.remember_passages(key, news.new_keys, news.seen_keys, now, rekeyed=news.rekeyed)
    return news.fresh


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Route:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: bool = True
    delay: float = 0.0  # seconds to wait before answering (a slow site)


class ContentServer:
    """Serves whatever the test puts in `routes`, with ETag support, and counts requests."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers)))
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.delay:
                    time.sleep(route.delay)
                tag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
                if route.etag and self.headers.get("If-None-Match") == tag:
                    self.send_response(304)
                    self.send_header("ETag", tag)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                if route.etag:
                    self.send_header("ETag", tag)
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def set(
        self,
        path: str,
        body: str | bytes,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
        delay: float = 0.0,
    ) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(data, content_type, status, delay=delay)
        return self.base + path

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)


@pytest.fixture
def content_server() -> Iterator[ContentServer]:
    srv = ContentServer()
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    refuse_next: int = 0  # answer this many DATA commands with a temporary failure

    def wait(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", 0)

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            if sink.refuse_next > 0:
                sink.refuse_next -= 1
                return "451 4.3.0 try again later"
            sink.messages.append(
                message_from_bytes(
                    envelope.original_content or envelope.content, policy=policy.default
                )  # type: ignore[arg-type]
            )
            return "250 OK"

    # aiosmtpd's Controller checks readiness by connecting to the port it was given, so it needs
    # a real port number rather than 0.
    sink.port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


class WebhookReceiver:
    """Accepts POSTs, verifies Standard Webhooks signatures, can fail the first N deliveries."""

    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.accepted: list[dict] = []
        self.fail_next = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append((headers, body))
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(500)
                    self.end_headers()
                    return
                if receiver.secret:
                    from standardwebhooks.webhooks import Webhook

                    try:
                        Webhook(receiver.secret).verify(body, headers)
                    except Exception:
                        self.send_response(401)
                        self.end_headers()
                        return
                receiver.accepted.append({"id": headers.get("webhook-id"), **json.loads(body)})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    rcv = WebhookReceiver(secret="whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==")
    rcv.thread.start()
    yield rcv
    rcv.httpd.shutdown()
    rcv.httpd.server_close()


@pytest.fixture
async def server() -> AsyncIterator[HostileServer]:
    """A local HTTP server that can misbehave in every way the fetch tests need."""
    async with HostileServer() as srv:
        yield srv


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A real PostgreSQL server for the session (see tests/pg_server.py): its base DSN."""
    from tests.pg_server import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture
def pg_url(postgres: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test: its DSN."""
    from tests.pg_server import fresh_database

    with fresh_database(postgres) as url:
        yield url
