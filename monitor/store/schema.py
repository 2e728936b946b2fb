"""Tables of the state database, in SQLAlchemy Core so the same code runs on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.engine import Dialect


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend (SQLite drops the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", UTCDateTime(), nullable=False),
)

# One row per source ever configured or cited; health and conditional-GET validators live here.
sources = Table(
    "sources",
    metadata,
    Column("key", String, primary_key=True),
    Column("url", Text, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("name", Text, nullable=False),
    Column("origin", String(8), nullable=False),
    Column("state", String(16), nullable=False, default="new"),
    Column("state_since", UTCDateTime()),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False, default=0),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("baseline_done", Boolean, nullable=False, default=False),
    # The page extractor version (source_kinds EXTRACTOR) that recorded its passages; NULL:
    # one from before versions were kept.
    Column("extractor", Integer),
    Column("last_polled_at", UTCDateTime()),
    Column("last_ok_at", UTCDateTime()),
    Column("next_check_at", UTCDateTime()),
    # Workers on PostgreSQL: who polls the source now, and until when that claim holds unless
    # renewed (`monitor.store.claims`). Unused on SQLite, where one process does all.
    Column("claimed_by", String(64)),
    Column("lease_until", UTCDateTime()),
)

# Fingerprints of every passage a source ever had: what makes text "new".
seen = Table(
    "seen",
    metadata,
    Column("source_key", String, ForeignKey("sources.key"), primary_key=True),
    Column("fingerprint", String(64), primary_key=True),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
)
Index("ix_seen_last_seen", seen.c.last_seen)

# New passages that matched at least one topic, with the text the digest shows.
items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_key", String, ForeignKey("sources.key"), nullable=False),
    Column("passage_key", Text, nullable=False),
    Column("title", Text),
    Column("link", Text),
    Column("text", Text, nullable=False),
    Column("language", String(8)),
    Column("published", UTCDateTime()),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("story_id", Integer),  # the first item of the same story from another source
    Column("minhash", Text),  # base64 story sketch (extract/similar.py), groups syndicated stories
    Column("previous", Text),  # the paragraph this one replaced, when it is an edit
    # An edited feed entry reported again: the item of the entry's first report it updates.
    Column("revises", Integer),
    Column("previous_title", Text),  # the entry's title before that edit
    UniqueConstraint("source_key", "passage_key", name="uq_items_source_passage"),
)
Index("ix_items_first_seen", items.c.first_seen)
Index("ix_items_revises", items.c.revises)

matches = Table(
    "matches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("score", Float, nullable=False),
    Column("terms", JSON, nullable=False),
    Column("rule", Text, nullable=False),
    Column("snippet", Text, nullable=False),
    Column("spans", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("item_id", "topic", name="uq_matches_item_topic"),
)
Index("ix_matches_created", matches.c.created_at)

# The outbox: a digest is rendered once, stored, and sent until it succeeds. Retries re-send the
# stored bytes under the same id, which receivers use as the idempotency key.
digests = Table(
    "digests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("channel", String(64), nullable=False),
    Column("kind", String(8), nullable=False),  # digest | alert
    Column("created_at", UTCDateTime(), nullable=False),
    Column("status", String(10), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime()),
    Column("detail", Text),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("item_count", Integer, nullable=False),
    # The worker delivering it now and until when (PostgreSQL workers; see sources).
    Column("claimed_by", String(64)),
    Column("lease_until", UTCDateTime()),
)
Index("ix_digests_status", digests.c.status, digests.c.next_attempt_at)

# One row per channel, kind and scheduled time whose digest some worker made: the first worker
# to insert it makes that digest, the others skip it (PostgreSQL workers).
digest_periods = Table(
    "digest_periods",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("period", UTCDateTime(), primary_key=True),
    Column("claimed_by", String(64), nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=False),
)

# Which match went into which digest of a channel. The primary key is the exactly-once guarantee:
# a match can be claimed by one digest (and one alert) per channel, never two.
digest_matches = Table(
    "digest_matches",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("kind", String(8), primary_key=True),
    Column("match_id", Integer, ForeignKey("matches.id", ondelete="CASCADE"), primary_key=True),
    Column("digest_id", String(40), ForeignKey("digests.id"), nullable=False),
)

# The paragraphs of each page at its last poll (zlib-compressed JSON), so that an edited paragraph
# can be shown next to the one it replaced.
page_snapshots = Table(
    "page_snapshots",
    metadata,
    Column("source_key", String, ForeignKey("sources.key"), primary_key=True),
    Column("paragraphs", LargeBinary, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# A source's first poll kept unparsed (the deferred baseline, `monitor.detect.baseline`): the
# fetched body, compressed, until a later poll or the daemon's idle time needs what it records.
# One row per source at most; it goes when the baseline is taken from it.
pending_baselines = Table(
    "pending_baselines",
    metadata,
    Column("source_key", String, ForeignKey("sources.key"), primary_key=True),
    Column("codec", String(8), nullable=False),  # "zlib"
    Column("size", Integer, nullable=False),  # the body's length before compression
    Column("body_hash", String(64), nullable=False),  # the fetcher's hash of the body
    Column("content_type", Text),
    Column("final_url", Text, nullable=False),  # after redirects: what links resolve against
    Column("fetched_at", UTCDateTime(), nullable=False),
    # Last: SQLite reads a row's columns in order, so the hashes a cycle reads never pull the
    # body's overflow pages.
    Column("body", LargeBinary, nullable=False),  # compressed as `codec` says
)

# When each channel's scheduled digest last ran, so a digest missed during downtime is sent once.
channel_runs = Table(
    "channel_runs",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("last_digest_at", UTCDateTime()),
    Column("last_alert_at", UTCDateTime()),
    Column("started_at", UTCDateTime()),  # first seen in the config: matches before are not its
)

# Sources polled by a release that keyed their passages differently (schema version 4: feed
# entries without id). Until the next poll that stores passages, a passage whose former key is
# known counts as seen, so that the upgrade reports nothing again; that poll removes the row.
rekey_pending = Table(
    "rekey_pending",
    metadata,
    Column("source_key", String, ForeignKey("sources.key", ondelete="CASCADE"), primary_key=True),
    Column("since", UTCDateTime(), nullable=False),
)

# What each page taught about its volatile lines (`monitor.detect.volatile_lines`): a JSON object
# of line shapes, each [consecutive polls its values changed, when it was last on the page].
volatile_lines = Table(
    "volatile_lines",
    metadata,
    Column("source_key", String, ForeignKey("sources.key", ondelete="CASCADE"), primary_key=True),
    Column("shapes", Text, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Each spell in which a source could not be read: from its first failed poll to the first poll
# that read it again (`ended_at`). No foreign key: retention removes a source's spells with it.
source_outages = Table(
    "source_outages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_key", String, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("last_failed_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),  # the poll that read it again; None while it lasts
    Column("failures", Integer, nullable=False),  # failed polls in a row
    Column("state", String(16), nullable=False),  # the source's state at its last failed poll
    Column("last_error", Text),
)
Index("ix_source_outages_source", source_outages.c.source_key, source_outages.c.ended_at)

# Which outage (event "down") and which recovery (event "up") each channel was told about, and in
# which digest. The primary key is the exactly-once guarantee, as in digest_matches.
outage_notices = Table(
    "outage_notices",
    metadata,
    Column("channel", String(64), primary_key=True),
    Column("outage_id", Integer, primary_key=True),
    Column("event", String(4), primary_key=True),  # down | up
    Column("digest_id", String(40), nullable=False),
)

# The version of each feed entry that edits are measured against: its title and text when first
# seen, or at its last material edit (typo fixes, timestamps and counters leave it as it was, so
# small changes cannot add up unseen). Rows go with the entry's fingerprint in `seen`.
entry_versions = Table(
    "entry_versions",
    metadata,
    Column("source_key", String, ForeignKey("sources.key"), primary_key=True),
    Column("passage_key", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Analysts' feedback (`monitor.feedback`): "not relevant" marks on an item for a topic and mutes
# of a source for a topic, until undone. A mark keeps what identifies its passage (source,
# passage key, story, story sketch) so that the passage and its syndicated copies stay
# suppressed after retention has pruned the item. No foreign keys: feedback outlives items.
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # not_relevant | mute
    Column("topic", String(64), nullable=False),
    Column("source_key", String, nullable=False),
    Column("item_id", Integer),  # the marked item (None for a mute)
    Column("passage_key", Text),  # its passage key, without an edit's version suffix
    Column("story_id", Integer),  # the root item of its story
    Column("minhash", Text),  # its story sketch (base64, extract/similar.py)
    Column("title", Text),
    Column("text", Text),
    Column("link", Text),
    Column("who", Text, nullable=False),  # the basic-auth user, "token" or "email link"
    Column("created_at", UTCDateTime(), nullable=False),
    Column("undone_at", UTCDateTime()),
    Column("undone_by", Text),
)
Index("ix_feedback_topic", feedback.c.topic, feedback.c.undone_at)

# Everything the daemon reported (a match that went into a digest or alert of some channel), copied
# when the digest is made, so that it can be searched and shown after retention has pruned its
# item and match. One row per match; kept for `[archive] keep_days` (default: forever). No foreign
# keys on purpose: the rows it was copied from go. `search_words` / `search_extra` hold the text's
# folded search keys (`monitor.store.search_keys`), which a backend's full-text index is built on.
archive = Table(
    "archive",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("match_id", Integer, nullable=False),
    Column("item_id", Integer, nullable=False),
    Column("topic", String(64), nullable=False),
    Column("score", Float, nullable=False),
    Column("source_key", Text, nullable=False),
    Column("source_name", Text, nullable=False),
    Column("url", Text),
    Column("language", String(8)),
    Column("title", Text),
    Column("text", Text, nullable=False),
    Column("terms", JSON, nullable=False),
    Column("rule", Text, nullable=False),
    Column("snippet", Text, nullable=False),
    Column("spans", JSON, nullable=False),
    Column("story_id", Integer),
    Column("also_reported_by", JSON, nullable=False),
    Column("is_update", Boolean, nullable=False, default=False),
    Column("previous", Text),
    Column("previous_title", Text),
    Column("published", UTCDateTime()),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("reported_at", UTCDateTime(), nullable=False),
    Column("search_words", Text, nullable=False),
    Column("search_extra", Text, nullable=False),
    UniqueConstraint("match_id", name="uq_archive_match"),
)
# Newest first is by id (ids grow with each report). On SQLite an index ends with the row id, so
# "this topic (or source), newest first" reads the index backwards and stops at the limit.
Index("ix_archive_reported", archive.c.reported_at)
Index("ix_archive_topic", archive.c.topic)
Index("ix_archive_source", archive.c.source_key)
Index("ix_archive_source_name", func.lower(archive.c.source_name))
