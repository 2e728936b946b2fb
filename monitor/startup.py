"""What `monitor run` says when it starts and after its first poll, so that whoever started it
can tell it works: which config, which sources, where digests go and when, where to look; and,
when no source could be read at all, that the machine is probably offline."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from monitor.channels.email import EmailChannel
from monitor.channels.file import FileChannel
from monitor.channels.webhook import WebhookChannel
from monitor.config import Config
from monitor.logs import one_line
from monitor.models import Source
from monitor.schedule import cron_trigger


def _counted(kinds: Counter[str]) -> str:
    return ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in sorted(kinds.items()))


def sources_line(config: Config, sources: Sequence[Source]) -> str:
    """`24 sources: 12 configured (10 feeds, 2 pages), 12 cited in seeds/ (12 pages, 1 refused)`."""
    configured = [s for s in sources if s.origin != "seed"]
    cited = [s for s in sources if s.origin == "seed"]
    parts = [f"{len(configured)} configured ({_counted(Counter(s.kind for s in configured))})"]
    if config.seeds.enabled:
        refused = sum(1 for s in cited if s.refused)
        detail = _counted(Counter(s.kind for s in cited if not s.refused))
        detail = ", ".join(x for x in (detail, f"{refused} refused" if refused else "") if x)
        parts.append(
            f"{len(cited)} cited in {config.seeds_dir}" + (f" ({detail})" if detail else "")
        )
    else:
        parts.append("seeds off")
    return f"{len(sources)} sources: " + ", ".join(parts)


def _destination(config: Config, name: str) -> str:
    """Where a channel's digests go, without secrets (a webhook's path may hold a token)."""
    chan = config.channels[name]
    if isinstance(chan, FileChannel):
        return f"files in {config.state_dir / chan.path}"
    if isinstance(chan, EmailChannel):
        return f"email to {', '.join(chan.recipients)} via {chan.host}"
    if isinstance(chan, WebhookChannel):
        url_env, url = chan.url_env, chan.url
        where = f"the URL in ${url_env}" if url_env else urlsplit(url or "").netloc or "?"
        return f"webhook ({chan.format}) to {where}"
    return type(chan).__name__


def _when(moment: datetime, now: datetime) -> str:
    left = moment - now
    hours, rest = divmod(int(left.total_seconds()), 3600)
    days, hours = divmod(hours, 24)
    span = f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min"
    return f"{moment.strftime('%a %Y-%m-%d %H:%M %Z')} (in {span})"


def channel_lines(config: Config, now: datetime) -> list[str]:
    """One line per channel: where its digests go, when the next one is due, alerts."""
    lines = []
    for name, chan in config.channels.items():
        if not chan.enabled:
            lines.append(f"channel {name}: disabled")
            continue
        nxt = cron_trigger(chan.schedule, chan.timezone).get_next_fire_time(
            None, now.astimezone(ZoneInfo(chan.timezone))
        )
        due = _when(nxt, now) if nxt is not None else "never (the schedule has no next time)"
        alerts = "; urgent topics at once" if chan.alerts else ""
        lines.append(f"channel {name}: {_destination(config, name)}; next digest {due}{alerts}")
    if not lines:
        lines.append("no channels: matches are stored but no digest goes anywhere")
    return lines


def summary_lines(
    config: Config, config_path: Path, sources: Sequence[Source], now: datetime
) -> list[str]:
    """The start-up summary of `monitor run`, one log line each."""
    web = config.web
    status = f"http://{web.host}:{web.port}/" if web.enabled else "off ([web] enabled = false)"
    if web.enabled and not web.token_env:
        # Every route but the probes needs a token; without one configured the daemon makes it.
        status += f" (token in {config.state_dir / 'web.token'})"
    return [
        f"config {config_path.resolve()}; state in {config.state_dir}",
        sources_line(config, sources),
        f"{len(config.topics)} topics: {', '.join(config.topics) or 'none'}",
        *channel_lines(config, now),
        f"status page, /healthz and /metrics: {status}",
    ]


def offline_line(polled: int, readable: int, errors: Sequence[tuple[str, str]]) -> str | None:
    """The warning after a poll in which no source could be read (None when some could)."""
    if polled == 0 or readable:
        return None
    # Names and errors may come from cited documents and servers: one printable line, bounded.
    example = f" (e.g. {one_line(f'{errors[0][0]}: {errors[0][1]}', 200)})" if errors else ""
    return (
        f"{polled} sources: 0 readable. Is this machine offline? Check its network, DNS or "
        f"proxy{example}"
    )
