"""What every channel kind shares: the settings common to all channels and the protocol a
channel module implements (see `monitor.channels` for the registry and
docs/adding-a-channel.md for a worked example).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from monitor.config_parts import Duration, Strict

if TYPE_CHECKING:
    from monitor.digest.render import PayloadBuilder
    from monitor.fetch.client import Fetcher
    from monitor.models import Delivery, RenderedDigest


class ChannelConfig(Strict):
    """Settings every channel has: which topics, when, in which language. A channel kind
    subclasses it, adds ``kind: Literal["<its kind>"]`` and its own keys."""

    enabled: bool = True
    topics: list[str] = Field(default_factory=list, description="empty: every topic")
    schedule: str = Field("30 7 * * *", description="crontab: minute hour day month weekday")
    timezone: str = "UTC"
    min_score: float = Field(0.0, ge=0)
    alerts: bool = Field(False, description="also send urgent topics at once")
    alert_min_interval: Duration = Field(600, description="at most one alert per this interval")
    language: Literal["en", "de"] = "en"
    send_empty: bool = Field(True, description="send a digest saying nothing matched")
    give_up_after: Duration = Field(
        3 * 86400, description="a digest still undelivered after this is declared dead"
    )

    # Keys naming environment variables that must be set for this channel to deliver;
    # `monitor check` and the daemon's start look them up before the first delivery.
    secret_keys: ClassVar[tuple[str, ...]] = ()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"unknown time zone {value!r}; use a name like Europe/Berlin"
            raise ValueError(msg) from None
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        # An expression accepted before is not judged again (`monitor.config_memo`).
        from monitor.config_memo import judged

        try:
            return judged("schedule", value, _crontab)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a crontab expression ({exc})") from None

    def gate_opt_in(self, name: str) -> str | None:
        """A line for the log if this channel lets the daemon reach addresses the gate refuses
        by default (see `monitor.config.gate_opt_ins`); None for most channels."""
        return None


def _crontab(value: str) -> str:
    """`value` if apscheduler reads it as a crontab expression; ValueError otherwise."""
    from monitor.schedule import cron_trigger

    cron_trigger(value)
    return value


@dataclass(frozen=True)
class SendContext:
    """What a channel may use to deliver: its name (for messages), the state folder and the
    one fetcher (every outbound connection passes its gate)."""

    channel_name: str
    state_dir: Path
    fetcher: Fetcher


class ChannelKind(Protocol):
    """A channel module: ``KIND`` (its ``kind = "…"`` in config.toml), ``Config`` (its pydantic
    model) and two functions.

    ``payload_builder(config)``: what builds the JSON body the outbox stores with each digest
    (see `monitor.digest.render.PayloadBuilder`), or None for the standard payload
    (`monitor.digest.payload`). What is stored is what every retry sends.
    ``send(config, rendered, digest_id, ctx)``: deliver once; never raise, return a `Delivery`
    whose ``permanent`` says that retrying cannot help.
    """

    KIND: str
    Config: type[ChannelConfig]
    # True: a size limit may leave matches out of the stored payload; those not carried wait for
    # the channel's next digest rather than being claimed by this one.
    PAYLOAD_ONLY: bool

    def payload_builder(self, config: Any) -> PayloadBuilder | None: ...

    async def send(
        self, config: Any, rendered: RenderedDigest, digest_id: str, ctx: SendContext
    ) -> Delivery: ...
