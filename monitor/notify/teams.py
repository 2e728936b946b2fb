"""The Microsoft Teams format of the webhook channel: one Adaptive Card in the "message"
envelope that Teams workflows accept, small enough for Teams.

Markdown link and autolink syntax from a source is broken up (see `teams_escape`); links are
http(s) only.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import Any

from monitor.digest.payload import encode_payload, report_shown
from monitor.digest.views import count_text
from monitor.models import Digest
from monitor.notify.chat import CHAT_MAX_ITEMS, CHAT_SNIPPET, ChatView, chat_view, marked_snippet

TEAMS_LIMIT = 25_000  # bytes; Teams refuses messages over about 28 KB, keep some headroom
TEAMS_CARD = "application/vnd.microsoft.card.adaptive"

_ZWSP = "\u200b"


def teams_escape(text: str) -> str:
    """Untrusted text made inert for Adaptive Card markdown.

    Backslash escapes are shown literally by some Teams clients, so the syntax is broken up with a
    zero-width space instead: after every ``]`` no ``[text](url)``, ``[text][ref]`` or
    ``[ref]: url`` can form, after ``<`` no autolink or ``<at>`` tag, and after ``{`` no
    ``{{DATE()}}`` function.
    """
    return text.replace("]", "]" + _ZWSP).replace("<", "<" + _ZWSP).replace("{", "{" + _ZWSP)


def _teams_link_text(text: str) -> str:
    # Inside our own [text](url) a bracket would end the link text early; use look-alikes.
    return teams_escape(text.replace("[", "\uff3b").replace("]", "\uff3d"))


def _teams_href(href: str) -> str:
    # A ")" would end the markdown link destination; %28/%29 mean the same to web servers.
    return href.replace("(", "%28").replace(")", "%29")


def _text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _teams_body(view: ChatView) -> list[dict[str, Any]]:
    labels = view.labels
    body: list[dict[str, Any]] = [
        _text_block(
            teams_escape(view.heading),
            size="Large",
            weight="Bolder",
            **({"color": "Attention"} if view.urgent else {}),
        ),
        _text_block(teams_escape(view.summary), weight="Bolder", spacing="None"),
        _text_block(teams_escape(view.meta), isSubtle=True, size="Small", spacing="None"),
    ]
    if not view.topics:
        body.append(_text_block(teams_escape(labels["none_line"]), spacing="Medium"))
    for topic in view.topics:
        head = f"{topic.name} ({topic.id}) — {count_text(topic.count, labels)}"
        body.append(
            _text_block(
                teams_escape(head), size="Medium", weight="Bolder", separator=True, spacing="Large"
            )
        )
        for item in topic.items:
            if item.href:
                title = f"[{_teams_link_text(item.title)}]({_teams_href(item.href)})"
            else:
                title = teams_escape(item.title)
            if item.update:
                title = f"{teams_escape(labels['update_tag'])}: {title}"
            body.append(_text_block(title, weight="Bolder", spacing="Medium"))
            if item.update and item.change_line:  # what an edit changed, as one sentence
                body.append(_text_block(teams_escape(item.change_line), spacing="Small"))
            meta = f"{item.source} · {item.published}"
            if item.also:  # the other outlets that carried the story
                meta += f" · {labels['also']}: {item.also}"
            if item.terms:
                meta += f" · {labels['terms']}: {item.terms}"
            body.append(
                _text_block(teams_escape(meta), isSubtle=True, size="Small", spacing="None")
            )
            if item.segments:
                snippet = marked_snippet(item.segments, teams_escape, "**", intraword=True)
                body.append(_text_block(snippet, spacing="Small"))
        if topic.count > len(topic.items):
            more = labels["more"].format(n=topic.count - len(topic.items))
            body.append(_text_block(teams_escape(more), isSubtle=True, spacing="Small"))
    if view.failing:
        head = f"{labels['failing']} ({view.failing_count})"
        body.append(
            _text_block(
                teams_escape(head), size="Medium", weight="Bolder", separator=True, spacing="Large"
            )
        )
        for source in view.failing:
            line = f"{source.name} — {source.state}, {labels['since']} {source.since}"
            if source.error:
                line += f": {source.error}"
            body.append(_text_block(teams_escape(line), size="Small", spacing="Small"))
        if view.failing_count > len(view.failing):
            more = labels["more"].format(n=view.failing_count - len(view.failing))
            body.append(_text_block(teams_escape(more), isSubtle=True, size="Small"))
    body.append(
        _text_block(
            teams_escape(view.footer), isSubtle=True, size="Small", separator=True, spacing="Large"
        )
    )
    return body


def teams_payload(
    digest: Digest,
    tz: tzinfo | None = None,
    max_items: int = CHAT_MAX_ITEMS,
    shown_counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A Microsoft Teams message: one Adaptive Card in the "message" envelope that Teams
    workflows ("When a Teams webhook request is received") accept.

    Shows the best `max_items` items per topic; when the card would be too large for Teams, fewer
    items and shorter snippets are shown (every topic keeps its count).
    """
    zone = tz or UTC
    message: dict[str, Any] = {}
    steps = [(max_items, CHAT_SNIPPET), (max_items, 120), (min(max_items, 2), 120), (1, 0), (0, 0)]
    for items, snippet in steps:
        view = chat_view(digest, zone, items, snippet)
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "msteams": {"width": "Full"},
            "body": _teams_body(view),
        }
        message = {
            "type": "message",
            "summary": view.subject,
            "attachments": [{"contentType": TEAMS_CARD, "contentUrl": None, "content": card}],
        }
        if len(encode_payload(message)) <= TEAMS_LIMIT:
            break
    report_shown(shown_counts, {t: min(len(ms), items) for t, ms in digest.topics.items() if ms})
    return message
