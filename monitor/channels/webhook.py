"""The webhook channel: the digest POSTed as JSON, signed per Standard Webhooks, in one of its
formats: ``standard`` (the versioned payload), ``slack`` or ``teams`` (a chat message, built by
`monitor.notify.slack` / `.teams`). The HTTP side is `monitor.notify.webhook`."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from monitor.channels.base import ChannelConfig, SendContext
from monitor.config_parts import check_http_url, check_secret_url, secret_from_env

if TYPE_CHECKING:
    from monitor.digest.render import PayloadBuilder
    from monitor.models import Delivery, RenderedDigest

KIND = "webhook"
# A size limit may leave matches out of the payload; they wait for the next digest.
PAYLOAD_ONLY = True

WebhookFormat = Literal["standard", "slack", "teams"]


class WebhookChannel(ChannelConfig):
    kind: Literal["webhook"]
    url: str | None = None
    url_env: str | None = Field(
        None, description="env var holding the URL, for URLs that are secrets (Slack, Teams)"
    )
    secret_env: str | None = Field(None, description="env var holding the whsec_ signing secret")
    format: WebhookFormat = Field(
        "standard", description="standard: signed JSON digest; slack/teams: a chat message"
    )
    timeout: float = Field(15.0, gt=0)

    secret_keys: ClassVar[tuple[str, ...]] = ("secret_env", "url_env")

    @field_validator("url")
    @classmethod
    def _url_syntax(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookChannel:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("set exactly one of url and url_env")
        return self

    def target(self) -> str:
        """The URL to post to: from the config, or from the environment variable it names."""
        if self.url is not None:
            return self.url
        return check_secret_url(secret_from_env(self.url_env, "url_env") or "")


Config = WebhookChannel


def payload_builder(config: WebhookChannel) -> PayloadBuilder | None:
    """Chat formats store the chat message itself, so a retry re-sends exactly those bytes."""
    # Loaded when a digest is first rendered, not when the config is read.
    if config.format == "slack":
        from monitor.notify.slack import slack_payload

        return slack_payload
    if config.format == "teams":
        from monitor.notify.teams import teams_payload

        return teams_payload
    return None


async def send(
    config: WebhookChannel, rendered: RenderedDigest, digest_id: str, ctx: SendContext
) -> Delivery:
    from monitor.notify.webhook import send_webhook

    return await send_webhook(
        config, rendered, digest_id, ctx.fetcher, channel_name=ctx.channel_name
    )
