"""What a reader can do with one reported item, shown beside it on the inbox page: the
feedback buttons ("not relevant", "mute this source for this topic"), plain forms that post
with the page's CSRF token."""

from __future__ import annotations

from collections.abc import Collection

from markupsafe import Markup, escape

from monitor.feedback.forms import item_buttons
from monitor.store.archive import ArchiveHit


def item_actions(hit: ArchiveHit, csrf: str | None, live_topics: Collection[str]) -> Markup:
    """The HTML of the item's actions (already escaped: a Markup); none without a CSRF token
    (a page served outside the web guard cannot post). The archive keeps the reports of topics
    since removed from config.toml: feedback on those would be refused, so their items say why
    they have no buttons instead."""
    if not csrf:
        return Markup("")
    if hit.topic not in live_topics:
        return Markup('<p class="no-actions">') + escape(
            f"Topic “{hit.topic}” is no longer in config.toml: no feedback on it."
        ) + Markup("</p>")
    return item_buttons(hit.item_id, hit.topic, hit.source_key, csrf)
