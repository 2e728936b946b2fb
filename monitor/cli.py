"""The `monitor` command. Exit codes: 0 ok, 1 work failed (see message), 2 bad config or usage,
3 another instance holds the state folder, 4 the state folder cannot be used (damaged, full,
read-only), 130 interrupted (Ctrl-C) in a one-shot command."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor.config import Config, ConfigError, gate_opt_ins, missing_secrets

if TYPE_CHECKING:
    from monitor.topics import Matcher

EXIT_FAILED, EXIT_CONFIG, EXIT_LOCKED, EXIT_STATE = 1, 2, 3, 4
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def _load(ctx: click.Context, *, secrets: bool = False) -> Config:
    """The validated config, or exit 2 naming every problem (and, with `secrets`, every secret
    the config names that the environment does not hold)."""
    from monitor.wiring import load

    try:
        config = load(ctx.obj["config"])
    except ConfigError as exc:
        for issue in exc.issues:
            click.echo(f"error: {exc.path}: {issue}", err=True)
        sys.exit(EXIT_CONFIG)
    if secrets and (missing := missing_secrets(config)):
        for issue in missing:
            click.echo(f"error: {issue}", err=True)
        sys.exit(EXIT_CONFIG)
    return config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="MONITOR_CONFIG",
    default=Path("config.toml"),
    show_default=True,
    help="config file (or $MONITOR_CONFIG)",
)
@click.option(
    "--log-level", default="INFO", show_default=True, help=f"one of {', '.join(LOG_LEVELS)}"
)
@click.version_option(package_name="source-monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: Path, log_level: str) -> None:
    """Watch feeds, pages and cited sources; deliver topic digests."""
    from monitor.logs import setup_logging

    if log_level.lower() not in LOG_LEVELS:
        click.echo(
            f"error: --log-level {log_level!r}: use one of {', '.join(LOG_LEVELS)}", err=True
        )
        sys.exit(EXIT_CONFIG)
    setup_logging(log_level)
    ctx.obj = {"config": config_path}


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate the config file; exit 2 naming every error."""
    config = _load(ctx, secrets=True)
    from monitor.sources import load_sources

    sources = load_sources(config)
    cited = [s for s in sources if s.origin == "seed"]
    refused = [s for s in sources if s.refused]
    click.echo(
        f"{ctx.obj['config']}: OK — {len(sources) - len(cited)} configured sources, "
        f"{len(cited)} cited in {config.seeds_dir}, {len(config.topics)} topics, "
        f"{len(config.channels)} channels"
    )
    for s in refused:
        click.echo(f"warning: cited URL {s.url} will not be polled: {s.refused}", err=True)
    for line in gate_opt_ins(config):
        click.echo(f"warning: {line}", err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List every source, where it came from, and its health."""
    config = _load(ctx)
    from monitor.sources import load_sources

    srcs = load_sources(config)
    from monitor.config import database_url
    from monitor.wiring import open_store

    health = {}
    unknown = False
    server = database_url(config)
    # The store (SQLAlchemy, and migrations) only when there is state to read: it costs more
    # than the rest of the command.
    quick = None
    if not server and (config.state_dir / "monitor.db").exists():
        from monitor.source_health import read_health

        quick = read_health(config.state_dir / "monitor.db")
    if quick is not None:
        health = {h.key: h for h in quick}
    elif server or (config.state_dir / "monitor.db").exists():
        from monitor.store.faults import StateError

        try:
            store = open_store(config)
            try:
                health = {h.key: h for h in store.health()}
            finally:
                store.close()
        except StateError as exc:
            if not server:  # a damaged state folder is refused, as by every other command
                raise
            # The list comes from the config: a database server out of reach (for now) costs
            # only the health.
            click.echo(f"warning: source health unknown: {exc}", err=True)
            unknown = True
    rows: list[dict[str, Any]] = []
    for s in srcs:
        h = health.get(s.key)
        rows.append(
            {
                "name": s.name,
                "url": s.url,
                "kind": s.kind,
                "origin": s.origin,
                "cited_by": [{"document": c.document, "context": c.context} for c in s.citations],
                "state": "refused"
                if s.refused
                else (h.state if h else ("unknown" if unknown else "new")),
                "since": h.since.isoformat() if h and h.since else None,
                "error": s.refused or (h.last_error if h else None),
                # Fetched, not yet parsed: "ok" says nothing of its parse (see the README).
                "first_poll_kept": bool(h and h.kept and not s.refused),
            }
        )
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, expand=False)
    for col in ("name", "kind", "origin", "state", "url / error"):
        table.add_column(col, overflow="fold")
    for r in rows:
        origin = r["origin"]
        if r["cited_by"]:
            origin = "seed: " + ", ".join(c["document"] for c in r["cited_by"])
        detail = r["url"] + (f"\n{r['error']}" if r["error"] else "")
        if r["first_poll_kept"]:
            detail += "\nfirst poll kept unparsed: parsed (warnings too) at its next change"
        table.add_row(r["name"], r["kind"], origin, r["state"], detail)
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    click.echo(f"{len(rows)} sources")


@cli.command()
@click.pass_context
def once(ctx: click.Context) -> None:
    """Run one poll cycle over all sources, then print a summary."""
    config = _load(ctx)
    early = _parsing_likely(config)
    if early:
        from monitor.sandbox import start_fork_server

        start_fork_server()
    import asyncio

    from monitor import wiring
    from monitor.fetch import Fetcher
    from monitor.outbox import write_feeds
    from monitor.state_guard import AlreadyRunning, state_lock
    from monitor.store import utcnow
    from monitor.store.faults import os_fault

    async def go() -> Any:
        store = wiring.open_store(config)
        try:
            rt = wiring.build(config, store)
            if early:
                rt.poller.sandbox.start()  # in the background; the fetches go on meanwhile
            todo = len([s for s in rt.poller.sources if not s.refused])
            try:
                async with Fetcher(config.http) as fetcher:
                    with _progress(todo) as progress:
                        summary = await rt.poller.cycle(
                            fetcher, only_due=False, progress=progress
                        )
            finally:
                rt.poller.close()
            try:
                write_feeds(config, store, rt.poller.sources, utcnow())
            except OSError as exc:  # a full or read-only state folder: one line, exit 4
                raise os_fault(exc, exc.filename or config.state_dir / "feeds") or exc from None
            return summary
        finally:
            store.close()

    try:
        with state_lock(config.state_dir):
            summary = asyncio.run(go())
    except AlreadyRunning as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    click.echo(summary.line())
    for topic, n in sorted(summary.matches_by_topic.items()):
        click.echo(f"  {topic}: {n}")
    for name, error in summary.errors:
        click.echo(f"  failed: {name}: {error}")
    from monitor.startup import offline_line

    readable = summary.fetched + summary.not_modified
    if line := offline_line(summary.sources, readable, summary.errors):
        click.echo(f"warning: {line}", err=True)


# From this many configured sources on, `once` over an existing state starts its parser
# processes as it starts instead of at the first changed body.
EARLY_PARSERS_FROM = 50


def _parsing_likely(config: Config) -> bool:
    """Whether `once` should start its parser processes at once rather than on demand.

    The fork server imports the parsers (0.3–0.5 s of CPU) before it can fork the first
    process. Started on demand, that import sits between the first changed body and its
    parse, on the run's critical path; started now, it runs on the other core while this
    process loads its state and fetches. A larger set of sources polled before almost always
    has a changed one; a small set, or a first run (its bodies are kept unparsed), keeps the
    start on demand, so that a run with nothing to parse pays nothing for it."""
    return len(config.sources) >= EARLY_PARSERS_FROM and _state_exists(config)


def _state_exists(config: Config) -> bool:
    """Whether there is state to read: a PostgreSQL DSN, or the SQLite file."""
    from monitor.config import database_url
    from monitor.store.engine import DB_NAME

    return bool(database_url(config)) or (config.state_dir / DB_NAME).exists()


# Outcomes of a poll that `once` does not log one by one when not on a terminal.
QUIET_OUTCOMES = frozenset({"not modified", "baseline", "0 new"})
PROGRESS_EVERY = 5.0  # seconds between progress lines for those


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[Any, str], None]]:
    """How `once` shows its sources being polled: a progress bar on a terminal; otherwise (a
    file, a pipe, a container's log) a log line for each source with something to tell (new
    text, a failure), and for the others one line every few seconds and at the end, so that
    a large cycle does not write (and pay for) ten thousand lines saying "not modified"."""
    if not sys.stderr.isatty():
        log = logging.getLogger("monitor.once")
        done = 0
        last = time.monotonic()

        def line(src: Any, outcome: str) -> None:
            nonlocal done, last
            done += 1
            now = time.monotonic()
            if outcome not in QUIET_OUTCOMES or done == total or now - last >= PROGRESS_EVERY:
                last = now
                log.info("%d/%d %s: %s", done, total, src.name, outcome)

        yield line
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("polling"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,  # the summary that follows says it all
    )
    task = bar.add_task("", total=total)

    def advance(src: Any, outcome: str) -> None:
        bar.update(task, advance=1, description=f"{outcome}: {src.name}"[:40])

    with bar:
        # Log lines go through the bar's console (sys.stderr is its proxy now), above the bar
        # rather than through it.
        handlers = [
            h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)
        ]
        streams = [h.setStream(sys.stderr) for h in handlers]
        try:
            yield advance
        finally:
            for handler, stream in zip(handlers, streams, strict=True):
                if stream is not None:
                    handler.setStream(stream)


@cli.command()
@click.option("--channel", help="only this channel")
@click.option(
    "--dry-run", is_flag=True, help="show the digest that would go out; mark nothing sent"
)
@click.pass_context
def digest(ctx: click.Context, channel: str | None, dry_run: bool) -> None:
    """Build the digest now and send it (plus anything waiting in the outbox)."""
    config = _load(ctx)
    import asyncio

    from monitor.fetch import Fetcher
    from monitor.outbox import flush, queue_digest
    from monitor.sources import load_sources
    from monitor.state_guard import AlreadyRunning, state_lock
    from monitor.store import utcnow
    from monitor.wiring import open_store

    names = [channel] if channel else [n for n, c in config.channels.items() if c.enabled]
    if channel and channel not in config.channels:
        click.echo(
            f"error: no channel {channel!r}; configured: {', '.join(config.channels) or 'none'}",
            err=True,
        )
        sys.exit(EXIT_CONFIG)
    srcs = load_sources(config)

    if dry_run:
        store = open_store(config)
        try:
            for name in names:
                built = queue_digest(config, store, name, srcs, utcnow(), dry_run=True)
                click.echo(f"=== channel {name} (dry run, nothing marked sent) ===")
                click.echo(built[1].text if built else "(nothing to send)")
        finally:
            store.close()
        return

    async def go() -> bool:
        store = open_store(config)
        store.sync_channels(names, utcnow())
        ok = True
        try:
            async with Fetcher(config.http) as fetcher:
                for name in names:
                    now = utcnow()
                    built = queue_digest(config, store, name, srcs, now)
                    if built:
                        click.echo(
                            f"{name}: queued {built[0].id} ({len(built[0].match_ids)} items)"
                        )
                    for d in await flush(config, store, fetcher, now, channel=name):
                        status = "sent" if d.ok else "FAILED (kept for retry)"
                        click.echo(f"{name}: {d.digest_id} {status}: {d.detail}")
                        ok &= d.ok
        finally:
            store.close()
        return ok

    try:
        with state_lock(config.state_dir):
            ok = asyncio.run(go())
    except AlreadyRunning as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    if not ok:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run the daemon: poll on schedule, send digests and alerts, until SIGTERM."""
    _load(ctx, secrets=True)
    import asyncio

    from monitor.daemon import Daemon
    from monitor.state_guard import AlreadyRunning

    try:
        asyncio.run(Daemon(ctx.obj["config"]).run())
    except AlreadyRunning as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)


@cli.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """See it work, offline: poll a bundled corpus served on 127.0.0.1 a few times with the real
    pipeline and the config's topics, then print the digest (its channels are never used)."""
    import time

    config = _load(ctx)
    from monitor.demo import TICKS, run_demo

    started = time.monotonic()
    click.echo(
        f"demo: serving the bundled corpus on 127.0.0.1 and polling it {TICKS} times "
        f"with the {len(config.topics)} topics of {ctx.obj['config']}…",
        err=True,
    )
    result = run_demo(config)
    for n, line in enumerate(result.cycles):
        click.echo(f"  poll {n + 1}{' (baseline)' if n == 0 else ''}: {line}", err=True)
    click.echo(result.text)
    click.echo(f"digest (HTML):          {result.html_path}")
    click.echo(f"webhook payload (JSON): {result.json_path}")
    click.echo(f"state folder:           {result.state_dir}")
    click.echo(f"done in {time.monotonic() - started:.1f} s; nothing was sent anywhere", err=True)


@cli.command()
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="with title, date, language and metadata")
@click.pass_context
def extract(ctx: click.Context, target: str, as_json: bool) -> None:
    """Print the main text of a page (URL or FILE), paragraph by paragraph."""
    from monitor.extract import ExtractError
    from monitor.extract.pages import extract_file, extract_page

    url = target.startswith(("http://", "https://"))
    # A file needs no config; its parse limits come from it when there is one.
    config = _load(ctx) if url or Path(ctx.obj["config"]).exists() else None
    try:
        if url:
            assert config is not None
            import asyncio

            from monitor.fetch import Fetcher
            from monitor.models import FetchOutcome

            async def get() -> Any:
                async with Fetcher(config.http) as fetcher:
                    return await fetcher.fetch(target)

            res = asyncio.run(get())
            if res.outcome is not FetchOutcome.OK:
                click.echo(f"error: {target}: {res.error}", err=True)
                sys.exit(EXIT_FAILED)
            final = res.final_url or target
            doc = _isolated(config, extract_page, res.body, final, res.content_type)
        else:
            path = Path(target)
            if not path.is_file():
                click.echo(
                    f"error: {target}: no such file (give a path or an http(s) URL)", err=True
                )
                sys.exit(EXIT_CONFIG)
            doc = _isolated(config, extract_file, path.resolve())
    except ExtractError as exc:
        click.echo(f"error: {target}: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    if as_json:
        data = asdict(doc)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    click.echo("\n\n".join(p.text for p in doc.passages))


def _isolated(
    config: Config | None, fn: Any, *args: Any, matcher: Matcher | None = None
) -> Any:
    """Run `fn(*args)` in a parser process with the config's limits (see `monitor.sandbox`),
    with `matcher`'s topics installed there as the poller installs them; a job that does not
    finish becomes an ExtractError saying why.

    A match job runs in a fork of this process (it holds the topics and what matching
    imports), not one of the fork server, which would first import every parser."""
    from monitor.extract import ExtractError
    from monitor.sandbox import Limits, Sandbox, SandboxError
    from monitor.topics.worker import freeze_matcher, install_matcher

    poll = config.poll if config is not None else None
    limits = Limits(poll.parse_timeout, poll.parse_memory_mb) if poll is not None else Limits()
    if matcher is None:
        sandbox = Sandbox(1, limits)
    else:
        sandbox = Sandbox(
            1,
            limits,
            setup=install_matcher,
            setup_args=(freeze_matcher(matcher, for_workers=True),),
            fork_here=True,
        )
        sandbox.start_here()  # before run_sync starts any thread
    try:
        return sandbox.run_sync(fn, *args)
    except SandboxError as exc:
        raise ExtractError(f"stopped: {exc}") from None
    finally:
        sandbox.close()


def _read_text(file: str) -> str:
    """The text to match: UTF-8 from FILE or stdin, or exit 2 with one line saying why not."""
    where = "standard input" if file == "-" else file
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except FileNotFoundError:
        click.echo(f"error: {file}: no such file (give a text file, or - for stdin)", err=True)
        sys.exit(EXIT_CONFIG)
    except IsADirectoryError:
        click.echo(f"error: {file}: is a folder; give a text file", err=True)
        sys.exit(EXIT_CONFIG)
    except OSError as exc:
        click.echo(f"error: {file}: cannot read it: {exc.strerror}", err=True)
        sys.exit(EXIT_CONFIG)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        click.echo(
            f"error: {where}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); convert it first, e.g. iconv -f latin1 -t utf-8",
            err=True,
        )
        sys.exit(EXIT_CONFIG)


def _why_lines(why: str) -> list[str]:
    """An explanation as a list of lines, without the indent of the text form."""
    return [line.strip() for line in why.splitlines()]


@cli.command()
@click.argument("file", default="-")
@click.option("--json", "as_json", is_flag=True, help="with scores and evidence")
@click.option("--explain", is_flag=True, help="say for every topic why it matched or not")
@click.option("--title", default=None, help="treat this as the text's title")
@click.pass_context
def match(ctx: click.Context, file: str, as_json: bool, explain: bool, title: str | None) -> None:
    """Print the ids of the topics a text (FILE or - for stdin) matches."""
    config = _load(ctx)
    from monitor.extract import ExtractError
    from monitor.topic_cache import compiled_topics, preload_dictionaries
    from monitor.topics.worker import match_text

    text = _read_text(file)
    matcher = compiled_topics(config)  # loaded by `_load` already: from the cache now
    preload_dictionaries(config)  # here, so that the parser process (a fork) has them too
    if len(text) > matcher.max_chars:
        click.echo(
            f"warning: the text has {len(text):,} characters; only the first "
            f"{matcher.max_chars:,} are matched (see 'Long texts' in the README)",
            err=True,
        )
    try:
        _, found, reasons = _isolated(config, match_text, text, title, explain, matcher=matcher)
    except ExtractError as exc:
        click.echo(f"error: {file}: matching {exc}", err=True)
        sys.exit(EXIT_FAILED)
    if as_json:
        matches: list[dict[str, Any]] = [
            {
                "topic": m.topic,
                "score": round(m.score, 3),
                "terms": list(m.evidence.terms),
                "rule": m.evidence.rule,
                "snippet": m.evidence.snippet,
                "spans": [list(x) for x in m.evidence.spans],
            }
            for m in found
        ]
        data: Any = matches
        if reasons is not None:
            # One JSON document: the reasons go inside it, never after it.
            for entry in matches:
                entry["why"] = _why_lines(reasons.pop(entry["topic"], ""))
            data = {
                "matches": matches,
                "not_matched": [
                    {"topic": topic, "why": _why_lines(why)} for topic, why in reasons.items()
                ],
            }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for m in found:
            click.echo(m.topic)
        if reasons is not None:
            for topic, why in reasons.items():
                click.echo(f"# {topic}: {why}")
    if not found:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.option("--csv", "as_csv", is_flag=True, help="one CSV row per mark or mute in force")
@click.pass_context
def feedback(ctx: click.Context, as_csv: bool) -> None:
    """The analysts' feedback per topic: "not relevant" marks (with their passages) and muted
    sources, to improve the topic definitions; nothing here changes config.toml."""
    config = _load(ctx)
    from monitor.feedback.records import FeedbackRecords
    from monitor.feedback.report import as_csv as csv_text
    from monitor.feedback.report import as_text

    rows = []
    if (store := _existing_store(config)) is not None:
        try:
            rows = FeedbackRecords(store.engine).active()
        finally:
            store.close()
    rows.sort(key=lambda r: (r.topic, r.kind, r.id))
    click.echo(csv_text(rows) if as_csv else as_text(rows, list(config.topics)), nl=False)


def _existing_store(config: Config) -> Any:
    """The state store the config names (PostgreSQL when a DSN is set), or None when there is
    no state yet: a command that only reads it must not create an SQLite file beside a DSN."""
    from monitor.wiring import open_store

    return open_store(config) if _state_exists(config) else None


def _search_time(option: str, value: str | None, *, end: bool = False) -> Any:
    """A --since/--until value as an aware UTC datetime; exit 2 with one line when it is none."""
    if value is None:
        return None
    from monitor.inbox.search_keys import parse_when

    try:
        return parse_when(value, end=end)
    except ValueError as exc:
        click.echo(f"error: {option} {exc}", err=True)
        sys.exit(EXIT_CONFIG)


@cli.command()
@click.argument("query", default="")
@click.option("--topic", help="only this topic (its id)")
@click.option("--source", help="only this source (its name or URL)")
@click.option("--lang", type=click.Choice(["de", "en"]), help="only texts in this language")
@click.option("--since", help="reported on or after this date (YYYY-MM-DD, UTC)")
@click.option("--until", help="reported on or before this date (YYYY-MM-DD, UTC)")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    topic: str | None,
    source: str | None,
    lang: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Search the archive of what was reported, newest first: words ("phrases", prefix*, OR,
    -excluded), folded as topics fold them (case, umlauts, ß, accents, German compounds)."""
    config = _load(ctx)
    from monitor.inbox.search_keys import parse_query
    from monitor.store.archive import ArchiveQuery, QueryError

    try:
        words = parse_query(query) if query.strip() else None
    except QueryError as exc:
        click.echo(f"error: search {query!r}: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    start = _search_time("--since", since)
    stop = _search_time("--until", until, end=True)
    if start and stop and start >= stop:
        click.echo(f"error: --since {since} is not before --until {until}", err=True)
        sys.exit(EXIT_CONFIG)
    request = ArchiveQuery(words, topic, source, lang, start, stop, limit)
    hits = []
    if (store := _existing_store(config)) is not None:
        try:
            known = set(config.topics) | set(store.archive_topics())
            if topic and topic not in known:
                click.echo(
                    f"error: --topic {topic!r}: no such topic; known: "
                    f"{', '.join(sorted(known)) or 'none'}",
                    err=True,
                )
                sys.exit(EXIT_CONFIG)
            hits = store.search_archive(request)
        finally:
            store.close()
    elif topic and topic not in config.topics:
        click.echo(f"error: --topic {topic!r}: no such topic", err=True)
        sys.exit(EXIT_CONFIG)
    if as_json:
        click.echo(json.dumps({"query": query, "hits": [h.as_json() for h in hits]}, indent=2))
        return
    for h in hits:
        when = h.reported_at.strftime("%Y-%m-%d %H:%M") if h.reported_at else ""
        update = " (update)" if h.is_update else ""
        click.echo(f"{when}  [{h.topic}] {h.source_name}: {h.title or h.text[:80]}{update}")
        if h.url:
            click.echo(f"  {h.url}")
        click.echo(f"  {h.evidence.snippet}")
        if h.also_reported_by:
            click.echo(f"  also reported by: {', '.join(h.also_reported_by)}")
    click.echo(f"{len(hits)} hit(s)")


@cli.command("reset-state")
@click.option("--force", is_flag=True, help="also when the database is healthy")
@click.pass_context
def reset_state(ctx: click.Context, force: bool) -> None:
    """Move a damaged state database aside (renamed, never deleted) so the next start begins a
    new one: every source takes its baseline again."""
    config = _load(ctx)
    from monitor.state_guard import AlreadyRunning, state_lock
    from monitor.store import SchemaTooNew, StateDamaged, Store
    from monitor.store.faults import check_file, forget_closed, move_aside, os_fault
    from monitor.store.store import DB_NAME

    path = config.state_dir / DB_NAME
    try:
        with state_lock(config.state_dir):
            refusal = f"{path} is a healthy monitor database; nothing to reset"
            try:
                if not check_file(path):
                    click.echo(f"{path}: no database yet; the next start creates one")
                    return
                # Health is judged on the pages themselves: a clean close's mark would spare
                # the full check, and damage it cannot see is why the operator is here.
                forget_closed(path)
                Store(config.state_dir).close()
            except SchemaTooNew:
                refusal = f"{path} was written by a newer release; upgrade instead"
            except StateDamaged:
                refusal = ""
            if refusal and not force:
                click.echo(f"error: {refusal} (add --force to start over anyway)", err=True)
                sys.exit(EXIT_CONFIG)
            try:
                moved = move_aside(path)
            except OSError as exc:
                raise os_fault(exc, path) or exc from None
    except AlreadyRunning as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    for new in moved:
        click.echo(f"moved aside: {new}")
    click.echo(f"{path}: the next start creates a new state database")


@cli.command("copy-state")
@click.option(
    "--to",
    "target",
    metavar="DSN",
    help="the PostgreSQL database to fill (default: [state] database_url or MONITOR_DATABASE_URL)",
)
@click.pass_context
def copy_state(ctx: click.Context, target: str | None) -> None:
    """Copy the SQLite state under [state] path into an empty PostgreSQL database, in one
    transaction; a database that already holds state is refused and left as it is."""
    config = _load(ctx)
    from monitor.config import check_database_url, database_url
    from monitor.state_guard import AlreadyRunning, state_lock
    from monitor.store import Store
    from monitor.store.copy import TargetNotEmpty, copy_state
    from monitor.store.faults import check_file, forget_closed
    from monitor.store.postgres import shown
    from monitor.store.store import DB_NAME

    try:
        url = check_database_url(target) if target else database_url(config)
    except ValueError as exc:
        click.echo(f"error: --to: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    if not url:
        click.echo(
            "error: no target: give --to DSN, or set [state] database_url or MONITOR_DATABASE_URL",
            err=True,
        )
        sys.exit(EXIT_CONFIG)
    path = config.state_dir / DB_NAME
    try:
        # The SQLite state must not change while it is copied: no daemon may hold it.
        with state_lock(config.state_dir):
            if not check_file(path):
                click.echo(f"error: {path}: no state database to copy", err=True)
                sys.exit(EXIT_CONFIG)
            # The copy becomes the state of record: its pages are checked, whatever the mark
            # of the last clean close would spare (damage reading rows may not meet).
            forget_closed(path)
            source = Store(config.state_dir)
            try:
                dest = Store(config.state_dir, url)
                try:
                    copied = copy_state(source, dest)
                finally:
                    dest.close()
            finally:
                source.close()
    except AlreadyRunning as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except TargetNotEmpty as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    rows = ", ".join(f"{n} {name}" for name, n in copied.items() if n) or "no rows"
    click.echo(f"copied {path} to {shown(url)}: {rows}")
    click.echo("point [state] database_url (or MONITOR_DATABASE_URL) at it to use it")


def main() -> None:
    # Not click's standalone mode: it turns Ctrl-C into "Aborted!" and exit 1.
    try:
        code = cli.main(prog_name="monitor", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.Abort):
        # `run` drains and exits 0 on Ctrl-C by itself; this is a one-shot command stopped.
        # Its writes are transactions: what it did not finish is redone next time.
        click.echo("interrupted; nothing half-written (the next run picks up from here)", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        # Imported only now: the store's imports (SQLAlchemy) cost a third of a second that
        # check, sources and match need not pay.
        from monitor.store import StateError

        if not isinstance(exc, StateError):
            raise
        # Damaged, full or read-only state: one line, never a traceback.
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_STATE)
    sys.exit(code if isinstance(code, int) else 0)
