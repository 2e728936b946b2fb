"""What every part of the config schema is built from, and what reads secrets at run time.

Kept apart from `monitor.config` so that the channel and source-kind modules (which declare their
own config models, see `monitor.channels` and `monitor.kinds`) can build on the strict base
model, durations and URL checks without importing the config module that collects them: the
config imports the registries, never the other way round.
"""

from __future__ import annotations

import logging
import math
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

log = logging.getLogger("monitor.config")

# Applied to stripped text, so that no run of spaces is tried in two places (which backtracks).
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
# Dates a century away overflow datetime arithmetic; nothing here needs to wait that long.
MAX_DAYS = 36500
_MAX_DURATION = MAX_DAYS * 86400


def parse_duration(value: Any) -> int:
    """Seconds from an int or a string such as "90s", "30m", "6h", "2d"."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30m, 6h or 2d")
    if isinstance(value, int | float):
        seconds: float = value
    elif isinstance(value, str) and (m := _DURATION.fullmatch(value.strip())):
        seconds = float(m.group(1)) * _UNITS[(m.group(2) or "s").lower()]
    else:
        raise ValueError(f"expected a duration such as 30m, 6h or 2d, got {value!r}")
    if not math.isfinite(seconds):
        raise ValueError(f"expected a duration such as 30m, 6h or 2d, got {value!r}")
    if seconds > _MAX_DURATION:
        raise ValueError(f"a duration must be at most {MAX_DAYS}d")
    if int(seconds) <= 0:
        raise ValueError("a duration must be positive")
    return int(seconds)


Duration = Annotated[int, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    # inf and nan are valid TOML floats; no setting has a use for them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters written as escapes."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def header_value(value: str | None) -> str | None:
    # Sent as an HTTP header: a CR or LF would start a header of its own, and httpx encodes
    # header values as ASCII, so anything else would fail every request.
    if value is not None and not (value.isascii() and value.isprintable()):
        raise ValueError(
            f"{value!r} must be printable ASCII, without control characters such "
            "as CR, LF or tab (it is sent in an HTTP header); write a domain in punycode"
        )
    return value


def control_chars(text: str) -> bool:
    return any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text)


def folder_name(value: str) -> str:
    # A NUL stops every use of the path with an error; other control characters are legal in
    # a file name but cannot be seen in a listing or a log.
    if control_chars(value):
        raise ValueError(
            f"{value!r} is not a usable folder name; remove the control "
            "characters (NUL, CR, LF, tab …) from it"
        )
    return value


def check_http_url(url: str) -> str:
    # The full gate (resolved addresses, redirects) runs at fetch time; here we only refuse what
    # can never be fetched, so the maintainer learns about it at `monitor check`. A URL judged
    # before is not judged again (`monitor.config_memo`: the gate imports httpx).
    from monitor.config_memo import judged

    return judged("url", url, _url_syntax)


def check_secret_url(url: str) -> str:
    """`check_http_url` for a URL that is a secret (a webhook's, from the environment): judged
    every time, never kept in the memo, whose file is plain text in the cache folder."""
    return _url_syntax(url)


def _url_syntax(url: str) -> str:
    from monitor.gate import UrlRefused, check_url_syntax

    try:
        return check_url_syntax(url)
    except UrlRefused as exc:
        raise ValueError(str(exc)) from None


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the config file, located as precisely as we can."""

    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        # One issue, one line: a key or value from the file may hold a newline or a NUL.
        return printable(f"{where}{self.key}: {self.message}")


class ConfigError(Exception):
    def __init__(self, path: Path, issues: list[ConfigIssue]):
        self.path = path
        self.issues = issues
        super().__init__("\n".join(f"{path}: {issue}" for issue in issues))


def read_regular_file(
    path: Path, error: Callable[[str], ConfigError], *, missing: str, kind: str
) -> str:
    """The text of ``path``, which must be a regular file that only its owner (and root) can
    write: a world-writable one is refused, a group-writable one is logged as a warning.

    Opened without blocking and checked before reading: a FIFO would wait for a writer for
    ever, a device could be endless. ``error`` turns a reason into the ConfigError to raise.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise error(missing) from None
    except (OSError, ValueError) as exc:
        raise error(f"cannot be opened: {getattr(exc, 'strerror', None) or exc}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise error(f"is {what}; give the path of the {kind} file itself")
    with os.fdopen(fd, "rb") as file:
        if info.st_mode & stat.S_IWOTH:
            # Whoever can edit it can point the daemon anywhere and read its secrets.
            raise error(f"is writable by other users; run: chmod o-w {path}")
        if info.st_mode & stat.S_IWGRP:
            warn_once(path, f"{kind} file {path} is writable by its group; run: chmod g-w {path}")
        try:
            return file.read().decode("utf-8")
        except OSError as exc:
            raise error(f"cannot be read: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise error(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


_warned: set[Path] = set()


def warn_once(path: Path, message: str) -> None:
    """Log ``message`` the first time this process reads ``path`` (a daemon reloads its config
    and reads secrets at every delivery; one warning is enough)."""
    key = path.absolute()
    if key not in _warned:
        _warned.add(key)
        log.warning(message)


def secret_from_env(name: str | None, what: str) -> str | None:
    """Read a secret from the named environment variable (or from the file named by NAME_FILE)."""
    if not name:
        return None
    if value := os.environ.get(name):
        return value
    if file := os.environ.get(f"{name}_FILE"):

        def error(why: str) -> ConfigError:
            issue = ConfigIssue(what, f"{name}_FILE names {file}, which {why}")
            return ConfigError(Path("(environment)"), [issue])

        missing = "does not exist; create it or point the variable at the secret file"
        return read_regular_file(Path(file), error, missing=missing, kind="secret").strip()
    issue = ConfigIssue(what, f"environment variable {name} (or {name}_FILE) is not set")
    raise ConfigError(Path("(environment)"), [issue])
