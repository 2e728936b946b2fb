"""Feed sources: RSS, Atom or RDF, read with feedparser; each entry is a passage.

No robots.txt check (a feed is published to be polled), no page snapshots: an entry keeps its
key (its id) when it is edited, so a version of each entry is kept instead and a material edit
(a number, a name, a negation, a sentence) is reported as an update. ``follow_links`` may
replace an entry's teaser by the main text of the article it links to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from monitor.models import Document

KIND: Final = "feed"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
ROBOTS = False
SNAPSHOTS = False
ENTRY_VERSIONS = True
FOLLOWS_LINKS = True
EXTRACTOR: int | None = None  # entries are keyed by their ids, not by extracted paragraphs


def extract(
    body: bytes,
    url: str,
    content_type: str | None,
    *,
    max_items: int,
    ignore: tuple[str, ...],
    record_only: bool,
) -> Document:
    """Bytes of a feed -> Document (run in a parser process). ``ignore`` does not apply to
    entries: each is a passage of its own."""
    # Loaded in the parser process, not when the config is read (see `monitor.source_kinds`).
    from monitor.extract.feeds import parse_feed

    return parse_feed(body, url, content_type, max_items=max_items, record_only=record_only)
