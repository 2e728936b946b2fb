"""The source-kind registry: every ``kind`` a ``[[sources]]`` entry can have and the module that
says what differs between kinds.

A kind module declares ``KIND``; ``ACCEPT``, the Accept header its fetches send; ``ROBOTS``,
whether robots.txt applies; ``SNAPSHOTS``, whether its passages are kept as a snapshot so that
edits are found; ``ENTRY_VERSIONS``, whether a passage keeps its key when edited and a version
of it is kept so that its material edits are reported as updates; ``FOLLOWS_LINKS``, whether
``follow_links`` applies; ``EXTRACTOR``, the version of its text extraction (None: not tracked),
raised when extraction finds text it missed before, so that an upgrade re-reports nothing;
and ``extract``, which turns fetched bytes into a `Document` in a
parser process (the `SourceKindModule` protocol). The config's ``kind`` key accepts exactly the
kinds listed here.

Where a source came from (config.toml or a seed document) is its origin, not a kind: cited
URLs are page sources. Like the channel registry, this package is imported by the config, so a
kind module imports its extractor inside ``extract``, never at the top.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Literal, Protocol

from monitor.source_kinds import feed, page

if TYPE_CHECKING:
    from monitor.models import Document


class SourceKindModule(Protocol):
    KIND: str
    ACCEPT: str
    ROBOTS: bool
    SNAPSHOTS: bool
    ENTRY_VERSIONS: bool
    FOLLOWS_LINKS: bool
    EXTRACTOR: int | None

    def extract(
        self,
        body: bytes,
        url: str,
        content_type: str | None,
        *,
        max_items: int,
        ignore: tuple[str, ...],
        record_only: bool,
    ) -> Document: ...


_MODULES: tuple[ModuleType, ...] = (feed, page)

SOURCE_KINDS: dict[str, SourceKindModule] = {m.KIND: m for m in _MODULES}

# The type of the config's `kind` key: a Literal of the registered kinds, so that a wrong kind
# gets pydantic's "Input should be 'feed' or 'page'" naming them all. The type checker cannot
# read a Literal built at run time, so it gets the list written out (the type of
# `models.Source.kind`); tests/test_registries.py checks that the two agree.
if TYPE_CHECKING:
    KindName = Literal["feed", "page"]
else:
    KindName = Literal[tuple(SOURCE_KINDS)]


def extract_document(
    kind: str,
    body: bytes,
    url: str,
    content_type: str | None,
    max_items: int,
    ignore: tuple[str, ...],
    record_only: bool = False,
) -> Document:
    """What a parser process runs for one fetched response (see `monitor.sandbox`): bytes ->
    Document, by the source's kind. A plain function of its arguments, so that it pickles by
    name. ``record_only``: a baseline poll, whose passages are recorded as seen and nothing
    else (see `extract_page` and `parse_feed`)."""
    return SOURCE_KINDS[kind].extract(
        body, url, content_type, max_items=max_items, ignore=ignore, record_only=record_only
    )
