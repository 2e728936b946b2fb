"""The scheduler: wires the stages together and runs them on time.

One periodic tick polls the sources that are due (never one job per source), sends urgent alerts
and flushes the outbox; each channel's digest is a cron job in the channel's time zone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from monitor import metrics, wiring
from monitor.config import Config, ConfigError, database_url, gate_opt_ins
from monitor.fetch import Fetcher
from monitor.outbox import feeds_behind, flush, queue_digest, write_feeds
from monitor.schedule import cron_trigger
from monitor.sources import seed_documents
from monitor.startup import offline_line, summary_lines
from monitor.state_guard import StateGuard, state_lock
from monitor.store import StateError, Store, utcnow
from monitor.store.claims import CLAIM_BATCH
from monitor.wiring import Pipeline

if TYPE_CHECKING:
    from monitor.pipeline import CycleSummary

log = logging.getLogger("monitor.daemon")

FLUSH_SECONDS = 30
# Settling kept first polls between cycles stops this long before the next tick is due, so a
# batch (a few dozen bodies in the parser processes) never holds up a cycle.
SETTLE_MARGIN = 2.0
HEARTBEAT_SECONDS = 15
# After the grace period, what is still running is cancelled; closing the fetcher, the parser
# processes and the store must fit in what is left of Docker's 10 s (see compose.yaml).
CANCEL_WAIT = 2.0


def build_runtime(config: Config, store: Store) -> Pipeline:
    """The daemon's pipeline for `config` (see `monitor.wiring`): at every start and reload,
    the gate's opt-ins are logged first, where ops read the daemon's log."""
    for line in gate_opt_ins(config):
        log.warning("%s", line)
    return wiring.build(config, store)


def scheduled_time(schedule: str, tz: str, now: datetime) -> datetime:
    """The scheduled digest time a digest made at `now` is for: the last one at or before it
    (the scheduler fires a job at or after its time, by each worker's own clock)."""
    trigger = cron_trigger(schedule, tz)
    ahead = now
    for back in (timedelta(hours=1), timedelta(days=2), timedelta(days=8), timedelta(days=400)):
        last = None
        nxt = trigger.get_next_fire_time(None, ahead - back)
        while nxt is not None and nxt <= ahead:
            last = nxt
            nxt = trigger.get_next_fire_time(nxt, nxt + timedelta(seconds=1))
        if last is not None:
            return last  # type: ignore[no-any-return]  # APScheduler is untyped
    return now


def missed_digest(schedule: str, tz: str, last: datetime | None, now: datetime) -> bool:
    """True when a scheduled digest time passed since the last digest (e.g. during downtime)."""
    if last is None:
        return False
    trigger = cron_trigger(schedule, tz)
    nxt = trigger.get_next_fire_time(None, last + timedelta(seconds=1))
    return nxt is not None and nxt <= now


class Daemon:
    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.stop = asyncio.Event()
        self.last_tick: float | None = None  # when the last poll cycle started or ended
        self.heartbeat: float | None = None  # when the scheduler last ran its heartbeat job
        self._busy = asyncio.Lock()
        self._working: tuple[asyncio.Task[None], str] | None = None  # the job holding `_busy`
        self._last_prune: float = 0.0
        self._rt: Pipeline | None = None
        self._config_mtime: int | None = None
        self._seeds_signature: tuple[tuple[str, int, int], ...] | None = None
        # Why the state cannot be used right now (None: it can). Shown by /readyz; work that
        # writes state waits, and is retried at every tick until a probe write succeeds.
        self.state = StateGuard()  # faults of the state folder; see `monitor.state_guard`
        self._owed_digests: set[str] = set()  # scheduled digests a state fault held back
        self._polled_once = False  # whether a cycle has polled any source yet (offline check)

    @property
    def rt(self) -> Pipeline:
        """The pipeline of the running config (replaced whole on reload)."""
        if self._rt is None:
            raise RuntimeError("the daemon has not loaded its config yet")
        return self._rt

    @rt.setter
    def rt(self, pipeline: Pipeline) -> None:
        self._rt = pipeline

    async def run(self) -> None:
        # Signals first: a SIGTERM while the topics compile or the parsers start is kept and
        # honoured as soon as the daemon is up, instead of killing it half-way.
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stop.set)
        loop.add_signal_handler(signal.SIGINT, self.stop.set)
        self._config_changed()
        config = wiring.load(self.config_path)
        # On PostgreSQL any number of workers share the state, on one host too: the database
        # hands out the work, and the state folder keeps only files each writes whole.
        shared = database_url(config) is not None
        with contextlib.nullcontext() if shared else state_lock(config.state_dir):
            self.store = wiring.open_store(config)
            self.state.watch(self.store, config.state_dir)
            try:
                self.rt = build_runtime(config, self.store)
                await self._serve()
            finally:
                with contextlib.suppress(StateError):
                    self.store.release_claims()  # others need not wait for the leases
                self.store.close()

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        self.fetcher = Fetcher(self.rt.config.http)
        await self.fetcher.__aenter__()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.rt.config.poll.tick_seconds),
            id="tick",
            next_run_time=datetime.now(ZoneInfo("UTC")),
            max_instances=1,
            coalesce=True,
        )
        # Liveness for /healthz: a tiny job of its own, so a long poll cycle (many sources, slow
        # hosts) does not read as a dead scheduler.
        self.scheduler.add_job(
            self._beat,
            IntervalTrigger(seconds=HEARTBEAT_SECONDS),
            id="heartbeat",
            next_run_time=datetime.now(ZoneInfo("UTC")),
        )
        if self.store.shared:
            # A worker's leases are renewed while it lives: three times per lease.
            self.scheduler.add_job(
                self._renew,
                IntervalTrigger(seconds=self.store.lease.total_seconds() / 3),
                id="leases",
                # Late is still worth doing (a busy event loop): never skipped, never piled up.
                misfire_grace_time=None,
                coalesce=True,
            )
        self.scheduler.add_job(
            self.flush_outbox,
            IntervalTrigger(seconds=FLUSH_SECONDS),
            id="flush",
            max_instances=1,
            coalesce=True,
        )
        self._schedule_channels()
        # Said before the first poll starts: what runs, from where, and where to look.
        for line in summary_lines(
            self.rt.config, self.config_path, self.rt.poller.sources, utcnow()
        ):
            log.info("%s", line, extra={"event": "startup"})
        self.scheduler.start()
        runner = None
        web_cfg = self.rt.config.web
        if web_cfg.enabled:
            from monitor import web
            from monitor.config import secret_from_env
            from monitor.feedback.links import signer_for

            # No token configured: one is made in state/web.token; every route needs one.
            token = secret_from_env(web_cfg.token_env, "web.token_env") or web.web_token(
                self.rt.config.state_dir
            )
            signer = signer_for(self.rt.config)
            runner = await web.start(
                self, web_cfg.host, web_cfg.port, token, signer, web_cfg.public_url
            )
        await self._catch_up()
        log.info(
            "monitor running: %d sources, %d topics, %d channels; state in %s",
            len(self.rt.poller.sources),
            len(self.rt.config.topics),
            len(self.rt.config.channels),
            self.rt.config.state_dir,
        )
        await self.stop.wait()
        await self._finish()
        await self.fetcher.__aexit__(None, None, None)
        self.rt.poller.close()
        if runner is not None:
            await runner.cleanup()
        log.info("stopped")

    async def _finish(self) -> None:
        """Let in-flight work finish within the grace period, then cancel it.

        Every write is its own transaction and a digest is marked sent only once delivered,
        so cancelled work leaves state whole: the sources are polled again and the outbox
        is sent at the next start.
        """
        grace = self.rt.config.poll.shutdown_grace
        log.info("stopping: finishing in-flight work (at most %.0f s)", grace)
        # Paused, not shut down: APScheduler's shutdown cancels running jobs at once.
        self.scheduler.pause()
        try:
            async with asyncio.timeout(grace):
                async with self._busy:
                    pass
        except TimeoutError:
            task = self._cancel_working(grace)
            if task is not None:
                # asyncio.wait never raises what the job raised: closing goes on regardless.
                await asyncio.wait({task}, timeout=CANCEL_WAIT)
        self.scheduler.shutdown(wait=False)

    def _cancel_working(self, grace: float) -> asyncio.Task[None] | None:
        if self._working is None or self._working[0].done():
            return None
        task, what = self._working
        in_flight = self.rt.poller.in_flight if what == "poll cycle" else 0
        log.warning(
            "shutdown: cancelling the %s after %.0f s%s; redone at the next start",
            what,
            grace,
            f" ({in_flight} sources still being fetched or parsed)" if in_flight else "",
            extra={"event": "cancelled", "job": what, "in_flight": in_flight},
        )
        task.cancel()
        return task

    @contextlib.asynccontextmanager
    async def _job(self, what: str) -> AsyncIterator[None]:
        """Hold `_busy` for one job, and let shutdown know what it would cancel."""
        async with self._busy:
            task = asyncio.current_task()
            assert task is not None
            self._working = (task, what)
            try:
                yield
            finally:
                self._working = None

    @contextlib.contextmanager
    def _quiet_stop(self, what: str) -> Iterator[None]:
        """End a job quietly when shutdown cancels it (also while it waits for `_busy`).

        APScheduler logs any exception a job raises, CancelledError included, as an error with
        a traceback; a stop that cancels a fetch in flight is expected and already logged.
        """
        try:
            yield
        except asyncio.CancelledError:
            if not self.stop.is_set():
                raise
            log.info("%s cancelled", what)

    def _schedule_channels(self) -> None:
        for job in self.scheduler.get_jobs():
            if job.id.startswith("digest:"):
                job.remove()
        for name, chan in self.rt.config.channels.items():
            if not chan.enabled:
                continue
            self.scheduler.add_job(
                self.digest_job,
                cron_trigger(chan.schedule, chan.timezone),
                args=[name],
                id=f"digest:{name}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=300,
            )

    async def _catch_up(self) -> None:
        """Send a digest missed while the daemon was down: once, not once per missed day."""
        now = utcnow()
        for name, chan in self.rt.config.channels.items():
            if not chan.enabled:
                continue
            with self.state.catching():
                last, _ = self.store.channel_run(name)
                if last is None:
                    self.store.touch_channel(name, now)  # a new channel has missed nothing
                elif missed_digest(chan.schedule, chan.timezone, last, now):
                    log.info("channel %s missed its digest since %s; sending it now", name, last)
                    await self.digest_job(name)

    def _seeds_changed(self) -> bool:
        """Whether documents were added to, changed in or removed from seeds/ since the last
        look (a listing and a stat per document: cheap enough for every tick)."""
        config = self.rt.config
        signature = (
            tuple(
                (p.name, st.st_mtime_ns, st.st_size)
                for p in seed_documents(config.seeds_dir)
                if (st := p.stat())
            )
            if config.seeds.enabled
            else ()
        )
        changed = self._seeds_signature is not None and signature != self._seeds_signature
        self._seeds_signature = signature
        return changed

    async def _beat(self) -> None:
        self.heartbeat = time.time()

    async def _renew(self) -> None:
        with self.state.catching():
            self.store.renew_claims()

    def _config_changed(self) -> bool:
        try:
            mtime = self.config_path.stat().st_mtime_ns
        except OSError:
            return False
        changed = self._config_mtime is not None and mtime != self._config_mtime
        self._config_mtime = mtime
        return changed

    def feed_path(self, topic: str) -> Path | None:
        """The Atom file of a configured topic (None for anything else: no path from a URL)."""
        if topic not in self.rt.config.topics:
            return None
        return self.rt.config.state_dir / "feeds" / f"{topic}.atom"

    def channel_times(self) -> list[dict[str, Any]]:
        """Each enabled channel's last digest and alert, and when its next digest is due."""
        out = []
        for name, chan in self.rt.config.channels.items():
            if not chan.enabled:
                continue
            last_digest, last_alert = self.store.channel_run(name)
            # No scheduler yet while the daemon starts: nothing is scheduled.
            scheduler: AsyncIOScheduler | None = getattr(self, "scheduler", None)
            job = scheduler.get_job(f"digest:{name}") if scheduler else None
            out.append(
                {
                    "name": name,
                    "last_digest": last_digest,
                    "next_digest": job.next_run_time if job else None,
                    "last_alert": last_alert,
                }
            )
        return out

    def source_keys(self) -> list[str]:
        """The sources of the running config (the store also remembers removed ones)."""
        return [src.key for src in self.rt.poller.sources]

    def topic_ids(self) -> list[str]:
        return list(self.rt.config.topics)

    @property
    def state_fault(self) -> StateError | None:
        """Why the state cannot be used right now (None: it can); /readyz shows it."""
        return self.state.fault

    def config_loaded(self) -> bool:
        return self._rt is not None

    async def tick(self) -> None:
        if not self.state.usable():
            return
        with self.state.catching():
            await self._tick()
            if self.stop.is_set():
                return
            for name in sorted(self._owed_digests):
                log.info("channel %s: sending the digest a state fault held back", name)
                await self.digest_job(name)

    async def _tick(self) -> None:
        # Health means "the scheduler is ticking": note the start too, so a long first cycle
        # over many sources does not read as a dead daemon.
        self.last_tick = time.time()
        if self.rt.config.poll.watch_config and self._config_changed():
            log.info("config file changed; reloading")
            await self.reload()
        elif self._seeds_changed():
            log.info("seed documents changed; reloading sources")
            await self.reload()
        with self._quiet_stop("poll cycle"):
            await self._cycle()
        with self._quiet_stop("baseline settling"):
            await self._settle_kept()

    async def _settle_kept(self) -> None:
        """In the time left before the next tick, take the baselines of first polls that were
        kept unparsed (`Poller.settle_kept`), a batch at a time: a daemon's sources are so
        soon all settled, their parse warnings in their health, and a changed poll does not
        wait for it. Each batch holds the job lock only for itself: a digest waits one batch
        at most, a cycle none."""
        # No scheduler when a tick is run by itself (tests, `monitor once`-like callers).
        scheduler: AsyncIOScheduler | None = getattr(self, "scheduler", None)
        tick = scheduler.get_job("tick") if scheduler is not None else None
        margin = min(SETTLE_MARGIN, self.rt.config.poll.tick_seconds / 4)
        settled = 0
        started = time.monotonic()
        while not self.stop.is_set():
            due = tick.next_run_time if tick is not None else None
            if due is not None and (due - datetime.now(due.tzinfo)).total_seconds() < margin:
                break
            async with self._job("baseline settling"):
                done, left = await self.rt.poller.settle_kept()
            settled += done
            if not left or not done:
                break
        if settled:
            log.info(
                "took the baselines of %d first polls kept unparsed in %.1f s",
                settled,
                time.monotonic() - started,
                extra={"event": "settled", "settled": settled},
            )

    async def _cycle(self) -> None:
        async with self._job("poll cycle"):
            rt = self.rt
            more, matched = True, False
            while more:
                summary = await rt.poller.cycle(self.fetcher)
                self._log_cycle(summary)
                matched = matched or bool(summary.matches)
                # A worker on PostgreSQL claims due sources a batch at a time: a full batch
                # means more may be due now, which it claims at once instead of next tick.
                more = (
                    self.store.shared
                    and summary.sources >= CLAIM_BATCH
                    and not self.stop.is_set()
                )
            if matched or feeds_behind(rt.config, self.store):
                write_feeds(rt.config, self.store, rt.poller.sources, utcnow())
            await self._alerts()
            await flush(rt.config, self.store, self.fetcher, utcnow())
            if time.time() - self._last_prune > 86400:
                self._last_prune = time.time()
                pruned = self.store.prune(
                    utcnow(), rt.config.state.retention_days, self.source_keys()
                )
                log.info(
                    "retention: forgot %(fingerprints)d fingerprints, %(items)d items, "
                    "%(snapshots)d page snapshots, %(sources)d removed sources",
                    pruned,
                )
                if (keep := rt.config.archive.keep_days) is not None:
                    gone = self.store.prune_archive(utcnow(), keep)
                    log.info("archive: forgot %d reports older than %d days", gone, keep)
            metrics.OUTBOX_DEPTH.set(self.store.outbox_depth())
            metrics.set_source_states([h.state for h in self.store.health(self.source_keys())])
            metrics.POLL_CYCLES.inc()
            self.last_tick = time.time()
            metrics.LAST_TICK.set(self.last_tick)

    def _log_cycle(self, summary: CycleSummary) -> None:
        """One cycle's summary line and its sources' errors."""
        # A tick with no source due says nothing at info: one line a minute hides the
        # lines that matter.
        log.log(
            logging.INFO if summary.sources else logging.DEBUG,
            "poll cycle: %s",
            summary.line(),
            extra={
                "event": "cycle",
                "figures": {
                    "sources": summary.sources,
                    "fetched": summary.fetched,
                    "not_modified": summary.not_modified,
                    "failed": summary.failed,
                    "new": summary.new_passages,
                    "matches": summary.matches,
                    "seconds": round(summary.seconds, 3),
                },
            },
        )
        for name, error in summary.errors:
            log.warning("source %s: %s", name, error)
        if not self._polled_once and summary.sources:
            self._polled_once = True
            readable = summary.fetched + summary.not_modified
            if line := offline_line(summary.sources, readable, summary.errors):
                log.warning("%s", line, extra={"event": "offline"})

    async def _alerts(self) -> None:
        now = utcnow()
        for name, chan in self.rt.config.channels.items():
            if not (chan.enabled and chan.alerts):
                continue
            if not any(t.urgent for t in self.rt.config.topics.values()):
                return
            _, last_alert = self.store.channel_run(name)
            if last_alert and now - last_alert < timedelta(seconds=chan.alert_min_interval):
                continue  # rate limit: these matches wait for the next window
            queue_digest(self.rt.config, self.store, name, self.rt.poller.sources, now, alert=True)

    async def digest_job(self, name: str) -> None:
        # Held back by a state fault, the digest is made at the first tick after it clears;
        # once queued, it is the outbox's to deliver.
        if not self.state.usable():
            self._owed_digests.add(name)
            return
        self._owed_digests.discard(name)
        what = f"digest for {name}"
        period = None
        if self.store.shared:
            # One digest per scheduled time across the workers: the time this job was fired
            # for, taken before it may wait behind a poll cycle.
            chan = self.rt.config.channels[name]
            period = scheduled_time(chan.schedule, chan.timezone, utcnow())
        with self._quiet_stop(what), self.state.catching():
            async with self._job(what):
                now = utcnow()
                try:
                    queue_digest(
                        self.rt.config,
                        self.store,
                        name,
                        self.rt.poller.sources,
                        now,
                        period=period,
                    )
                except StateError:
                    self._owed_digests.add(name)  # nothing was claimed or queued
                    raise
                await flush(self.rt.config, self.store, self.fetcher, now, channel=name)

    async def flush_outbox(self) -> None:
        if not self.state.usable():
            return
        with self._quiet_stop("outbox delivery"), self.state.catching():
            async with self._job("outbox delivery"):
                await flush(self.rt.config, self.store, self.fetcher, utcnow())

    async def reload(self) -> None:
        """Apply a changed config.toml if it is valid; otherwise keep running on the old one."""
        self._config_changed()  # what is loaded now is the baseline for watch_config
        try:
            config = wiring.load(self.config_path)
            if config.state_dir != self.rt.config.state_dir:
                raise ConfigError(self.config_path, [])  # the lock and store belong to the old path
            rt = build_runtime(config, self.store)
        except ConfigError as exc:
            detail = str(exc) or "state.path cannot change while running; restart instead"
            log.error("config reload refused, keeping the running config: %s", detail)
            return
        except StateError as exc:
            log.error("config reload failed, keeping the running config: %s", exc)
            self.state.note(exc)
            return
        if config.web != self.rt.config.web:
            log.warning("[web] changed: host, port and token take effect at the next restart")
        try:
            await self._busy.acquire()
        except BaseException:  # cancelled while waiting (shutdown): the new pipeline goes too
            rt.close()
            raise
        try:
            if self.stop.is_set():  # stopping: the running pipeline is being closed
                rt.close()
                return
            old_http = self.rt.config.http
            self.rt.poller.close()
            self.rt = rt
            self._seeds_changed()  # the sources just built are the new baseline
            if config.http != old_http:
                await self.fetcher.__aexit__(None, None, None)
                self.fetcher = Fetcher(config.http)
                await self.fetcher.__aenter__()
            self.scheduler.reschedule_job(
                "tick", trigger=IntervalTrigger(seconds=config.poll.tick_seconds)
            )
            self._schedule_channels()
        finally:
            self._busy.release()
        log.info(
            "config reloaded: %d sources, %d topics, %d channels",
            len(rt.poller.sources),
            len(config.topics),
            len(config.channels),
        )
