"""What each group of tables offers the rest of the program, as protocols: another backend
would implement these, part by part; `Store` implements them all, on SQLite and on PostgreSQL
(the same SQLAlchemy Core statements; where they differ, `monitor.store.postgres` chooses).

Writes take an optional `conn` so that several parts commit in one transaction (a poll's
passages, items and health); it is whatever the backend's `transaction()` yields.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy import Connection

from monitor.detect.volatile_lines import LineShape
from monitor.models import (
    Citation,
    Digest,
    FetchResult,
    Match,
    OutageNotice,
    Passage,
    RenderedDigest,
    Source,
    SourceHealth,
    TopicMatch,
)
from monitor.store.archive import ArchiveHit, ArchiveQuery, Indexer
from monitor.store.digests import OutboxEntry
from monitor.store.outages import OutageRule
from monitor.store.pending import PendingBody
from monitor.store.sources import FetchRecord, SourceState


@runtime_checkable
class Transactions(Protocol):
    def transaction(self) -> AbstractContextManager[Connection]:
        """One transaction for writes of several parts."""
        ...


@runtime_checkable
class SourceStore(Protocol):
    """Sources and validators: health, conditional-GET validators, when each is due."""

    def sync_sources(self, sources: Iterable[Source]) -> None: ...
    def due(self, keys: Sequence[str], now: datetime) -> set[str]: ...
    def source_states(self, keys: Sequence[str]) -> dict[str, SourceState]: ...
    def source_state(self, key: str) -> SourceState: ...
    def record_fetch(
        self,
        key: str,
        result: FetchResult,
        now: datetime,
        interval: int,
        before: SourceState | None = None,
        conn: Connection | None = None,
        *,
        baseline_done: bool = False,
        extractor: int | None = None,
    ) -> None: ...
    def record_fetches(self, records: Sequence[FetchRecord]) -> None: ...
    def health(self, keys: Sequence[str] | None = None) -> list[SourceHealth]: ...
    def failing_since(self, before: datetime, keys: Sequence[str]) -> list[SourceHealth]: ...


@runtime_checkable
class PassageStore(Protocol):
    """Passages and fingerprints: what detect needs to know, and what it decided."""

    def rekey_pending(self, key: str, conn: Connection | None = None) -> bool: ...
    def known_keys(
        self, key: str, keys: Sequence[str], conn: Connection | None = None
    ) -> set[str]: ...
    def remember_passages(
        self,
        key: str,
        new_keys: Sequence[str],
        seen_keys: Sequence[str],
        now: datetime,
        conn: Connection | None = None,
        *,
        rekeyed: bool = False,
    ) -> None: ...
    def page_snapshot(self, key: str) -> list[str]: ...
    def save_page_snapshot(
        self,
        key: str,
        paragraphs: Sequence[str] | bytes,  # bytes: encoded by a parser process
        now: datetime,
        conn: Connection | None = None,
        *,
        first: bool = False,
    ) -> None: ...
    def entry_versions(self, key: str, keys: Sequence[str]) -> dict[str, tuple[str, str]]: ...
    def save_entry_versions(
        self,
        key: str,
        versions: Sequence[tuple[str, str, str]],
        now: datetime,
        conn: Connection | None = None,
        *,
        first: bool = False,
    ) -> None: ...


@runtime_checkable
class PendingBaselineStore(Protocol):
    """First polls kept unparsed until their baseline is needed (`monitor.store.pending`)."""

    def pending_baselines(self, keys: Sequence[str] | None = None) -> dict[str, str]: ...
    def pending_body(self, key: str) -> PendingBody | None: ...
    def keep_pending_baseline(
        self, pending: PendingBody, conn: Connection | None = None
    ) -> None: ...
    def settle_pending(
        self, key: str, body_hash: str, extractor: int | None, conn: Connection
    ) -> bool: ...
    def drop_pending_baseline(self, key: str, body_hash: str, conn: Connection) -> bool: ...
    def note_baseline_warnings(self, key: str, warning: str, conn: Connection) -> None: ...


@runtime_checkable
class ItemStore(Protocol):
    """Matches and stories: items with their topic matches, and story signatures."""

    def add_item(
        self,
        source_key: str,
        passage: Passage,
        found: Sequence[TopicMatch],
        now: datetime,
        *,
        story_id: int | None = None,
        minhash: str | None = None,
        conn: Connection | None = None,
        revises: int | None = None,
    ) -> int: ...
    def entry_item(
        self, source_key: str, passage_key: str, conn: Connection | None = None
    ) -> tuple[int, int | None] | None: ...
    def recent_minhashes(
        self, since: datetime, after_id: int | None = None, window: datetime | None = None
    ) -> list[tuple[int, int | None, str, str, str, datetime, str]]: ...
    def unclaimed_matches(
        self,
        channel: str,
        kind: str,
        topics: Sequence[str],
        min_score: float,
        citations: dict[str, list[Citation]],
        conn: Connection | None = None,
    ) -> list[Match]: ...
    def latest_matches(
        self, topic: str, limit: int, citations: dict[str, list[Citation]]
    ) -> list[Match]: ...


@runtime_checkable
class DigestStore(Protocol):
    """The outbox: digests and their delivery, the matches they claimed, channel runs."""

    def create_digest(
        self,
        channel: str,
        kind: str,
        build: Callable[[list[Match]], Digest | None],
        render: Callable[[Digest], RenderedDigest],
        select_matches: Callable[..., list[Match]],
        now: datetime,
        *,
        payload_only: bool = False,
        index: Indexer | None = None,
    ) -> tuple[Digest, RenderedDigest] | None: ...
    def sync_channels(self, channels: Iterable[str], now: datetime) -> None: ...
    def channel_run(self, channel: str) -> tuple[datetime | None, datetime | None]: ...
    def touch_channel(self, channel: str, now: datetime) -> None: ...
    def pending(self, now: datetime, channel: str | None = None) -> list[OutboxEntry]: ...
    def delivered(self, digest_id: str, detail: str, now: datetime) -> None: ...
    def delivery_failed(
        self, digest_id: str, error: str, now: datetime, *, permanent: bool = False
    ) -> datetime | None: ...
    def outbox(self, limit: int = 50) -> list[dict[str, object]]: ...
    def dead_deliveries(self, since: datetime) -> list[SourceHealth]: ...
    def outbox_depth(self) -> int: ...


@runtime_checkable
class VolatileLineStore(Protocol):
    """What each page taught about its volatile lines (`monitor.detect.volatile_lines`)."""

    def volatile_lines(self, key: str, conn: Connection | None = None) -> dict[str, LineShape]: ...
    def save_volatile_lines(
        self,
        key: str,
        shapes: Mapping[str, LineShape],
        now: datetime,
        conn: Connection | None = None,
    ) -> None: ...


@runtime_checkable
class OutageStore(Protocol):
    """Spells of sources being unreadable, and which channel was told of each start and end."""

    def pending_outages(
        self,
        channel: str,
        keys: Collection[str],
        now: datetime,
        rule: OutageRule,
        *,
        conn: Connection | None = None,
    ) -> list[OutageNotice]: ...
    def recent_outages(
        self, now: datetime, rule: OutageRule, keys: Collection[str] | None = None
    ) -> list[OutageNotice]: ...
    def outages_changed_since(self, moment: datetime) -> bool: ...


@runtime_checkable
class RetentionStore(Protocol):
    """Forgetting what is older than the retention period, across all parts."""

    def prune(
        self, now: datetime, retention_days: int, active: Iterable[str] | None = None
    ) -> dict[str, int]: ...
    def checkpoint(self) -> None: ...


@runtime_checkable
class ArchiveStore(Protocol):
    """The archive of reported matches: full-text search with filters, its own retention."""

    def search_archive(self, query: ArchiveQuery) -> list[ArchiveHit]: ...
    def archive_topics(self) -> list[str]: ...
    def prune_archive(self, now: datetime, keep_days: int) -> int: ...


__all__ = [
    "ArchiveStore",
    "DigestStore",
    "ItemStore",
    "OutageStore",
    "PassageStore",
    "PendingBaselineStore",
    "RetentionStore",
    "SourceStore",
    "Transactions",
    "VolatileLineStore",
]
