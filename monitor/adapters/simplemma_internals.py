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
