"""Email delivery: a multipart/alternative message (text first, then HTML) sent with aiosmtplib.

The SMTP host passes the same address gate as every other destination: it is resolved through
`Gate.connect`, every address is checked, and aiosmtplib is handed a socket already connected to
a checked address, with the configured host name kept for TLS (SNI and the certificate check,
for implicit TLS and STARTTLS alike). Every failure becomes a `Delivery` with one line a
maintainer can act on; nothing here raises.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import socket
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import TYPE_CHECKING

import aiosmtplib

from monitor.config_parts import ConfigError, secret_from_env
from monitor.fetch.guard import AddressRefused, Gate, Unresolved
from monitor.gate import LOCAL_RELAY_NETWORKS, describe_address
from monitor.logs import one_line
from monitor.models import Delivery, RenderedDigest

if TYPE_CHECKING:
    from monitor.channels.email import EmailChannel

_SAFE_ID = re.compile(r"[A-Za-z0-9_\-]{1,128}")
_SAFE_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-.]{0,251}[A-Za-z0-9])?")
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
_LIST_LABEL = re.compile(r"[a-z0-9][a-z0-9_\-]{0,62}")
MAX_LIST_ID = 255  # RFC 2919: the part between the angle brackets


def _id_part(digest_id: str) -> str:
    # Our ids are "dg_<hex>"; anything else is hashed so the Message-ID stays valid and stable.
    if _SAFE_ID.fullmatch(digest_id):
        return digest_id
    return hashlib.sha256(digest_id.encode()).hexdigest()[:32]


def _domain(address: str) -> str:
    domain = address.rpartition("@")[2]
    return domain if _SAFE_DOMAIN.fullmatch(domain) else "source-monitor.invalid"


def message_id(digest_id: str, sender: str) -> str:
    """The Message-ID for a digest: the same on every retry, so clients can drop duplicates."""
    return f"<{_id_part(digest_id)}.source-monitor@{_domain(sender)}>"


def list_id(channel_name: str, sender: str) -> str:
    """The List-Id header: one list per channel, so recipients can filter and sort digests.

    RFC 2919 wants the id under a domain the sender controls; the sender's domain is the closest
    thing we know. The same channel and sender always give the same id.
    """
    label = channel_name.lower()
    if not _LIST_LABEL.fullmatch(label):
        label = "channel-" + hashlib.sha256(channel_name.encode()).hexdigest()[:16]
    ident = f"{label}.source-monitor.{_domain(sender).lower()}"
    if len(ident) > MAX_LIST_ID:
        # RFC 2919 names "localhost" for ids that are not under any domain.
        ident = f"{label}.source-monitor.localhost"
    return f"source-monitor digests <{ident}>"


def build_message(
    channel: EmailChannel, rendered: RenderedDigest, digest_id: str, channel_name: str = "email"
) -> EmailMessage:
    """The digest as an EmailMessage: text/plain part first, text/html alternative second."""
    msg = EmailMessage()
    msg["From"] = formataddr(("source-monitor", channel.sender))
    msg["To"] = ", ".join(channel.recipients)
    msg["Subject"] = one_line(rendered.subject, 250)
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id(digest_id, channel.sender)
    # RFC 3834: tells auto-responders (out-of-office replies) not to answer.
    msg["Auto-Submitted"] = "auto-generated"
    # Exchange/Outlook ignore Auto-Submitted for some auto-replies; this header covers them.
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Source-Monitor-Digest"] = one_line(digest_id, 128)
    msg["List-Id"] = list_id(channel_name, channel.sender)
    # No web endpoint to offer an RFC 8058 one-click URL, so a mailto: to the sender only.
    msg["List-Unsubscribe"] = f"<mailto:{channel.sender}?subject=unsubscribe>"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _in_chain(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    visited: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in visited:  # chains can loop
        if isinstance(current, kind):
            return current
        visited.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _explain(exc: Exception, channel: EmailChannel) -> tuple[str, bool]:
    """(one-line reason with a hint, permanent?) for an SMTP failure.

    Only "every recipient refused with a 5xx code" is permanent: the address itself is wrong, and
    sending the same message again cannot succeed. Everything else, including a failed login,
    stays retryable: a login fails until somebody fixes the password, but the digest must still
    go out once they have, so we keep it queued (the outbox retries with back-off) rather than
    drop it.
    """
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        names = ", ".join(
            f"{r.recipient} ({r.code} {one_line(r.message, 80)})" for r in exc.recipients[:5]
        )
        return f"every recipient refused: {names} — check `recipients`", all(
            500 <= c < 600 for c in codes
        )
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return (
            f"login refused ({exc.code} {one_line(exc.message, 120)}) — check `username` and "
            f"the password in ${channel.password_env}",
            False,
        )
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return (
            f"sender {exc.sender} refused ({exc.code} {one_line(exc.message, 120)}) — "
            "check `sender` is an address this account may send as",
            False,
        )
    if isinstance(exc, aiosmtplib.SMTPConnectTimeoutError):
        return (
            f"timed out connecting after {channel.timeout:g} s — check host/port and firewalls",
            False,
        )
    if isinstance(exc, aiosmtplib.SMTPTimeoutError):
        return f"timed out after {channel.timeout:g} s waiting for the server", False
    if cert := _in_chain(exc, ssl.SSLCertVerificationError):
        reason = getattr(cert, "verify_message", None) or str(cert)
        return f"TLS certificate not accepted ({one_line(reason, 120)})", False
    if tls := _in_chain(exc, ssl.SSLError):
        return (
            f"TLS failed ({one_line(getattr(tls, 'reason', None) or tls, 80)}) — use "
            'security = "tls" for port 465 and "starttls" for 587',
            False,
        )
    if _in_chain(exc, ConnectionRefusedError):
        return "connection refused — check host/port or that the server is up", False
    if _in_chain(exc, socket.gaierror):
        return "host name not found — check `host`", False
    if isinstance(exc, aiosmtplib.SMTPConnectError):
        return (
            f"cannot connect ({one_line(exc.message, 120)}) — check host/port or that the "
            "server is up",
            False,
        )
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return (
            f"{one_line(exc.message, 120)} — check `security` (the server may not offer "
            "STARTTLS or login on this port)",
            False,
        )
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return "the server closed the connection unexpectedly", False
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"the server said {exc.code} {one_line(exc.message, 160)}", False
    if isinstance(exc, aiosmtplib.SMTPException):
        return one_line(exc.message, 200), False
    return f"{type(exc).__name__}: {one_line(exc, 200)}", False


def _refused(exc: AddressRefused, gate: Gate, channel_name: str) -> str:
    """The one line for an SMTP host the gate refused, with the setting that would allow it."""
    try:
        relay_ok = describe_address(exc.address, [*gate.allow, *LOCAL_RELAY_NETWORKS]) is None
    except ValueError:  # not an address at all: no setting makes it one
        relay_ok = False
    if relay_ok:
        hint = f"set allow_private = true in [channels.{channel_name}] to allow a local relay"
    else:
        hint = (
            "allow_private does not cover this address; list its network in [http] "
            "allow_networks only if it really is your relay"
        )
    return one_line(f"email channel {channel_name}: {exc}; refused ({hint})", 300)


async def send_email(
    channel: EmailChannel,
    rendered: RenderedDigest,
    digest_id: str,
    *,
    channel_name: str = "email",
    gate: Gate | None = None,
) -> Delivery:
    """Send one digest; never raises. A retry builds the same Message-ID.

    `gate` is the daemon's address gate (the fetcher's, with `[http] allow_networks`); without
    one, the default rules apply. `allow_private = true` on the channel widens it for this
    channel's host alone.
    """
    where = f"SMTP {channel.host}:{channel.port}"
    gate = gate or Gate()

    def failed(reason: str, permanent: bool = False) -> Delivery:
        return Delivery(digest_id, channel_name, False, f"{where}: {reason}", permanent)

    try:
        password = secret_from_env(channel.password_env, "password_env")
    except (ConfigError, OSError) as exc:
        detail = exc.issues[0].message if isinstance(exc, ConfigError) else str(exc)
        return failed(f"cannot read the password: {one_line(detail, 200)}")
    if password and not channel.username:
        return failed("password_env is set but `username` is not")
    if channel.username and password is None:
        return failed("`username` is set but `password_env` is not")
    if password and channel.security == "none" and not _is_loopback(channel.host):
        # A password sent over plain SMTP can be read by anyone on the path.
        return failed(
            'refusing to send the password unencrypted; use security = "starttls" or "tls"'
        )

    message = build_message(channel, rendered, digest_id, channel_name)
    # The opt-in widens the gate for this channel's host alone.
    relay_gate = gate.widened(LOCAL_RELAY_NETWORKS) if channel.allow_private else gate
    try:
        async with asyncio.timeout(channel.timeout):
            sock = await relay_gate.connect(channel.host, channel.port)
    except AddressRefused as exc:
        # Nothing was sent; like any failure the digest stays queued, so it goes out once
        # the setting is fixed.
        return Delivery(digest_id, channel_name, False, _refused(exc, gate, channel_name))
    except Unresolved:
        return failed("host name not found — check `host`")
    except TimeoutError:
        return failed(
            f"timed out connecting after {channel.timeout:g} s — check host/port and firewalls"
        )
    except ConnectionRefusedError:
        return failed("connection refused — check host/port or that the server is up")
    except OSError as exc:
        return failed(
            f"cannot connect ({one_line(exc.strerror or exc, 120)}) — check host/port or "
            "that the server is up"
        )
    try:
        refused, _reply = await aiosmtplib.send(
            message,
            sender=channel.sender,
            recipients=channel.recipients,
            # The name as configured, not the address connected to: aiosmtplib sends it as SNI
            # and checks the certificate against it, for implicit TLS and STARTTLS.
            hostname=channel.host.strip("[]"),
            port=None,
            sock=sock,  # aiosmtplib owns it from here and closes it
            username=channel.username if password else None,
            password=password,
            use_tls=channel.security == "tls",
            # Explicit False for "none": aiosmtplib's default would try STARTTLS when offered.
            start_tls=channel.security == "starttls",
            timeout=channel.timeout,
        )
    except Exception as exc:  # aiosmtplib, ssl and socket errors; all become one line
        sock.close()  # in case aiosmtplib failed before taking it over; closing twice is safe
        reason, permanent = _explain(exc, channel)
        return failed(reason, permanent)
    accepted = ", ".join(r for r in channel.recipients if r not in refused)
    if refused:
        # Some recipients got it, so this counts as sent: a retry would send them a duplicate.
        bad = ", ".join(f"{addr} ({resp.code})" for addr, resp in refused.items())
        return Delivery(
            digest_id, channel_name, True, f"{where}: sent to {accepted}; refused: {bad}"
        )
    return Delivery(digest_id, channel_name, True, f"{where}: sent to {accepted}")
