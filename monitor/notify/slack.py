"""The Slack format of the webhook channel: an incoming-webhook message, fallback text plus
Block Kit blocks within Slack's limits.

Slack mrkdwn gives meaning to ``& < >``: they are escaped in every text from a source, and text
objects are ``verbatim`` so no mention or channel name is parsed. Links are http(s) only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, tzinfo
from typing import Any

from monitor.digest.payload import report_shown
from monitor.digest.views import ItemView, count_text
from monitor.models import Digest
from monitor.notify.chat import CHAT_MAX_ITEMS, CHAT_SNIPPET, chat_view, marked_snippet

SLACK_MAX_BLOCKS = 50  # Slack rejects messages with more blocks
SLACK_MAX_TEXT = 3000  # characters in one section's text object
SLACK_MAX_HEADER = 150  # characters in a header block
# Slack also refuses messages whose blocks hold too much text in total (msg_blocks_too_long); the
# limit is not documented and has been seen a little above 11,000 characters, so stay well below.
SLACK_MAX_TOTAL = 9_000
SLACK_MAX_FAILING_TEXT = 1_500  # the source-health section must leave room for the topics
SLACK_MAX_LINK = 600  # longer URLs (tracking parameters, data blobs) are not linked in Slack

# Slack mrkdwn gives meaning to exactly these three characters; escaped, `<!channel>` or
# `<@U123>` from a source is shown as text instead of notifying anyone.
_SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def slack_escape(text: str) -> str:
    """Untrusted text made inert for Slack mrkdwn."""
    return text.translate(_SLACK_ESCAPES)


def _slack_text(text: str) -> dict[str, Any]:
    # verbatim: Slack does not turn bare URLs, #channels or @mentions in the text into links.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _slack_item(item: ItemView, link: bool, also: str, update_tag: str = "Update") -> str:
    title = slack_escape(item.title)
    if link and item.href:
        # The URL is escaped too: Slack reads the whole message as escaped text.
        title = f"<{slack_escape(item.href)}|{title}>"
    tag = f"{slack_escape(update_tag)}: " if item.update else ""
    lines = [f"*{tag}{title}*", slack_escape(f"{item.source} · {item.published}")]
    if item.update and item.change_line:  # what an edit changed, as one sentence
        lines.append(slack_escape(item.change_line))
    if item.also:  # the other outlets that carried the story
        lines.append(slack_escape(f"{also}: {item.also}"))
    if item.segments:
        lines.append(marked_snippet(item.segments, slack_escape, "*", intraword=False))
    return "\n".join(lines)


def _fit_lines(
    head: str, parts: list[str], hidden: int, more: Callable[[int], str], limit: int
) -> str:
    """`head` and as many `parts` as fit in `limit` characters, then a count of the rest.

    `hidden` items were never offered (beyond max_items) and are counted in the note too.
    """
    for shown in range(len(parts), -1, -1):
        left = len(parts) - shown + hidden
        text = "\n\n".join([head, *parts[:shown], *([more(left)] if left else [])])
        if len(text) <= limit:
            return text
    return head[:limit]


def _slack_chars(blocks: list[dict[str, Any]]) -> int:
    """Characters of text in these blocks, as Slack counts them against its total."""
    total = 0
    for block in blocks:
        if "text" in block:
            total += len(block["text"]["text"])
        total += sum(len(element["text"]) for element in block.get("elements", []))
    return total


def _round_robin(costs: list[list[int]], caps: list[int], budget: int) -> list[int]:
    """How many items of each topic fit: filled in rank order, one per topic per round.

    Like build_payload, so every topic keeps its best items however many topics there are. A
    topic stops at its first item that does not fit its own `caps` entry or the shared `budget`.
    """
    taken = [0] * len(costs)
    room = list(caps)
    open_topics = set(range(len(costs)))
    rank = 0
    while open_topics:
        for index in sorted(open_topics):
            if rank >= len(costs[index]):
                open_topics.discard(index)
                continue
            cost = costs[index][rank]
            if cost > budget or cost > room[index]:
                open_topics.discard(index)
                continue
            budget -= cost
            room[index] -= cost
            taken[index] += 1
        rank += 1
    return taken


def slack_payload(
    digest: Digest,
    tz: tzinfo | None = None,
    max_items: int = CHAT_MAX_ITEMS,
    shown_counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A Slack incoming-webhook message: fallback text plus Block Kit blocks within Slack's limits.

    One section per topic with its best `max_items` items, as many as fit: every text object
    stays under 3000 characters, all text together under SLACK_MAX_TOTAL, and the message under
    50 blocks (topics that do not fit are counted at the end, items in their topic).
    """
    view = chat_view(digest, tz or UTC, max_items, CHAT_SNIPPET)
    labels = view.labels
    heading = view.heading
    if len(heading) > SLACK_MAX_HEADER:
        heading = heading[: SLACK_MAX_HEADER - 1] + "…"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": heading}},
        {
            "type": "context",
            "elements": [
                _slack_text(f"*{slack_escape(view.summary)}* · {slack_escape(view.meta)}")
            ],
        },
    ]
    tail: list[dict[str, Any]] = []

    def more(n: int) -> str:
        return "_" + slack_escape(labels["more"].format(n=n)) + "_"

    if view.failing:
        lines = []
        for source in view.failing:
            line = f"• *{slack_escape(source.name)}* — "
            line += slack_escape(f"{source.state}, {labels['since']} {source.since}")
            if source.error:
                line += slack_escape(f": {source.error}")
            lines.append(line)
        head = f"*{slack_escape(labels['failing'])}* ({view.failing_count})"
        hidden = view.failing_count - len(view.failing)
        text = _fit_lines(head, lines, hidden, more, SLACK_MAX_FAILING_TEXT)
        tail += [{"type": "divider"}, {"type": "section", "text": _slack_text(text)}]
    tail.append({"type": "context", "elements": [_slack_text(slack_escape(view.footer))]})

    if not view.topics:
        blocks.append({"type": "section", "text": _slack_text(slack_escape(labels["none_line"]))})
    room = SLACK_MAX_BLOCKS - len(blocks) - len(tail)
    shown = view.topics
    if 2 * len(shown) > room:
        shown = shown[: (room - 1) // 2]  # keep one block to say how many topics were left out
    heads = [
        f"*{slack_escape(t.name)}* ({slack_escape(t.id)}) — "
        f"{slack_escape(count_text(t.count, labels))}"
        for t in shown
    ]
    note_room = 40  # for "… and N more" at the end of a section
    # A link of a few kB would eat the budget of several items; such an item keeps only its title.
    parts = [
        [
            _slack_item(
                item,
                len(item.href or "") <= SLACK_MAX_LINK,
                view.labels["also"],
                view.labels["update_tag"],
            )
            for item in topic.items
        ]
        for topic in shown
    ]
    budget = SLACK_MAX_TOTAL - _slack_chars(blocks + tail) - 100  # 100: the "more topics" note
    budget -= sum(len(head) + note_room for head in heads)
    taken = _round_robin(
        [[len(part) + 2 for part in topic_parts] for topic_parts in parts],
        [SLACK_MAX_TEXT - len(head) - note_room for head in heads],
        budget,
    )
    topic_ids = [t for t, ms in digest.topics.items() if ms]  # in the order of view.topics
    report_shown(shown_counts, {topic_ids[i]: n for i, n in enumerate(taken)})
    for topic, head, topic_parts, count in zip(shown, heads, parts, taken, strict=True):
        left = topic.count - count
        text = "\n\n".join([head, *topic_parts[:count], *([more(left)] if left else [])])
        blocks += [{"type": "divider"}, {"type": "section", "text": _slack_text(text)}]
    if len(shown) < len(view.topics):
        note = labels["more_topics"].format(n=len(view.topics) - len(shown))
        blocks.append({"type": "context", "elements": [_slack_text(slack_escape(note))]})
    blocks += tail
    return {
        "text": slack_escape(view.subject),  # the notification and non-Block-Kit fallback
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }
