"""config.toml -> a validated `Config`.

The schema is strict: unknown keys are refused, enum-like values are allow-listed, and every error
names its key path and, where it can be found, its line in the file. Secrets never live in the file:
the config names the environment variable that holds them.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import re
import stat
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

log = logging.getLogger(__name__)

DEFAULT_CONFIG = "config.toml"

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
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _printable(text: str) -> str:
    """``text`` with control and other unprintable characters written as escapes."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _header_value(value: str | None) -> str | None:
    # Sent as an HTTP header: a CR or LF would start a header of its own, and httpx encodes
    # header values as ASCII, so anything else would fail every request.
    if value is not None and not (value.isascii() and value.isprintable()):
        raise ValueError(
            f"{value!r} must be printable ASCII, without control characters such "
            "as CR, LF or tab (it is sent in an HTTP header); write a domain in punycode"
        )
    return value


def _control_chars(text: str) -> bool:
    return any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text)


def _folder_name(value: str) -> str:
    # A NUL stops every use of the path with an error; other control characters are legal in
    # a file name but cannot be seen in a listing or a log.
    if _control_chars(value):
        raise ValueError(
            f"{value!r} is not a usable folder name; remove the control "
            "characters (NUL, CR, LF, tab …) from it"
        )
    return value


def _check_http_url(url: str) -> str:
    # The full gate (resolved addresses, redirects) runs at fetch time; here we only refuse what
    # can never be fetched, so the maintainer learns about it at `monitor check`.
    from monitor.gate import UrlRefused, check_url_syntax

    try:
        return check_url_syntax(url)
    except UrlRefused as exc:
        raise ValueError(str(exc)) from None


class HttpConfig(Strict):
    user_agent: str = "source-monitor/0.1"
    contact: str | None = Field(None, description="URL or mail address added to the User-Agent")
    connect_timeout: float = Field(5.0, gt=0, le=120)
    read_timeout: float = Field(15.0, gt=0, le=300)
    total_timeout: float = Field(30.0, gt=0, le=900)
    max_body_bytes: int = Field(10 * 1024 * 1024, gt=0)
    max_redirects: int = Field(5, ge=0, le=20)
    max_header_bytes: int = Field(64 * 1024, gt=1024)
    concurrency: int = Field(50, ge=1, le=1000)
    per_host_concurrency: int = Field(2, ge=1, le=50)
    per_host_delay: float = Field(0.0, ge=0, description="minimum seconds between requests")
    max_feed_items: int = Field(200, ge=1)
    respect_robots: bool = True
    allow_networks: list[str] = Field(
        default_factory=list,
        description="networks the SSRF gate lets through, e.g. 127.0.0.1/32 for tests",
    )

    @field_validator("allow_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(f"{net!r} is not an IP network such as 127.0.0.1/32") from None
        return value

    _header = field_validator("user_agent", "contact")(classmethod(lambda cls, v: _header_value(v)))

    @property
    def user_agent_header(self) -> str:
        return f"{self.user_agent} (+{self.contact})" if self.contact else self.user_agent


class PollConfig(Strict):
    tick_seconds: Duration = 60
    default_interval: Duration = 3600
    baseline: bool = Field(
        True, description="first poll of a source only records what is there; nothing is reported"
    )
    grace_period: Duration = Field(2 * 86400, description="failing longer than this is reported")
    workers: int = Field(0, ge=0, le=64, description="parser processes; 0: one per CPU core")
    parse_timeout: Duration = Field(
        30, gt=0, description="seconds one parse, extraction or match may take; then it is killed"
    )
    parse_memory_mb: int = Field(
        1024, ge=64, le=65536, description="memory one parse may add to a parser process"
    )
    # Docker sends SIGKILL 10 s after SIGTERM (its default stop timeout); stopping must fit.
    shutdown_grace: Duration = Field(
        7, ge=0, le=600, description="seconds in-flight work may finish after SIGTERM"
    )
    watch_config: bool = Field(False, description="reload config.toml when the file changes")


class SeedsConfig(Strict):
    path: str = "seeds"
    enabled: bool = True
    interval: Duration = 6 * 3600

    _path = field_validator("path")(classmethod(lambda cls, v: _folder_name(v)))


class StateConfig(Strict):
    path: str = "state"
    retention_days: int = Field(180, ge=1, le=MAX_DAYS)

    _path = field_validator("path")(classmethod(lambda cls, v: _folder_name(v)))


class WebConfig(Strict):
    """Health, metrics and a read-only status page for ops."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(9464, ge=0, le=65535)
    token_env: str | None = Field(None, description="env var holding the bearer token")

    @model_validator(mode="after")
    def _token_beyond_loopback(self) -> WebConfig:
        try:
            loopback = ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            loopback = self.host == "localhost"
        if not loopback and not self.token_env:
            raise ValueError(
                f"listening on {self.host} reaches beyond this machine; set web.token_env to "
                "the environment variable holding an access token"
            )
        return self


def _ignore_pattern(pattern: str, info: ValidationInfo) -> str:
    # Compiled as extraction will compile it, so that `monitor check` refuses what cannot run.
    from monitor.patterns import PatternRefused, compile_pattern

    try:
        compile_pattern(pattern)
    except PatternRefused as exc:
        source = f" (source {info.data['url']})" if info.data.get("url") else ""
        raise ValueError(f"{pattern!r}{source} cannot be used: {exc}") from None
    return pattern


class SourceConfig(Strict):
    url: str
    kind: Literal["feed", "page"]
    name: str | None = None
    interval: Duration | None = None
    follow_links: bool = False
    ignore: list[Annotated[str, AfterValidator(_ignore_pattern)]] = Field(
        default_factory=list, description="regular expressions, run by RE2"
    )
    verify_tls: bool = True

    _url = field_validator("url")(classmethod(lambda cls, v: _check_http_url(v)))


class TopicConfig(Strict):
    query: str
    name: str | None = None
    description: str | None = None
    threshold: float = Field(1.0, ge=0)
    urgent: bool = False
    languages: list[Literal["de", "en"]] = Field(default_factory=list)


class _ChannelBase(Strict):
    enabled: bool = True
    topics: list[str] = Field(default_factory=list, description="empty: every topic")
    schedule: str = Field("30 7 * * *", description="crontab: minute hour day month weekday")
    timezone: str = "UTC"
    min_score: float = Field(0.0, ge=0)
    alerts: bool = Field(False, description="also send urgent topics at once")
    alert_min_interval: Duration = Field(600, description="at most one alert per this interval")
    language: Literal["en", "de"] = "en"
    send_empty: bool = Field(True, description="send a digest saying nothing matched")
    give_up_after: Duration = Field(
        3 * 86400, description="a digest still undelivered after this is declared dead"
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"unknown time zone {value!r}; use a name like Europe/Berlin"
            raise ValueError(msg) from None
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from monitor.schedule import cron_trigger

        try:
            cron_trigger(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a crontab expression ({exc})") from None
        return value


class FileChannel(_ChannelBase):
    kind: Literal["file"]
    path: str = Field("digests", description="folder, relative to the state folder")

    @field_validator("path")
    @classmethod
    def _inside_state(cls, value: str) -> str:
        _folder_name(value)
        parts = Path(value).parts
        if not parts or Path(value).is_absolute() or ".." in parts:
            raise ValueError(f'{value!r} must be a folder inside the state folder, like "digests"')
        return value


class EmailChannel(_ChannelBase):
    kind: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    sender: str
    recipients: list[str] = Field(min_length=1)
    timeout: float = Field(30.0, gt=0)
    allow_private: bool = Field(
        False, description="the host may be a local relay: loopback or a private network"
    )

    @field_validator("sender", "recipients")
    @classmethod
    def _addresses(cls, value: str | list[str]) -> str | list[str]:
        for addr in [value] if isinstance(value, str) else value:
            if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", addr):
                raise ValueError(f"{addr!r} is not a mail address")
        return value


class WebhookChannel(_ChannelBase):
    kind: Literal["webhook"]
    url: str | None = None
    url_env: str | None = Field(
        None, description="env var holding the URL, for URLs that are secrets (Slack, Teams)"
    )
    secret_env: str | None = Field(None, description="env var holding the whsec_ signing secret")
    format: Literal["standard", "slack", "teams"] = Field(
        "standard", description="standard: signed JSON digest; slack/teams: a chat message"
    )
    timeout: float = Field(15.0, gt=0)

    @field_validator("url")
    @classmethod
    def _url_syntax(cls, value: str | None) -> str | None:
        return None if value is None else _check_http_url(value)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookChannel:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("set exactly one of url and url_env")
        return self

    def target(self) -> str:
        """The URL to post to: from the config, or from the environment variable it names."""
        if self.url is not None:
            return self.url
        return _check_http_url(secret_from_env(self.url_env, "url_env") or "")


Channel = Annotated[FileChannel | EmailChannel | WebhookChannel, Field(discriminator="kind")]

_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class Config(Strict):
    http: HttpConfig = HttpConfig()
    poll: PollConfig = PollConfig()
    seeds: SeedsConfig = SeedsConfig()
    state: StateConfig = StateConfig()
    web: WebConfig = WebConfig()
    sources: list[SourceConfig] = Field(default_factory=list)
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    topics: dict[str, TopicConfig] = Field(default_factory=dict)
    channels: dict[str, Channel] = Field(default_factory=dict)

    @field_validator("topics", "aliases", "channels")
    @classmethod
    def _ids(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not _ID.fullmatch(key):
                raise ValueError(f"{key!r}: ids are lower case letters, digits and _")
        return value

    @model_validator(mode="after")
    def _references(self) -> Config:
        for name, channel in self.channels.items():
            for topic in channel.topics:
                if topic not in self.topics:
                    raise ValueError(
                        f"channels.{name}.topics names {topic!r}, which is not a topic; "
                        f"known: {', '.join(sorted(self.topics)) or 'none'}"
                    )
        return self

    # Paths in the config are relative to the folder holding config.toml.
    base_dir: Path = Field(default=Path("."), exclude=True)

    @property
    def state_dir(self) -> Path:
        return (self.base_dir / self.state.path).resolve()

    @property
    def seeds_dir(self) -> Path:
        return (self.base_dir / self.seeds.path).resolve()


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in the config file, located as precisely as we can."""

    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        # One issue, one line: a key or value from the file may hold a newline or a NUL.
        return _printable(f"{where}{self.key}: {self.message}")


class ConfigError(Exception):
    def __init__(self, path: Path, issues: list[ConfigIssue]):
        self.path = path
        self.issues = issues
        super().__init__("\n".join(f"{path}: {issue}" for issue in issues))


def _key_path(loc: Iterable[Any]) -> tuple[Any, ...]:
    # Pydantic adds the union tag ("file", "email", …) to the location; it is not a TOML key.
    out: list[Any] = []
    for part in loc:
        tag = isinstance(part, str) and part in {"file", "email", "webhook"}
        if tag and len(out) == 2 and out[0] == "channels":
            continue
        out.append(part)
    return tuple(out)


def dotted(loc: Sequence[Any]) -> str:
    """A key path as written in messages: channels.out.schedule, sources[0].url."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# Names are stripped in Python: "\s*" on both sides of a lazy name backtracks over long runs.
_HEADER = re.compile(r"\s*(\[\[?)([^\]]*)\]")
_KEYLINE = re.compile(r"^\s*(\"[^\"]+\"|'[^']+'|[A-Za-z0-9_-]+)\s*=")


def locate(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number (1-based) of a key path such as ('sources', 2, 'url')."""
    lines = text.splitlines()
    table: tuple[Any, ...] = ()
    counts: dict[tuple[str, ...], int] = {}
    best: tuple[int, int] | None = None  # (matched length, line)

    def norm(parts: Iterable[str]) -> tuple[str, ...]:
        return tuple(p.strip().strip("\"'") for p in parts)

    for number, line in enumerate(lines, 1):
        if (m := _HEADER.match(line)) and m.group(2).strip():
            names = norm(m.group(2).split("."))
            if m.group(1) == "[[":
                counts[names] = counts.get(names, -1) + 1
                table = (*names, counts[names])
            else:
                table = names
            full = table
        elif m := _KEYLINE.match(line):
            full = (*table, *norm([m.group(1)]))
        else:
            continue
        n = 0
        for a, b in zip(full, loc, strict=False):
            if a != b and str(a) != str(b):
                break
            n += 1
        if n == len(full) and (best is None or n > best[0]):
            best = (n, number)
    return best[1] if best else None


_TOO_DEEP = (
    "arrays or tables nested too deeply to read; no setting needs more than two levels of "
    "[ ] or { }: remove the extra nesting"
)


# tomllib takes time growing with the square (or worse) of the number of parts of a dotted key
# (a.b.c = 1), so a key of thousands of parts would stall the reader; none has more than four.
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
_LONG_DOTTED_KEY = re.compile(rf"(?:^|[\[{{,])[ \t]*(?:{_KEY_PART}[ \t]*\.[ \t]*){{64}}", re.M)
_TOO_LONG_KEY = "a dotted key of more than 64 parts; no setting has more than four: shorten it"


def load_config(path: str | Path | None = None, checks: StageChecks | None = None) -> Config:
    """Read, parse and validate the config; raise ConfigError naming every problem found.

    `checks` are what only the stages can check (see `monitor.wiring.load`); without them the
    config is valid as far as this module can tell, topic queries not compiled."""
    path = Path(path or os.environ.get("MONITOR_CONFIG") or DEFAULT_CONFIG)
    text = _read_regular_file(
        path,
        lambda why: ConfigError(path, [ConfigIssue("(file)", why)]),
        missing="not found; pass --config PATH or set MONITOR_CONFIG",
        kind="config",
    )
    if m := _LONG_DOTTED_KEY.search(text):
        issue = ConfigIssue("(syntax)", _TOO_LONG_KEY, text.count("\n", 0, m.start() + 1) + 1)
        raise ConfigError(path, [issue])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        issue = ConfigIssue(
            "(syntax)", f"not valid TOML: {exc}", int(line.group(1)) if line else None
        )
        raise ConfigError(path, [issue]) from None
    except RecursionError:
        raise ConfigError(path, [ConfigIssue("(syntax)", _TOO_DEEP, _deep_line(text))]) from None
    overridden = apply_env_overrides(data, os.environ, path)
    return validate_config(data, text, path, overridden, checks)


def gate_opt_ins(config: Config) -> list[str]:
    """One line for every way this config lets the daemon reach addresses the gate refuses by
    default: logged when the daemon starts or reloads, and shown by `monitor check`."""
    lines = []
    if config.http.allow_networks:
        lines.append(
            f"[http] allow_networks lets sources, webhooks and email channels reach "
            f"{', '.join(config.http.allow_networks)}"
        )
    for name, channel in config.channels.items():
        if isinstance(channel, EmailChannel) and channel.enabled and channel.allow_private:
            lines.append(
                f"email channel {name}: allow_private = true; its SMTP host "
                f"{channel.host}:{channel.port} may be a local relay on this machine or a "
                "private network"
            )
    return lines


def _deep_line(text: str, limit: int = 64) -> int | None:
    """Best-effort line (1-based) where brackets and braces first nest deeper than ``limit``."""
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        for char in line:
            depth += char in "[{"
            depth -= char in "]}"
            if depth > limit:
                return number
    return None


def _read_regular_file(
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
            _warn_once(path, f"{kind} file {path} is writable by its group; run: chmod g-w {path}")
        try:
            return file.read().decode("utf-8")
        except OSError as exc:
            raise error(f"cannot be read: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise error(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


_warned: set[Path] = set()


def _warn_once(path: Path, message: str) -> None:
    """Log ``message`` the first time this process reads ``path`` (a daemon reloads its config
    and reads secrets at every delivery; one warning is enough)."""
    key = path.absolute()
    if key not in _warned:
        _warned.add(key)
        log.warning(message)


ENV_PREFIX = "MONITOR_"


def apply_env_overrides(
    data: dict[str, Any], environ: Mapping[str, str], path: Path = Path("(environment)")
) -> dict[str, str]:
    """Override settings from MONITOR_<TABLE>__<KEY> variables, e.g. MONITOR_WEB__HOST=0.0.0.0.

    Double underscores separate the levels (MONITOR_CHANNELS__MAIL__HOST); a number picks an
    entry of a list of tables (MONITOR_SOURCES__0__INTERVAL=2h). Arrays and tables are written
    in TOML (MONITOR_HTTP__ALLOW_NETWORKS='["10.0.0.0/8"]'); anything else is given to the
    schema as text, which converts numbers and booleans for the keys that expect them.
    Returns the overridden dotted keys with the variable that set each; a value nested too
    deeply to read raises ConfigError for ``path``.
    """
    done: dict[str, str] = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        if not all(parts):
            continue
        value: Any = raw
        if raw.lstrip().startswith(("[", "{")):
            if _LONG_DOTTED_KEY.search(raw):
                issue = ConfigIssue(dotted(parts), f"{_TOO_LONG_KEY} (set by ${name})")
                raise ConfigError(path, [issue])
            try:
                value = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError:
                value = raw  # the schema then says what it expected
            except RecursionError:
                issue = ConfigIssue(dotted(parts), f"{_TOO_DEEP} (set by ${name})")
                raise ConfigError(path, [issue]) from None
        node: Any = data
        keys: list[Any] = []
        key: int | str
        for part in parts[:-1]:
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node, key = node[int(part)], int(part)
            elif isinstance(node, dict):
                node, key = node.setdefault(part, {}), part
            else:
                break
            keys.append(key)
        else:
            if isinstance(node, dict):
                node[parts[-1]] = value
                done[dotted((*keys, parts[-1]))] = name
    return done


def _issue(
    loc: tuple[Any, ...], msg: str, text: str, overridden: Mapping[str, str] | None
) -> ConfigIssue:
    """An issue at ``loc``: with the variable that set it, or else with its line in the file."""
    for end in range(len(loc), 0, -1):
        if overridden and (var := overridden.get(dotted(loc[:end]))):
            return ConfigIssue(dotted(loc), f"{msg} (set by ${var})")
    return ConfigIssue(dotted(loc), msg, locate(text, loc))


def _nul_keys(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Key paths of the strings (and keys) holding a NUL character, which no path, name or
    address can carry. Walked without recursion, each node linked to its parent, so that deep
    tables cost no more than flat ones."""
    found: list[int] = []
    links: list[tuple[int, Any]] = [(-1, None)]  # (parent, key) of every node visited
    stack: list[tuple[int, Any]] = [(0, data)]
    while stack:
        at, node = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                found.append(at)
            continue
        if not isinstance(node, dict | list):
            continue
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            links.append((at, key))
            if isinstance(key, str) and "\x00" in key:
                found.append(len(links) - 1)
            else:
                stack.append((len(links) - 1, value))

    def loc(at: int) -> tuple[Any, ...]:
        parts = []
        while at > 0:
            at, key = links[at]
            parts.append(key)
        return tuple(reversed(parts))

    return sorted((loc(at) for at in found), key=str)


# What the stages check in a valid config (topic syntax, in `monitor.wiring`): given to
# `load_config` by the caller, so that this module imports no stage.
StageChecks = Callable[["Config", str], list["ConfigIssue"]]


def validate_config(
    data: dict[str, Any],
    text: str,
    path: Path,
    overridden: Mapping[str, str] | None = None,
    checks: StageChecks | None = None,
) -> Config:
    nul = _nul_keys(data)
    issues = [_issue(loc, "contains a NUL character; remove it", text, overridden) for loc in nul]
    try:
        config = Config.model_validate({**data, "base_dir": path.parent})
    except RecursionError:
        raise ConfigError(path, [ConfigIssue("(file)", _TOO_DEEP)]) from None
    except ValidationError as exc:
        for err in exc.errors():
            loc = _key_path(err["loc"])
            if any(loc[: len(n)] == n or n[: len(loc)] == loc for n in nul):
                continue  # the NUL, reported above, is the cause
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key; check its spelling against the README's config reference"
            elif err["type"] == "missing":
                msg = "required key is missing"
            elif err["type"] == "union_tag_invalid":
                msg = "kind must be one of: file, email, webhook"
            elif err["type"] == "finite_number":
                msg = "must be a finite number (inf and nan are not allowed)"
            issues.append(_issue(loc, msg, text, overridden))
        raise ConfigError(path, issues) from None
    if issues:
        raise ConfigError(path, issues)
    issues = checks(config, text) if checks is not None else []
    if issues:
        raise ConfigError(path, issues)
    return config


def missing_secrets(config: Config) -> list[ConfigIssue]:
    """Secrets the config names but the environment does not hold: found before starting, not
    at the first delivery."""
    wanted: list[tuple[str, str | None]] = [("web.token_env", config.web.token_env)]
    for name, channel in config.channels.items():
        if not channel.enabled:
            continue
        if isinstance(channel, EmailChannel):
            wanted.append((f"channels.{name}.password_env", channel.password_env))
        elif isinstance(channel, WebhookChannel):
            wanted.append((f"channels.{name}.secret_env", channel.secret_env))
            wanted.append((f"channels.{name}.url_env", channel.url_env))
    if not config.web.enabled:
        wanted = wanted[1:]
    issues = []
    for key, var in wanted:
        try:
            secret_from_env(var, key)
        except ConfigError as exc:
            issues.extend(exc.issues)
    return issues


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
        return _read_regular_file(Path(file), error, missing=missing, kind="secret").strip()
    issue = ConfigIssue(what, f"environment variable {name} (or {name}_FILE) is not set")
    raise ConfigError(Path("(environment)"), [issue])
