"""Digest -> RenderedDigest: subject, plain-text digest, inlined-CSS HTML digest and the payload
a channel stores with it (the standard webhook payload unless the channel builds its own, as the
webhook channel's chat formats do).

Everything shown here except our own labels comes from the web (titles, snippets, source names,
error texts, URLs), so:

* the templates are ours and fixed, run in an immutable sandbox with StrictUndefined, and the
  environment has autoescape forced on (a plain ``True``, never chosen by file extension);
* untrusted text is only ever passed as data; highlighting splits a snippet into pieces that the
  template escapes one by one, so no markup from a source can reach the HTML;
* only http(s) URLs become ``<a href>``; anything else is shown as inert text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from monitor.digest.payload import standard_payload
from monitor.digest.views import (
    LABELS,
    MAX_FAILING_SHOWN,
    ItemView,
    TopicView,
    build_subject,
    clean,
    header_texts,
    health_view,
    item_view,
    outage_section,
)
from monitor.models import Digest, Match, RenderedDigest

TEMPLATE_DIR = Path(__file__).parent / "templates"

# (digest, tz, shown_counts) -> the JSON body stored with the digest; it fills shown_counts with
# how many items of each topic (the best-ranked ones) the body carries.
PayloadBuilder = Callable[..., dict[str, Any]]


def _make_env() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        # A bool, not select_autoescape(): escaping must not depend on a template's file name.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


ENV = _make_env()
_INLINER = css_inline.CSSInliner(
    load_remote_stylesheets=False, keep_style_tags=False, keep_link_tags=False
)


# (item id, topic) -> the item's signed feedback links, action -> URL (`monitor.feedback.links`).
FeedbackLinks = Callable[[int, str], dict[str, str]]


def render_digest(
    digest: Digest,
    tz: tzinfo | None = None,
    payload: PayloadBuilder | None = None,
    links: FeedbackLinks | None = None,
) -> RenderedDigest:
    """Render one digest for its channel; times are shown in `tz` (UTC if not given).

    Its `payload` is built by `payload` (a channel's own format, see `monitor.channels`), else
    it is the standard webhook payload; the outbox stores (and re-sends on retry) exactly it.
    With `links`, each item of the digest (HTML and text) carries its feedback links.
    """
    zone: tzinfo = tz or UTC
    labels = LABELS[digest.language]
    subject = build_subject(digest, zone)
    topics = [
        TopicView(
            id=clean(topic, 80),
            name=clean(digest.topic_names.get(topic, topic), 200),
            count=len(matches),
            items=[_with_links(item_view(m, zone, labels), m, topic, links) for m in matches],
        )
        for topic, matches in digest.topics.items()
        if matches
    ]
    failing = digest.failing_sources
    head = header_texts(digest, zone, labels)
    context = {
        "lang": digest.language,
        "t": labels,
        "subject": subject,
        "heading": head["heading"],
        "urgent": digest.urgent,
        "summary": head["summary"],
        "created": head["created"],
        "channel": head["channel"],
        "topics": topics,
        "failing": [health_view(h, zone, labels) for h in failing[:MAX_FAILING_SHOWN]],
        "failing_count": len(failing),
        "failing_more": (
            labels["more"].format(n=len(failing) - MAX_FAILING_SHOWN)
            if len(failing) > MAX_FAILING_SHOWN
            else ""
        ),
        "outages": outage_section(digest.outages, zone, labels),
        "footer": head["footer"],
        "suppressed": head["suppressed"],
        "feedback_url": digest.feedback_url,
    }
    text = ENV.get_template("digest.txt").render(context)
    html = _INLINER.inline(ENV.get_template("digest.html").render(context))
    counts: dict[str, int] = {}
    body = (payload or standard_payload)(digest, tz=zone, shown_counts=counts)
    carried = [m.id for t, ms in digest.topics.items() for m in ms[: counts.get(t, 0)]]
    everything = sum(len(ms) for ms in digest.topics.values())
    return RenderedDigest(
        subject=subject,
        text=text,
        html=html,
        payload=body,
        payload_ids=None if len(carried) == everything else tuple(carried),
    )


def _with_links(view: ItemView, match: Match, topic: str, links: FeedbackLinks | None) -> ItemView:
    if links is not None and match.item_id is not None:
        view.feedback = links(match.item_id, topic)
    return view
