"""The standard webhook payload: a versioned Standard Webhooks body (docs/webhook-schema.json)
within the size the spec asks for, also written as the JSON file of the file channel."""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import Any

from monitor.digest.views import (
    LABELS,
    MAX_CHANGES,
    MAX_ERROR,
    MAX_FAILING_SHOWN,
    MAX_TITLE,
    build_subject,
    change_sentence,
    clean,
    iso,
    safe_href,
    story_count,
    title_line,
    update_changes,
)
from monitor.models import Digest, Match, OutageNotice, SourceHealth

PAYLOAD_VERSION = 1  # bump on any incompatible change to the standard payload
PAYLOAD_LIMIT = 20_000  # bytes; Standard Webhooks asks for payloads under about 20 kB


def encode_payload(payload: dict[str, Any]) -> bytes:
    """The exact bytes a webhook sends: compact UTF-8 JSON (also what the size limit counts)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _item_payload(match: Match, limit: int, labels: dict[str, str]) -> dict[str, Any]:
    evidence = match.evidence
    titles, runs = update_changes(match)
    return {
        "id": str(match.id),
        "title": title_line(match.title, min(limit, MAX_TITLE)),
        "source": clean(match.source_name, 200),
        "source_key": clean(match.source_key, 300),
        "link": safe_href(match.link) or "",
        "published": iso(match.published),
        "first_seen": iso(match.first_seen),
        "language": clean(match.language, 10),
        "score": f"{match.score:.3f}",
        "rule": clean(evidence.rule, 200),
        "terms": [clean(t, 80) for t in evidence.terms],
        "snippet": clean(evidence.snippet or match.text, limit),
        "citations": [
            {"document": clean(c.document, 200), "context": clean(c.context, limit)}
            for c in match.citations[:5]
        ],
        "also_reported_by": [clean(name, 200) for name in match.also_reported_by[:20]],
        "previous": clean(match.previous, limit),
        "kind": "update" if match.previous is not None else "new",
        "previous_title": title_line(match.previous_title, min(limit, MAX_TITLE))
        if match.previous is not None
        else "",
        "changes": [
            {"before": c.before, "after": c.after} for c in [*titles, *runs][: MAX_CHANGES + 1]
        ],
        "change_summary": change_sentence(
            titles, runs[:MAX_CHANGES], labels, len(runs) - MAX_CHANGES
        ),
    }


def _health_payload(health: SourceHealth) -> dict[str, str]:
    return {
        "key": clean(health.key, 300),
        "name": clean(health.name, 200),
        "url": clean(health.url, 300),
        "state": clean(health.state, 40),
        "since": iso(health.since),
        "last_error": clean(health.last_error, MAX_ERROR),
    }


def _outage_payload(notice: OutageNotice) -> dict[str, Any]:
    return {
        # "down": not readable since `since`; "up": readable again since `until` after a spell
        # told before; "over": a spell not told before that began at `since`, ended at `until`.
        "event": notice.event,
        "key": clean(notice.source_key, 300),
        "name": clean(notice.name, 200),
        "url": clean(notice.url, 300),
        "state": clean(notice.state, 40),
        "since": iso(notice.since),
        "until": iso(notice.until),
        "failures": notice.failures,
        "last_error": clean(notice.last_error, MAX_ERROR),
    }


def build_payload(
    digest: Digest,
    subject: str,
    limit: int = PAYLOAD_LIMIT,
    shown: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The Standard Webhooks body: {"type", "version", "timestamp", "data"}, at most `limit` bytes.

    Long texts are shortened first; if that is not enough the lowest-ranked items of each topic
    are left out (round robin, so every topic keeps its best items) and counted in `omitted`.
    """
    topics = [(t, ms) for t, ms in digest.topics.items() if ms]
    labels = LABELS[digest.language]

    def assemble(text_limit: int, keep: dict[str, int] | None) -> dict[str, Any]:
        data_topics: dict[str, Any] = {}
        for topic, matches in topics:
            n = len(matches) if keep is None else keep[topic]
            data_topics[clean(topic, 80)] = {
                "name": clean(digest.topic_names.get(topic, topic), 200),
                "count": len(matches),
                "omitted": len(matches) - n,
                "items": [_item_payload(m, text_limit, labels) for m in matches[:n]],
            }
        failing = digest.failing_sources
        outages = digest.outages
        return {
            "type": "alert.created" if digest.urgent else "digest.created",
            "version": PAYLOAD_VERSION,
            "timestamp": iso(digest.created),
            "data": {
                "id": digest.id,
                "channel": digest.channel,
                "language": digest.language,
                "urgent": digest.urgent,
                "subject": subject,
                "item_count": sum(len(ms) for _, ms in topics),
                "story_count": story_count(digest),
                "truncated": keep is not None or text_limit < 1000,
                "topics": data_topics,
                "failing_sources": [_health_payload(h) for h in failing[:MAX_FAILING_SHOWN]],
                "failing_sources_omitted": max(0, len(failing) - MAX_FAILING_SHOWN),
                "outages": [_outage_payload(n) for n in outages[:MAX_FAILING_SHOWN]],
                "outages_omitted": max(0, len(outages) - MAX_FAILING_SHOWN),
                # Matches the analysts' feedback held back (marks, mutes), and where to undo.
                "suppressed": len(digest.suppressed),
                "feedback_url": digest.feedback_url,
            },
        }

    for text_limit in (1000, 400, 160):
        payload = assemble(text_limit, None)
        if len(encode_payload(payload)) <= limit:
            report_shown(shown, {t: len(ms) for t, ms in topics})
            return payload

    # Still too big: fill the budget with items in rank order, one per topic per round.
    text_limit = 160
    budget = limit - len(encode_payload(assemble(text_limit, dict.fromkeys(digest.topics, 0))))
    budget -= 20 * len(topics)  # room for the "omitted" counts growing by a digit or two
    keep = {t: 0 for t, _ in topics}
    full: set[str] = set()
    rank = 0
    while len(full) < len(topics):
        for topic, matches in topics:
            if topic in full:
                continue
            if rank >= len(matches):
                full.add(topic)
                continue
            size = len(encode_payload(_item_payload(matches[rank], text_limit, labels))) + 1
            if size > budget:
                full.add(topic)
                continue
            budget -= size
            keep[topic] = rank + 1
        rank += 1
    report_shown(shown, keep)
    return assemble(text_limit, keep)


def report_shown(shown: dict[str, int] | None, counts: dict[str, int]) -> None:
    """Tell the caller how many items of each topic (the best-ranked ones) a payload carries."""
    if shown is not None:
        shown.clear()
        shown.update(counts)


def standard_payload(
    digest: Digest, tz: tzinfo, shown_counts: dict[str, int] | None = None
) -> dict[str, Any]:
    """The standard payload as a `PayloadBuilder` (see `monitor.digest.render`)."""
    return build_payload(digest, build_subject(digest, tz), shown=shown_counts)
