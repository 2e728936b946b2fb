"""One poll cycle: sources -> fetch -> extract -> detect -> match -> store.

The cycle never raises for a source's failure: each source's outcome is recorded in its health
and the others carry on.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import dataclasses
import gc
import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection

from monitor import metrics
from monitor.config import Config
from monitor.detect import (
    Novelty,
    entry_edit,
    keys_to_look_up,
    novelty,
    page_snapshot,
    previous_versions,
)
from monitor.detect.baseline import (
    CODEC,
    Baseline,
    KeptBodyError,
    Settled,
    first_poll_fault,
    pack_body,
    settle_and_extract,
    settle_baseline,
)
from monitor.detect.volatile_lines import LineShape, sort_volatile
from monitor.extract.errors import ExtractError
from monitor.extract.pages import extract_page
from monitor.extract.similar import Sketch, StoryIndex, from_bytes, signature, to_bytes
from monitor.fetch import Fetcher
from monitor.models import (
    Document,
    FetchOutcome,
    FetchResult,
    Passage,
    Source,
    TopicMatch,
    Validators,
)
from monitor.sandbox import Limits, Sandbox, SandboxError
from monitor.source_kinds import SOURCE_KINDS, extract_document
from monitor.store import FetchRecord, SourceState, StateError, Store, utcnow
from monitor.store.pending import PendingBody
from monitor.topics import MAX_MATCH_CHARS, Matcher
from monitor.topics.worker import freeze_matcher, install_matcher, match_passages

log = logging.getLogger("monitor.pipeline")

STORY_WINDOW = timedelta(days=7)  # syndicated copies arrive within days, not months
# How far back each cycle looks again for items other processes stored (`_read_stories`).
STORY_REREAD = timedelta(hours=1)
# Stories kept in memory at most (about 12 KB each): past it, the oldest go before their week is
# up, and a late copy of one of them is reported as a story of its own.
STORY_LIMIT = 5000
# Outcomes that carry no text (304s, failures) are written in batches of this many. A crash
# loses at most one batch of health updates; those sources are simply polled again.
RECORD_BATCH = 200
# Baseline polls (first polls: nothing is matched) share a commit in groups of this many.
BASELINE_BATCH = 50
# Kept first polls whose baselines the daemon takes in idle time, per parser process and batch.
SETTLE_PER_PROCESS = 8
# Beyond the fetch and the parser deadlines, what one source's poll may take for its own work
# (store reads and writes, hashing): a safety margin, so that nothing can hold a cycle open.
SOURCE_SLACK = 10.0
# Following a feed's links reads its articles in parallel within this many fetch time-outs.
FOLLOW_BUDGET = 2
T = TypeVar("T")
# The deadline of the source being polled, in its task (see `Poller._cpu`).
_DEADLINE: contextvars.ContextVar[asyncio.Timeout] = contextvars.ContextVar("source_deadline")


@dataclass(slots=True)
class CycleSummary:
    sources: int = 0
    fetched: int = 0
    not_modified: int = 0
    failed: int = 0
    refused: int = 0
    new_passages: int = 0
    baseline: int = 0
    deferred: int = 0  # first polls kept unparsed (their baseline is taken when needed)
    matches: int = 0
    matches_by_topic: dict[str, int] = field(default_factory=dict)
    updated: int = 0  # known feed entries edited materially (matched like new ones)
    seconds: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        n = self.deferred
        kept = f", {n} first poll{'s' if n != 1 else ''} kept unparsed" if n else ""
        return (
            f"{self.sources} sources: {self.fetched} fetched, {self.not_modified} unchanged, "
            f"{self.failed} failed, {self.refused} refused; {self.new_passages} new passages "
            f"({self.baseline} baseline{kept}), {self.matches} matches in {self.seconds:.1f} s"
        )


class Poller:
    """Runs poll cycles over a fixed set of sources with one matcher and one store."""

    def __init__(
        self,
        config: Config,
        store: Store,
        matcher: Matcher,
        sources: Sequence[Source],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        # Where "now" comes from: the wall clock, or a simulated one (benchmarks/soak.py runs
        # months of polls in minutes so that retention and story eviction happen).
        self.clock = clock
        self.store = store
        self.sources = list(sources)
        store.sync_sources(self.sources)
        self._records: list[FetchRecord] = []  # outcomes without text, not yet written
        # Baseline polls not yet committed: (source, time, state, the write itself).
        self._baselines: list[
            tuple[Source, datetime, SourceState, Callable[[Connection], None]]
        ] = []
        # Sources whose first poll is kept unparsed, with the kept body's hash (read per cycle).
        self._kept: dict[str, str] = {}
        poll = config.poll
        # Every parse and match of fetched text runs in a parser process, however few sources
        # there are: only a process can be stopped when a page is pathological.
        self.sandbox = Sandbox(
            poll.workers or os.cpu_count() or 1,
            Limits(timeout=poll.parse_timeout, memory_mb=poll.parse_memory_mb),
            setup=install_matcher,
            setup_args=(freeze_matcher(matcher, for_workers=True),),
        )
        self.in_flight = 0  # sources between "fetch started" and "stored"
        self.stories = StoryIndex(limit=STORY_LIMIT)
        self._story_items: dict[str, int] = {}  # index key -> root item id of its story
        self._stories_read: datetime | None = None  # when the store was last read for stories
        self._last_item_read = 0  # the highest item id read for stories
        self._read_stories(self.clock())
        # Parser processes (and their fork server) start when the first fetched body needs
        # parsing, not here: a cycle whose sources all answered 304 or sent the same body
        # starts none (a second of CPU for a `monitor once` that parses nothing).
        self._slots = asyncio.Semaphore(self.sandbox.size)  # jobs running in the processes
        # What exists now (sources, topics, dictionaries, the story index) lives as long as the
        # poller: the cyclic collector need not walk it again on every pass of every cycle
        # (at 10,000 sources that walking was a tenth of a cycle's CPU). Refcounting still
        # frees it when the poller goes.
        # What an earlier poller froze is unfrozen and collected first: frozen objects are never
        # collected, so the cyclic garbage of every poller replaced by a reload would otherwise
        # stay. The first poller of a process only clears the young generations: a full pass
        # walks every module loaded (50 ms at start, more with more sources) to find the little
        # that start-up left, which is then kept once.
        if gc.get_freeze_count():
            gc.unfreeze()
            gc.collect()
        else:
            gc.collect(1)
        gc.freeze()

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Start the parser processes now and block until they are up (benchmarks: measure a
        cycle without their start-up)."""
        return self.sandbox.wait_ready(timeout)

    async def _cpu(self, what: str, fn: Callable[..., T], *args: object) -> T:
        """Run parsing or matching in a parser process; a job that does not finish (deadline,
        memory cap, crash) becomes an ExtractError naming `what` stopped and why.

        Waiting for a free process is not the source's fault: that time is added to the
        source's own deadline, so that a queue behind slow pages fails no healthy source."""
        loop = asyncio.get_running_loop()
        queued = loop.time()
        async with self._slots:
            deadline = _DEADLINE.get(None)
            when = deadline.when() if deadline is not None else None
            if deadline is not None and when is not None:
                deadline.reschedule(when + loop.time() - queued)
            try:
                return await self.sandbox.run(fn, *args)
            except SandboxError as exc:
                raise ExtractError(
                    f"{what} {exc}; skipped, tried again at the next poll"
                ) from None

    def close(self) -> None:
        self.sandbox.close()

    async def cycle(
        self,
        fetcher: Fetcher,
        *,
        only_due: bool = True,
        progress: Callable[[Source, str], None] | None = None,
    ) -> CycleSummary:
        started = time.monotonic()
        now = self.clock()
        self._forget_stories(now)
        if self.store.shared:  # on SQLite no other process writes while this one runs
            self._read_stories(now)
        summary = CycleSummary()
        todo = [s for s in self.sources if s.refused is None]
        if only_due:
            # On PostgreSQL, a batch this worker claims (others poll the rest).
            due = self.store.claim_due([s.key for s in todo], now)
            todo = [s for s in todo if s.key in due]
        for src in self.sources:
            if src.refused is not None:
                summary.refused += 1
        summary.sources = len(todo)
        states = self.store.source_states([s.key for s in todo])
        # Only sources without a baseline can have a kept first poll (none, once all settled).
        first = [k for k, st in states.items() if not st.baseline_done]
        self._kept = self.store.pending_baselines(first) if first else {}

        # Backpressure: a fetched body waits in memory until a parser takes it, so only a bounded
        # number of sources may be between "fetch started" and "stored" at once.
        in_flight = asyncio.Semaphore(2 * self.config.http.concurrency)

        fault: list[StateError] = []  # the store cannot be written: stop, and say so once

        async def one(src: Source) -> None:
            # A state fault anywhere in a source's poll, its failure handling included (which
            # writes a batch of outcomes now and then), stops the cycle's other sources too.
            try:
                await one_source(src)
            except StateError as exc:
                fault.append(exc)

        async def one_source(src: Source) -> None:
            try:
                async with in_flight:
                    if fault:
                        return
                    self.in_flight += 1
                    try:
                        # Every step has its own bound; this holds even if one forgets its.
                        # Time spent queued for a parser process is added (see `_cpu`).
                        async with asyncio.timeout(self._deadline(src)) as deadline:
                            _DEADLINE.set(deadline)
                            outcome = await self._poll(
                                fetcher, src, states[src.key], summary
                            )
                    finally:
                        self.in_flight -= 1
            except StateError:
                raise
            except TimeoutError:
                error = f"timed out after {self._deadline(src):.0f} s; polled again next time"
                self._later(
                    src, FetchResult(src.url, FetchOutcome.ERROR, error=error), self.clock(),
                    states[src.key],
                )
                summary.failed += 1
                summary.errors.append((src.name, error))
                outcome = "failed"
            except Exception as exc:  # our bug, not the source's: record it and carry on
                log.exception("polling %s failed unexpectedly", src.url)
                self._later(
                    src,
                    FetchResult(src.url, FetchOutcome.ERROR, error=f"internal error: {exc}"),
                    self.clock(),
                    states[src.key],
                )
                summary.failed += 1
                summary.errors.append((src.name, f"internal error: {exc}"))
                outcome = "failed"
            if progress:
                progress(src, outcome)

        try:
            await asyncio.gather(*(one(s) for s in todo))
        finally:
            try:
                self._flush_baselines()
            finally:
                self._flush_records()
        if fault:
            raise fault[0]
        summary.seconds = time.monotonic() - started
        return summary

    def _deadline(self, src: Source) -> float:
        """The most one source's poll may take: the fetch, a parse and a match at their own
        deadlines, the articles behind a feed's entries when it follows links, and slack."""
        http, poll = self.config.http, self.config.poll
        follow = FOLLOW_BUDGET * http.total_timeout if src.follow_links else 0.0
        return http.total_timeout + 2 * poll.parse_timeout + follow + SOURCE_SLACK

    async def _poll(
        self, fetcher: Fetcher, src: Source, state: SourceState, summary: CycleSummary
    ) -> str:
        kind = SOURCE_KINDS[src.kind]  # what differs between feeds and pages
        # A page whose passages an older extractor recorded is fetched in full (no validators),
        # so that an unchanged body can be recognised and its newly found paragraphs recorded.
        upgrade = (
            kind.EXTRACTOR is not None
            and state.baseline_done
            and state.extractor != kind.EXTRACTOR
        )
        result = await fetcher.fetch(
            src.url,
            Validators() if upgrade else state.validators,
            verify_tls=src.verify_tls,
            respect_robots=kind.ROBOTS and self.config.http.respect_robots,
            accept=kind.ACCEPT,
        )
        now = self.clock()
        metrics.FETCHES.labels(result.outcome.value).inc()
        metrics.FETCH_SECONDS.labels(result.outcome.value).observe(result.elapsed)
        if result.outcome is FetchOutcome.NOT_MODIFIED:
            summary.not_modified += 1
            self._later(src, result, now, state)
            return "not modified"
        if result.outcome is not FetchOutcome.OK:
            if result.outcome is FetchOutcome.REFUSED:
                summary.refused += 1
            else:
                summary.failed += 1
            summary.errors.append((src.name, result.error or result.outcome.value))
            self._later(src, result, now, state)
            return result.outcome.value
        # A baseline poll (the first, unless turned off) only records what is there. So does
        # the first poll after an extractor upgrade when the body is the one polled before:
        # what looks new there is only what the old extractor missed.
        baseline = not state.baseline_done and self.config.poll.baseline
        if upgrade and result.validators.body_hash == state.validators.body_hash:
            baseline = True
        kept = None if state.baseline_done else self._kept.get(src.key)
        if kept is not None:
            # The first poll was kept unparsed: its baseline is needed now (whatever
            # `poll.baseline` says today, it was taken as one), then this body is a later poll.
            settled = await self._settle_then_parse(src, result, state, now, summary, kept)
            if isinstance(settled, str):
                return settled
            state, doc = settled
            baseline = False
        elif baseline and not state.baseline_done:
            return await self._first_poll(src, result, state, now, summary)
        else:
            try:
                # A baseline is only recorded, so it needs no dates or languages.
                doc = await self._parse(src, result, record_only=baseline)
            except ExtractError as exc:
                return self._unparsed(src, result, state, now, summary, exc)
        # Decide what is new without writing; everything below commits in one transaction, so
        # a crash or a cancelled cycle leaves the passages new for the next poll.
        first = not state.baseline_done  # never stored: nothing known, nothing to look up
        news = detect_new(self.store, src.key, doc.passages, first=first)
        fresh = news.fresh
        # Feed entries keep their key when edited: a material edit of a known one is an update.
        edited: list[Passage] = []
        versions: list[tuple[str, str, str]] = []
        if kind.ENTRY_VERSIONS:
            edited, versions = detect_edits(self.store, src.key, doc.passages, fresh, first=first)
        snapshot = page_snapshot(doc.passages) if kind.SNAPSHOTS else None
        shapes: dict[str, LineShape] | None = None  # what the page taught, when it taught
        if snapshot is not None and fresh and not first:
            before = self.store.page_snapshot(src.key)
            # Link each new paragraph to the paragraph it replaced, if it is an edit.
            edits = previous_versions(fresh, snapshot, before)
            for passage, previous in zip(fresh, edits, strict=True):
                passage.previous = previous
            # Counters and tickers the page re-renders are not new text (nor recorded as seen).
            taught = self.store.volatile_lines(src.key)
            lines = sort_volatile(fresh, snapshot, before, taught, now)
            fresh = lines.report
            if lines.shapes != taught:  # most pages have no such lines: nothing to write
                shapes = lines.shapes
            if lines.skipped:
                news = dataclasses.replace(
                    news, new_keys=[k for k in news.new_keys if k not in lines.skipped]
                )
        matched: list[tuple[Passage, list[TopicMatch]]] = []
        if baseline:
            summary.baseline += len(fresh)
        else:
            summary.new_passages += len(fresh)
            metrics.NEW_PASSAGES.inc(len(fresh))
            if src.follow_links and kind.FOLLOWS_LINKS:
                fresh = await self._follow(fetcher, src, fresh)
                # An edited entry is read in full too: its first report holds the article, and
                # an update is told against what the reader received.
                edited = await self._follow(fetcher, src, edited) if edited else edited
            summary.updated += len(edited)
            try:
                matched, cut = await self._match([*fresh, *edited])
            except ExtractError as exc:
                # Nothing is written: the passages stay new, to be matched at the next poll.
                return self._unparsed(src, result, state, now, summary, exc)
            if cut:
                # Said in the source's health, so an analyst can see why the end of a very
                # long text found nothing.
                doc.warnings.append(
                    f"{cut} new item(s) longer than {MAX_MATCH_CHARS:,} characters: only "
                    "their start was matched against the topics"
                )
                metrics.MATCH_CUTS.inc(cut)
        summary.fetched += 1
        if doc.warnings:
            # Fetched fine, but the text may be incomplete: say so in the source's health.
            result.error = "warning: " + "; ".join(doc.warnings)

        def write(conn: Connection) -> None:
            self.store.remember_passages(
                src.key, news.new_keys, news.seen_keys, now, conn, rekeyed=news.rekeyed
            )
            if snapshot is not None:
                self.store.save_page_snapshot(src.key, snapshot, now, conn, first=first)
            if shapes is not None:
                self.store.save_volatile_lines(src.key, shapes, now, conn)
            self.store.save_entry_versions(src.key, versions, now, conn, first=first)
            updates = {id(p) for p in edited}
            for passage, found in matched:
                if id(passage) in updates:
                    self._store_update(src, passage, found, now, summary, conn)
                else:
                    self._store_item(src, passage, found, now, summary, conn)
            self.store.record_fetch(
                src.key,
                result,
                now,
                src.interval_seconds,
                state,
                conn,
                baseline_done=not state.baseline_done,
                extractor=kind.EXTRACTOR,
            )

        if baseline:
            # Only database writes (a baseline matches nothing), so several sources can share
            # a commit; see `_flush_baselines`.
            self._baselines.append((src, now, state, write))
            if len(self._baselines) >= BASELINE_BATCH:
                self._flush_baselines()
            return "baseline"
        with self.store.transaction() as conn:
            write(conn)
        return f"{len(fresh)} new"

    async def _first_poll(
        self,
        src: Source,
        result: FetchResult,
        state: SourceState,
        now: datetime,
        summary: CycleSummary,
    ) -> str:
        """A source's baseline, deferred: the fetched body is kept (compressed, in a thread: zlib
        releases the GIL) with the fetch recorded as usual, and parsed only when what it records
        is needed: at the source's first poll with a changed body (`_settle_then_parse`), or by
        the daemon in idle time (`settle_kept`). A cron `monitor once` whose sources mostly do
        not change so parses nothing for them. What a parse would refuse at once (a feed URL
        serving an HTML page, a page of an unreadable type) fails now, as it always did."""
        url = result.final_url or src.url
        fault = first_poll_fault(src.kind, result.body, url, result.content_type)
        if fault is not None:
            return self._unparsed(src, result, state, now, summary, ExtractError(fault))
        body_hash = result.validators.body_hash
        if body_hash is None:  # the fetcher hashes every body it returns; never seen
            raise RuntimeError("a fetched body without its hash")
        blob = await asyncio.to_thread(pack_body, result.body)
        pending = PendingBody(
            src.key, blob, CODEC, len(result.body), body_hash, result.content_type, url, now
        )
        summary.deferred += 1
        summary.fetched += 1

        def write(conn: Connection) -> None:
            self.store.keep_pending_baseline(pending, conn)
            # `baseline_done` stays false until the baseline is taken: a kept body lost for
            # any reason only means that the next poll takes a baseline again.
            self.store.record_fetch(src.key, result, now, src.interval_seconds, state, conn)

        # Only database writes, so several sources share a commit (see `_flush_baselines`).
        self._baselines.append((src, now, state, write))
        if len(self._baselines) >= BASELINE_BATCH:
            self._flush_baselines()
        return "baseline"

    async def _settle_then_parse(
        self,
        src: Source,
        result: FetchResult,
        state: SourceState,
        now: datetime,
        summary: CycleSummary,
        kept_hash: str,
    ) -> tuple[SourceState, Document] | str:
        """The first poll with a changed body of a source whose first poll was kept: one parser
        job takes the kept body's baseline (as the first poll would have) and extracts the new
        body; the baseline is committed, then the new body goes the way of any later poll,
        measured against it. The source's state after that commit and the new body's
        document; or how the poll ended (a failure)."""
        if result.validators.body_hash == kept_hash:  # the kept body itself: nothing new
            summary.not_modified += 1
            self._later(src, result, now, state)
            return "not modified"
        pending = self.store.pending_body(src.key)
        if pending is None or pending.body_hash != kept_hash:
            return await self._settled_elsewhere(src, result, now, summary)
        max_items, ignore = self.config.http.max_feed_items, tuple(src.ignore)
        kept = (pending.body, pending.codec, pending.final_url, pending.content_type)
        try:
            settled = await self._cpu(
                "parse",
                settle_and_extract,
                src.kind,
                kept,
                result.body,
                result.final_url or src.url,
                result.content_type,
                max_items,
                ignore,
            )
        except KeptBodyError as exc:
            return self._kept_unparsable(src, state, now, summary, pending, exc)
        except ExtractError as exc:
            # The job was stopped (deadline, memory, crash): the kept body alone tells which
            # of the two bodies it was.
            try:
                baseline = await self._cpu(
                    "parse", settle_baseline, src.kind, *kept, max_items, ignore
                )
            except ExtractError as kept_exc:
                return self._kept_unparsable(src, state, now, summary, pending, kept_exc)
            settled = Settled(baseline, None, str(exc))
        if not self._write_settled(src, pending, settled.baseline, now):
            return await self._settled_elsewhere(src, result, now, summary)
        summary.baseline += len(settled.baseline.keys)
        state = dataclasses.replace(
            state, baseline_done=True, extractor=SOURCE_KINDS[src.kind].EXTRACTOR
        )
        if settled.doc is None:
            return self._unparsed(
                src, result, state, now, summary, ExtractError(settled.error or "parse failed")
            )
        return state, settled.doc

    async def _settled_elsewhere(
        self, src: Source, result: FetchResult, now: datetime, summary: CycleSummary
    ) -> tuple[SourceState, Document] | str:
        """The kept body went meanwhile (the daemon's idle time, another worker): on from what
        the store holds now, a baseline taken or, if the kept body was dropped, none."""
        state = self.store.source_state(src.key)
        if not state.baseline_done and self.config.poll.baseline:
            return await self._first_poll(src, result, state, now, summary)
        # A baseline taken, or none to take (`poll.baseline` off): a poll like any other.
        try:
            doc = await self._parse(src, result, record_only=False)
        except ExtractError as exc:
            return self._unparsed(src, result, state, now, summary, exc)
        return state, doc

    async def _parse(self, src: Source, result: FetchResult, *, record_only: bool) -> Document:
        """The fetched body's document, extracted in a parser process."""
        return await self._cpu(
            "parse",
            extract_document,
            src.kind,
            result.body,
            result.final_url or src.url,
            result.content_type,
            self.config.http.max_feed_items,
            tuple(src.ignore),
            record_only,
        )

    def _write_settled(
        self,
        src: Source,
        pending: PendingBody,
        baseline: Baseline,
        now: datetime,
        warning: str | None = None,
    ) -> bool:
        """Commit a baseline taken from a kept body, with the kept body's removal: what the
        first poll would have written (the passages' keys as seen, the page's paragraphs, the
        feed entries' versions). False when someone else settled or dropped it first (nothing
        is written then). `warning`: said in the source's health (taken in idle time)."""
        kind = SOURCE_KINDS[src.kind]
        # As `detect_new` decides for a source never stored: every key is new. A source an
        # upgrade marked for new keys has moved once it has recorded some.
        rekeyed = self.store.rekey_pending(src.key) and bool(baseline.keys)
        try:
            with self.store.transaction() as conn:
                if not self.store.settle_pending(
                    src.key, pending.body_hash, kind.EXTRACTOR, conn
                ):
                    raise _Gone
                self.store.remember_passages(
                    src.key, baseline.keys, [], now, conn, rekeyed=rekeyed
                )
                if baseline.snapshot is not None:
                    self.store.save_page_snapshot(
                        src.key, baseline.snapshot, now, conn, first=True
                    )
                self.store.save_entry_versions(src.key, baseline.versions, now, conn, first=True)
                if warning is not None:
                    self.store.note_baseline_warnings(src.key, warning, conn)
        except _Gone:
            return False
        return True

    def _kept_unparsable(
        self,
        src: Source,
        state: SourceState,
        now: datetime,
        summary: CycleSummary | None,
        pending: PendingBody,
        exc: ExtractError,
    ) -> str:
        """A kept first-poll body that cannot be parsed fails as its first poll would have: the
        source's health says why, and the kept body and its validators go, so that the next
        poll takes a baseline again."""
        failure = FetchResult(src.url, FetchOutcome.ERROR, error=str(exc))
        with self.store.transaction() as conn:
            if self.store.drop_pending_baseline(src.key, pending.body_hash, conn):
                self.store.record_fetch(
                    src.key, failure, now, src.interval_seconds, state, conn
                )
        if summary is not None:
            summary.failed += 1
            summary.errors.append((src.name, str(exc)))
        return "failed"

    async def settle_kept(self, limit: int | None = None) -> tuple[int, int]:
        """Take the baselines of first polls kept unparsed, `limit` at most (default: a batch
        for the parser processes), in parallel; what the daemon does in idle time, so that its
        sources are soon all settled and their parse warnings in their health. Returns how
        many were settled now and how many are left."""
        limit = limit or SETTLE_PER_PROCESS * self.sandbox.size
        by_key = {s.key: s for s in self.sources if s.refused is None}
        kept = [(k, h) for k, h in self.store.pending_baselines(list(by_key)).items()]
        if self.store.shared:
            random.shuffle(kept)  # other workers settle too: do not all start at the same one
        batch = kept[:limit]
        done = await asyncio.gather(*(self._settle_one(by_key[k], h) for k, h in batch))
        return sum(done), len(kept) - len(batch)

    async def _settle_one(self, src: Source, kept_hash: str) -> bool:
        try:
            return await self._settle_kept_body(src, kept_hash)
        except StateError:
            raise  # the store cannot be written: the daemon says so once
        except Exception:  # our bug, not the source's: this source only, kept for its next poll
            log.exception("taking the baseline of %s failed unexpectedly", src.url)
            return False

    async def _settle_kept_body(self, src: Source, kept_hash: str) -> bool:
        pending = self.store.pending_body(src.key)
        if pending is None or pending.body_hash != kept_hash:
            return False  # settled meanwhile
        try:
            baseline = await self._cpu(
                "parse",
                settle_baseline,
                src.kind,
                pending.body,
                pending.codec,
                pending.final_url,
                pending.content_type,
                self.config.http.max_feed_items,
                tuple(src.ignore),
            )
        except ExtractError as exc:
            state = self.store.source_state(src.key)
            self._kept_unparsable(src, state, self.clock(), None, pending, exc)
            log.warning("source %s: %s", src.name, exc)
            return False
        warning = "warning: " + "; ".join(baseline.warnings) if baseline.warnings else None
        return self._write_settled(src, pending, baseline, self.clock(), warning)

    def _read_stories(self, now: datetime) -> None:
        """Index the recent items the store holds that this poller has not read yet: at start
        all of them, then at every cycle those that other processes stored meanwhile (other
        PostgreSQL workers, a `monitor once`), so that a copy of a story one worker reported
        is grouped with it by any other."""
        window = since = now - STORY_WINDOW
        after_id = None
        if self._stories_read is not None:
            after_id = self._last_item_read
            # An item is stored with the time its cycle started and committed up to a cycle
            # later: items since the last read, and a margin for those still being written then;
            # and, whatever their time (a worker whose clock lags), those numbered after the
            # last one read.
            since = max(since, self._stories_read - STORY_REREAD)
        self._stories_read = now
        rows = self.store.recent_minhashes(since, after_id, window)
        for item_id, story_id, source_key, passage_key, stored, seen, text in rows:
            self._last_item_read = max(self._last_item_read, item_id)
            key = f"{source_key}\x00{passage_key}"
            if key in self._story_items:  # stored by this poller: indexed already
                continue
            sig: Sketch | None
            try:
                sig = from_bytes(base64.b64decode(stored))
            except ValueError:  # a MinHash of an older release: sign its stored text again
                sig = signature(text)
            if sig is not None:
                self.stories.add_signature(key, sig, seen)
                self._story_items[key] = story_id or item_id

    def _forget_stories(self, now: datetime) -> None:
        """Drop stories older than the story window from memory (they stay in the store)."""
        for key in self.stories.forget_before(now - STORY_WINDOW):
            self._story_items.pop(key, None)
        if len(self._story_items) > len(self.stories):  # some went over STORY_LIMIT
            self._story_items = {k: v for k, v in self._story_items.items() if k in self.stories}

    def _unparsed(
        self,
        src: Source,
        result: FetchResult,
        state: SourceState,
        now: datetime,
        summary: CycleSummary,
        exc: ExtractError,
    ) -> str:
        """Record a fetched body that could not be parsed or matched as a failure. The old body
        hash is kept, so the next poll parses the body again instead of skipping it."""
        result.outcome, result.error = FetchOutcome.ERROR, str(exc)
        result.validators.body_hash = state.validators.body_hash
        self._later(src, result, now, state)
        summary.failed += 1
        summary.errors.append((src.name, str(exc)))
        return "failed"

    def _later(self, src: Source, result: FetchResult, now: datetime, state: SourceState) -> None:
        """Queue an outcome that carries no text; written with others by `_flush_records`."""
        self._records.append(FetchRecord(src.key, result, now, src.interval_seconds, state))
        if len(self._records) >= RECORD_BATCH:
            self._flush_records()

    def _flush_records(self) -> None:
        records, self._records = self._records, []
        self.store.record_fetches(records)

    def _flush_baselines(self) -> None:
        """Commit the queued baseline writes together: one commit writes each touched page of
        the database once instead of once per source. Should the shared transaction fail, each
        source is written in one of its own, so one bad source costs only itself; a crash
        before the commit leaves these sources without a baseline, to be taken again."""
        pending, self._baselines = self._baselines, []
        if not pending:
            return
        try:
            with self.store.transaction() as conn:
                for *_, write in pending:
                    write(conn)
            return
        except StateError:
            raise  # not one bad source: nothing can be written (they are baselined next poll)
        except Exception:
            log.warning(
                "writing %d baselines together failed; writing them one by one", len(pending)
            )
        for src, now, state, write in pending:
            try:
                with self.store.transaction() as conn:
                    write(conn)
            except Exception as exc:  # our bug or a store fault: this source only
                log.exception("storing the baseline of %s failed", src.url)
                error = FetchResult(src.url, FetchOutcome.ERROR, error=f"internal error: {exc}")
                self._later(src, error, now, state)

    async def _follow(self, fetcher: Fetcher, src: Source, entries: list[Passage]) -> list[Passage]:
        """Replace teaser entries by the main text of the article they link to; articles not
        read within the budget keep their teaser."""

        async def full(entry: Passage) -> Passage:
            if not entry.link:
                return entry
            page = await fetcher.fetch(
                entry.link,
                verify_tls=src.verify_tls,
                respect_robots=self.config.http.respect_robots,
                accept=SOURCE_KINDS["page"].ACCEPT,
            )
            if page.outcome is not FetchOutcome.OK:
                log.warning("follow_links: %s: %s; kept the feed's teaser", entry.link, page.error)
                return entry
            try:
                doc = await self._cpu(
                    "parse", extract_page, page.body, entry.link, page.content_type
                )
            except ExtractError as exc:
                log.warning("follow_links: %s: %s; kept the feed's teaser", entry.link, exc)
                return entry
            text = "\n\n".join(p.text for p in doc.passages)
            if len(text) > len(entry.text):
                entry.text = text
                entry.language = doc.language or entry.language
                entry.published = entry.published or doc.published
            return entry

        tasks = [asyncio.ensure_future(full(e)) for e in entries]
        budget = FOLLOW_BUDGET * self.config.http.total_timeout
        try:
            _, late = await asyncio.wait(tasks, timeout=budget) if tasks else (set(), set())
        finally:
            for task in tasks:  # also when this poll itself is cancelled
                task.cancel()
        if late:
            await asyncio.wait(late)
            log.warning(
                "follow_links: %s: %d articles not read within %.0f s; kept their teasers",
                src.url, len(late), budget,
            )
        return entries

    async def _match(
        self, passages: list[Passage]
    ) -> tuple[list[tuple[Passage, list[TopicMatch]]], int]:
        """The topics each new passage matches, decided in a parser process; and how many
        passages were longer than the matcher reads (`MAX_MATCH_CHARS`)."""
        if not passages:
            return [], 0
        answers = await self._cpu(
            "matching",
            match_passages,
            # A page paragraph's context is its page's headline, not a title of its own.
            [
                (p.text, p.matched_title, p.language, bool(p.context) and not p.entry)
                for p in passages
            ],
        )
        matched = []
        cut = 0
        for passage, (language, found, text_cut) in zip(passages, answers, strict=True):
            passage.language = language
            cut += text_cut
            if passage.context and not passage.entry:
                found = [m for m in found if found_in_text(m, passage)]
            if found:
                matched.append((passage, found))
        return matched, cut

    def _store_update(
        self,
        src: Source,
        passage: Passage,
        found: list[TopicMatch],
        now: datetime,
        summary: CycleSummary,
        conn: Connection,
    ) -> None:
        """Store a materially edited feed entry that matches: an update of the entry's first
        report, or, if it was never reported (it matched no topic before), a new item."""
        first = self.store.entry_item(src.key, passage.key, conn)
        if first is None:
            passage.previous = passage.previous_title = None  # new to the reader
            self._store_item(src, passage, found, now, summary, conn)
            return
        item_id, story_id = first
        # Same story as its first report (so "also reported by" still holds); no signature of
        # its own: the story is already indexed by the first report.
        self.store.add_item(
            src.key, passage, found, now, story_id=story_id or item_id, revises=item_id, conn=conn
        )
        self._count(found, summary)

    def _store_item(
        self,
        src: Source,
        passage: Passage,
        found: list[TopicMatch],
        now: datetime,
        summary: CycleSummary,
        conn: Connection,
    ) -> None:
        key = f"{src.key}\x00{passage.key}"
        sig = signature(f"{passage.title or ''}\n{passage.text}")
        # The same story already seen from another source: share its item id, so the digest
        # shows it once with "also reported by".
        root = self.stories.nearest(sig, src.key) if sig is not None else None
        story_id = self._story_items.get(root) if root is not None else None
        stored = base64.b64encode(to_bytes(sig)).decode() if sig is not None else None
        item_id = self.store.add_item(
            src.key, passage, found, now, story_id=story_id, minhash=stored, conn=conn
        )
        if sig is not None:
            # In memory only once the item exists; if the transaction fails the index still
            # holds a key with no item, which `_story_items.get` above simply does not find.
            self.stories.add_signature(key, sig, now)
            # Only indexed stories are ever looked up here.
            self._story_items[key] = story_id or item_id  # the root item of its story
        self._count(found, summary)

    @staticmethod
    def _count(found: list[TopicMatch], summary: CycleSummary) -> None:
        summary.matches += len(found)
        for m in found:
            metrics.MATCHES.labels(m.topic).inc()
            summary.matches_by_topic[m.topic] = summary.matches_by_topic.get(m.topic, 0) + 1


class _Gone(Exception):
    """A kept first-poll body was settled or dropped by someone else: roll back."""


def found_in_text(match: TopicMatch, passage: Passage) -> bool:
    """Whether the text of a page's paragraph took part in the match: the page's headline and
    section heading complete a match, never make one alone (a live-blog entry's own heading
    may, as a feed entry's title does). The matcher draws the snippet from the text whenever a
    term there took part, else from the title it was given."""
    snippet = match.evidence.snippet.removeprefix("… ").removesuffix(" …")
    context = " ".join((passage.context or "").split())
    return snippet not in context or snippet in " ".join(passage.text.split())


def detect_new(
    store: Store, key: str, passages: Sequence[Passage], *, first: bool = False
) -> Novelty:
    """Detect's decision on a source's passages, given what the store knows of the source.
    Reads only: the caller records the decision (`Store.remember_passages`), with the items
    made of the new passages, in one transaction. `first`: the source was never stored."""
    rekeying = store.rekey_pending(key)
    lookup = keys_to_look_up(passages, first=first, rekeying=rekeying)
    known = store.known_keys(key, lookup) if lookup else set()
    return novelty(passages, known, rekeying=rekeying)


def detect_edits(
    store: Store,
    key: str,
    passages: Sequence[Passage],
    fresh: Sequence[Passage],
    *,
    first: bool = False,
) -> tuple[list[Passage], list[tuple[str, str, str]]]:
    """The known feed entries edited materially since the version kept of them (each given the
    kept title and text as `previous_title` and `previous`), and the (key, title, text) versions
    to keep now: of entries with none yet (new ones, and all after an upgrade, which so reports
    nothing again) and of the edited ones. Reads only, like `detect_new`."""
    if first:
        return [], [(p.key, p.title or "", p.text) for p in passages]
    new = {p.key for p in fresh}
    kept = store.entry_versions(key, [p.key for p in passages])
    edited: list[Passage] = []
    versions: list[tuple[str, str, str]] = []
    for p in passages:
        current = (p.title or "", p.text)
        old = kept.get(p.key)
        if old is None or p.key in new:
            versions.append((p.key, *current))
        elif entry_edit(old, current) is not None:
            # Kept only at a material edit: small changes never add up unseen.
            p.previous_title, p.previous = old
            edited.append(p)
            versions.append((p.key, *current))
    return edited, versions
