"""Which passages are new: a source's passages against the keys the source already has.

A passage is new if its source never had its key (novelty is per source). A source that an
upgrade changed the keys of (the store's `rekey_pending`) is moved to the new keys on its next
poll: until then a passage known by its `former_key` is not new either, so that the upgrade
reports nothing again.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from dataclasses import dataclass

from monitor.models import Passage


@dataclass(frozen=True, slots=True)
class Novelty:
    """What one poll of a source found new, and what the store is to record of it."""

    fresh: list[Passage]  # never had before, in document order: matched and reported
    new_keys: list[str]  # keys the source has no row for yet (fresh ones, and moved ones)
    seen_keys: list[str]  # keys it has a row for: seen again now
    # Recording this poll completes the source's move to new keys. Not on a poll without
    # passages: a feed that is empty for once has moved nothing yet.
    rekeyed: bool


def keys_to_look_up(
    passages: Sequence[Passage], *, first: bool = False, rekeying: bool = False
) -> list[str]:
    """The keys whose presence in the store decides novelty: the passages' keys and, while
    the source moves to new keys, their former keys too. None for a source never stored
    (`first`: no baseline yet), which has nothing to look up."""
    if first:
        return []
    keys = dict.fromkeys(p.key for p in passages)
    if rekeying:
        keys.update(dict.fromkeys(p.former_key for p in passages if p.former_key))
    return list(keys)


def novelty(passages: Sequence[Passage], known: Set[str], *, rekeying: bool = False) -> Novelty:
    """Decide which passages are new, given which of `keys_to_look_up` the source has.

    Passages sharing a key count once (the last of them stands for it, at the first's place).
    """
    keys = list(dict.fromkeys(p.key for p in passages))
    have = {k for k in keys if k in known}
    old = set(have)
    if rekeying:
        old.update(p.key for p in passages if p.former_key in known and p.key not in have)
    by_key = {p.key: p for p in passages}
    return Novelty(
        fresh=[by_key[k] for k in keys if k not in old],
        new_keys=[k for k in keys if k not in have],
        seen_keys=[k for k in keys if k in have],
        rekeyed=rekeying and bool(keys),
    )
