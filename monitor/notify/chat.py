"""What the chat formats of the webhook channel (Slack, Microsoft Teams) share: a short view of
the digest (a few items per topic, shorter snippets: a notification, not the archive) and
snippets with the matched terms emphasised where the markup allows it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from monitor.digest.views import (
    LABELS,
    HealthView,
    ItemView,
    Segment,
    build_subject,
    clean,
    header_texts,
    health_view,
    item_view,
    outage_health_views,
)
from monitor.models import Digest

# Chat messages are a notification, not the archive: a few items per topic, shorter snippets.
CHAT_MAX_ITEMS = 5
CHAT_SNIPPET = 280
CHAT_MAX_FAILING = 10


@dataclass(slots=True)
class ChatTopic:
    id: str
    name: str
    count: int
    items: list[ItemView]


@dataclass(slots=True)
class ChatView:
    """What both chat formats show: our labels plus cleaned, length-limited untrusted text."""

    labels: dict[str, str]
    subject: str
    heading: str
    summary: str
    meta: str
    footer: str
    urgent: bool
    topics: list[ChatTopic]
    failing: list[HealthView]
    failing_count: int


def chat_view(digest: Digest, zone: tzinfo, max_items: int, snippet: int) -> ChatView:
    labels = LABELS[digest.language]
    head = header_texts(digest, zone, labels)
    topics = [
        ChatTopic(
            id=clean(topic, 80),
            name=clean(digest.topic_names.get(topic, topic), 200),
            count=len(matches),
            items=[item_view(m, zone, labels, max(snippet, 1)) for m in matches[:max_items]],
        )
        for topic, matches in digest.topics.items()
        if matches
    ]
    # Outages and recoveries first (they are this digest's news), then the long-failing sources.
    failing = outage_health_views(digest.outages, zone, labels) + [
        health_view(h, zone, labels) for h in digest.failing_sources
    ]
    if snippet <= 0:
        for topic in topics:
            for item in topic.items:
                item.segments = []
    return ChatView(
        labels=labels,
        subject=build_subject(digest, zone),
        heading=head["heading"],
        summary=head["summary"],
        meta=f"{labels['created']}: {head['created']} · {labels['channel']}: {head['channel']}",
        footer=head["footer"],
        urgent=digest.urgent,
        topics=topics,
        failing=failing[:CHAT_MAX_FAILING],
        failing_count=len(failing),
    )


def _is_word(char: str) -> bool:
    return char.isalnum()


def marked_snippet(
    segments: list[Segment], escape: Callable[[str], str], wrap: str, intraword: bool
) -> str:
    """The snippet with matched terms wrapped in `wrap` (bold) where the markup can work.

    Emphasis needs a clean edge: a term holding markup characters, or (for Slack) a term inside a
    longer word, is left plain rather than producing stray asterisks.
    """
    out: list[str] = []
    for index, piece in enumerate(segments):
        text = escape(piece.text)
        if piece.hit and _can_emphasise(segments, index, intraword):
            text = f"{wrap}{text}{wrap}"
        out.append(text)
    return "".join(out)


def _can_emphasise(segments: list[Segment], index: int, intraword: bool) -> bool:
    text = segments[index].text
    if not text or any(c in text for c in "*_~`") or text != text.strip():
        return False
    if not (_is_word(text[0]) and _is_word(text[-1])):
        return False
    if intraword:
        return True
    before = segments[index - 1].text[-1:] if index > 0 else ""
    after = segments[index + 1].text[:1] if index + 1 < len(segments) else ""
    return not (before and _is_word(before)) and not (after and _is_word(after))
