"""Turn unclaimed matches into queued digests, and send queued digests until they are delivered.

Exactly once, as the reader sees it: claiming the matches, rendering and queueing happen in one
transaction; sending happens after, from the queue, with the digest id as idempotency key (the
webhook-id header, the email Message-ID). A crash before the commit loses nothing (the matches are
still unclaimed); a crash after it re-sends the same bytes under the same id.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from monitor import metrics
from monitor.channels import kind_of
from monitor.config import Config
from monitor.digest.atom import FEEDS_FOLDER, MAX_ENTRIES, topic_feed, write_topic_feeds
from monitor.feedback.links import links_for
from monitor.feedback.records import FeedbackRecords
from monitor.feedback.suppress import Suppressor
from monitor.fetch import Fetcher
from monitor.models import Citation, Delivery, Digest, Match, OutageNotice, RenderedDigest, Source
from monitor.store import Store
from monitor.store.outages import OutageRule

log = logging.getLogger("monitor.outbox")

DEAD_REPORT_WINDOW = timedelta(days=7)


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def _citations(sources: Sequence[Source]) -> dict[str, list[Citation]]:
    return {s.key: s.citations for s in sources if s.citations}


def queue_digest(
    config: Config,
    store: Store,
    channel_name: str,
    sources: Sequence[Source],
    now: datetime,
    *,
    alert: bool = False,
    dry_run: bool = False,
    period: datetime | None = None,
) -> tuple[Digest, RenderedDigest] | None:
    """Build the channel's digest (or alert) from unclaimed matches and queue it for sending.

    With dry_run the digest is built and rendered but nothing is claimed or queued. `period`:
    the scheduled time this digest is for, made once across workers (None: no such claim).
    """
    # Imported here: `monitor once` writes the Atom feeds and must not load the digest's
    # builder, templates and senders for that (a tenth of its start-up).
    from monitor.digest.build import build_digest, channel_topics
    from monitor.digest.render import render_digest

    channel = config.channels[channel_name]
    kind = "alert" if alert else "digest"
    topics = channel_topics(config, channel_name, urgent_only=alert)
    keys = [s.key for s in sources]
    failing = store.failing_since(now - timedelta(seconds=config.poll.grace_period), keys)
    # Digests given up on are reported with the sources, in every channel's next digests.
    failing += store.dead_deliveries(now - DEAD_REPORT_WINDOW)
    tz = ZoneInfo(channel.timezone)
    matches = partial(
        store.unclaimed_matches, channel_name, kind, topics, channel.min_score, _citations(sources)
    )
    rule = outage_rule(config)
    outages: list[OutageNotice] = []
    # Feedback (mutes, "not relevant") applies to every channel and to alerts alike.
    suppressor = Suppressor.load(store.engine, topics)
    suppressed: list[Match] = []
    links = links_for(config, now)

    def select(conn: Connection | None = None) -> list[Match]:
        # Outages are read in the same transaction as the matches: what the digest tells is
        # exactly what it claims (alerts tell of none).
        outages[:] = (
            [] if alert else store.pending_outages(channel_name, keys, now, rule, conn=conn)
        )
        kept, suppressed[:] = suppressor.split(matches(conn=conn), conn or store.engine)
        return kept

    def build(found: list[Match]) -> Digest | None:
        return build_digest(
            config,
            channel_name,
            found,
            failing,
            now,
            alert=alert,
            outages=outages,
            suppressed=suppressed,
        )

    # The channel's kind says what payload is stored (a chat webhook stores the chat message
    # itself), so a retry re-sends exactly those bytes.
    module = kind_of(channel)
    payload = module.payload_builder(channel)

    def render(digest: Digest) -> RenderedDigest:
        return render_digest(digest, tz=tz, payload=payload, links=links)

    if dry_run:
        digest = build(select())
        return (digest, render(digest)) if digest else None
    # The archive's search keys need the text libraries: loaded only when a digest is made.
    from monitor.inbox.search_keys import index as archive_index

    queued = store.create_digest(
        channel_name,
        kind,
        build,
        render,
        select,
        now,
        payload_only=module.PAYLOAD_ONLY,
        index=archive_index,
        period=period,
    )
    if queued is None:
        if not alert:
            store.touch_channel(channel_name, now)
        return None
    digest, rendered = queued
    log.info("queued %s %s for channel %s", kind, digest.id, channel_name)
    return digest, rendered


def outage_rule(config: Config) -> OutageRule:
    """When a failing source is named in the digests (`[digest] outage_polls`, `outage_after`)."""
    return OutageRule(polls=config.digest.outage_polls, after=float(config.digest.outage_after))


def write_feeds(
    config: Config, store: Store, sources: Sequence[Source], now: datetime
) -> list[Path]:
    """Rewrite state/feeds/<topic>.atom with each topic's newest matches and the sources' recent
    outages and recoveries, for feed readers."""
    citations = _citations(sources)
    base = config.web.public_url
    outages = store.recent_outages(now, outage_rule(config), {s.key for s in sources})
    suppressor = Suppressor.load(store.engine, list(config.topics))

    def shown(topic: str) -> list[Match]:
        # Feedback hides entries here as in digests; twice the entries are read so that a
        # few suppressed ones do not shorten the feed.
        found = store.latest_matches(topic, 2 * MAX_ENTRIES, citations)
        return suppressor.split(found, store.engine)[0][:MAX_ENTRIES]

    feeds = {
        topic: topic_feed(
            topic,
            cfg.name or topic,
            shown(topic),
            now,
            f"{base}/feeds/{topic}.atom" if base else None,
            outages,
        )
        for topic, cfg in config.topics.items()
    }
    return write_topic_feeds(config.state_dir, feeds)


def feeds_behind(config: Config, store: Store) -> bool:
    """Whether the Atom feeds are missing, or older than the last change to a source's outage
    (a failed poll, or the poll that read it again) or to the feedback (a mute, a mark, an
    undo): a cycle without matches must still rewrite them then."""
    folder = config.state_dir / FEEDS_FOLDER
    try:
        written = datetime.fromtimestamp(folder.stat().st_mtime, UTC)
    except OSError:
        return True
    return store.outages_changed_since(written) or FeedbackRecords(store.engine).changed_since(
        written
    )


async def flush(
    config: Config, store: Store, fetcher: Fetcher, now: datetime, channel: str | None = None
) -> list[Delivery]:
    """Send every queued digest that is due; record success or schedule the retry."""
    from monitor.dispatch import deliver  # see `queue_digest`

    out = []
    # On PostgreSQL, those this worker claims: each digest is sent by one worker.
    for entry in store.claim_pending(now, channel):
        chan = config.channels.get(entry.channel)
        if chan is None or not chan.enabled:
            # Kept, not dropped: it goes out if the channel comes back into the config.
            log.warning(
                "digest %s waits for channel %s, which is not in the config (or disabled)",
                entry.id,
                entry.channel,
            )
            store.release_digest(entry.id)  # not held from workers that have the channel
            continue
        try:
            delivery = await deliver(
                entry.channel,
                chan,
                entry.rendered,
                entry.id,
                state_dir=config.state_dir,
                fetcher=fetcher,
            )
        except Exception as exc:  # a bug in one channel must not stop the others' deliveries
            log.exception("delivering %s on %s failed unexpectedly", entry.id, entry.channel)
            delivery = Delivery(entry.id, entry.channel, False, f"internal error: {exc}")
        retry = None
        if delivery.ok:
            store.delivered(entry.id, delivery.detail, now)
            log.info("delivered %s on %s: %s", entry.id, entry.channel, delivery.detail)
        else:
            age = now - entry.created_at
            dead = delivery.permanent or age > timedelta(seconds=chan.give_up_after)
            detail = delivery.detail
            if dead and not delivery.permanent:
                detail = f"given up after {entry.attempts + 1} attempts in {_span(age)}: {detail}"
            retry = store.delivery_failed(entry.id, detail, now, permanent=dead)
            when = f"retry at {retry:%Y-%m-%d %H:%M:%S} UTC" if retry else "declared dead"
            log.error(
                "delivery of %s on channel %s failed: %s; %s",
                entry.id,
                entry.channel,
                detail,
                when,
            )
        outcome = "ok" if delivery.ok else ("failed" if retry else "dead")
        metrics.DELIVERIES.labels(entry.channel, outcome).inc()
        out.append(delivery)
    return out
