"""Integration bugs found where this session's merged branches meet (feedback, archive, the
PostgreSQL workers, the first-poll baseline), each with the test that showed it."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from monitor.models import Digest, Match, RenderedDigest
from monitor.store import Store, utcnow


def _render(d: Digest) -> RenderedDigest:
    return RenderedDigest("subject", "text", "<p>html</p>", {"n": 1})


def test_a_period_with_nothing_to_queue_is_not_claimed(tmp_path: Path, pg_url: str) -> None:
    """Worker a's digest job finds only suppressed matches (no digest); worker b, whose poll
    brought real matches, must still make that scheduled time's digest."""
    a = Store(tmp_path / "a", pg_url)
    b = Store(tmp_path / "b", pg_url)
    now = utcnow()
    period = now.replace(second=0, microsecond=0)

    def nothing(found: list[Match]) -> Digest | None:
        return None  # what build_digest answers when feedback suppressed every match

    def something(found: list[Match]) -> Digest | None:
        return Digest(f"dg_{time.monotonic_ns()}", "hook", utcnow(), {}, {})

    def select(conn: object = None) -> list[Match]:
        return []

    try:
        none = a.create_digest("hook", "digest", nothing, _render, select, now, period=period)
        assert none is None
        made = b.create_digest("hook", "digest", something, _render, select, now, period=period)
        assert made is not None
        # Once made, that time's digest is not made twice.
        again = a.create_digest("hook", "digest", something, _render, select, now, period=period)
        assert again is None
        later = period + timedelta(minutes=1)
        assert a.create_digest("hook", "digest", something, _render, select, now, period=later)
    finally:
        a.close()
        b.close()
