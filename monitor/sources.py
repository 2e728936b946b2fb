"""What to poll: the sources configured in config.toml plus every URL cited in seeds/ documents."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

from monitor import config_memo
from monitor.config import Config
from monitor.config_parts import check_http_url
from monitor.extract import cited_urls
from monitor.gate import UrlRefused, address_allowed, known_normal, normalize_url, url_host
from monitor.models import Citation, Source
from monitor.source_kinds import page

log = logging.getLogger("monitor.sources")

SEED_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf"}


def seed_documents(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in SEED_SUFFIXES and not p.name.startswith(".")
    )


def load_sources(config: Config) -> list[Source]:
    """Configured sources first, then cited URLs not already configured, merged by normalised URL.

    A cited URL the gate refuses on its face (a bad scheme, an IP literal in a private range, …)
    is kept as a source in state "refused" so the analyst sees it in `monitor sources`, but it is
    never requested.
    """
    out: dict[str, Source] = {}
    for sc in config.sources:
        # Through the memo of values the config's checks accepted (`monitor.config_memo`): the
        # gate's parsers cost some 0.1 ms per URL, a second of every start at 10,000 sources.
        key = check_http_url(sc.url)
        if key == sc.url:  # the memo says so: the fetcher need not ask the parsers again
            known_normal(key)
        if key in out:
            log.warning("source %s is configured twice; the first entry wins", sc.url)
            continue
        out[key] = Source(
            key=key,
            url=sc.url,
            kind=sc.kind,
            name=sc.name or _host(key),
            interval_seconds=sc.interval or config.poll.default_interval,
            origin="config",
            follow_links=sc.follow_links,
            ignore=list(sc.ignore),
            verify_tls=sc.verify_tls,
        )
    config_memo.save()
    if not config.seeds.enabled:
        return list(out.values())
    for doc in seed_documents(config.seeds_dir):
        try:
            cited = cited_urls(doc)
        except Exception as exc:  # a broken document must not hide the others' sources
            log.error("seed document %s could not be read: %s; fix or remove it", doc, exc)
            continue
        for url, context in cited:
            citation = Citation(doc.name, context)
            try:
                key = normalize_url(url)
                refused = _refused_address(key, config.http.allow_networks)
            except UrlRefused as exc:
                key, refused = url, str(exc)
            if key in out:
                if all(c.document != doc.name for c in out[key].citations):
                    out[key].citations.append(citation)
                continue
            out[key] = Source(
                key=key,
                url=key,
                kind=page.KIND,  # a cited URL is a page; "seed" is its origin, not a kind
                name=_short(key),
                origin="seed",
                interval_seconds=config.seeds.interval,
                citations=[citation],
                refused=refused,
            )
    return list(out.values())


def _refused_address(url: str, allow_networks: list[str]) -> str | None:
    """Why a URL whose host is an IP literal can never be fetched, or None.

    Host names are checked when connecting (their addresses can change); a literal address can be
    judged now, so the analyst sees at once that the cited URL points inside the network.
    """
    host = url_host(url)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    reason = address_allowed(host, allow_networks)
    return f"address refused: {reason}" if reason else None


def _short(url: str, width: int = 60) -> str:
    """A readable name for a cited page: host and path, shortened (two cited pages of one site
    must not look the same in logs and digests)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    name = f"{parts.hostname or ''}{parts.path.rstrip('/')}" or url
    return name if len(name) <= width else name[: width - 1] + "…"


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or url
