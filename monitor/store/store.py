"""The only stage that keeps state: sources' health, seen fingerprints, matches and the outbox."""

from __future__ import annotations

import contextlib
import json
import os
import random
import tempfile
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import ExceptionContext

from monitor.models import (
    Citation,
    Digest,
    Evidence,
    FetchOutcome,
    FetchResult,
    Match,
    Passage,
    RenderedDigest,
    Source,
    SourceHealth,
    TopicMatch,
    Validators,
)
from monitor.store import schema as s
from monitor.store.faults import check_contents, check_file, os_fault, sqlite_fault, write_fault
from monitor.store.migrations import migrate

DB_NAME = "monitor.db"
PROBE_BYTES = 256 * 1024  # written and removed to tell that the state folder has room again

# Backoff for failing sources: doubles per consecutive failure, capped, with jitter so that many
# sources failing together (a dead host) do not come back in lockstep.
BACKOFF_BASE = 300
BACKOFF_CAP = 24 * 3600
# Outbox retry schedule for deliveries, in seconds (then the last value repeats).
RETRY_SCHEDULE = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)
# What a checkpoint leaves of the WAL file, in bytes (SQLite checkpoints at about 4 MB of WAL).
WAL_SIZE_LIMIT = 4 * 2**20
# Sources to forget per statement (SQLite limits the number of bound parameters).
_CHUNK = 500


@dataclass(slots=True)
class SourceState:
    validators: Validators
    baseline_done: bool
    failures: int
    state: str


@dataclass(slots=True)
class FetchRecord:
    """One fetch outcome waiting to be written with others (`Store.record_fetches`)."""

    key: str
    result: FetchResult
    now: datetime
    interval: int
    before: SourceState


@dataclass(slots=True)
class OutboxEntry:
    id: str
    channel: str
    kind: str
    attempts: int
    rendered: RenderedDigest
    created_at: datetime


# Statements built once: their SET clause comes from the parameters, so SQLAlchemy compiles each
# shape once and does not coerce every value again for every source.
_UPDATE_SOURCE = update(s.sources).where(s.sources.c.key == bindparam("_key"))
_UPDATE_SNAPSHOT = update(s.page_snapshots).where(
    s.page_snapshots.c.source_key == bindparam("_key")
)
_INSERT_SNAPSHOT = insert(s.page_snapshots)
# The timestamp comes already converted for the database (`Store._stamp`).
_INSERT_SEEN = text(
    "INSERT INTO seen (source_key, fingerprint, first_seen, last_seen) VALUES (:s, :f, :t, :t)"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def open_engine(state_dir: Path, file_name: str = DB_NAME) -> Engine:
    """The engine of the state database (`file_name`: another file, errors still name the
    database)."""
    path = state_dir / DB_NAME
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_fault(exc, state_dir) or exc from None
    engine = create_engine(f"sqlite:///{state_dir / file_name}", future=True)

    @event.listens_for(engine, "handle_error")
    def _state_fault(ctx: ExceptionContext) -> None:
        # A full disk, a read-only folder or a damaged file becomes one StateError naming the
        # path and what to do, wherever in the store it happens; other errors stay as they are.
        fault = sqlite_fault(ctx.original_exception, path)
        if fault is not None:
            raise fault from ctx.original_exception

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        # WAL: readers never block the writer and a crash mid-write leaves the last commit intact.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        # 16 MB of page cache instead of 2 MB: inserting fingerprints into a large table
        # otherwise rereads the same index pages from the OS for every source.
        cur.execute("PRAGMA cache_size=-16384")
        # A checkpoint reuses the WAL file from its start but never shrinks it: without a limit
        # it stays as large as the largest burst of writes it ever held.
        cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        cur.close()

    return engine


def create_database(state_dir: Path) -> None:
    """Make a new state database whole or not at all: built under a temporary name, linked into
    place once it holds every table. A first start that fails half-way (a full disk) thus never
    leaves an empty or partial monitor.db behind, which the next start would have to refuse."""
    final = state_dir / DB_NAME
    tmp = f".{DB_NAME}.new-{os.getpid()}"
    parts = [state_dir / f"{tmp}{suffix}" for suffix in ("", "-wal", "-shm")]
    try:
        engine = open_engine(state_dir, tmp)
        try:
            migrate(engine)
            with engine.connect() as conn:
                # Everything into the file itself, so that the file alone carries it all.
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            engine.dispose()
        if parts[1].exists() and parts[1].stat().st_size:
            raise write_fault(final, "a new database could not be completed")
        try:
            os.link(parts[0], final)  # fails if another process made one meanwhile: use that
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            os.replace(parts[0], final)
    except OSError as exc:
        raise os_fault(exc, final) or exc from None
    finally:
        for part in parts:
            part.unlink(missing_ok=True)


class Store:
    # Sources waiting to move to new passage keys, read once (rows are only ever removed).
    _rekey: set[str] | None = None

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / DB_NAME
        # Checked before SQLite touches the file: it would turn an empty one into a new database.
        if check_file(self.path):
            check_contents(self.path)
        else:
            create_database(state_dir)
        self.engine = open_engine(state_dir)
        try:
            self.version = migrate(self.engine)
        except BaseException:
            self.engine.dispose()
            raise
        dialect = self.engine.dialect
        column = s.seen.c.first_seen.type
        to_db = dialect.type_descriptor(column.impl).bind_processor(dialect)

        def stamp(when: datetime) -> object:
            """A datetime as the seen table's timestamp columns store it on this database."""
            value = column.process_bind_param(when, dialect)
            return to_db(value) if to_db is not None else value

        self._stamp = stamp

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction for several writes: all of a source's poll results commit together."""
        with self.engine.begin() as conn:
            yield conn

    @contextlib.contextmanager
    def _tx(self, conn: Connection | None) -> Iterator[Connection]:
        # Inside a caller's transaction, write there; otherwise in a transaction of our own.
        if conn is not None:
            yield conn
        else:
            with self.engine.begin() as own:
                yield own

    def probe_write(self) -> None:
        """Prove that a commit reaches the disk again (after a state fault): rewrite the newest
        schema_version row as it is, after writing a scratch file next to it (SQLite may reuse
        room its log already has on a full disk). Raises StateError while the fault lasts."""
        try:
            with tempfile.TemporaryFile(dir=self.path.parent, prefix=".probe-") as fh:
                fh.write(bytes(PROBE_BYTES))
                fh.flush()
        except OSError as exc:
            raise os_fault(exc, self.path.parent) or exc from None
        with self.engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE schema_version SET applied_at = applied_at "
                    "WHERE version = (SELECT max(version) FROM schema_version)"
                )
            )

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(1)).scalar() == 1

    # --- sources -------------------------------------------------------------------------------
    def sync_sources(self, sources: Iterable[Source]) -> None:
        """Insert new sources and refresh the names and kinds of known ones."""
        with self.engine.begin() as conn:
            known = set(conn.execute(select(s.sources.c.key)).scalars())
            for src in sources:
                values = {"url": src.url, "kind": src.kind, "name": src.name, "origin": src.origin}
                if src.key in known:
                    conn.execute(update(s.sources).where(s.sources.c.key == src.key).values(values))
                else:
                    state = "refused" if src.refused else "new"
                    conn.execute(
                        insert(s.sources).values(
                            key=src.key,
                            state=state,
                            last_error=src.refused,
                            state_since=utcnow(),
                            failures=0,
                            baseline_done=False,
                            **values,
                        )
                    )

    def due(self, keys: Sequence[str], now: datetime) -> set[str]:
        wanted = set(keys)
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.sources.c.key, s.sources.c.next_check_at))
            return {k for k, at in rows if k in wanted and (at is None or at <= now)}

    def source_states(self, keys: Sequence[str]) -> dict[str, SourceState]:
        """The state of many sources in one query (a cycle reads them all up front)."""
        wanted = set(keys)
        cols = s.sources.c
        query = select(
            cols.key,
            cols.etag,
            cols.last_modified,
            cols.body_hash,
            cols.baseline_done,
            cols.failures,
            cols.state,
        )
        with self.engine.connect() as conn:
            return {
                r.key: SourceState(
                    Validators(r.etag, r.last_modified, r.body_hash),
                    bool(r.baseline_done),
                    r.failures,
                    r.state,
                )
                for r in conn.execute(query)
                if r.key in wanted
            }

    def source_state(self, key: str) -> SourceState:
        return self.source_states([key])[key]

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
    ) -> None:
        """Store the outcome of one fetch: health, validators and when to poll next.

        `before` is the state read at the start of the cycle; without it, it is read here.
        `baseline_done` also marks the source's baseline as taken, in the same statement.
        """
        values = self._fetch_values(result, now, interval, before or self.source_state(key))
        if baseline_done:
            values["baseline_done"] = True
        with self._tx(conn) as tx:
            tx.execute(_UPDATE_SOURCE, {"_key": key, **values})

    def record_fetches(self, records: Sequence[FetchRecord]) -> None:
        """Store many fetch outcomes in one transaction (a cycle's 304s and failures).

        One UPDATE per source costs more than the request that produced it; grouped by the
        columns they set, the rows go to SQLite as a few executemany calls.
        """
        groups: dict[tuple[str, ...], list[dict[str, object]]] = {}  # columns -> rows
        for rec in records:
            values = self._fetch_values(rec.result, rec.now, rec.interval, rec.before)
            groups.setdefault(tuple(sorted(values)), []).append({"_key": rec.key, **values})
        if not groups:
            return
        with self.engine.begin() as tx:
            for rows in groups.values():
                tx.execute(_UPDATE_SOURCE, rows)

    @staticmethod
    def _fetch_values(
        result: FetchResult, now: datetime, interval: int, before: SourceState
    ) -> dict[str, object]:
        state = {
            FetchOutcome.OK: "ok",
            FetchOutcome.NOT_MODIFIED: "not_modified",
            FetchOutcome.ERROR: "failing",
            FetchOutcome.REFUSED: "refused",
            FetchOutcome.ROBOTS: "robots",
        }[result.outcome]
        if result.outcome is FetchOutcome.ERROR and result.status in (404, 410):
            state = "gone"
        healthy = {"ok", "not_modified"}
        values: dict[str, object] = {"last_polled_at": now, "state": state}
        if state in healthy:
            v = result.validators
            values.update(
                failures=0,
                last_ok_at=now,
                last_error=result.error,  # None, or a warning about an incomplete extraction
                etag=v.etag,
                last_modified=v.last_modified,
                body_hash=v.body_hash,
            )
            delay = float(interval)
            # A feed asking to be polled less often (ttl, max-age) gets its wish.
            if result.max_age and result.max_age > delay:
                delay = min(result.max_age, 24 * 3600.0)
        else:
            failures = before.failures + 1
            values.update(failures=failures, last_error=result.error)
            delay = min(BACKOFF_CAP, max(interval, BACKOFF_BASE * 2 ** (failures - 1)))
            delay *= random.uniform(0.8, 1.2)
        if result.retry_after:
            delay = max(delay, min(result.retry_after, BACKOFF_CAP))
        values["next_check_at"] = now + timedelta(seconds=delay)
        # "ok" and "not_modified" are one health state: moving between them keeps "since".
        if before.state != state and not (before.state in healthy and state in healthy):
            values["state_since"] = now
        return values

    def health(self, keys: Sequence[str] | None = None) -> list[SourceHealth]:
        query = select(s.sources).order_by(s.sources.c.name)
        if keys is not None:
            query = query.where(s.sources.c.key.in_(keys))
        with self.engine.connect() as conn:
            return [
                SourceHealth(r.key, r.name, r.url, r.state, r.state_since, r.last_error)
                for r in conn.execute(query)
            ]

    def failing_since(self, before: datetime, keys: Sequence[str]) -> list[SourceHealth]:
        """Sources in a bad state since before `before`: what the digest's health section lists."""
        bad = ("failing", "gone", "refused", "robots")
        return [
            h
            for h in self.health(keys)
            if h.state in bad and h.since is not None and h.since <= before
        ]

    # --- what is new: the store records what `monitor.detect` decided ------------------------
    def rekey_pending(self, key: str, conn: Connection | None = None) -> bool:
        """Whether this source still waits to be moved to new passage keys (an upgrade)."""
        if self._rekey is None:
            with self._tx(conn) as tx:
                self._rekey = set(tx.execute(select(s.rekey_pending.c.source_key)).scalars())
        if key not in self._rekey:
            return False
        with self._tx(conn) as tx:
            row = tx.execute(
                select(s.rekey_pending.c.source_key).where(s.rekey_pending.c.source_key == key)
            ).first()
        if row is None:
            self._rekey.discard(key)  # moved by an earlier poll of this process
        return row is not None

    def known_keys(self, key: str, keys: Sequence[str], conn: Connection | None = None) -> set[str]:
        """Which of `keys` this source has had (reads only)."""
        known: set[str] = set()
        with self._tx(conn) as tx:
            for i in range(0, len(keys), _CHUNK):
                chunk = keys[i : i + _CHUNK]
                known.update(
                    tx.execute(
                        select(s.seen.c.fingerprint).where(
                            s.seen.c.source_key == key, s.seen.c.fingerprint.in_(chunk)
                        )
                    ).scalars()
                )
        return known

    def remember_passages(
        self,
        key: str,
        new_keys: Sequence[str],
        seen_keys: Sequence[str],
        now: datetime,
        conn: Connection | None = None,
        *,
        rekeyed: bool = False,
    ) -> None:
        """Record a poll's passages as detect sorted them (`monitor.detect.Novelty`): rows for
        `new_keys` first seen now, `seen_keys` seen again now; `rekeyed`: the source's move to
        new keys is done. Written in the same transaction as the items made of the passages,
        so a crash in between loses nothing (the passages are simply new again next time)."""
        with self._tx(conn) as tx:
            if rekeyed:
                # The cached set learns it at the next `rekey_pending`, once this has committed.
                tx.execute(delete(s.rekey_pending).where(s.rekey_pending.c.source_key == key))
            if new_keys:
                # Dozens of rows share one timestamp: converted once, not once per row and column.
                stamp = self._stamp(now)
                tx.execute(_INSERT_SEEN, [{"s": key, "f": k, "t": stamp} for k in new_keys])
            if seen_keys:
                tx.execute(
                    update(s.seen)
                    .where(s.seen.c.source_key == key, s.seen.c.fingerprint.in_(list(seen_keys)))
                    .values(last_seen=now)
                )

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
    ) -> int:
        """Store a new passage and its topic matches; return the item id."""
        with self._tx(conn) as conn:
            item_id = conn.execute(
                insert(s.items).values(
                    source_key=source_key,
                    passage_key=passage.key,
                    title=passage.title,
                    link=passage.link,
                    text=passage.text,
                    language=passage.language,
                    published=passage.published,
                    previous=passage.previous,
                    first_seen=now,
                    story_id=story_id,
                    minhash=minhash,
                )
            ).inserted_primary_key[0]
            for m in found:
                conn.execute(
                    insert(s.matches).values(
                        item_id=item_id,
                        topic=m.topic,
                        score=m.score,
                        terms=list(m.evidence.terms),
                        rule=m.evidence.rule,
                        snippet=m.evidence.snippet,
                        spans=[list(x) for x in m.evidence.spans],
                        created_at=now,
                    )
                )
        return int(item_id)

    def recent_minhashes(
        self, since: datetime
    ) -> list[tuple[int, int | None, str, str, str, datetime]]:
        """(item id, story id, source key, passage key, signature, first seen) of recent items,
        oldest first."""
        query = (
            select(
                s.items.c.id,
                s.items.c.story_id,
                s.items.c.source_key,
                s.items.c.passage_key,
                s.items.c.minhash,
                s.items.c.first_seen,
            )
            .where(s.items.c.first_seen >= since, s.items.c.minhash.is_not(None))
            .order_by(s.items.c.id)
        )
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(query)]  # type: ignore[misc]

    # --- digests and the outbox ----------------------------------------------------------------
    def unclaimed_matches(
        self,
        channel: str,
        kind: str,
        topics: Sequence[str],
        min_score: float,
        citations: dict[str, list[Citation]],
        conn=None,  # type: ignore[no-untyped-def]
    ) -> list[Match]:
        """Matches not yet put into a digest of this kind for this channel."""
        claimed = select(s.digest_matches.c.match_id).where(
            s.digest_matches.c.channel == channel, s.digest_matches.c.kind == kind
        )
        query = self._match_query(topics).where(
            s.matches.c.id.not_in(claimed), s.matches.c.score >= min_score
        )
        started = (
            select(s.channel_runs.c.started_at)
            .where(s.channel_runs.c.channel == channel)
            .scalar_subquery()
        )
        # A channel added later starts from then (no bound for one never registered).
        query = query.where((started.is_(None)) | (s.matches.c.created_at >= started))
        return self._matches(query.order_by(s.matches.c.id), citations, conn)

    def latest_matches(
        self, topic: str, limit: int, citations: dict[str, list[Citation]]
    ) -> list[Match]:
        """The newest matches of a topic, delivered or not (for its Atom feed)."""
        query = self._match_query([topic]).order_by(s.matches.c.id.desc()).limit(limit)
        return self._matches(query, citations, None)

    @staticmethod
    def _match_query(topics: Sequence[str]):  # type: ignore[no-untyped-def]
        return (
            select(
                s.matches.c.id,
                s.matches.c.topic,
                s.matches.c.score,
                s.matches.c.terms,
                s.matches.c.rule,
                s.matches.c.snippet,
                s.matches.c.spans,
                s.matches.c.item_id,
                s.items.c.source_key,
                s.items.c.title,
                s.items.c.link,
                s.items.c.text,
                s.items.c.language,
                s.items.c.published,
                s.items.c.first_seen,
                s.items.c.story_id,
                s.items.c.previous,
                s.sources.c.name.label("source_name"),
            )
            .join(s.items, s.items.c.id == s.matches.c.item_id)
            .join(s.sources, s.sources.c.key == s.items.c.source_key)
            .where(s.matches.c.topic.in_(list(topics)))
        )

    def _matches(
        self,
        query,  # type: ignore[no-untyped-def]
        citations: dict[str, list[Citation]],
        conn,  # type: ignore[no-untyped-def]
    ) -> list[Match]:
        own = conn is None
        conn = conn or self.engine.connect()
        try:
            rows = conn.execute(query).mappings().all()
            # Names of the other sources that carried the same story, for "also reported by".
            story_ids = {r["story_id"] or r["item_id"] for r in rows}
            related: dict[int, set[str]] = {}
            if story_ids:
                for sid, name in conn.execute(
                    select(func.coalesce(s.items.c.story_id, s.items.c.id), s.sources.c.name)
                    .join(s.sources, s.sources.c.key == s.items.c.source_key)
                    .where((s.items.c.story_id.in_(story_ids)) | (s.items.c.id.in_(story_ids)))
                ):
                    related.setdefault(sid, set()).add(name)
        finally:
            if own:
                conn.close()
        out = []
        for r in rows:
            sid = r["story_id"] or r["item_id"]
            others = sorted(related.get(sid, set()) - {r["source_name"]})
            out.append(
                Match(
                    id=r["id"],
                    topic=r["topic"],
                    score=r["score"],
                    evidence=Evidence(
                        tuple(r["terms"]),
                        r["rule"],
                        r["snippet"],
                        tuple(tuple(x) for x in r["spans"]),  # type: ignore[misc]
                    ),
                    source_key=r["source_key"],
                    source_name=r["source_name"],
                    title=r["title"],
                    link=r["link"],
                    text=r["text"],
                    language=r["language"],
                    published=r["published"],
                    first_seen=r["first_seen"],
                    citations=citations.get(r["source_key"], []),
                    also_reported_by=others,
                    story_id=sid,
                    previous=r["previous"],
                )
            )
        return out

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
    ) -> tuple[Digest, RenderedDigest] | None:
        """Claim the unclaimed matches, render the digest and queue it, all in one transaction.

        If the process dies before the commit nothing is claimed; after it, the outbox holds the
        rendered digest and it will be sent (again, with the same id) until delivery succeeds.
        With `payload_only` (webhook channels) only the matches the payload carries are claimed;
        those a size limit left out wait for the channel's next digest.
        """
        with self.engine.begin() as conn:
            found = select_matches(conn=conn)
            digest = build(found)
            if digest is None:
                return None
            rendered = render(digest)
            claimed = digest.match_ids
            if payload_only and rendered.payload_ids is not None:
                claimed = digest.ids_for(rendered.payload_ids)
            conn.execute(
                insert(s.digests).values(
                    id=digest.id,
                    channel=channel,
                    kind=kind,
                    created_at=now,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    subject=rendered.subject,
                    body_text=rendered.text,
                    body_html=rendered.html,
                    payload=rendered.payload,
                    item_count=len(claimed),
                )
            )
            if claimed:
                conn.execute(
                    insert(s.digest_matches),
                    [
                        {"channel": channel, "kind": kind, "match_id": m, "digest_id": digest.id}
                        for m in claimed
                    ],
                )
            self._ran(conn, channel, kind, now)
        return digest, rendered

    def _ran(self, conn: Connection, channel: str, kind: str, now: datetime) -> None:
        """Record a channel's digest or alert time, creating its row if it has none yet."""
        values = {"last_digest_at": now} if kind == "digest" else {"last_alert_at": now}
        done = conn.execute(
            update(s.channel_runs).where(s.channel_runs.c.channel == channel).values(**values)
        ).rowcount
        if not done:
            conn.execute(insert(s.channel_runs).values(channel=channel, **values))

    def sync_channels(self, channels: Iterable[str], now: datetime) -> None:
        """Note when each configured channel was first seen: it gets matches found since then,
        not the whole history kept in the store."""
        with self.engine.begin() as conn:
            known = set(conn.execute(select(s.channel_runs.c.channel)).scalars())
            for name in channels:
                if name not in known:
                    conn.execute(insert(s.channel_runs).values(channel=name, started_at=now))

    def channel_run(self, channel: str) -> tuple[datetime | None, datetime | None]:
        """When the channel's last digest and last alert were made (None: never)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.channel_runs).where(s.channel_runs.c.channel == channel)
            ).first()
        return (row.last_digest_at, row.last_alert_at) if row else (None, None)

    def touch_channel(self, channel: str, now: datetime) -> None:
        """Note a scheduled digest time that produced nothing to send."""
        with self.engine.begin() as conn:
            self._ran(conn, channel, "digest", now)

    def pending(self, now: datetime, channel: str | None = None) -> list[OutboxEntry]:
        query = (
            select(s.digests)
            .where(s.digests.c.status == "pending", s.digests.c.next_attempt_at <= now)
            .order_by(s.digests.c.created_at)
        )
        if channel:
            query = query.where(s.digests.c.channel == channel)
        with self.engine.connect() as conn:
            return [
                OutboxEntry(
                    r.id,
                    r.channel,
                    r.kind,
                    r.attempts,
                    RenderedDigest(r.subject, r.body_text, r.body_html, r.payload),
                    r.created_at,
                )
                for r in conn.execute(query)
            ]

    def delivered(self, digest_id: str, detail: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(s.digests)
                .where(s.digests.c.id == digest_id)
                .values(
                    status="sent",
                    sent_at=now,
                    detail=detail,
                    attempts=s.digests.c.attempts + 1,
                    last_error=None,
                )
            )

    def delivery_failed(
        self, digest_id: str, error: str, now: datetime, *, permanent: bool = False
    ) -> datetime | None:
        """Record a failed attempt; return the retry time (None: given up, kept as failed)."""
        with self.engine.begin() as conn:
            attempts = (
                conn.execute(
                    select(s.digests.c.attempts).where(s.digests.c.id == digest_id)
                ).scalar_one()
                + 1
            )
            delay = RETRY_SCHEDULE[min(attempts - 1, len(RETRY_SCHEDULE) - 1)]
            retry_at = None if permanent else now + timedelta(seconds=delay)
            conn.execute(
                update(s.digests)
                .where(s.digests.c.id == digest_id)
                .values(
                    attempts=attempts,
                    last_error=error,
                    status="failed" if permanent else "pending",
                    next_attempt_at=retry_at or now,
                )
            )
        return retry_at

    def outbox(self, limit: int = 50) -> list[dict]:
        """Recent digests and their delivery state, newest first (for `monitor status` and web)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    s.digests.c.id,
                    s.digests.c.channel,
                    s.digests.c.kind,
                    s.digests.c.status,
                    s.digests.c.created_at,
                    s.digests.c.sent_at,
                    s.digests.c.attempts,
                    s.digests.c.last_error,
                    s.digests.c.item_count,
                    s.digests.c.detail,
                )
                .order_by(s.digests.c.created_at.desc())
                .limit(limit)
            ).mappings()
            return [dict(r) for r in rows]

    def dead_deliveries(self, since: datetime) -> list[SourceHealth]:
        """Digests given up on since `since`, shaped like unhealthy sources for the digest.

        Only the channel and the time: the error text can name hosts, variables or a receiver's
        reply, which other channels' readers need not see (it is on the status page and in logs).
        """
        query = (
            select(s.digests.c.channel, func.min(s.digests.c.created_at), func.count())
            .where(s.digests.c.status == "failed", s.digests.c.created_at >= since)
            .group_by(s.digests.c.channel)
            .order_by(s.digests.c.channel)
        )
        with self.engine.connect() as conn:
            return [
                SourceHealth(
                    key=f"channel:{channel}",
                    name=f"delivery to channel {channel}",
                    url="",
                    state="undelivered",
                    since=first,
                    last_error=f"{count} digest(s) could not be delivered; see the status page",
                )
                for channel, first, count in conn.execute(query)
            ]

    def page_snapshot(self, key: str) -> list[str]:
        """The paragraphs a page had at its last poll ([] when unknown)."""
        with self.engine.connect() as conn:
            blob = conn.execute(
                select(s.page_snapshots.c.paragraphs).where(s.page_snapshots.c.source_key == key)
            ).scalar()
        return json.loads(zlib.decompress(blob)) if blob else []

    def save_page_snapshot(
        self,
        key: str,
        paragraphs: Sequence[str],
        now: datetime,
        conn: Connection | None = None,
        *,
        first: bool = False,
    ) -> None:
        """Keep a page's paragraphs (to tell edits from new text next time). `first`: the source
        has never been stored, so it has no snapshot to update."""
        blob = zlib.compress(json.dumps(list(paragraphs), ensure_ascii=False).encode(), 1)
        values = {"paragraphs": blob, "updated_at": now}
        with self._tx(conn) as conn:
            done = 0 if first else conn.execute(_UPDATE_SNAPSHOT, {"_key": key, **values}).rowcount
            if not done:
                conn.execute(_INSERT_SNAPSHOT, {"source_key": key, **values})

    def outbox_depth(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                select(func.count()).select_from(s.digests).where(s.digests.c.status == "pending")
            ).scalar_one()

    # --- retention -----------------------------------------------------------------------------
    def prune(
        self, now: datetime, retention_days: int, active: Iterable[str] | None = None
    ) -> dict[str, int]:
        """Forget what is older than the retention period: fingerprints, delivered items and
        digests, page snapshots, and, when the configured sources are given as `active`, every
        row of a source that is no longer configured and was last polled before the period
        (re-added within it, a source keeps its baseline). Items that an undelivered digest
        holds are kept, and with them their source's row. Then the WAL is emptied.
        """
        cutoff = now - timedelta(days=retention_days)
        with self.engine.begin() as conn:
            seen_gone = conn.execute(delete(s.seen).where(s.seen.c.last_seen < cutoff)).rowcount
            # Items are kept while any digest that contains one of their matches is undelivered.
            old_items = select(s.items.c.id).where(
                and_(s.items.c.first_seen < cutoff, s.items.c.id.not_in(_undelivered_items()))
            )
            items_gone = self._delete_items(conn, old_items)
            old_digests = select(s.digests.c.id).where(
                s.digests.c.created_at < cutoff, s.digests.c.status != "pending"
            )
            conn.execute(
                delete(s.digest_matches).where(s.digest_matches.c.digest_id.in_(old_digests))
            )
            conn.execute(delete(s.digests).where(s.digests.c.id.in_(old_digests)))
            snapshots_gone = conn.execute(
                delete(s.page_snapshots).where(s.page_snapshots.c.updated_at < cutoff)
            ).rowcount
            sources_gone = 0
            if active is not None:
                sources_gone = self._forget_removed(conn, cutoff, set(active))
        self.checkpoint()
        return {
            "fingerprints": seen_gone,
            "items": items_gone,
            "snapshots": snapshots_gone,
            "sources": sources_gone,
        }

    @staticmethod
    def _delete_items(conn: Connection, ids) -> int:  # type: ignore[no-untyped-def]
        """Delete the items `ids` selects, with their matches and claims."""
        old_matches = select(s.matches.c.id).where(s.matches.c.item_id.in_(ids))
        conn.execute(delete(s.digest_matches).where(s.digest_matches.c.match_id.in_(old_matches)))
        conn.execute(delete(s.matches).where(s.matches.c.id.in_(old_matches)))
        return conn.execute(delete(s.items).where(s.items.c.id.in_(ids))).rowcount

    def _forget_removed(self, conn: Connection, cutoff: datetime, active: set[str]) -> int:
        """Delete the rows of sources not in `active` whose last poll (or, never polled, whose
        last state change) is older than `cutoff`; return how many sources went."""
        c = s.sources.c
        gone = []
        for key, polled, since in conn.execute(select(c.key, c.last_polled_at, c.state_since)):
            last = polled or since
            if key not in active and (last is None or last < cutoff):
                gone.append(key)
        count = 0
        for i in range(0, len(gone), _CHUNK):
            chunk = gone[i : i + _CHUNK]
            conn.execute(delete(s.seen).where(s.seen.c.source_key.in_(chunk)))
            conn.execute(delete(s.page_snapshots).where(s.page_snapshots.c.source_key.in_(chunk)))
            self._delete_items(
                conn,
                select(s.items.c.id).where(
                    s.items.c.source_key.in_(chunk), s.items.c.id.not_in(_undelivered_items())
                ),
            )
            has_items = select(s.items.c.id).where(s.items.c.source_key == c.key).exists()
            count += conn.execute(delete(s.sources).where(c.key.in_(chunk), ~has_items)).rowcount
        return count

    def checkpoint(self) -> None:
        """Copy the WAL into the database and empty the WAL file (after a prune's deletions,
        which go through the WAL). Waits for readers up to the busy timeout; a checkpoint that
        cannot finish now is simply done at the next one."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _undelivered_items():  # type: ignore[no-untyped-def]
    """The ids of items that a digest still waiting to be sent contains."""
    return (
        select(s.matches.c.item_id)
        .join(s.digest_matches, s.digest_matches.c.match_id == s.matches.c.id)
        .join(s.digests, s.digests.c.id == s.digest_matches.c.digest_id)
        .where(s.digests.c.status == "pending")
    )


def new_digest_id() -> str:
    return f"dg_{uuid.uuid4().hex}"
