"""config.toml -> a validated `Config`.

The schema is strict: unknown keys are refused, enum-like values are allow-listed, and every error
names its key path and, where it can be found, its line in the file. Secrets never live in the file:
the config names the environment variable that holds them.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.channels import CHANNELS, ChannelUnion
from monitor.channels.email import EmailChannel
from monitor.channels.file import FileChannel
from monitor.channels.webhook import WebhookChannel
from monitor.config_parts import (
    MAX_DAYS,
    ConfigError,
    ConfigIssue,
    Duration,
    Strict,
    check_http_url,
    folder_name,
    header_value,
    parse_duration,
    read_regular_file,
    secret_from_env,
)
from monitor.source_kinds import KindName

# Names other modules and tests import from here; the channel models live in their modules.
__all__ = [
    "MAX_DAYS",
    "ConfigError",
    "ConfigIssue",
    "EmailChannel",
    "FileChannel",
    "WebhookChannel",
    "parse_duration",
    "secret_from_env",
]

log = logging.getLogger(__name__)

DEFAULT_CONFIG = "config.toml"


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

    # A forward proxy for sources and webhooks (else $HTTPS_PROXY / $HTTP_PROXY), the hosts that
    # bypass it (else $NO_PROXY), and whether it may sit on a private network.
    proxy: str | None = None
    no_proxy: list[str] = Field(default_factory=list)
    proxy_allow_private: bool = False

    _header = field_validator("user_agent", "contact")(classmethod(lambda cls, v: header_value(v)))

    @field_validator("proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value if "://" in value else f"http://{value}")
        if parts.username or parts.password:
            raise ValueError(
                "credentials do not belong in the file; give them in the environment instead "
                "(HTTPS_PROXY=http://user:password@host:port) and leave [http] proxy unset"
            )
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(
                f"{value!r}: only http:// proxies are supported (they tunnel https with "
                "CONNECT); give http://host:port"
            )
        return value

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

    _path = field_validator("path")(classmethod(lambda cls, v: folder_name(v)))


class StateConfig(Strict):
    path: str = "state"
    retention_days: int = Field(180, ge=1, le=MAX_DAYS)
    # PostgreSQL instead of SQLite under `path` (docs/scaling.md); MONITOR_DATABASE_URL (or
    # MONITOR_DATABASE_URL_FILE) overrides it and may carry the password, which the file may not.
    database_url: str | None = None
    # How long a worker's claim on a source or a queued digest holds without being renewed:
    # after a worker dies, others take its work over once this has passed.
    lease: Duration = Field(120, ge=3, le=3600)

    _path = field_validator("path")(classmethod(lambda cls, v: folder_name(v)))

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        return check_database_url(url, in_file=True)


class DigestConfig(Strict):
    """What digests tell besides matches."""

    outage_after: Duration = Field(
        3600, gt=0, description="a source unreadable longer than this is named in the next digest"
    )
    outage_polls: int = Field(
        2, ge=1, le=1000, description="so is one whose last this many polls failed"
    )


class ArchiveConfig(Strict):
    """The archive of reported matches (`monitor search`, /inbox): kept apart from the state's
    retention, which prunes items and fingerprints."""

    keep_days: int | None = Field(
        None, ge=1, le=MAX_DAYS, description="forget reports older than this; unset: keep all"
    )


class WebConfig(Strict):
    """Health, metrics and a read-only status page for ops."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(9464, ge=0, le=65535)
    token_env: str | None = Field(None, description="env var holding the bearer token")
    # Where readers reach this server from outside (behind a proxy, say): the Atom feeds' self
    # links use it. Unset, a served feed links to the address its reader used.
    public_url: str | None = None
    # Feedback links in digests ("not relevant", "mute"): how long one stays valid, and the env
    # var holding their signing key (unset: a key generated once in state/feedback.key).
    link_days: int = Field(14, ge=1, le=365, description="days a digest's feedback link is valid")
    link_secret_env: str | None = Field(None, description="env var holding the link signing key")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        url = check_http_url(url)
        if "?" in url or "#" in url:
            raise ValueError(f"{url!r}: a base URL takes no query or fragment")
        return url.rstrip("/")

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
    kind: KindName  # the kinds in `monitor.source_kinds`
    name: str | None = None
    interval: Duration | None = None
    follow_links: bool = False
    ignore: list[Annotated[str, AfterValidator(_ignore_pattern)]] = Field(
        default_factory=list, description="regular expressions, run by RE2"
    )
    verify_tls: bool = True

    _url = field_validator("url")(classmethod(lambda cls, v: check_http_url(v)))


class TopicConfig(Strict):
    query: str
    name: str | None = None
    description: str | None = None
    threshold: float = Field(1.0, ge=0)
    urgent: bool = False
    languages: list[Literal["de", "en"]] = Field(default_factory=list)
    # A page paragraph that matches only with its page's headline or section heading (which
    # other paragraphs share) keeps the match only when its own text meets `context_requires`
    # (the topic's substance, not just a place) and not `context_excludes` (a paragraph about
    # another country does not inherit the country the headline names).
    context_requires: str | None = None
    context_excludes: str | None = None


# Each kind of channel declares its own model in its module (see `monitor.channels`).
Channel = ChannelUnion

_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class Config(Strict):
    http: HttpConfig = HttpConfig()
    poll: PollConfig = PollConfig()
    seeds: SeedsConfig = SeedsConfig()
    state: StateConfig = StateConfig()
    web: WebConfig = WebConfig()
    digest: DigestConfig = DigestConfig()
    archive: ArchiveConfig = ArchiveConfig()
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


DATABASE_URL_ENV = "MONITOR_DATABASE_URL"


def check_database_url(url: str, *, in_file: bool = False) -> str:
    """A PostgreSQL DSN as the store takes it; ValueError saying what to change otherwise."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ValueError(
            "expected a PostgreSQL URL, postgresql://USER@HOST:PORT/DATABASE "
            "(leave it unset for SQLite under [state] path)"
        )
    userinfo = rest.partition("/")[0].rpartition("@")[0]
    if in_file and userinfo.partition(":")[2]:
        raise ValueError(
            f"a password does not belong in config.toml; set {DATABASE_URL_ENV} (or "
            f"{DATABASE_URL_ENV}_FILE) to the whole URL, or use a ~/.pgpass file"
        )
    return url


def database_url(config: Config) -> str | None:
    """The PostgreSQL DSN the store uses (None: SQLite under the state folder):
    MONITOR_DATABASE_URL or the file MONITOR_DATABASE_URL_FILE names, else [state] database_url."""
    env = DATABASE_URL_ENV
    if os.environ.get(env) or os.environ.get(f"{env}_FILE"):
        url = secret_from_env(env, "state.database_url") or ""
        try:
            return check_database_url(url)
        except ValueError as exc:
            # The URL may hold a password: the message names the variable, never the value.
            raise ConfigError(Path("(environment)"), [ConfigIssue(env, str(exc))]) from None
    return config.state.database_url


def _key_path(loc: Iterable[Any]) -> tuple[Any, ...]:
    # Pydantic adds the union tag ("file", "email", …) to the location; it is not a TOML key.
    out: list[Any] = []
    for part in loc:
        tag = isinstance(part, str) and part in CHANNELS
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
    text = read_regular_file(
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
    config = validate_config(data, text, path, overridden, checks)
    from monitor.config_memo import save

    save()  # the values judged this time: not judged again next time
    return config


def gate_opt_ins(config: Config) -> list[str]:
    """One line for every way this config lets the daemon reach addresses the gate refuses by
    default: logged when the daemon starts or reloads, and shown by `monitor check`."""
    lines = []
    if config.http.allow_networks:
        lines.append(
            f"[http] allow_networks lets sources, webhooks and email channels reach "
            f"{', '.join(config.http.allow_networks)}"
        )
    if config.http.proxy_allow_private:
        lines.append("[http] proxy_allow_private lets the forward proxy sit on a private network")
    for name, channel in config.channels.items():
        if line := channel.gate_opt_in(name):
            lines.append(line)
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
                msg = f"kind must be one of: {', '.join(CHANNELS)}"
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
    wanted: list[tuple[str, str | None]] = [
        ("web.token_env", config.web.token_env),
        ("web.link_secret_env", config.web.link_secret_env),
    ]
    for name, channel in config.channels.items():
        if not channel.enabled:
            continue
        for key in channel.secret_keys:
            wanted.append((f"channels.{name}.{key}", getattr(channel, key)))
    if not config.web.enabled:
        wanted = wanted[2:]
    issues = []
    for key, var in wanted:
        try:
            secret_from_env(var, key)
        except ConfigError as exc:
            issues.extend(exc.issues)
    return issues
