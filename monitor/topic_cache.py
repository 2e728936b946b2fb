"""The compiled topics, kept on disk between runs so that `check`, `sources`, `match` and `once`
start in a fraction of a second instead of compiling every query again (some 2 s: the
dictionaries are read for every word of every topic).

The file is `topics-<key>.bin` in the user's cache folder (`$MONITOR_CACHE_DIR`, else
`$XDG_CACHE_HOME/source-monitor`, else `~/.cache/source-monitor`; none when there is no home: then
nothing is cached), not in the state folder, which holds state only. The key hashes the topics and
aliases as configured, the source of the code that compiles them (`monitor/topics/`), the
program's version and the versions of the libraries whose data ends up in the compiled form: edit
a topic, change the compiler or upgrade and the key changes, so a stale file is never read (old
ones are removed when a new one is written).

The compiled form holds Aho-Corasick automata and compiled regular expressions, so it is a
pickle, and unpickling a file is running code. It is therefore read only when all of these hold;
otherwise it is ignored and the topics are compiled as before:

- the cache folder, the file and the key file belong to the user running the program and no one
  else can write them (what Python itself asks of its own bytecode caches), so only that user,
  who can run code anyway, could have put them there;
- the file carries an HMAC-SHA256 of its content under a random key kept in `.key` beside it
  (mode 0600): a truncated or corrupted file, or one copied in from another machine or an old
  backup, fails the check before a byte of it is unpickled.

`check` and `sources` only need to know that the topics compile: a valid entry for their key says
so (it is written only after they compiled), without being unpickled (`topics_compiled_before`),
so those commands load neither the compiler nor its dictionaries.

`monitor match` also keeps simplemma's German and English dictionaries there
(`simplemma-<language>-<version>.bin`, same checks): its one text would otherwise pay a second
for building them.

Writing is best effort and atomic (a temporary file renamed into place): a read-only or full
cache folder only means the next run compiles again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.cache_files import CACHE_ENV, KEY_FILE, cache_dir, library_version
from monitor.cache_files import read_checked as _read_checked
from monitor.cache_files import write_checked as _write_checked

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.topics import Matcher

__all__ = ["CACHE_ENV", "KEY_FILE", "cache_dir", "cache_path", "compiled_topics"]

log = logging.getLogger("monitor.topic_cache")

# Distributions whose code or data shape the compiled topics (dictionaries, automata, regexes).
_LIBRARIES = ("source-monitor", "simplemma", "pyahocorasick", "google-re2", "luqum")


def _compiler_source() -> str:
    """A hash of the code that compiles topics: a change to it (a new release, or a working
    copy being edited) must not read what the old code compiled."""
    digest = hashlib.sha256()
    try:
        for path in sorted(Path(__file__).parent.joinpath("topics").glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    except OSError:  # unreadable: a key no file matches, so nothing is read
        digest.update(os.urandom(16))
    return digest.hexdigest()


def cache_key(config: Config) -> str:
    """A hash of what the compiled topics depend on: the topics, the aliases, the compiler's
    source and the versions of this program and of the libraries that build them."""
    versions = {name: library_version(name) for name in _LIBRARIES}
    content = {
        "topics": {k: v.model_dump(mode="json") for k, v in config.topics.items()},
        "aliases": config.aliases,
        "versions": versions,
        "compiler": _compiler_source(),
    }
    blob = json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def cache_path(config: Config) -> Path | None:
    folder = cache_dir()
    return folder / f"topics-{cache_key(config)}.bin" if folder is not None else None


# The last compiled topics of this process, by cache key: loading a config checks them, and the
# command or the daemon then uses the same ones (no second read of the file).
_last: tuple[str, Matcher] | None = None
# The last cache entry found valid but not unpickled yet, by cache key (see
# `topics_compiled_before`): the command that goes on to match thaws it from here.
_checked: tuple[str, bytes] | None = None


def topics_compiled_before(config: Config) -> bool:
    """Whether the config's topics are known to compile: compiled in this process, or a valid
    cache entry exists for them (an entry is written only after they compiled, and its key
    covers the topics, the aliases, the compiler and the libraries). It answers without
    unpickling, so without importing the compiler, its dictionaries and automata: `check` and
    `sources` need to know no more."""
    global _checked
    key = cache_key(config)
    if _last is not None and _last[0] == key:
        return True
    folder = cache_dir()
    if folder is None:
        return False
    path = folder / f"topics-{key}.bin"
    payload = _read_checked(path)
    if payload is None:
        return False
    log.debug("topics loaded from %s (checked; unpickled when first used)", path)
    _checked = (key, payload)
    return True


def compiled_topics(config: Config) -> Matcher:
    """The config's compiled topics: from the cache when a valid entry exists, else compiled
    (raising TopicError as `compile_topics` does) and stored for the next run."""
    global _last, _checked
    key = cache_key(config)
    if _last is not None and _last[0] == key:  # same topics (the demo's config shares them)
        return _last[1]
    folder = cache_dir()
    path = folder / f"topics-{key}.bin" if folder is not None else None
    matcher = None
    if _checked is not None and _checked[0] == key:  # read and checked by `topics_compiled_before`
        matcher = _thawed(_checked[1])
        _checked = None  # the bytes are not needed once thawed
    elif path is not None:
        matcher = _read(path)
    if matcher is not None:
        log.debug("topics loaded from %s", path)
    else:
        from monitor.topics import compile_topics

        matcher = compile_topics(config.topics, config.aliases)
        log.debug("topics compiled; cached in %s", path)
        if path is not None:
            _write(path, matcher)
            _keep_built_dictionaries()
    _last = (key, matcher)
    return matcher


def _read(path: Path) -> Matcher | None:
    payload = _read_checked(path)
    return _thawed(payload) if payload is not None else None


def _thawed(payload: bytes) -> Matcher | None:
    try:
        return _thaw(payload)
    except Exception:  # a valid MAC over a payload this version cannot load: compile instead
        return None


def _thaw(payload: bytes) -> Matcher:
    """The inverse of `freeze_matcher` (what `install_matcher` does in a parser process)."""
    from monitor.topics import Matcher

    matcher = Matcher.__new__(Matcher)
    vars(matcher).update(pickle.loads(payload))
    return matcher


def _write(path: Path, matcher: Matcher) -> None:
    from monitor.topics.worker import freeze_matcher

    _write_checked(path, freeze_matcher(matcher), "topics-*.bin")


# simplemma's German and English dictionaries as the matcher reads them: building them from
# the packaged streams takes about a second, loading them from here some milliseconds (a packed
# form, see `monitor.adapters.simplemma_internals.pack_dictionary`: data, not a pickle).
DICTIONARY_LANGUAGES = ("de", "en")


def preload_dictionaries(config: Config) -> None:
    """Give the matcher's dictionaries (`monitor.topics.dictionaries`) to this process (and
    its forks) from the cache, building and storing any that is missing: for `monitor match`,
    whose one text would otherwise pay for building both. Each is read when the matcher first
    asks for it (an English text needs no German), the missing ones are built now: not in the
    parser process, whose limits are for matching."""
    missing = use_packed_dictionaries()
    if missing is not None:
        from simplemma.strategies.dictionaries import LOW_MEMORY_DICTIONARY_FACTORY

        for lang in missing:
            LOW_MEMORY_DICTIONARY_FACTORY.get_dictionary(lang)


def _keep_built_dictionaries() -> None:
    """Store, packed, the dictionaries a compile of the topics has just built in this process
    and the cache lacks: `monitor check` (or the first start) then leaves what the parser
    processes' fork server reads, where that server's first start would build them again from
    simplemma's streams (0.6 s of CPU, between a run's first changed body and its parse)."""
    from simplemma.strategies.dictionaries import LOW_MEMORY_DICTIONARY_FACTORY

    for lang, path in (_dictionary_paths() or {}).items():
        if not path.exists():
            # Built by the compile just now: the factory hands back what it holds.
            _keep_dictionary(path, lang, LOW_MEMORY_DICTIONARY_FACTORY.get_dictionary(lang))


def _dictionary_paths() -> dict[str, Path] | None:
    """Where the cache keeps each packed dictionary; None without a cache or simplemma."""
    version = library_version("simplemma")
    folder = cache_dir()
    if version is None or folder is None:
        return None
    return {
        lang: folder / f"simplemma-{lang}-{version}-packed.bin" for lang in DICTIONARY_LANGUAGES
    }


def _keep_dictionary(path: Path, lang: str, built: Mapping[str, str]) -> None:
    from monitor.adapters import simplemma_internals as internals

    packed = internals.pack_dictionary(built)
    if packed is not None:  # else simplemma's layout changed: built at every run
        _write_checked(path, packed, f"simplemma-{lang}-*.bin")


def use_packed_dictionaries() -> list[str] | None:
    """Make simplemma's low-memory factory read the German and English dictionaries from the
    cache (a few milliseconds each, checked as the topics are) when first asked for one, and
    build and store one that is missing (about half a second, once). Returns the languages
    whose file is missing now, or None when nothing was changed (no cache folder, no
    simplemma version, or a factory laid out otherwise: it builds as before).

    For `monitor match` (above) and for the parser processes' fork server (`monitor.preload`),
    which would otherwise build both dictionaries from simplemma's streams at every start."""
    from simplemma.strategies.dictionaries import LOW_MEMORY_DICTIONARY_FACTORY

    from monitor.adapters import simplemma_internals as internals

    paths = _dictionary_paths()
    if paths is None:
        return None

    def build(lang: str, inner: internals.Builder) -> Mapping[str, str]:
        built = inner(lang)
        _keep_dictionary(paths[lang], lang, built)
        return built

    def load(lang: str, inner: internals.Builder) -> Mapping[str, str] | None:
        if lang not in paths:
            return None
        payload = _read_checked(paths[lang])
        mapping = internals.unpack_dictionary(payload) if payload is not None else None
        if mapping is None:  # missing, failed a check or not one: build it and store it
            return build(lang, inner)
        log.debug("dictionary %s loaded from %s", lang, paths[lang])
        return mapping

    missing = [lang for lang, path in paths.items() if not path.exists()]
    if not internals.preload_dictionaries(LOW_MEMORY_DICTIONARY_FACTORY, load):
        return None
    return missing
