"""Webhook delivery following Standard Webhooks (https://www.standardwebhooks.com/).

The body is serialised once and those exact bytes are signed and sent. `webhook-id` is the digest
id, the same on every retry, so a receiver can drop duplicates. Requests go through the project's
`Fetcher`, so the SSRF gate applies to webhook URLs as to every other outbound request.

Channels with ``format = "slack"`` or ``"teams"`` get the chat message that the channel's format
(`monitor.notify.slack`, `.teams`) put in the stored payload, posted as is with the same headers
(Slack and Teams ignore them).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from monitor.config_parts import ConfigError, secret_from_env
from monitor.digest.payload import encode_payload
from monitor.fetch.client import FetchError
from monitor.fetch.politeness import parse_retry_after
from monitor.gate import origin
from monitor.logs import one_line
from monitor.models import Delivery, RenderedDigest

if TYPE_CHECKING:
    from monitor.channels.webhook import WebhookChannel, WebhookFormat
    from monitor.fetch.client import Fetcher

SECRET_PREFIX = "whsec_"
_SAFE_ID = re.compile(r"[A-Za-z0-9_\-]{1,128}")
_HINTS = {
    400: "the receiver rejected the payload",
    401: "the receiver did not accept the signature; check the secret in secret_env",
    403: "the receiver did not accept the signature; check the secret in secret_env",
    404: "check `url`",
    413: "the payload is too large for the receiver",
}
# Slack and Teams URLs carry their own token and nothing checks our signature.
_CHAT_HINTS = {
    400: "the chat service rejected the message",
    403: "the chat service refused the message; check `url` (is the webhook still enabled?)",
    404: "the chat service does not know this webhook; check `url`",
}


def _secret_key(secret: str) -> bytes:
    raw = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        # Padding is optional in practice; add what is missing before strict decoding.
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the webhook secret must be whsec_ followed by base64") from None
    if not key:
        raise ValueError("the webhook secret is empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value ("v1,<base64 HMAC-SHA256>") for these exact body bytes."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_id(digest_id: str) -> str:
    """The digest id, or a stable hash of it if it has characters Standard Webhooks forbids."""
    if _SAFE_ID.fullmatch(digest_id):
        return digest_id
    return "msg_" + hashlib.sha256(digest_id.encode()).hexdigest()[:32]


def _header(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if key.lower() == name:
            return value
    return None


def _explain_status(status: int, headers: Any, body: bytes, chat: bool = False) -> tuple[str, bool]:
    """(reason, permanent?) for a non-2xx answer.

    Only 410 Gone is permanent: the receiver has said it wants nothing more. Other 4xx stay
    retryable although they usually need a config change, because the digest must not be lost
    while somebody fixes the receiver or the secret.
    """
    if 300 <= status < 400:
        location = _header(headers, "location") or "?"
        return (
            f"HTTP {status} redirect to {one_line(location, 120)} — redirects are not "
            "followed; put the final URL in `url`",
            False,
        )
    if status == 410:
        return "HTTP 410 Gone — the receiver asked for no more deliveries; fix or disable", True
    if status == 429 or status >= 500:
        wait = parse_retry_after(_header(headers, "retry-after"))
        kind = "rate limited" if status == 429 else "server error"
        when = f"retry after {wait:.0f} s" if wait is not None else "will retry"
        return f"HTTP {status} {kind} — {when}", False
    excerpt = one_line(body[:400].decode("utf-8", "replace"), 120)
    hints = {**_HINTS, **_CHAT_HINTS} if chat else _HINTS
    hint = hints.get(status, "the receiver refused the delivery")
    return f"HTTP {status} — {hint}" + (f" ({excerpt})" if excerpt else ""), False


def payload_format(payload: Any) -> WebhookFormat | None:
    """Which kind of webhook body this is, judged by its shape; None if none of ours."""
    if not isinstance(payload, dict):
        return None
    if payload.get("type") == "message" and isinstance(payload.get("attachments"), list):
        return "teams"
    if isinstance(payload.get("blocks"), list):
        return "slack"
    if payload.get("type") in ("digest.created", "alert.created") and "data" in payload:
        return "standard"
    return None


async def send_webhook(
    channel: WebhookChannel,
    rendered: RenderedDigest,
    digest_id: str,
    fetcher: Fetcher,
    *,
    channel_name: str = "webhook",
) -> Delivery:
    """POST the digest payload, signed if a secret is configured; never raises.

    The stored payload must be of the channel's `format`; a digest queued before the format was
    changed is not sent, rather than posted where it cannot be read. The failure is retryable:
    it goes out if the format is set back before the outbox gives up on it.
    """
    try:
        url = channel.target()
    except (ConfigError, ValueError, OSError) as exc:
        detail = exc.issues[0].message if isinstance(exc, ConfigError) else str(exc)
        return Delivery(
            digest_id, channel_name, False, f"webhook: no URL to post to: {one_line(detail, 160)}"
        )
    where = f"webhook {origin(url)}"

    def failed(reason: str, permanent: bool = False) -> Delivery:
        return Delivery(digest_id, channel_name, False, f"{where}: {reason}", permanent)

    wanted = channel.format
    found = payload_format(rendered.payload)
    if found != wanted:
        return failed(
            f"the queued digest is a {found or 'unrecognised'} payload but the channel's format "
            f"is {wanted!r} — it was probably queued before `format` changed; set the format "
            "back to deliver it"
        )

    try:
        secret = secret_from_env(channel.secret_env, "secret_env")
    except (ConfigError, OSError) as exc:
        detail = exc.issues[0].message if isinstance(exc, ConfigError) else str(exc)
        return failed(f"cannot read the signing secret: {one_line(detail, 160)}")

    body = encode_payload(rendered.payload)
    msg_id = webhook_id(digest_id)
    timestamp = int(time.time())  # of this attempt, as the spec asks; the id stays the same
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
    }
    if secret:
        try:
            headers["webhook-signature"] = sign(secret, msg_id, timestamp, body)
        except ValueError as exc:
            return failed(f"{exc} (from ${channel.secret_env})")

    try:
        response = await fetcher.request(
            "POST", url, content=body, headers=headers, timeout=channel.timeout
        )
    except FetchError as exc:
        # The fetcher's message may repeat the full URL; keep any token in it out of the log.
        reason = one_line(str(exc).replace(url, origin(url)), 200)
        if exc.refused:
            # Retryable like any failure: the digest stays queued until the setting is fixed.
            reason += " — list its network in [http] allow_networks to allow a local receiver"
        return failed(reason)
    except TimeoutError:
        return failed(f"no answer within {channel.timeout:g} s — will retry")

    if 200 <= response.status < 300:
        return Delivery(digest_id, channel_name, True, f"{where}: HTTP {response.status}")
    reason, permanent = _explain_status(
        response.status, response.headers, response.body, chat=wanted != "standard"
    )
    return failed(reason, permanent)
