"""Sources and their validators: what is configured, each source's health, its conditional-GET
validators, and when it is due again (with backoff for failing sources)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, false, select, update

from monitor.models import FetchOutcome, FetchResult, Source, SourceHealth, Validators
from monitor.store import schema as s
from monitor.store.engine import CHUNK, Part, utcnow
from monitor.store.outages import FetchHealth, track_outages
from monitor.store.postgres import insert_new

# Backoff for failing sources: doubles per consecutive failure, capped, with jitter so that many
# sources failing together (a dead host) do not come back in lockstep.
BACKOFF_BASE = 300
BACKOFF_CAP = 24 * 3600


@dataclass(slots=True)
class SourceState:
    validators: Validators
    baseline_done: bool
    failures: int
    state: str
    extractor: int | None = None  # the extractor version that recorded its passages


@dataclass(slots=True)
class FetchRecord:
    """One fetch outcome waiting to be written with others (`Store.record_fetches`)."""

    key: str
    result: FetchResult
    now: datetime
    interval: int
    before: SourceState


# Statements built once: their SET clause comes from the parameters, so SQLAlchemy compiles each
# shape once and does not coerce every value again for every source.
_UPDATE_SOURCE = update(s.sources).where(s.sources.c.key == bindparam("_key"))

def _forget_kept_bodies(conn: Connection, keys: Sequence[str]) -> None:
    """Drop the kept first-poll bodies of sources whose kind changed, with their fetch's
    validators: a body kept as one kind is no baseline for the other (its parse would fail, or
    key its passages otherwise), so the next poll is a first poll of the new kind, in full."""
    p = s.pending_baselines.c
    for i in range(0, len(keys), CHUNK):
        chunk = keys[i : i + CHUNK]
        kept = list(conn.execute(select(p.source_key).where(p.source_key.in_(chunk))).scalars())
        if kept:
            conn.execute(delete(s.pending_baselines).where(p.source_key.in_(kept)))
            conn.execute(
                update(s.sources)
                .where(s.sources.c.key.in_(kept))
                .values(etag=None, last_modified=None, body_hash=None)
            )


HEALTHY = frozenset({"ok", "not_modified"})  # states of a source that could be read


class SourceRecords(Part):
    """The sources table."""

    def sync_sources(self, sources: Iterable[Source]) -> None:
        """Insert new sources and refresh the names and kinds of known ones.

        Run at every start, for every source: rows that already say what the config says are
        not written again, and the rest go as one executemany per kind of statement (one
        statement per source cost a second at 10,000 sources)."""
        cols = s.sources.c
        with self.engine.begin() as conn:
            known = {
                r.key: (r.url, r.kind, r.name, r.origin)
                for r in conn.execute(select(cols.key, cols.url, cols.kind, cols.name, cols.origin))
            }
            changed: list[dict[str, object]] = []
            new: dict[str, dict[str, object]] = {}
            now = utcnow()
            for src in sources:
                values = {"url": src.url, "kind": src.kind, "name": src.name, "origin": src.origin}
                if src.key in known:
                    if known[src.key] != (src.url, src.kind, src.name, src.origin):
                        changed.append({"_key": src.key, **values})
                elif src.key not in new:  # a key listed twice: its first entry, as before
                    new[src.key] = {
                        "key": src.key,
                        "state": "refused" if src.refused else "new",
                        "last_error": src.refused,
                        "state_since": now,
                        "failures": 0,
                        "baseline_done": False,
                        **values,
                    }
            if changed:
                conn.execute(_UPDATE_SOURCE, changed)
                rekinded = [
                    str(c["_key"]) for c in changed if known[str(c["_key"])][1] != c["kind"]
                ]
                if rekinded:
                    _forget_kept_bodies(conn, rekinded)
            if new:
                # Another worker starting at the same time may insert some first.
                conn.execute(insert_new(conn, s.sources), list(new.values()))
            if not changed and not new:
                # Nothing to write, but write access is asked for now all the same (a statement
                # that changes no row): a state that cannot be written is refused at start, in
                # one line, not after a cycle of fetches.
                conn.execute(update(s.sources).where(false()).values(name=cols.name))

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
            cols.extractor,
        )
        with self.engine.connect() as conn:
            return {
                r.key: SourceState(
                    Validators(r.etag, r.last_modified, r.body_hash),
                    bool(r.baseline_done),
                    r.failures,
                    r.state,
                    r.extractor,
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
        extractor: int | None = None,
    ) -> None:
        """Store the outcome of one fetch: health, validators and when to poll next.

        `before` is the state read at the start of the cycle; without it, it is read here.
        `baseline_done` also marks the source's baseline as taken, in the same statement;
        `extractor`, the extractor version whose passages were recorded.
        """
        before = before or self.source_state(key)
        values = self._fetch_values(result, now, interval, before)
        if baseline_done:
            values["baseline_done"] = True
        if extractor is not None:
            values["extractor"] = extractor
        with self._tx(conn) as tx:
            tx.execute(_UPDATE_SOURCE, {"_key": key, **values})
            track_outages(tx, _outage_changes([(key, values, now, before)]))

    def record_fetches(self, records: Sequence[FetchRecord]) -> None:
        """Store many fetch outcomes in one transaction (a cycle's 304s and failures).

        One UPDATE per source costs more than the request that produced it; grouped by the
        columns they set, the rows go to SQLite as a few executemany calls.
        """
        groups: dict[tuple[str, ...], list[dict[str, object]]] = {}  # columns -> rows
        outcomes = []
        for rec in records:
            values = self._fetch_values(rec.result, rec.now, rec.interval, rec.before)
            groups.setdefault(tuple(sorted(values)), []).append({"_key": rec.key, **values})
            outcomes.append((rec.key, values, rec.now, rec.before))
        if not groups:
            return
        with self.engine.begin() as tx:
            for rows in groups.values():
                tx.execute(_UPDATE_SOURCE, rows)
            track_outages(tx, _outage_changes(outcomes))

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
        healthy = HEALTHY
        # Polled: a worker's claim on the source ends with it (PostgreSQL workers).
        values: dict[str, object] = {"last_polled_at": now, "state": state, "lease_until": None}
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
            kept = set(conn.execute(select(s.pending_baselines.c.source_key)).scalars())
            return [
                SourceHealth(
                    r.key, r.name, r.url, r.state, r.state_since, r.last_error, r.key in kept
                )
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


def _outage_changes(
    outcomes: Sequence[tuple[str, dict[str, object], datetime, SourceState]],
) -> list[FetchHealth]:
    """The fetches that open, extend or close a spell of being unreadable (failures, and the
    first good poll after failures); healthy polls of healthy sources are left out."""
    changes = []
    for key, values, now, before in outcomes:
        failed = values["state"] not in HEALTHY
        if failed or before.failures:
            error = values.get("last_error")
            changes.append(
                FetchHealth(
                    key=key,
                    failed=failed,
                    failures_before=before.failures,
                    state=str(values["state"]),
                    error=error if isinstance(error, str) else None,
                    now=now,
                )
            )
    return changes
