"""The file channel: each digest written as .txt, .html and .json under the state folder
(the writing itself is `monitor.notify.files`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from monitor.channels.base import ChannelConfig, SendContext
from monitor.config_parts import folder_name

if TYPE_CHECKING:
    from monitor.digest.render import PayloadBuilder
    from monitor.models import Delivery, RenderedDigest

KIND = "file"
PAYLOAD_ONLY = False


class FileChannel(ChannelConfig):
    kind: Literal["file"]
    path: str = Field("digests", description="folder, relative to the state folder")

    @field_validator("path")
    @classmethod
    def _inside_state(cls, value: str) -> str:
        folder_name(value)
        parts = Path(value).parts
        if not parts or Path(value).is_absolute() or ".." in parts:
            raise ValueError(f'{value!r} must be a folder inside the state folder, like "digests"')
        return value


Config = FileChannel


def payload_builder(config: FileChannel) -> PayloadBuilder | None:
    """The .json file holds the standard payload."""
    return None


async def send(
    config: FileChannel, rendered: RenderedDigest, digest_id: str, ctx: SendContext
) -> Delivery:
    # Loaded at the first delivery, not when the config is read (see `monitor.channels`).
    import asyncio

    from monitor.notify.files import write_digest

    # fsync can take a while on a busy disk; keep it off the event loop.
    return await asyncio.to_thread(
        write_digest, config, rendered, digest_id, ctx.state_dir, channel_name=ctx.channel_name
    )
