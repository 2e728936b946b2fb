"""Webhook delivery against a real local receiver that verifies with `standardwebhooks`."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook

from monitor.config import HttpConfig, WebhookChannel
from monitor.digest.payload import encode_payload
from monitor.digest.render import render_digest
from monitor.dispatch import deliver
from monitor.fetch.client import Fetcher
from monitor.models import Digest, Evidence, Match, RenderedDigest
from monitor.notify.slack import slack_payload
from monitor.notify.teams import teams_payload
from monitor.notify.webhook import send_webhook, sign, webhook_id

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"fedcba9876543210fedcba9876543210").decode()
DIGEST_ID = "dg_9a8b7c6d5e4f"
TOKEN_PATH = "/hooks/T0KEN-in-path"


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes
    verified: Any = None  # the payload standardwebhooks returned, or the error it raised


@dataclass
class Receiver:
    """Answers POSTs from a script of (status, headers); verifies every signed request."""

    secret: str | None = SECRET
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    port: int = 0

    def url(self, path: str = TOKEN_PATH) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def make_handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            hit = Hit(dict(self.headers.items()), body)
            status, extra = receiver.script.pop(0) if receiver.script else (200, {})
            if receiver.secret and "webhook-signature" in {k.lower() for k in hit.headers}:
                try:
                    hit.verified = Webhook(receiver.secret).verify(body, hit.headers)
                except Exception as exc:  # the oracle said no; the test looks at it
                    hit.verified = exc
                    status = 401
            receiver.hits.append(hit)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(HttpConfig(allow_networks=["127.0.0.1/32"])) as f:
        yield f


@pytest.fixture
def rendered() -> RenderedDigest:
    m = Match(
        id=42,
        topic="treaty",
        score=3.0,
        evidence=Evidence(
            ("Beistandsvertrag",),
            "Beistandsvertrag",
            "Der Beistandsvertrag trat in Kraft.",
            ((4, 20),),
        ),
        source_key="https://www.dw.com/",
        source_name="DW",
        title="Vertrag in Kraft",
        link="https://www.dw.com/x",
        text="Der Beistandsvertrag trat in Kraft.",
        language="de",
        published=None,
        first_seen=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
    )
    digest = Digest(
        id=DIGEST_ID,
        channel="hook",
        created=datetime(2026, 11, 22, 6, 30, tzinfo=UTC),
        topics={"treaty": [m]},
        topic_names={"treaty": "Russia–DPRK treaty"},
        urgent=True,
    )
    return render_digest(digest)


def channel(url: str, secret_env: str | None = "TEST_WEBHOOK_SECRET") -> WebhookChannel:
    return WebhookChannel(kind="webhook", url=url, secret_env=secret_env, timeout=5)


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)


def test_signature_matches_the_reference_library() -> None:
    body = b'{"type":"digest.created","data":{"x":"\xc3\xbc"}}'
    ours = sign(SECRET, "dg_1", 1_790_000_000, body)
    reference = Webhook(SECRET).sign(
        "dg_1", datetime.fromtimestamp(1_790_000_000, UTC), body.decode()
    )
    assert ours == reference and ours.startswith("v1,")
    assert sign(SECRET.removeprefix("whsec_"), "dg_1", 1_790_000_000, body) == ours
    assert sign(OTHER_SECRET, "dg_1", 1_790_000_000, body) != ours


@pytest.mark.parametrize("bad", ["whsec_", "whsec_not base64!", ""])
def test_bad_secrets_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        sign(bad, "dg_1", 1, b"{}")


def test_webhook_id_is_the_digest_id_when_allowed() -> None:
    assert webhook_id(DIGEST_ID) == DIGEST_ID
    odd = webhook_id("daily.2026-11-22")  # Standard Webhooks ids must not contain "."
    assert "." not in odd and odd == webhook_id("daily.2026-11-22")


async def test_server_errors_are_retried_with_the_same_id(
    receiver: Receiver, fetcher: Fetcher, rendered: RenderedDigest
) -> None:
    receiver.script = [(500, {}), (500, {}), (200, {})]
    results = []
    for _attempt in range(3):  # the outbox's retry loop, compressed
        result = await send_webhook(
            channel(receiver.url()), rendered, DIGEST_ID, fetcher, channel_name="hook"
        )
        results.append(result)
        if result.ok:
            break
    assert [r.ok for r in results] == [False, False, True]
    assert not any(r.permanent for r in results)
    origin = f"http://127.0.0.1:{receiver.port}"
    assert results[0].detail == f"webhook {origin}: HTTP 500 server error — will retry"
    assert results[2].detail == f"webhook {origin}: HTTP 200"
    assert results[2].channel == "hook" and results[2].digest_id == DIGEST_ID

    assert len(receiver.hits) == 3
    assert {h.headers["webhook-id"] for h in receiver.hits} == {DIGEST_ID}
    for hit in receiver.hits:
        assert hit.verified == rendered.payload  # signature checked by standardwebhooks
        assert hit.headers["content-type"] == "application/json"
        assert hit.body == encode_payload(rendered.payload)
    assert rendered.payload["type"] == "alert.created"


async def test_gone_is_permanent(
    receiver: Receiver, fetcher: Fetcher, rendered: RenderedDigest
) -> None:
    receiver.script = [(410, {})]
    result = await send_webhook(channel(receiver.url()), rendered, DIGEST_ID, fetcher)
    assert not result.ok and result.permanent
    assert "HTTP 410 Gone" in result.detail


async def test_rate_limit_reports_retry_after(
    receiver: Receiver, fetcher: Fetcher, rendered: RenderedDigest
) -> None:
    receiver.script = [(429, {"Retry-After": "120"}), (503, {"Retry-After": "30"})]
    limited = await send_webhook(channel(receiver.url()), rendered, DIGEST_ID, fetcher)
    assert not limited.ok and not limited.permanent
    assert limited.detail.endswith("HTTP 429 rate limited — retry after 120 s")
    busy = await send_webhook(channel(receiver.url()), rendered, DIGEST_ID, fetcher)
    assert busy.detail.endswith("HTTP 503 server error — retry after 30 s")


async def test_redirects_fail_and_are_not_followed(
    receiver: Receiver, fetcher: Fetcher, rendered: RenderedDigest
) -> None:
    receiver.script = [(302, {"Location": "/elsewhere"})]
    result = await send_webhook(channel(receiver.url()), rendered, DIGEST_ID, fetcher)
    assert not result.ok and not result.permanent
    assert "HTTP 302 redirect to /elsewhere" in result.detail
    assert len(receiver.hits) == 1


async def test_wrong_secret_is_reported(
    receiver: Receiver, fetcher: Fetcher, rendered: RenderedDigest
) -> None:
    receiver.secret = OTHER_SECRET
    result = await send_webhook(channel(receiver.url()), rendered, DIGEST_ID, fetcher)
    assert not result.ok
    assert "HTTP 401" in result.detail and "secret_env" in result.detail
    assert isinstance(receiver.hits[0].verified, Exception)


async def test_without_a_secret_nothing_is_signed(
    receiver: Receiver, fetcher: Fetcher, rendered: RenderedDigest
) -> None:
    result = await send_webhook(
        channel(receiver.url(), secret_env=None), rendered, DIGEST_ID, fetcher
    )
    assert result.ok, result.detail
    [hit] = receiver.hits
    names = {k.lower() for k in hit.headers}
    assert "webhook-signature" not in names and {"webhook-id", "webhook-timestamp"} <= names
    assert json.loads(hit.body) == rendered.payload


async def test_missing_secret_variable_sends_nothing(
    receiver: Receiver,
    fetcher: Fetcher,
    rendered: RenderedDigest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEST_WEBHOOK_SECRET")
    result = await send_webhook(channel(receiver.url()), rendered, DIGEST_ID, fetcher)
    assert not result.ok and "TEST_WEBHOOK_SECRET" in result.detail
    assert receiver.hits == []


async def test_the_ssrf_gate_applies_to_webhooks(
    receiver: Receiver, rendered: RenderedDigest
) -> None:
    async with Fetcher(HttpConfig()) as strict:  # loopback not allowed
        result = await send_webhook(channel(receiver.url()), rendered, DIGEST_ID, strict)
    assert not result.ok and not result.permanent
    assert receiver.hits == []
    assert "T0KEN" not in result.detail  # the URL's secret part stays out of logs


async def test_deliver_dispatches_on_kind(
    receiver: Receiver, fetcher: Fetcher, rendered: RenderedDigest, tmp_path: Any
) -> None:
    result = await deliver(
        "hook", channel(receiver.url()), rendered, DIGEST_ID, state_dir=tmp_path, fetcher=fetcher
    )
    assert result.ok and result.channel == "hook"
    assert receiver.hits[0].verified == rendered.payload


# --- chat formats --------------------------------------------------------------------------------

HOSTILE_TITLE = "<!channel> [Verify](javascript:alert(1)) <@U024BE7LH> & {{DATE(2026-01-01)}}"


def chat_digest() -> Digest:
    m = Match(
        id=43,
        topic="treaty",
        score=3.0,
        evidence=Evidence(("Beistandsvertrag",), "Beistandsvertrag", "Der Beistandsvertrag.", ()),
        source_key="https://www.dw.com/",
        source_name="DW <!here>",
        title=HOSTILE_TITLE,
        link="https://www.dw.com/x?a=1&b=2",
        text="Der Beistandsvertrag.",
        language="de",
        published=None,
        first_seen=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
    )
    return Digest(
        id=DIGEST_ID,
        channel="chat",
        created=datetime(2026, 11, 22, 6, 30, tzinfo=UTC),
        topics={"treaty": [m]},
        topic_names={"treaty": "Russia–DPRK treaty"},
        language="de",
    )


def chat_channel(url: str, fmt: str) -> WebhookChannel:
    return WebhookChannel(kind="webhook", url=url, format=fmt, timeout=5)  # type: ignore[arg-type]


async def test_slack_message_is_posted_as_rendered(receiver: Receiver, fetcher: Fetcher) -> None:
    rendered = render_digest(chat_digest(), payload=slack_payload)
    for _attempt in range(2):  # a retry sends the same bytes under the same id
        result = await send_webhook(
            chat_channel(receiver.url(), "slack"), rendered, DIGEST_ID, fetcher
        )
        assert result.ok, result.detail
    first, again = receiver.hits
    assert first.body == again.body == encode_payload(rendered.payload)
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == DIGEST_ID
    assert "webhook-signature" not in {k.lower() for k in first.headers}
    body = json.loads(first.body)
    assert set(body) == {"text", "blocks", "unfurl_links", "unfurl_media"}
    section = next(b for b in body["blocks"] if b["type"] == "section")["text"]
    assert section["verbatim"] is True
    assert (
        "*<https://www.dw.com/x?a=1&amp;b=2|&lt;!channel&gt; [Verify](javascript:alert(1)) "
        in (section["text"])
    )
    assert "&lt;@U024BE7LH&gt; &amp; {{DATE(2026-01-01)}}>*" in section["text"]
    assert "DW &lt;!here&gt;" in section["text"]


async def test_teams_message_is_posted_as_rendered(receiver: Receiver, fetcher: Fetcher) -> None:
    rendered = render_digest(chat_digest(), payload=teams_payload)
    result = await send_webhook(
        chat_channel(receiver.url(), "teams"), rendered, DIGEST_ID, fetcher, channel_name="chat"
    )
    assert result.ok and result.channel == "chat"
    [hit] = receiver.hits
    assert hit.headers["content-type"] == "application/json"
    body = json.loads(hit.body)
    assert body == rendered.payload
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    texts = [block["text"] for block in attachment["content"]["body"]]
    [title] = [t for t in texts if "www.dw.com" in t]
    # One link, ours; the brackets and braces of the hostile title cannot form markdown.
    assert title.startswith("[<\u200b!channel> \uff3bVerify\uff3d(javascript:alert(1))")
    assert title.endswith("](https://www.dw.com/x?a=1&b=2)")
    assert title.count("](") == 1 and "{{" not in title


async def test_chat_channel_refuses_a_standard_payload(
    receiver: Receiver, fetcher: Fetcher, rendered: RenderedDigest
) -> None:
    # A digest queued before the channel switched to Slack: Slack could not read it.
    result = await send_webhook(chat_channel(receiver.url(), "slack"), rendered, DIGEST_ID, fetcher)
    assert not result.ok and not result.permanent
    assert "standard payload but the channel's format is 'slack'" in result.detail
    assert receiver.hits == []
    teams = render_digest(chat_digest(), payload=teams_payload)
    wrong = await send_webhook(channel(receiver.url()), teams, DIGEST_ID, fetcher)
    assert not wrong.ok and "teams payload but the channel's format is 'standard'" in wrong.detail
    assert receiver.hits == []


async def test_chat_errors_point_at_the_url_not_the_secret(
    receiver: Receiver, fetcher: Fetcher
) -> None:
    receiver.script = [(403, {}), (404, {})]
    rendered = render_digest(chat_digest(), payload=slack_payload)
    chan = chat_channel(receiver.url(), "slack")
    refused = await send_webhook(chan, rendered, DIGEST_ID, fetcher)
    assert "HTTP 403" in refused.detail and "check `url`" in refused.detail
    assert "secret" not in refused.detail
    missing = await send_webhook(chan, rendered, DIGEST_ID, fetcher)
    assert "HTTP 404" in missing.detail and "does not know this webhook" in missing.detail
