"""Digests: select and rank matches per channel (build), then render them (render)."""

from monitor.digest.build import build_digest, channel_topics

__all__ = ["build_digest", "channel_topics"]
