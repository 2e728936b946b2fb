"""What a reader can do with one reported item, shown beside it on the inbox page: the
feedback buttons ("not relevant", "mute this source for this topic"), plain forms that post
with the page's CSRF token."""

from __future__ import annotations

from markupsafe import Markup

from monitor.feedback.forms import item_buttons
from monitor.store.archive import ArchiveHit


def item_actions(hit: ArchiveHit, csrf: str | None) -> Markup:
    """The HTML of the item's actions (already escaped: a Markup); none without a CSRF token
    (a page served outside the web guard cannot post)."""
    if not csrf:
        return Markup("")
    return item_buttons(hit.item_id, hit.topic, hit.source_key, csrf)
