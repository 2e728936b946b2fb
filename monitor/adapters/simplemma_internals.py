"""simplemma's private parts, used to read a low-memory dictionary as a whole
(monitor/topics/dictionaries.py).

The prefilter needs every (form, lemma) pair of a dictionary once per new topic word. simplemma
2.0's low-memory store (`StreamMap`) keeps a front-coded byte stream (`_data`, from `_pos`,
keys stored reversed when `_rev`) and its own record reader `frontcode._iter_records`; reading
that stream directly is several times faster than the mapping's public item view, which
decodes each key again. Should the layout change, the public view gives the same pairs.

`monitor match` keeps a built dictionary in its cache (monitor/topic_cache.py) as flat bytes
(`pack_dictionary`): the stream and its block index (`_firsts`, `_blocks`: some 35,000 keys and
seeds for German) as a few byte strings, so loading it makes no object per block, where
unpickling the mapping made 150,000. `unpack_dictionary` gives a `StreamMap` whose index reads
those bytes on demand (a lookup bisects some 15 of its keys); its answers are the built ones.

pyproject.toml bounds simplemma to 2.0.x; tests/test_adapters.py fails when a release changes
the layout (and checks the fast read gives what the public view gives).
"""

from __future__ import annotations

import importlib.util
import marshal
import sys
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import overload

# The languages whose rules simplemma loads when it is imported; the others' are loaded when
# first used (see `_defer_rule_modules`).
RULE_LANGUAGES = ("de", "en")


def _defer_rule_modules() -> None:
    """Keep `import simplemma` from loading the suffix rules of the languages we do not match.

    Importing simplemma imports `strategies.defaultrules`, which imports one module per
    language (21), and those compile some 380 regular expressions: some 16 ms of every
    `monitor match`, for 19 languages it never reads. Before simplemma is first imported, each
    of those modules is given a stand-in holding its `apply_<lang>` function, which loads the
    real module when first called and hands on to it: a text in another language gets the
    same lemmas. Does nothing when simplemma is already imported or not laid out that way.
    """
    if "simplemma" in sys.modules:
        return
    spec = importlib.util.find_spec("simplemma")  # a top-level name: found, not imported
    if spec is None or not spec.submodule_search_locations:
        return
    folder = Path(next(iter(spec.submodule_search_locations)), "strategies", "defaultrules")
    package = "simplemma.strategies.defaultrules"
    try:
        files = sorted(folder.glob("*.py"))
    except OSError:
        return
    for path in files:
        lang = path.stem.rstrip("_")  # `is_.py` holds `apply_is`
        if path.stem in ("__init__", "generic") or lang in RULE_LANGUAGES:
            continue
        name, attr = f"{package}.{path.stem}", f"apply_{lang}"
        stand_in = ModuleType(name)
        setattr(stand_in, attr, _deferred(name, attr, path))
        sys.modules[name] = stand_in


def _deferred(name: str, attr: str, path: Path) -> Callable[[str], str | None]:
    """A rule function that loads its module (`name` at `path`) when first called."""
    loaded: list[Callable[[str], str | None]] = []

    def apply(token: str) -> str | None:
        if not loaded:
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {name} from {path}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[name] = module
            loaded.append(getattr(module, attr))
        return loaded[0](token)

    apply.__name__ = attr
    return apply


_defer_rule_modules()  # before the imports below, which import simplemma

from simplemma.strategies.dictionaries import frontcode  # noqa: E402
from simplemma.strategies.dictionaries.stream_dictionary_factory import StreamMap  # noqa: E402

__all__ = ["dictionary_pairs", "pack_dictionary", "stream_parts", "unpack_dictionary"]

_INDEX = ("_data", "_pos", "_rev", "_count", "_firsts", "_blocks")
_PACKED = "simplemma-streammap-1"  # the first item of a packed dictionary: its layout


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


Builder = Callable[[str], Mapping[str, str]]


def preload_dictionaries(
    factory: object, load: Callable[[str, Builder], Mapping[str, str] | None]
) -> bool:
    """Make a caching dictionary factory answer with `load(language, build)` (kept earlier,
    see `monitor.topic_cache`; `build` is the factory's own) instead of building: its lookup
    (`_get_dictionary`, an lru_cache around the build) is wrapped, and asks `load` once per
    language; None from it: built as before. False when the factory is not laid out that way
    (then it builds as before)."""
    inner = getattr(factory, "_get_dictionary", None)
    if inner is None or not callable(inner):
        return False
    loaded: dict[str, Mapping[str, str]] = {}

    def get(lang: str) -> Mapping[str, str]:
        found = loaded.get(lang)
        if found is None:
            found = loaded[lang] = load(lang, inner) or inner(lang)
        return found

    try:
        factory._get_dictionary = get  # type: ignore[attr-defined]  # checked above
    except AttributeError:
        return False
    return True


class _PackedBytes(Sequence[bytes]):
    """A list of byte strings kept as one: `blob` and the end offset of each (`ends`)."""

    __slots__ = ("_blob", "_ends")

    def __init__(self, blob: bytes, ends: bytes) -> None:
        self._blob = blob
        self._ends = array("Q", ends)

    @staticmethod
    def pack(items: Sequence[bytes]) -> tuple[bytes, bytes]:
        ends, total = array("Q"), 0
        for item in items:
            total += len(item)
            ends.append(total)
        return b"".join(items), ends.tobytes()

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice):  # not used by the lookup; for Sequence's contract
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self._ends)
        end = self._ends[index]  # IndexError past the end, as a list
        return self._blob[self._ends[index - 1] if index else 0 : end]


class _PackedSeeds(Sequence[tuple[int, bytes, bytes]]):
    """`StreamMap._blocks` (offset, previous key, previous value per block), packed."""

    __slots__ = ("_keys", "_offsets", "_values")

    def __init__(self, offsets: bytes, keys: _PackedBytes, values: _PackedBytes) -> None:
        self._offsets = array("Q", offsets)
        self._keys = keys
        self._values = values

    def __len__(self) -> int:
        return len(self._offsets)

    @overload
    def __getitem__(self, index: int) -> tuple[int, bytes, bytes]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[int, bytes, bytes]]: ...
    def __getitem__(
        self, index: int | slice
    ) -> tuple[int, bytes, bytes] | Sequence[tuple[int, bytes, bytes]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self._offsets[index], self._keys[index], self._values[index]


def pack_dictionary(mapping: object) -> bytes | None:
    """A low-memory dictionary as bytes for `unpack_dictionary` (marshal: data, never code);
    None when `mapping` is not laid out as simplemma 2.0's `StreamMap`."""
    if not isinstance(mapping, StreamMap) or not all(hasattr(mapping, a) for a in _INDEX):
        return None
    data, pos, rev, count, firsts, blocks = (getattr(mapping, a) for a in _INDEX)
    if not isinstance(data, bytes) or not isinstance(firsts, list | _PackedBytes):
        return None
    offsets = array("Q", (b[0] for b in blocks)).tobytes()
    keys = _PackedBytes.pack([b[1] for b in blocks])
    values = _PackedBytes.pack([b[2] for b in blocks])
    parts = (_PACKED, data, pos, bool(rev), count, *_PackedBytes.pack(firsts), offsets)
    return marshal.dumps((*parts, *keys, *values))


def unpack_dictionary(packed: bytes) -> Mapping[str, str] | None:
    """The dictionary `pack_dictionary` packed, or None when `packed` is not one."""
    try:
        parts = marshal.loads(packed)
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(parts, tuple) or len(parts) != 12 or parts[0] != _PACKED:
        return None
    _, data, pos, rev, count, firsts, firsts_ends, offsets, k, k_ends, v, v_ends = parts
    mapping = StreamMap.__new__(StreamMap)
    seeds = _PackedSeeds(offsets, _PackedBytes(k, k_ends), _PackedBytes(v, v_ends))
    index = (data, pos, rev, count, _PackedBytes(firsts, firsts_ends), seeds)
    for name, value in zip(_INDEX, index, strict=True):
        setattr(mapping, name, value)
    return mapping
