"""Wiring: the one place a config becomes a running pipeline.

fetch -> extract -> detect -> match -> store, then digest -> notify: the stages know nothing of
each other's construction; this module builds them from the config, for the daemon, the one-shot
commands and the tests alike. It also runs the checks only a stage can make (a topic query
compiles), so that `monitor.config` imports no stage and `monitor check` still reports every
problem with its key and line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.config import Config, ConfigIssue, database_url, dotted, load_config, locate
from monitor.proxy import ProxyRefused, proxy_routes
from monitor.topic_cache import compiled_topics, topics_compiled_before

if TYPE_CHECKING:
    from monitor.models import Source
    from monitor.pipeline import Poller
    from monitor.store import Store
    from monitor.topics import Matcher


def load(path: str | Path | None = None) -> Config:
    """The config at `path`, validated by the config model and by the stages; ConfigError
    naming every problem otherwise."""
    config = load_config(path, checks=lambda c, t: proxy_issues(c, t) + stage_issues(c, t))
    database_url(config)  # a bad MONITOR_DATABASE_URL(_FILE) is a config error too, said now
    return config


def proxy_issues(config: Config, text: str) -> list[ConfigIssue]:
    """A proxy the fetcher could not use, from the config or the environment's variables."""
    try:
        proxy_routes(config.http.proxy, config.http.no_proxy, os.environ)
    except ProxyRefused as exc:
        loc = ("http", "proxy")
        line = locate(text, loc) if config.http.proxy else None
        return [ConfigIssue(dotted(loc), str(exc), line)]
    return []


def stage_issues(config: Config, text: str) -> list[ConfigIssue]:
    """What the stages find wrong in a config the model accepted: every topic query that does
    not compile, each with its key and line (`text` is the file, for the line)."""
    if topics_compiled_before(config):
        # This very config's topics compiled before (see `monitor.topic_cache`): that answers
        # it without loading the compiler, which check and sources would load for nothing.
        return []
    from monitor.topics import TopicError, compile_topics

    try:
        # All at once first: a valid config (the usual case) costs one compile, and one pass
        # over the dictionaries for every topic's words.
        compiled_topics(config)
        return []
    except (TopicError, RecursionError):
        pass  # some topic is broken: compile each on its own to name every broken one
    issues = []
    for topic_id, topic in config.topics.items():
        loc = ("topics", topic_id, "query")
        try:
            compile_topics({topic_id: topic}, config.aliases)
        except TopicError as exc:
            # A topic's other queries (`context_excludes`) are named "<topic>.<key>".
            topic_id, _, key = exc.topic.partition(".")
            loc = ("topics", topic_id, key or "query")
            issues.append(ConfigIssue(dotted(loc), exc.detail, locate(text, loc)))
        except RecursionError:  # the parser's own recursion: a query nested beyond reason
            why = "the query is nested too deeply (hundreds of levels); flatten it"
            issues.append(ConfigIssue(dotted(loc), why, locate(text, loc)))
    return issues


def open_store(config: Config) -> Store:
    """The state database the config names: PostgreSQL when a DSN is set (`[state]
    database_url`, MONITOR_DATABASE_URL), else SQLite under the state folder."""
    from monitor.store import Store

    url = database_url(config)
    return Store(config.state_dir, url, lease=timedelta(seconds=config.state.lease))


@dataclass
class Pipeline:
    """Everything built from one config: replaced whole when the config is reloaded."""

    config: Config
    store: Store
    matcher: Matcher
    sources: list[Source]
    poller: Poller

    def close(self) -> None:
        """Stop the parser processes (the store belongs to the caller)."""
        self.poller.close()


def build(config: Config, store: Store, *, clock: Callable[[], datetime] | None = None) -> Pipeline:
    """The pipeline for `config` over `store`: sources (configured and cited in seeds), the
    compiled topics, the poller with its parser processes (started in the background), and
    the enabled channels known to the store."""
    # Imported here: the commands that only load a config (check, sources, match) need not
    # pay for the poller's imports (a third of a second).
    from monitor.pipeline import Poller
    from monitor.sources import load_sources
    from monitor.store import utcnow

    clock = clock or utcnow
    matcher = compiled_topics(config)
    sources = load_sources(config)
    store.sync_channels([n for n, c in config.channels.items() if c.enabled], clock())
    poller = Poller(config, store, matcher, sources, clock=clock)
    return Pipeline(config, store, matcher, sources, poller)
