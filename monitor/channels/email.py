"""The email channel: a multipart text+HTML message over SMTP, through the address gate (the
SMTP client is `monitor.notify.email`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, field_validator

from monitor.channels.base import ChannelConfig, SendContext

if TYPE_CHECKING:
    from monitor.digest.render import PayloadBuilder
    from monitor.models import Delivery, RenderedDigest

KIND = "email"
PAYLOAD_ONLY = False


class EmailChannel(ChannelConfig):
    kind: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    sender: str
    recipients: list[str] = Field(min_length=1)
    timeout: float = Field(30.0, gt=0)
    allow_private: bool = Field(
        False, description="the host may be a local relay: loopback or a private network"
    )

    secret_keys: ClassVar[tuple[str, ...]] = ("password_env",)

    @field_validator("sender", "recipients")
    @classmethod
    def _addresses(cls, value: str | list[str]) -> str | list[str]:
        for addr in [value] if isinstance(value, str) else value:
            if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", addr):
                raise ValueError(f"{addr!r} is not a mail address")
        return value

    def gate_opt_in(self, name: str) -> str | None:
        if not (self.enabled and self.allow_private):
            return None
        return (
            f"email channel {name}: allow_private = true; its SMTP host "
            f"{self.host}:{self.port} may be a local relay on this machine or a "
            "private network"
        )


Config = EmailChannel


def payload_builder(config: EmailChannel) -> PayloadBuilder | None:
    return None


async def send(
    config: EmailChannel, rendered: RenderedDigest, digest_id: str, ctx: SendContext
) -> Delivery:
    # Loaded at the first delivery, not when the config is read (see `monitor.channels`).
    from monitor.notify.email import send_email

    return await send_email(
        config, rendered, digest_id, channel_name=ctx.channel_name, gate=ctx.fetcher.gate
    )
