"""Claims between workers, each a Store of its own on one real PostgreSQL database: a due
source or a queued digest goes to one worker; a lease not renewed passes to the next; one digest
per channel and scheduled time; and SQLite keeps its one-process behaviour."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.models import Digest, FetchOutcome, FetchResult, RenderedDigest, Source
from monitor.store import Store, utcnow
from monitor.store.migrations import LATEST

LEASE = timedelta(seconds=2)


def sources(n: int) -> list[Source]:
    return [
        Source(
            key=f"https://s{i}.example/feed",
            url=f"https://s{i}.example/feed",
            kind="feed",
            name=f"S{i}",
            interval_seconds=600,
            origin="config",
        )
        for i in range(n)
    ]


@pytest.fixture
def workers(tmp_path: Path, pg_url: str) -> Iterator[tuple[Store, Store]]:
    a = Store(tmp_path / "a", pg_url, lease=LEASE)
    b = Store(tmp_path / "b", pg_url, lease=LEASE)
    a.sync_sources(sources(5))
    b.sync_sources(sources(5))  # the same sources again, as a second worker starting does
    yield a, b
    a.close()
    b.close()


def test_each_due_source_goes_to_one_worker_until_its_lease_passes(
    workers: tuple[Store, Store],
) -> None:
    a, b = workers
    assert a.version == b.version == LATEST
    keys = [s.key for s in sources(5)]
    now = utcnow()
    mine = a.claim_due(keys, now)
    assert mine == set(keys)
    assert b.claim_due(keys, now) == set()  # all held by a
    # a polls one of them: its claim ends with the poll, and the source is not due again.
    polled = sorted(mine)[0]
    ok = FetchResult(polled, FetchOutcome.NOT_MODIFIED, status=304)
    a.record_fetch(polled, ok, now, 600)
    # a renews while alive; b still gets nothing.
    time.sleep(1.2)
    assert a.renew_claims() == 4
    time.sleep(1.2)
    assert b.claim_due(keys, utcnow()) == set()
    # a dies (stops renewing): once the lease has passed, b takes the rest over.
    time.sleep(2.2)
    assert b.claim_due(keys, utcnow()) == set(keys) - {polled}


def test_a_clean_stop_hands_its_sources_over_at_once(workers: tuple[Store, Store]) -> None:
    a, b = workers
    keys = [s.key for s in sources(5)]
    now = utcnow()
    assert len(a.claim_due(keys, now)) == 5
    a.release_claims()
    assert b.claim_due(keys, now) == set(keys)


def test_a_queued_digest_is_delivered_by_one_worker(workers: tuple[Store, Store]) -> None:
    a, b = workers
    now = utcnow()
    digest_id = _queue(a, now)
    [entry] = a.claim_pending(now)
    assert entry.id == digest_id
    assert b.claim_pending(now) == []  # a is sending it
    time.sleep(LEASE.total_seconds() + 1.2)  # a died mid-send: b resends it, same id
    [again] = b.claim_pending(utcnow())
    assert again.id == digest_id and again.rendered == entry.rendered
    b.delivered(digest_id, "ok", utcnow())
    assert a.claim_pending(utcnow() + timedelta(hours=1)) == []


def test_one_digest_per_channel_and_scheduled_time(workers: tuple[Store, Store]) -> None:
    a, b = workers
    now = utcnow()
    period = now.replace(second=0, microsecond=0)
    assert _queue(a, now, period=period) is not None
    assert _queue(b, now, period=period) is None  # a made this time's digest
    assert _queue(b, now, period=period + timedelta(minutes=1)) is not None


def test_sqlite_claims_everything_due_and_writes_no_lease(tmp_path: Path) -> None:
    store = Store(tmp_path / "state")
    store.sync_sources(sources(3))
    keys = [s.key for s in sources(3)]
    assert not store.shared
    assert store.claim_due(keys, utcnow()) == set(keys)
    assert store.claim_due(keys, utcnow()) == set(keys)  # one process: nothing held
    store.close()


def _queue(store: Store, now: datetime, period: datetime | None = None) -> str | None:
    def build(found: list) -> Digest:  # type: ignore[type-arg]
        return Digest(f"dg_{time.monotonic_ns()}", "hook", utcnow(), {}, {})

    def render(d: Digest) -> RenderedDigest:
        return RenderedDigest("subject", "text", "<p>html</p>", {"n": 1})

    queued = store.create_digest(
        "hook",
        "digest",
        build,
        render,
        lambda conn=None: [],
        now,
        period=period,
    )
    return queued[0].id if queued else None
