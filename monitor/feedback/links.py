"""Signed feedback links: `<public_url>/fb/<token>`, where the token names one item, one topic
and one action, and carries its expiry time and an HMAC-SHA256 over all of them.

The key is never in the link; only what the link does is (item, topic, action, expiry), so a
link can neither be forged nor turned into one for another item, topic or action. A link is a
credential to *ask* for one action: opening it (GET) changes nothing; its page posts it back.
The same key also derives the CSRF tokens of the authenticated pages (`csrf_token`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from monitor.config_parts import secret_from_env

if TYPE_CHECKING:
    from monitor.config import Config


Action = Literal["not_relevant", "mute"]
ACTIONS: tuple[Action, ...] = ("not_relevant", "mute")
KEY_FILE = "feedback.key"
_CONTEXT = b"source-monitor feedback link v1\x00"


class BadLink(ValueError):
    """A feedback token that is damaged, forged, or expired (the message says which)."""


@dataclass(frozen=True, slots=True)
class LinkClaim:
    """What a valid link asks for."""

    item_id: int
    topic: str
    action: Action
    expires: datetime


def load_key(state_dir: Path, secret: str | None = None) -> bytes:
    """The signing key: derived from a configured secret, else the one kept in
    state/feedback.key (created on first use, readable by this user only)."""
    if secret:
        return hashlib.sha256(b"source-monitor feedback key\x00" + secret.encode()).digest()
    path = state_dir / KEY_FILE
    try:
        # O_EXCL: of two processes starting at once, one writes the key and both read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
            handle.flush()
            os.fsync(handle.fileno())
    key = path.read_bytes()
    if len(key) < 32:
        raise BadLink(f"{path} is not a feedback key (too short); delete it to make a new one")
    return key[:32]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    """Makes and checks feedback link tokens with one key."""

    def __init__(self, key: bytes, days: int = 14) -> None:
        self._key = key
        self.lifetime = timedelta(days=days)

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, _CONTEXT + body, hashlib.sha256).digest()

    def token(self, item_id: int, topic: str, action: Action, now: datetime) -> str:
        expires = int((now + self.lifetime).timestamp())
        body = json.dumps([item_id, topic, action, expires], separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def check(self, token: str, now: datetime) -> LinkClaim:
        """What the token asks for; BadLink if it was not made with this key or has expired."""
        body_text, _, mac_text = token.partition(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except (binascii.Error, ValueError):
            raise BadLink("this feedback link is damaged") from None
        if not hmac.compare_digest(mac, self._mac(body)):
            raise BadLink("this feedback link is not valid (damaged, or not made here)")
        item_id, topic, action, expires = json.loads(body)
        when = datetime.fromtimestamp(expires, UTC)
        if now >= when:
            raise BadLink(f"this feedback link expired on {when:%Y-%m-%d}; use the inbox instead")
        return LinkClaim(int(item_id), str(topic), action, when)

    def csrf_token(self, credential: str) -> str:
        """The CSRF token of an authenticated form: bound to the credential that loaded it."""
        mac = hmac.new(self._key, b"csrf\x00" + credential.encode(), hashlib.sha256).digest()
        return _b64(mac)

    def csrf_ok(self, credential: str, given: str) -> bool:
        return hmac.compare_digest(self.csrf_token(credential).encode(), given.encode())


class Links:
    """The feedback URLs of a digest's items, under the server's public address."""

    def __init__(self, signer: LinkSigner, base_url: str, now: datetime) -> None:
        self.signer, self.base, self.now = signer, base_url.rstrip("/"), now

    def __call__(self, item_id: int, topic: str) -> dict[str, str]:
        return {
            action: f"{self.base}/fb/{self.signer.token(item_id, topic, action, self.now)}"
            for action in ACTIONS
        }


def signer_for(config: Config) -> LinkSigner:
    """The link signer of a configuration: its secret (`[web] link_secret_env`) or the key in
    its state folder, and its link lifetime (`[web] link_days`)."""
    secret = secret_from_env(config.web.link_secret_env, "web.link_secret_env")
    return LinkSigner(load_key(config.state_dir, secret), config.web.link_days)


def links_for(config: Config, now: datetime) -> Links | None:
    """The feedback links of digests made now; None without `[web] public_url` (a link
    needs an address the reader's browser can reach)."""
    if not config.web.public_url:
        return None
    return Links(signer_for(config), config.web.public_url, now)
