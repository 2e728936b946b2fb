"""One poll cycle: sources -> fetch -> extract -> detect -> match -> store.

The cycle never raises for a source's failure: each source's outcome is recorded in its health
and the others carry on.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection

from monitor import metrics
from monitor.config import Config
from monitor.detect import previous_version
from monitor.extract.errors import ExtractError
from monitor.extract.pages import extract_page
from monitor.extract.parse import extract_document, worker_ready
from monitor.extract.similar import StoryIndex, signature, to_bytes
from monitor.extract.text import detect_language
from monitor.fetch import Fetcher
from monitor.models import FetchOutcome, FetchResult, Passage, Source, TopicMatch
from monitor.store import FetchRecord, SourceState, StateError, Store, utcnow
from monitor.topics import Matcher

log = logging.getLogger("monitor.pipeline")

STORY_WINDOW = timedelta(days=7)  # syndicated copies arrive within days, not months
POOL_MIN_JOBS = 20
# Outcomes that carry no text (304s, failures) are written in batches of this many. A crash
# loses at most one batch of health updates; those sources are simply polled again.
RECORD_BATCH = 200
# Baseline polls (first polls: nothing is matched) share a commit in groups of this many.
BASELINE_BATCH = 50
PARSE_TIMEOUT = 60.0  # seconds one document may take to parse
T = TypeVar("T")


@dataclass(slots=True)
class CycleSummary:
    sources: int = 0
    fetched: int = 0
    not_modified: int = 0
    failed: int = 0
    refused: int = 0
    new_passages: int = 0
    baseline: int = 0
    matches: int = 0
    matches_by_topic: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.sources} sources: {self.fetched} fetched, {self.not_modified} unchanged, "
            f"{self.failed} failed, {self.refused} refused; {self.new_passages} new passages "
            f"({self.baseline} baseline), {self.matches} matches in {self.seconds:.1f} s"
        )


class Poller:
    """Runs poll cycles over a fixed set of sources with one matcher and one store."""

    def __init__(
        self, config: Config, store: Store, matcher: Matcher, sources: Sequence[Source]
    ) -> None:
        self.config = config
        self.store = store
        self.matcher = matcher
        self.sources = list(sources)
        store.sync_sources(self.sources)
        self._pool: ProcessPoolExecutor | None = None
        self._pool_ready = threading.Event()  # set once the current pool's workers are up
        self._records: list[FetchRecord] = []  # outcomes without text, not yet written
        # Baseline polls not yet committed: (source, time, state, the write itself).
        self._baselines: list[
            tuple[Source, datetime, SourceState, Callable[[Connection], None]]
        ] = []
        self._workers = config.poll.workers or os.cpu_count() or 1
        self.stories = StoryIndex()
        self._story_items: dict[str, int] = {}  # index key -> root item id of its story
        for item_id, story_id, source_key, passage_key, stored in store.recent_minhashes(
            utcnow() - STORY_WINDOW
        ):
            key = f"{source_key}\x00{passage_key}"
            self.stories.add_bytes(key, base64.b64decode(stored))
            self._story_items[key] = story_id or item_id
        # Parser processes start now, in the background, rather than when the first page of
        # the first cycle arrives.
        self._ensure_pool(sum(1 for s in self.sources if s.refused is None))
        # What exists now (sources, topics, dictionaries, the story index) lives as long as the
        # poller: the cyclic collector need not walk it again on every pass of every cycle
        # (at 10,000 sources that walking was a tenth of a cycle's CPU). Refcounting still
        # frees it when the poller goes.
        gc.collect()
        gc.freeze()

    def wait_ready(self, timeout: float = PARSE_TIMEOUT) -> bool:
        """Block until the parser processes are up (True at once when there are none)."""
        return self._pool is None or self._pool_ready.wait(timeout)

    async def _cpu(self, fn: Callable[..., T], *args: object) -> T:
        """Run CPU-heavy parsing off the event loop: in the process pool when there is one.

        A worker that died (killed, out of memory) breaks the whole pool: it is replaced and the
        job tried once more. A job running past PARSE_TIMEOUT is abandoned with its pool, so one
        pathological page cannot hold the cycle.
        """
        if self._pool is None:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args), PARSE_TIMEOUT)
        if not self._pool_ready.is_set():
            # Workers still starting: wait off the event loop, so that fetches carry on.
            await asyncio.to_thread(self._pool_ready.wait, PARSE_TIMEOUT)
        for attempt in (1, 2):
            pool = self._pool
            try:
                future = asyncio.get_running_loop().run_in_executor(pool, fn, *args)
                return await asyncio.wait_for(future, PARSE_TIMEOUT)
            except BrokenProcessPool:
                self._replace_pool(pool, "a parser process died")
                if attempt == 2:
                    raise
            except TimeoutError:
                self._replace_pool(pool, f"parsing took longer than {PARSE_TIMEOUT:.0f} s")
                raise ExtractError(
                    f"parsing took longer than {PARSE_TIMEOUT:.0f} s; the page was skipped"
                ) from None
        raise AssertionError("unreachable")

    def _replace_pool(self, broken: ProcessPoolExecutor | None, why: str) -> None:
        if broken is None or broken is not self._pool:
            return  # another job already replaced it
        log.warning("%s; starting new parser processes", why)
        # The stuck or dead pool cannot be shut down politely; its workers are ended.
        for proc in list(getattr(broken, "_processes", {}).values()):
            proc.terminate()
        broken.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()

    def _ensure_pool(self, jobs: int) -> None:
        # Worth its start-up cost (each worker imports the extractors) only for big cycles; a
        # thread would hold the GIL and stall the event loop, so fetches time out under load.
        if self._pool is None and self._workers > 1 and jobs >= POOL_MIN_JOBS:
            self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=self._workers, mp_context=_parser_context())
        # Starting workers blocks the caller until the fork server has loaded the parsers
        # (about a second the first time): a thread of its own does it.
        ready = self._pool_ready = threading.Event()
        threading.Thread(
            target=_start_workers, args=(pool, self._workers, ready), daemon=True
        ).start()
        return pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def cycle(
        self,
        fetcher: Fetcher,
        *,
        only_due: bool = True,
        progress: Callable[[Source, str], None] | None = None,
    ) -> CycleSummary:
        started = time.monotonic()
        now = utcnow()
        summary = CycleSummary()
        todo = [s for s in self.sources if s.refused is None]
        if only_due:
            due = self.store.due([s.key for s in todo], now)
            todo = [s for s in todo if s.key in due]
        for src in self.sources:
            if src.refused is not None:
                summary.refused += 1
        summary.sources = len(todo)
        self._ensure_pool(len(todo))
        states = self.store.source_states([s.key for s in todo])

        # Backpressure: a fetched body waits in memory until a parser takes it, so only a bounded
        # number of sources may be between "fetch started" and "stored" at once.
        in_flight = asyncio.Semaphore(2 * self.config.http.concurrency)

        fault: list[StateError] = []  # the store cannot be written: stop, and say so once

        async def one(src: Source) -> None:
            try:
                async with in_flight:
                    if fault:
                        return
                    outcome = await self._poll(fetcher, src, states[src.key], summary)
            except StateError as exc:
                fault.append(exc)
                return
            except Exception as exc:  # our bug, not the source's: record it and carry on
                log.exception("polling %s failed unexpectedly", src.url)
                self._later(
                    src,
                    FetchResult(src.url, FetchOutcome.ERROR, error=f"internal error: {exc}"),
                    utcnow(),
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

    async def _poll(
        self, fetcher: Fetcher, src: Source, state: SourceState, summary: CycleSummary
    ) -> str:
        result = await fetcher.fetch(
            src.url,
            state.validators,
            verify_tls=src.verify_tls,
            respect_robots=src.kind == "page" and self.config.http.respect_robots,
            accept=_ACCEPT[src.kind],
        )
        now = utcnow()
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
        # A baseline poll (the first, unless turned off) only records what is there.
        baseline = not state.baseline_done and self.config.poll.baseline
        try:
            doc = await self._cpu(
                extract_document,
                src.kind,
                result.body,
                result.final_url or src.url,
                result.content_type,
                self.config.http.max_feed_items,
                tuple(src.ignore),
                baseline,  # only recorded, so no dates or languages are needed
            )
        except ExtractError as exc:
            # Keep the old body hash so the next poll parses the body again instead of skipping it.
            result.outcome, result.error = FetchOutcome.ERROR, str(exc)
            result.validators.body_hash = state.validators.body_hash
            self._later(src, result, now, state)
            summary.failed += 1
            summary.errors.append((src.name, str(exc)))
            return "failed"
        summary.fetched += 1
        if doc.warnings:
            # Fetched fine, but the text may be incomplete: say so in the source's health.
            result.error = "warning: " + "; ".join(doc.warnings)
        # Decide what is new without writing; everything below commits in one transaction, so
        # a crash or a cancelled cycle leaves the passages new for the next poll.
        first = not state.baseline_done  # never stored: nothing known, nothing to look up
        fresh = self.store.fresh_passages(src.key, doc.passages, first=first)
        fresh_keys = [p.key for p in fresh]
        snapshot = [p.text for p in doc.passages] if src.kind == "page" else None
        if snapshot is not None and fresh and not first:
            self._note_edits(src.key, snapshot, fresh)
        matched: list[tuple[Passage, list[TopicMatch]]] = []
        if baseline:
            summary.baseline += len(fresh)
        else:
            summary.new_passages += len(fresh)
            metrics.NEW_PASSAGES.inc(len(fresh))
            if src.follow_links and src.kind == "feed":
                fresh = await self._follow(fetcher, src, fresh)
            matched = [(p, found) for p in fresh if (found := self._match(p))]

        def write(conn: Connection) -> None:
            self.store.remember_passages(src.key, doc.passages, now, conn, fresh_keys)
            if snapshot is not None:
                self.store.save_page_snapshot(src.key, snapshot, now, conn, first=first)
            for passage, found in matched:
                self._store_item(src, passage, found, now, summary, conn)
            self.store.record_fetch(
                src.key,
                result,
                now,
                src.interval_seconds,
                state,
                conn,
                baseline_done=not state.baseline_done,
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

    def _note_edits(self, key: str, current: list[str], fresh: list[Passage]) -> None:
        """Link each new paragraph to the paragraph it replaced, if it is an edit."""
        still_there = set(current)
        removed = [t for t in self.store.page_snapshot(key) if t not in still_there]
        if removed:
            for passage in fresh:
                passage.previous = previous_version(passage.text, removed)

    async def _follow(self, fetcher: Fetcher, src: Source, entries: list[Passage]) -> list[Passage]:
        """Replace teaser entries by the main text of the article they link to."""

        async def full(entry: Passage) -> Passage:
            if not entry.link:
                return entry
            page = await fetcher.fetch(
                entry.link,
                verify_tls=src.verify_tls,
                respect_robots=self.config.http.respect_robots,
                accept=_ACCEPT["page"],
            )
            if page.outcome is not FetchOutcome.OK:
                log.warning("follow_links: %s: %s; kept the feed's teaser", entry.link, page.error)
                return entry
            try:
                doc = await self._cpu(extract_page, page.body, entry.link, page.content_type)
            except ExtractError as exc:
                log.warning("follow_links: %s: %s; kept the feed's teaser", entry.link, exc)
                return entry
            text = "\n\n".join(p.text for p in doc.passages)
            if len(text) > len(entry.text):
                entry.text = text
                entry.language = doc.language or entry.language
                entry.published = entry.published or doc.published
            return entry

        return list(await asyncio.gather(*(full(e) for e in entries)))

    def _match(self, passage: Passage) -> list[TopicMatch]:
        if not passage.language:
            passage.language = detect_language(f"{passage.title or ''} {passage.text}")
        return self.matcher.match(passage.text, title=passage.title, language=passage.language)

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
        root = self.stories.nearest(sig) if sig is not None else None
        story_id = None
        if root is not None and not root.startswith(f"{src.key}\x00"):
            story_id = self._story_items.get(root)
        stored = base64.b64encode(to_bytes(sig)).decode() if sig is not None else None
        item_id = self.store.add_item(
            src.key, passage, found, now, story_id=story_id, minhash=stored, conn=conn
        )
        if sig is not None:
            # In memory only once the item exists; if the transaction fails the index still
            # holds a key with no item, which `_story_items.get` above simply does not find.
            self.stories.add_signature(key, sig)
        self._story_items[key] = story_id or item_id  # the root item of its story
        summary.matches += len(found)
        for m in found:
            metrics.MATCHES.labels(m.topic).inc()
            summary.matches_by_topic[m.topic] = summary.matches_by_topic.get(m.topic, 0) + 1


def _start_workers(pool: ProcessPoolExecutor, count: int, ready: threading.Event) -> None:
    """Have every worker of a new pool answer once, then set `ready` (also if that failed:
    the caller's own job then meets the broken pool and replaces it)."""
    try:
        for future in [pool.submit(worker_ready) for _ in range(count)]:
            future.result(timeout=PARSE_TIMEOUT)
    except Exception as exc:  # a dead pool or a shut-down one; `_cpu` deals with it
        log.debug("parser processes did not start: %s", exc)
    finally:
        ready.set()


def _parser_context() -> multiprocessing.context.BaseContext:
    """Where parser processes come from: a fork server that has imported the parsers once.

    Forking this process (threads for DNS, the event loop) could copy a held lock into the
    child; spawning re-imports everything in every worker. A fork server is a clean,
    single-threaded process that loads the parsers once (`monitor.extract.preload`) and forks
    workers from that, so a new worker starts in milliseconds. Spawn where there is none.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["monitor.extract.preload"])
    return context


_ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
    "text/xml;q=0.8, */*;q=0.5",
    "page": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
}
