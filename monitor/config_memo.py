"""Config values the validators accepted before, so that loading an unchanged config need not
import the checkers again.

Two of the config's checks import a library to judge a value: a URL is read by the fetch gate
(`monitor.gate`, which imports httpx's URL parser) and a channel's schedule by apscheduler
(`monitor.schedule`, with asyncio). Both are pure functions of the value, and at every
`check`, `sources` and `match` they judge the same few values again: some 40 ms, most of it
imports. So the values they accepted, with what they made of them (a URL is normalised), are
kept in the cache folder of the compiled topics (`monitor.topic_cache`, same checks: private
folder, HMAC under its key) as `validated-<key>.json`, where the key hashes the source of the
modules that judge and the versions of Python and of the libraries they use: an upgrade or
an edit to a checker judges every value again. A refused value is never kept, so it is judged (and
reported) at every load. No cache folder, or a file that fails a check: everything is judged
as before.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

# What the judgement depends on: the modules that judge and the libraries they call.
_MODULES = ("gate.py", "schedule.py", "config_memo.py")
_LIBRARIES = ("source-monitor", "httpx", "idna", "apscheduler", "tzdata")

# kind -> value -> what the check returned; None until first read from the file.
_known: dict[str, dict[str, str]] | None = None
_added = False


def _path() -> Path | None:
    from monitor.cache_files import cache_dir, library_version

    folder = cache_dir()
    if folder is None:
        return None
    digest = hashlib.sha256()
    here = Path(__file__).parent
    try:
        for name in _MODULES:
            digest.update(name.encode() + b"\0" + (here / name).read_bytes())
    except OSError:  # unreadable: keep nothing
        return None
    for lib in _LIBRARIES:
        digest.update(f"{lib}={library_version(lib) or ''}\0".encode())
    # The gate also asks the standard library's parser (urllib), and a memo's URL skips the
    # gate at fetch time (`monitor.gate.known_normal`): another interpreter judges again.
    digest.update(f"python={sys.version}\0".encode())
    return folder / f"validated-{digest.hexdigest()[:32]}.json"


def _read() -> dict[str, dict[str, str]]:
    global _known
    if _known is None:
        _known = {}
        from monitor.cache_files import read_checked as _read_checked

        path = _path()
        payload = _read_checked(path) if path is not None else None
        try:
            data = json.loads(payload) if payload is not None else {}
        except ValueError:
            data = {}
        if isinstance(data, dict):
            _known = {
                kind: {k: v for k, v in values.items() if isinstance(v, str)}
                for kind, values in data.items()
                if isinstance(values, dict)
            }
    return _known


def judged(kind: str, value: str, check: Callable[[str], str]) -> str:
    """`check(value)`, or what it returned for this value before (see the module's
    docstring); its ValueError as it raises it."""
    global _added
    known = _read().setdefault(kind, {})
    found = known.get(value)
    if found is not None:
        return found
    result = check(value)
    known[value] = result
    _added = True
    return result


def save() -> None:
    """Keep the values judged since the file was read (after a config validated): best effort."""
    global _added
    if not _added or _known is None:
        return
    from monitor.cache_files import write_checked as _write_checked

    path = _path()
    if path is not None:
        blob = json.dumps(_known, sort_keys=True, ensure_ascii=False).encode()
        _write_checked(path, blob, "validated-*.json")
    _added = False
