"""What a reader can do with one reported item, shown beside it on the inbox page.

Empty for now: the feedback buttons ("not relevant", "mute this source for this topic") are
wired in here. A hit carries `item_id`, `topic` and `source_key` for them.
"""

from __future__ import annotations

from markupsafe import Markup

from monitor.store.archive import ArchiveHit


def item_actions(hit: ArchiveHit) -> Markup:
    """The HTML of the item's actions (already escaped: a Markup)."""
    return Markup("")
