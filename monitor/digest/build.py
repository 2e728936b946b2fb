"""Select, group and rank a channel's unclaimed matches into a `Digest`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.digest.views import story_key
from monitor.models import Digest, Match, OutageNotice, SourceHealth
from monitor.store import new_digest_id

if TYPE_CHECKING:
    from monitor.config import Config


def channel_topics(config: Config, channel_name: str, *, urgent_only: bool = False) -> list[str]:
    """The topic ids a channel receives, in config order (urgent ones only for alerts)."""
    channel = config.channels[channel_name]
    wanted = channel.topics or list(config.topics)
    return [
        t for t in config.topics if t in wanted and (config.topics[t].urgent or not urgent_only)
    ]


def build_digest(
    config: Config,
    channel_name: str,
    matches: Sequence[Match],
    failing: Sequence[SourceHealth],
    now: datetime,
    *,
    alert: bool = False,
    outages: Sequence[OutageNotice] = (),
    suppressed: Sequence[Match] = (),
) -> Digest | None:
    """Group by topic (config order), fold one story's copies into one item (shown by its fullest
    copy, the others named under it), rank by the story's best score then recency. Returns None
    when there is nothing to say and the channel does not want empty digests.

    `outages` (sources unreadable or readable again) are news of their own: a digest that tells
    of one goes out even when it has no match, so that silence always means nothing happened.

    `suppressed` (matches feedback suppressed, see `monitor.feedback.suppress`) are claimed with
    the digest and counted in its footer, never shown; alone they make no digest.
    """
    channel = config.channels[channel_name]
    order = channel_topics(config, channel_name, urgent_only=alert)
    grouped: dict[str, list[Match]] = {}
    # An edited entry's older versions are claimed with the version shown for them.
    absorbed: dict[int, list[int]] = {m.id: list(m.folded) for m in matches if m.folded}
    for topic in order:
        best: dict[tuple[str, int], Match] = {}
        top: dict[tuple[str, int], tuple[float, datetime]] = {}  # the story's best rank
        for m in (m for m in matches if m.topic == topic):
            # An update stays an item of its own (`story_key`): folded with another outlet's
            # copy of the story, its change would be claimed without ever being shown.
            story = story_key(m)
            kept = best.get(story)
            top[story] = max(top.get(story, _rank(m)), _rank(m))
            if kept is None:
                best[story] = m
                continue
            # Another outlet's copy of a story already in this topic: show the fullest copy (an
            # outlet may print only the first paragraphs) and name the other source under it.
            winner, loser = (m, kept) if fuller(m, kept) else (kept, m)
            names = {*winner.also_reported_by, *loser.also_reported_by, loser.source_name}
            winner.also_reported_by = sorted(names - {winner.source_name})
            best[story] = winner
            absorbed[winner.id] = [
                *absorbed.get(winner.id, []),
                loser.id,
                *absorbed.pop(loser.id, []),
            ]
        if best:
            ranked = sorted(best, key=lambda story: top[story], reverse=True)
            grouped[topic] = [best[story] for story in ranked]
    outages = [] if alert else list(outages)
    if not grouped and not outages and (alert or not channel.send_empty):
        return None
    # A source named as newly unreadable is not listed a second time among the failing ones.
    told = {n.source_key for n in outages if n.event == "down"}
    return Digest(
        id=new_digest_id(),
        channel=channel_name,
        created=now,
        topics=grouped,
        topic_names={t: config.topics[t].name or t for t in order},
        failing_sources=[] if alert else [h for h in failing if h.key not in told],
        outages=outages,
        language=channel.language,
        urgent=alert,
        absorbed=absorbed,
        suppressed=[i for m in suppressed for i in (m.id, *m.folded)],
        feedback_url=f"{config.web.public_url}/feedback" if config.web.public_url else None,
    )


def fuller(a: Match, b: Match) -> bool:
    """Whether copy `a` of a story is the one to show rather than `b`: the longer text, or on a
    tie the one that came first."""
    return (len(a.text), -a.id) > (len(b.text), -b.id)


def _rank(m: Match) -> tuple[float, datetime]:
    return (round(m.score, 3), m.published or m.first_seen)
