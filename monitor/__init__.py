"""source-monitor: watch feeds, pages and cited sources; deliver topic digests."""

__version__ = "0.1.0"
