"""Prometheus metrics. Labels are bounded (outcomes, topics, channels, states), never URLs."""

from __future__ import annotations

import platform

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
)

from monitor import __version__

REGISTRY = CollectorRegistry(auto_describe=True)
# What ops dashboards expect of any Python service: process_* (CPU, memory, open files, start
# time of this process; the parser processes are its children and not counted), python_info
# and python_gc_*. Our own registry, so the library's default one is not served twice.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)
BUILD = Info("monitor_build", "The running release", registry=REGISTRY)
BUILD.info({"version": __version__, "python": platform.python_version()})

POLL_CYCLES = Counter("monitor_poll_cycles", "Poll cycles run", registry=REGISTRY)
FETCHES = Counter("monitor_fetches", "Fetches by outcome", ["outcome"], registry=REGISTRY)
FETCH_SECONDS = Histogram(
    "monitor_fetch_seconds",
    "Fetch latency by outcome",
    ["outcome"],
    registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
NEW_PASSAGES = Counter(
    "monitor_new_passages", "New entries and paragraphs found", registry=REGISTRY
)
MATCHES = Counter("monitor_matches", "Topic matches", ["topic"], registry=REGISTRY)
DELIVERIES = Counter(
    "monitor_deliveries",
    "Digest deliveries by channel and outcome",
    ["channel", "outcome"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge("monitor_outbox_depth", "Digests waiting to be delivered", registry=REGISTRY)
SOURCES = Gauge("monitor_sources", "Sources by health state", ["state"], registry=REGISTRY)
LAST_TICK = Gauge(
    "monitor_last_tick_timestamp_seconds",
    "When the scheduler last completed a tick",
    registry=REGISTRY,
)

SOURCE_STATES = ("new", "ok", "not_modified", "failing", "gone", "refused", "robots")


def set_source_states(states: list[str]) -> None:
    counts = dict.fromkeys(SOURCE_STATES, 0)
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    for state, n in counts.items():
        SOURCES.labels(state).set(n)
PARSER_FAULTS = Counter(
    "monitor_parser_faults",
    "Parse, extraction or match jobs stopped: timeout, memory (over the cap) or crash",
    ["reason"],
    registry=REGISTRY,
)
PARSER_STARTS = Counter(
    "monitor_parser_starts", "Parser processes started (replacements included)", registry=REGISTRY
)
MATCH_CUTS = Counter(
    "monitor_match_cuts",
    "New items longer than the matcher reads (MAX_MATCH_CHARS): only their start was matched",
    registry=REGISTRY,
)
STATE_FAULT = Gauge(
    "monitor_state_fault",
    "1 while the state folder cannot be used (damaged, full, read-only): polls and deliveries wait",
    registry=REGISTRY,
)
