"""One digest to one channel, through the module of the channel's kind (see `monitor.channels`):
files, email, a signed webhook or a chat message."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.channels import CHANNELS, ChannelConfig, SendContext
from monitor.models import Delivery, RenderedDigest

if TYPE_CHECKING:
    from monitor.fetch.client import Fetcher

__all__ = ["deliver"]

log = logging.getLogger(__name__)


async def deliver(
    channel_name: str,
    channel: ChannelConfig,
    rendered: RenderedDigest,
    digest_id: str,
    *,
    state_dir: Path,
    fetcher: Fetcher,
) -> Delivery:
    """Send one rendered digest to one channel; the result says whether and why it failed."""
    kind = getattr(channel, "kind", None)
    module = CHANNELS.get(kind) if isinstance(kind, str) else None
    if module is None:
        return Delivery(
            digest_id, channel_name, False, f"unknown channel kind {kind!r}", permanent=True
        )
    try:
        return await module.send(
            channel, rendered, digest_id, SendContext(channel_name, state_dir, fetcher)
        )
    except Exception as exc:
        # A bug in one sender must not stop the other channels; the digest stays queued.
        log.exception("delivering digest %s to channel %s failed", digest_id, channel_name)
        return Delivery(
            digest_id, channel_name, False, f"internal error: {type(exc).__name__}: {exc}"
        )
