"""`monitor demo`: the whole pipeline on a bundled corpus, offline, in a few seconds.

A small web server on 127.0.0.1 serves the feeds and pages of `corpus.toml` (written for the
project: invented outlets on the subject of the shipped topics, German and English). The real
pipeline, built by `monitor.wiring` from a config made here, polls them a few times on a
temporary state folder; between polls the corpus moves on one tick (new entries, new
paragraphs, a changed "last updated" line). Then the digest is built and written by a file
channel of its own, as text, HTML and the JSON a webhook would receive. The channels of the
user's config are never used: only its topics and aliases are.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from email.utils import format_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from monitor import wiring
from monitor.config import Config
from monitor.fetch import Fetcher
from monitor.outbox import flush, queue_digest
from monitor.store import Store, utcnow

CHANNEL = "demo"
TICKS = 3  # tick 0 is the baseline; 1 and 2 bring what the digest reports
_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}


@dataclass
class DemoResult:
    """What the demo left: the state folder, the digest's files, the figures of each poll."""

    state_dir: Path
    text: str
    html_path: Path
    json_path: Path
    cycles: list[str]


def corpus() -> dict[str, Any]:
    """The bundled corpus (see `corpus.toml`)."""
    data = resources.files(__package__).joinpath("corpus.toml").read_text(encoding="utf-8")
    return tomllib.loads(data)


class CorpusServer:
    """Serves the corpus as it stands at `tick` on 127.0.0.1 (a free port), in a thread."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.tick = 0
        self.now = utcnow()
        env = jinja2.Environment(
            loader=jinja2.PackageLoader(__package__, "templates"),
            autoescape=True,
            keep_trailing_newline=True,
        )
        self._templates = {
            name: env.get_template(f"{name}.j2") for name in ("atom.xml", "rss.xml", "page.html")
        }
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = server.render(self.path.lstrip("/"))
                if found is None:
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return
                body, kind = found
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass  # the demo prints its own account

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> CorpusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    def urls(self) -> list[tuple[str, str, str]]:
        """(name, URL, kind) of every source in the corpus."""
        feeds = [(f["title"], f"{self.base}/{f['path']}", "feed") for f in self.data["feeds"]]
        pages = [(p["title"], f"{self.base}/{p['path']}", "page") for p in self.data["pages"]]
        return feeds + pages

    def render(self, path: str) -> tuple[bytes, str] | None:
        """The document at `path` as it stands now, and its media type."""
        # Each tick is ten minutes later: new entries carry later dates.
        stamp = self.now - timedelta(minutes=10 * (TICKS - 1 - self.tick))
        for feed in self.data["feeds"]:
            if feed["path"] == path:
                entries = [
                    {
                        **e,
                        "link": e["link"].format(base=self.base),
                        "date": (stamp - timedelta(minutes=i)).isoformat(),
                        "rfc822": format_datetime(stamp - timedelta(minutes=i)),
                    }
                    for i, e in enumerate(reversed(feed["entries"]))
                    if e["tick"] <= self.tick
                ]
                text = self._templates[f"{feed['format']}.xml"].render(
                    feed=feed, entries=entries, base=self.base, updated=stamp.isoformat()
                )
                return text.encode("utf-8"), _TYPES[feed["format"]]
        for page in self.data["pages"]:
            if page["path"] == path:
                paragraphs = [p["text"] for p in page["paragraphs"] if p["tick"] <= self.tick]
                text = self._templates["page.html"].render(
                    page=page,
                    paragraphs=paragraphs,
                    base=self.base,
                    updated_human=stamp.strftime("%d.%m.%Y %H:%M UTC"),
                )
                return text.encode("utf-8"), "text/html"
        return None


def demo_config(topics_from: Config, server: CorpusServer, folder: Path) -> Config:
    """A config polling the corpus server into `folder`, with the topics of `topics_from` and
    one file channel (no email, no webhook, no status server)."""
    data = {
        "http": {
            "user_agent": "source-monitor-demo",
            "allow_networks": ["127.0.0.1/32"],  # the corpus server, and only for this run
            "respect_robots": False,
        },
        "poll": {"baseline": True, "workers": 2},
        "seeds": {"enabled": False},
        "state": {"path": "state"},
        "web": {"enabled": False},
        "sources": [{"name": n, "url": u, "kind": k} for n, u, k in server.urls()],
        "aliases": topics_from.aliases,
        "topics": {k: v.model_dump() for k, v in topics_from.topics.items()},
        "channels": {CHANNEL: {"kind": "file", "path": "digests", "send_empty": True}},
        "base_dir": folder,
    }
    return Config.model_validate(data)


@contextmanager
def _quiet(level: int = logging.WARNING) -> Iterator[None]:
    """The pipeline's info lines are for the daemon's log; the demo tells its own story."""
    root = logging.getLogger()
    old = root.level
    root.setLevel(max(old, level))
    try:
        yield
    finally:
        root.setLevel(old)


def run_demo(topics_from: Config, folder: Path | None = None) -> DemoResult:
    """Serve the corpus, poll it TICKS times with the real pipeline, write the digest."""
    folder = folder or Path(tempfile.mkdtemp(prefix="monitor-demo-"))
    with CorpusServer(corpus()) as server, _quiet():
        config = demo_config(topics_from, server, folder)
        return asyncio.run(_run(config, server))


async def _run(config: Config, server: CorpusServer) -> DemoResult:
    config.state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(config.state_dir)
    cycles: list[str] = []
    try:
        rt = wiring.build(config, store)
        try:
            async with Fetcher(config.http) as fetcher:
                for tick in range(TICKS):
                    server.tick = tick
                    summary = await rt.poller.cycle(fetcher, only_due=False)
                    cycles.append(summary.line())
                now = utcnow()
                built = queue_digest(config, store, CHANNEL, rt.sources, now)
                deliveries = await flush(config, store, fetcher, now, channel=CHANNEL)
        finally:
            rt.close()
    finally:
        store.close()
    if built is None or not deliveries or not all(d.ok for d in deliveries):
        detail = "; ".join(d.detail for d in deliveries) or "no digest was built"
        raise RuntimeError(f"the demo digest was not written: {detail}")
    folder = config.state_dir / "digests"
    html = max(folder.glob("*.html"), key=lambda p: p.stat().st_mtime)
    return DemoResult(
        config.state_dir,
        built[1].text,
        html,
        html.with_suffix(".json"),
        cycles,
    )
