"""The files of the cache folder (`$MONITOR_CACHE_DIR`, else `$XDG_CACHE_HOME/source-monitor`,
else `~/.cache/source-monitor`): read only when the folder and the file belong to the user and
no one else can write them, and the file's HMAC-SHA256 under the folder's random key (`.key`,
mode 0600) matches; written atomically, best effort. The compiled topics and dictionaries
(`monitor.topic_cache`) and the judged config values (`monitor.config_memo`) live there.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import stat
from functools import cache
from importlib import metadata
from pathlib import Path

from monitor.atomicfile import write_atomic

log = logging.getLogger("monitor.topic_cache")

CACHE_ENV = "MONITOR_CACHE_DIR"
KEY_FILE = ".key"
_MAGIC = b"monitor-topics-1\n"
_DIGEST = hashlib.sha256().digest_size


@cache  # looked up a few times per command, ~1 ms each; the loaded code does not change
def library_version(name: str) -> str | None:
    """The installed version of distribution `name` (part of the cache keys); None if absent."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def cache_dir() -> Path | None:
    """The folder of the cache files (see the module's docstring); None: no caching."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory to speak of
            return None
    return Path(base) / "source-monitor"


def _private(st: os.stat_result) -> bool:
    """Owned by us and writable by no one else."""
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _secret(folder: Path, create: bool) -> bytes | None:
    """The cache's HMAC key (created on first write), or None when it cannot be trusted."""
    path = folder / KEY_FILE
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        if not create:
            return None
        key = os.urandom(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:  # another process made it first: read theirs
            return _secret(folder, create=False)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode) or not _private(st) or st.st_mode & 0o077:
            return None
        key = handle.read(64)
    return key if len(key) == 32 else None


def read_checked(path: Path) -> bytes | None:
    """The payload of a cache file that passes every check (see the module's docstring)."""
    try:
        folder_st = os.stat(path.parent)
        if not _private(folder_st):
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            if not stat.S_ISREG(st.st_mode) or not _private(st):
                log.warning("ignoring %s: others could have written it", path)
                return None
            data = handle.read()
        secret = _secret(path.parent, create=False)
    except OSError:
        return None
    head = len(_MAGIC) + _DIGEST
    if secret is None or len(data) < head or not data.startswith(_MAGIC):
        return None
    mac, payload = data[len(_MAGIC) : head], data[head:]
    if not hmac.compare_digest(mac, hmac.new(secret, payload, hashlib.sha256).digest()):
        log.warning("ignoring %s: its checksum does not match (building it again)", path)
        return None
    return payload


def write_checked(path: Path, payload: bytes, family: str) -> None:
    """Write `payload` with its HMAC to `path`, and remove the other files of its `family`
    (a glob: what it replaces). Best effort: a read-only or full folder costs only time."""
    folder = path.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(os.stat(folder)):
            return
        secret = _secret(folder, create=True)
        if secret is None:
            return
        mac = hmac.new(secret, payload, hashlib.sha256).digest()
        write_atomic(path, _MAGIC + mac + payload)
        os.chmod(path, 0o600)
        for old in folder.glob(family):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:  # read-only or full: the next run builds it again
        log.debug("cache file not written to %s: %s", path, exc)
