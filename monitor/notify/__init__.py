"""Delivery of rendered digests to a channel: files, email or a signed webhook."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.config import EmailChannel, FileChannel, WebhookChannel
from monitor.models import Delivery, RenderedDigest
from monitor.notify.email import send_email
from monitor.notify.files import write_digest
from monitor.notify.webhook import send_webhook

if TYPE_CHECKING:
    from monitor.fetch.client import Fetcher

__all__ = ["deliver", "send_email", "send_webhook", "write_digest"]

log = logging.getLogger(__name__)


async def deliver(
    channel_name: str,
    channel: FileChannel | EmailChannel | WebhookChannel,
    rendered: RenderedDigest,
    digest_id: str,
    *,
    state_dir: Path,
    fetcher: Fetcher,
) -> Delivery:
    """Send one rendered digest to one channel; the result says whether and why it failed."""
    try:
        if channel.kind == "file":
            # fsync can take a while on a busy disk; keep it off the event loop.
            return await asyncio.to_thread(
                write_digest, channel, rendered, digest_id, state_dir, channel_name=channel_name
            )
        if channel.kind == "email":
            return await send_email(
                channel, rendered, digest_id, channel_name=channel_name, gate=fetcher.gate
            )
        if channel.kind == "webhook":
            return await send_webhook(
                channel, rendered, digest_id, fetcher, channel_name=channel_name
            )
    except Exception as exc:
        # A bug in one sender must not stop the other channels; the digest stays queued.
        log.exception("delivering digest %s to channel %s failed", digest_id, channel_name)
        return Delivery(
            digest_id, channel_name, False, f"internal error: {type(exc).__name__}: {exc}"
        )
    return Delivery(
        digest_id, channel_name, False, f"unknown channel kind {channel.kind!r}", permanent=True
    )
