"""simplemma's private parts, used to read a low-memory dictionary as a whole
(monitor/topics/dictionaries.py).

The prefilter needs every (form, lemma) pair of a dictionary once per new topic word. simplemma
2.0's low-memory store (`StreamMap`) keeps a front-coded byte stream (`_data`, from `_pos`,
keys stored reversed when `_rev`) and its own record reader `frontcode._iter_records`; reading
that stream directly is several times faster than the mapping's public item view, which
decodes each key again. Should the layout change, the public view gives the same pairs.

pyproject.toml bounds simplemma to 2.0.x; tests/test_adapters.py fails when a release changes
the layout (and checks the fast read gives what the public view gives).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from simplemma.strategies.dictionaries import frontcode

__all__ = ["dictionary_pairs", "stream_parts"]


def stream_parts(mapping: object) -> tuple[bytes, int, bool] | None:
    """(stream, first record, keys reversed) of a low-memory dictionary; None if not one."""
    data, pos, rev = (getattr(mapping, a, None) for a in ("_data", "_pos", "_rev"))
    if isinstance(data, bytes) and isinstance(pos, int) and hasattr(frontcode, "_iter_records"):
        return data, pos, bool(rev)
    return None


def dictionary_pairs(mapping: Mapping[str, str]) -> Iterator[tuple[bytes, bytes]]:
    """(form, lemma) UTF-8 pairs of a simplemma dictionary, off its stream where possible."""
    parts = stream_parts(mapping)
    if parts is not None:
        data, pos, rev = parts
        for _start, key, value in frontcode._iter_records(data, pos):
            yield (key[::-1], value[::-1]) if rev else (key, value)
        return
    for form, lemma in mapping.items():
        yield form.encode(), lemma.encode()


def preload_dictionaries(factory: object, loaded: Mapping[str, Mapping[str, str]]) -> bool:
    """Make a caching dictionary factory answer `loaded`'s languages with those mappings
    (built earlier and kept, see `monitor.topic_cache`) instead of building them again: its
    lookup (`_get_dictionary`, an lru_cache around the build) is wrapped. False when the
    factory is not laid out that way (then it builds as before)."""
    inner = getattr(factory, "_get_dictionary", None)
    if inner is None or not callable(inner):
        return False

    def get(lang: str) -> Mapping[str, str]:
        found = loaded.get(lang)
        return found if found is not None else inner(lang)

    try:
        factory._get_dictionary = get  # type: ignore[attr-defined]  # checked above
    except AttributeError:
        return False
    return True
