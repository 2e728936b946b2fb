"""Email delivery against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.config import EmailChannel
from monitor.digest.render import render_digest
from monitor.models import Digest, Evidence, Match, RenderedDigest
from monitor.notify.email import build_message, list_id, message_id, send_email
from tests.hostile_server import make_certificate

SENDER = "monitor@example.org"
RECIPIENTS = ["analyst@example.org", "desk@example.org"]
DIGEST_ID = "dg_5f1c0ffee"


def free_port() -> int:
    # aiosmtpd's Controller cannot report the port it got for port=0, so ask the OS first.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """SMTP handler: keeps every message; answers DATA and RCPT from scripted replies."""

    def __init__(self, data_replies: list[str] | None = None, refuse_rcpt: str | None = None):
        self.data_replies = list(data_replies or [])
        self.refuse_rcpt = refuse_rcpt
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return self.data_replies.pop(0) if self.data_replies else "250 Message accepted"


def start(handler: Recorder, **kwargs: Any) -> Iterator[Controller]:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder) -> Iterator[Controller]:
    yield from start(recorder)


def channel(port: int, **kw: Any) -> EmailChannel:
    values: dict[str, Any] = {
        "kind": "email",
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": SENDER,
        "recipients": RECIPIENTS,
        "timeout": 5,
        # aiosmtpd listens on 127.0.0.1: the gate refuses loopback unless the channel opts in.
        "allow_private": True,
    }
    values.update(kw)
    return EmailChannel(**values)


@pytest.fixture
def rendered() -> RenderedDigest:
    snippet = "Nordkoreanische Soldaten sind in Kursk <b>eingetroffen</b>."
    m = Match(
        id=1,
        topic="troop_deployment",
        score=2.0,
        evidence=Evidence(("Kursk",), "Kursk", snippet, ((33, 38),)),
        source_key="https://news.example.org/",
        source_name="Example News",
        title="Soldaten in Kursk",
        link="https://news.example.org/a.html",
        text=snippet,
        language="de",
        published=None,
        first_seen=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
    )
    digest = Digest(
        id=DIGEST_ID,
        channel="mail",
        created=datetime(2026, 11, 22, 6, 30, tzinfo=UTC),
        topics={"troop_deployment": [m]},
        topic_names={"troop_deployment": "Truppen"},
        language="de",
    )
    return render_digest(digest)


async def test_message_arrives_as_text_then_html(
    server: Controller, recorder: Recorder, rendered: RenderedDigest
) -> None:
    delivery = await send_email(channel(server.port), rendered, DIGEST_ID, channel_name="mail")
    assert delivery.ok, delivery.detail
    assert (delivery.digest_id, delivery.channel) == (DIGEST_ID, "mail")
    assert delivery.detail == f"SMTP 127.0.0.1:{server.port}: sent to {', '.join(RECIPIENTS)}"
    [(mail_from, rcpt_tos, msg)] = recorder.received
    assert (mail_from, rcpt_tos) == (SENDER, RECIPIENTS)

    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    # SMTP carries CRLF line ends; compare the text as the reader sees it.
    text = parts[0].get_content().replace("\r\n", "\n")
    html = parts[1].get_content()
    assert text.rstrip("\n") == rendered.text.rstrip("\n")
    assert "1 neuer Treffer" in text and "«Kursk»" in text and "<b>eingetroffen</b>" in text
    assert "<style" not in html and 'style="' in html
    assert "&lt;b&gt;eingetroffen&lt;/b&gt;" in html
    assert '<a href="https://news.example.org/a.html"' in html

    assert msg["Subject"] == rendered.subject
    assert msg["From"].addresses[0].addr_spec == SENDER
    assert [a.addr_spec for a in msg["To"].addresses] == RECIPIENTS
    assert (
        msg["Message-ID"]
        == message_id(DIGEST_ID, SENDER)
        == (f"<{DIGEST_ID}.source-monitor@example.org>")
    )
    assert abs((parsedate_to_datetime(msg["Date"]) - datetime.now(UTC)).total_seconds()) < 60
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Source-Monitor-Digest"] == DIGEST_ID
    assert msg["List-Unsubscribe"] == f"<mailto:{SENDER}?subject=unsubscribe>"
    assert msg["List-Id"] == "source-monitor digests <mail.source-monitor.example.org>"


def test_message_id_is_stable_per_digest(rendered: RenderedDigest) -> None:
    first = build_message(channel(25), rendered, DIGEST_ID)
    again = build_message(channel(25), rendered, DIGEST_ID)
    other = build_message(channel(25), rendered, "dg_other")
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]
    odd = build_message(channel(25), rendered, "weird id <with> @ signs")
    assert odd["Message-ID"].count("@") == 1 and " " not in odd["Message-ID"]


async def test_dead_port_gives_one_clear_line(rendered: RenderedDigest) -> None:
    port = free_port()  # nothing listens there
    delivery = await send_email(channel(port), rendered, DIGEST_ID)
    assert not delivery.ok and not delivery.permanent
    assert delivery.detail == (
        f"SMTP 127.0.0.1:{port}: connection refused — check host/port or that the server is up"
    )


async def test_temporary_refusal_then_success_keeps_message_id(rendered: RenderedDigest) -> None:
    recorder = Recorder(data_replies=["451 4.3.0 try again later"])
    for controller in start(recorder):
        first = await send_email(channel(controller.port), rendered, DIGEST_ID)
        assert not first.ok and not first.permanent
        assert first.detail == (
            f"SMTP 127.0.0.1:{controller.port}: the server said 451 4.3.0 try again later"
        )
        second = await send_email(channel(controller.port), rendered, DIGEST_ID)
        assert second.ok, second.detail
    ids = [msg["Message-ID"] for _, _, msg in recorder.received]
    assert len(ids) == 2 and ids[0] == ids[1]


async def test_every_recipient_refused_is_permanent(rendered: RenderedDigest) -> None:
    recorder = Recorder(refuse_rcpt="550 5.1.1 no such user")
    for controller in start(recorder):
        delivery = await send_email(channel(controller.port), rendered, DIGEST_ID)
    assert not delivery.ok and delivery.permanent
    assert "every recipient refused: analyst@example.org (550 5.1.1 no such user)" in (
        delivery.detail
    )
    assert recorder.received == []


async def test_temporarily_refused_recipients_stay_retryable(rendered: RenderedDigest) -> None:
    recorder = Recorder(refuse_rcpt="450 4.2.1 mailbox busy")
    for controller in start(recorder):
        delivery = await send_email(channel(controller.port), rendered, DIGEST_ID)
    assert not delivery.ok and not delivery.permanent


class Login:
    """aiosmtpd authenticator accepting exactly one user and password."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        def text(value: str | bytes) -> str:
            return value.decode() if isinstance(value, bytes) else value

        ok = isinstance(auth_data, LoginPassword) and (
            (text(auth_data.login), text(auth_data.password)) == (self.user, self.password)
        )
        # handled=False makes aiosmtpd answer the failure with 535 itself.
        return AuthResult(success=ok, handled=False)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_login_uses_the_password_from_the_environment(
    rendered: RenderedDigest, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    # Plain SMTP is allowed to carry a password only to loopback; this server is on 127.0.0.1.
    for controller in start(
        recorder,
        authenticator=Login("monitor", "s3cret"),
        auth_required=True,
        auth_require_tls=False,
    ):
        chan = channel(controller.port, username="monitor", password_env="TEST_SMTP_PASSWORD")
        monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
        missing = await send_email(chan, rendered, DIGEST_ID)
        assert not missing.ok
        assert "cannot read the password" in missing.detail
        assert "TEST_SMTP_PASSWORD" in missing.detail and "not set" in missing.detail

        monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
        wrong = await send_email(chan, rendered, DIGEST_ID)
        assert not wrong.ok and not wrong.permanent  # kept until someone fixes the password
        assert "login refused (535" in wrong.detail and "TEST_SMTP_PASSWORD" in wrong.detail
        assert "wrong" not in wrong.detail

        monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
        right = await send_email(chan, rendered, DIGEST_ID)
        assert right.ok, right.detail
    assert len(recorder.received) == 1


async def test_no_password_over_plain_smtp_to_a_remote_host(
    rendered: RenderedDigest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    chan = channel(25, host="192.0.2.10", username="monitor", password_env="TEST_SMTP_PASSWORD")
    delivery = await send_email(chan, rendered, DIGEST_ID)
    assert not delivery.ok
    assert "refusing to send the password unencrypted" in delivery.detail


async def test_implicit_tls_against_a_plain_server(
    server: Controller, rendered: RenderedDigest
) -> None:
    delivery = await send_email(channel(server.port, security="tls"), rendered, DIGEST_ID)
    assert not delivery.ok
    assert delivery.detail.startswith(f"SMTP 127.0.0.1:{server.port}: TLS failed")
    assert "\n" not in delivery.detail


@pytest.fixture
def self_signed(tmp_path: Path) -> ssl.SSLContext:
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_starttls_checks_the_certificate(
    self_signed: ssl.SSLContext, rendered: RenderedDigest
) -> None:
    recorder = Recorder()
    for controller in start(recorder, tls_context=self_signed, require_starttls=True):
        delivery = await send_email(
            channel(controller.port, security="starttls"), rendered, DIGEST_ID
        )
    assert not delivery.ok and not delivery.permanent
    assert "TLS certificate not accepted" in delivery.detail
    assert recorder.received == []


@pytest.mark.parametrize("security", ["starttls", "tls"])
@pytest.mark.parametrize(("cert_name", "ok"), [("localhost", True), ("other.test", False)])
async def test_tls_checks_the_certificate_against_the_configured_name(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rendered: RenderedDigest,
    security: str,
    cert_name: str,
    ok: bool,
) -> None:
    """The gate connects to the address it checked, yet TLS still checks the host name of the
    config: sent as SNI, and the certificate must be for it (STARTTLS and implicit TLS)."""
    made = make_certificate(tmp_path, cert_name)
    if made is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = made
    # aiosmtplib trusts the system's certificate store; point it at this certificate alone.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    names: list[str | None] = []
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)
    served.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,misc,return-value]
    options: dict[str, Any] = (
        {"tls_context": served, "require_starttls": True}
        if security == "starttls"
        else {"ssl_context": served}
    )
    recorder = Recorder()
    for controller in start(recorder, **options):
        names.clear()  # the controller's own readiness probe connects without SNI
        chan = channel(controller.port, host="localhost", security=security)
        delivery = await send_email(chan, rendered, DIGEST_ID)
    if ok:
        assert delivery.ok, delivery.detail
        assert len(recorder.received) == 1
    else:
        assert not delivery.ok and not delivery.permanent
        assert "TLS certificate not accepted" in delivery.detail
        assert "mismatch" in delivery.detail and "localhost" in delivery.detail
        assert recorder.received == []
    assert names == ["localhost"]


def test_list_id_is_per_channel_and_stable(rendered: RenderedDigest) -> None:
    daily = build_message(channel(25), rendered, DIGEST_ID, "analysts_daily")
    retry = build_message(channel(25), rendered, "dg_other", "analysts_daily")
    other = build_message(channel(25), rendered, DIGEST_ID, "desk")
    assert daily["List-Id"] == "source-monitor digests <analysts_daily.source-monitor.example.org>"
    assert daily["List-Id"] == retry["List-Id"] != other["List-Id"]


@pytest.mark.parametrize(
    ("name", "sender"),
    [
        ("Bad Name <x@y>", SENDER),
        ("mail", "monitor@" + "sub." * 60 + "example.org"),
        ("mail", "monitor@bad domain>"),
    ],
)
def test_list_id_stays_valid_for_odd_input(name: str, sender: str) -> None:
    value = list_id(name, sender)
    phrase, _, rest = value.partition(" <")
    ident = rest.removesuffix(">")
    assert phrase == "source-monitor digests" and rest.endswith(">")
    assert len(ident) <= 255 and " " not in ident and "<" not in ident and ">" not in ident
    assert ".source-monitor." in ident
    assert list_id(name, sender) == value
