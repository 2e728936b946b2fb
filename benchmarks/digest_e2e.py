"""End-to-end digest harness: a local news world, the real CLI, digests scored story by story.

Serves the outlets described in benchmarks/digest_e2e/world/ on 127.0.0.1 (a feed per outlet,
live pages and dossier pages, article pages behind the feed links, navigation, related-article
and cookie boxes, counters and timestamps that change on every request, one outlet down for a
while), then advances the world tick by tick and, at every tick, runs the real CLI in
subprocesses against a temporary state folder:

    monitor once      (tick 0 is the baseline)
    monitor digest    (a standard webhook channel to a local receiver, and a file channel)

The webhook payloads received are mapped back to the labelled stories and scored:

- story precision and recall: a reported unit is a story's first report ("new"), or the
  report of one of its edits ("update"); the copies of one syndicated story are one unit;
- split syndicated stories: a group of same-language copies shown as 2+ separate items;
- volatile-text reports: a story reported again at a tick where only counters and timestamps
  changed (or where only an immaterial edit was made, counted apart);
- reports at the first poll (must be 0), duplicates across digests (exactly-once), chrome
  (navigation, related-article or cookie text reported as news);
- outage named / recovery named: whether the digest after the outage names the down outlet,
  read from the payload keys `outages`, `failing_sources` or any key containing "outage",
  "failing" or "recover" (n/a when the payload has none of them).

Fields of the payload relied on (parsed defensively, everything else ignored):
`type`, `data.topics.<id>.items[]` with `source_key` (or `link`, or `source`) to find the
outlet and source, `title` + `snippet` (text used to find the story), `previous` (non-empty,
or a `kind`/`change` field saying "update"/"edit", marks an update), and for outages any list
under a key named as above whose entries mention the outlet's name or URL.

    python benchmarks/digest_e2e.py [--json] [--keep DIR] [--verbose]

Figures are given for the whole world, the tuning outlets and the held-out outlets (marked
`held_out = true` in world.toml; do not tune on them). `monitor once` sends no alerts (only
the daemon does), so "first-poll reports" counts items in the first digest after the baseline.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WORLD = Path(__file__).resolve().parent / "digest_e2e" / "world"
TOPIC_IDS = ("troop_deployment", "treaty_articles", "sanctions")
MIN_OVERLAP = 0.5  # share of an item's words that must come from a story to map it there
WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
# The frozen held-out half (outlets with `frozen = true`): written before the precision tuning
# of issue 14 and never tuned on. The hash covers those outlets' world.toml tables and story
# files, so that any later edit shows ("frozen half: CHANGED") instead of passing silently.
FROZEN_SHA256 = "df3cb8f86455eb3b27651e1ec312e90a2bf6615b5e5c94773a346e1e6f9e7224"
HALVES = ("all", "tuning", "held_out", "frozen")


# --- the world -------------------------------------------------------------------------------


@dataclass
class Edit:
    tick: int
    text: list[str]
    title: str | None
    expect: str  # "update": a material edit to report; "none": immaterial; "new": now relevant
    topics: list[str] | None
    note: str


@dataclass
class Story:
    id: str
    outlet: str
    tick: int
    place: str  # feed | live | dossier
    title: str
    text: list[str]
    topics: list[str]
    expect: str  # "new" (report once, at or after `tick`) or "none"
    group: str | None
    note: str
    edits: list[Edit] = field(default_factory=list)

    def version(self, tick: int) -> tuple[str, list[str]]:
        """Title and paragraphs as served at `tick` (the latest edit at or before it)."""
        title, text = self.title, self.text
        for edit in self.edits:
            if edit.tick <= tick:
                title, text = edit.title or title, edit.text
        return title, text

    @property
    def unit(self) -> str:
        return f"group:{self.group}" if self.group else self.id


@dataclass
class Outlet:
    id: str
    name: str
    lang: str
    held_out: bool
    frozen: bool  # the second held-out half, frozen by hash (FROZEN_SHA256)
    feed: str  # rss | atom
    live_title: str | None
    dossier_title: str | None
    down: list[int]
    nav: list[str]
    cookie: str
    counter_lines: list[str]  # shown on pages, change on every request
    feed_counter: str | None  # appended to feed entry texts, changes on every request
    related_label: str
    stories: list[Story] = field(default_factory=list)


@dataclass
class World:
    ticks: int
    outlets: dict[str, Outlet]
    frozen_sha256: str = ""

    def stories(self) -> list[Story]:
        return [s for o in self.outlets.values() for s in o.stories]


def load_world(folder: Path = WORLD) -> World:
    """Read world.toml and stories/*.toml, and refuse inconsistent labels with one line each."""
    meta = tomllib.loads((folder / "world.toml").read_text(encoding="utf-8"))
    outlets: dict[str, Outlet] = {}
    for raw in meta["outlet"]:
        outlets[raw["id"]] = Outlet(
            id=raw["id"],
            name=raw["name"],
            lang=raw["lang"],
            held_out=raw.get("held_out", False),
            frozen=raw.get("frozen", False),
            feed=raw.get("feed", "rss"),
            live_title=raw.get("live_title"),
            dossier_title=raw.get("dossier_title"),
            down=raw.get("down", []),
            nav=raw.get("nav", []),
            cookie=raw.get("cookie", ""),
            counter_lines=raw.get("counter_lines", []),
            feed_counter=raw.get("feed_counter"),
            related_label=raw.get("related_label", "Related"),
        )
    world = World(ticks=meta["ticks"], outlets=outlets)
    errors: list[str] = []
    for path in sorted((folder / "stories").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        outlet = outlets.get(path.stem)
        if outlet is None:
            errors.append(f"{path}: no outlet {path.stem!r} in world.toml")
            continue
        for raw in data.get("story", []):
            story = Story(
                id=raw["id"],
                outlet=outlet.id,
                tick=raw["tick"],
                place=raw.get("place", "feed"),
                title=raw["title"],
                text=raw["text"],
                topics=raw.get("topics", []),
                expect=raw.get("expect", "none"),
                group=raw.get("group"),
                note=raw.get("note", ""),
                edits=[
                    Edit(
                        tick=e["tick"],
                        text=e["text"],
                        title=e.get("title"),
                        expect=e.get("expect", "none"),
                        topics=e.get("topics"),
                        note=e.get("note", ""),
                    )
                    for e in raw.get("edit", [])
                ],
            )
            outlet.stories.append(story)
    errors += check_labels(world)
    world.frozen_sha256 = frozen_hash(folder, meta)
    if errors:
        raise SystemExit("world labels are inconsistent:\n" + "\n".join(errors))
    return world


def frozen_hash(folder: Path, meta: dict[str, Any]) -> str:
    """SHA-256 over the frozen outlets' world.toml tables (as parsed) and story files (bytes)."""
    digest = hashlib.sha256()
    for raw in sorted(meta["outlet"], key=lambda o: o["id"]):
        if not raw.get("frozen"):
            continue
        digest.update(json.dumps(raw, sort_keys=True, ensure_ascii=False).encode("utf-8"))
        stories = folder / "stories" / f"{raw['id']}.toml"
        digest.update(stories.read_bytes() if stories.exists() else b"")
    return digest.hexdigest()


def half_of(outlet: Outlet) -> str:
    """tuning, held_out (the first held-out outlets, since looked at) or frozen."""
    if outlet.frozen:
        return "frozen"
    return "held_out" if outlet.held_out else "tuning"


def check_labels(world: World) -> list[str]:
    """Label rules: what is expected follows from the topics and the tick."""
    errors: list[str] = []
    ids: set[str] = set()
    groups: dict[str, list[Story]] = {}
    for story in world.stories():
        where = f"stories/{story.outlet}.toml, story {story.id}"
        if story.id in ids:
            errors.append(f"{where}: duplicate id")
        ids.add(story.id)
        if story.place not in ("feed", "live", "dossier"):
            errors.append(f"{where}: place must be feed, live or dossier")
        if any(t not in TOPIC_IDS for t in story.topics):
            errors.append(f"{where}: unknown topic in {story.topics}")
        wanted = "new" if story.topics and story.tick > 0 else "none"
        if story.expect != wanted:
            errors.append(f"{where}: expect should be {wanted!r} (topics and tick)")
        for edit in story.edits:
            if edit.expect not in ("update", "none", "new"):
                errors.append(f"{where}: edit at tick {edit.tick}: expect update, none or new")
            if edit.expect == "update" and not story.topics:
                errors.append(f"{where}: an update of an irrelevant story cannot be expected")
            if edit.tick <= story.tick:
                errors.append(f"{where}: edit at tick {edit.tick} is not after the story")
        if story.group:
            groups.setdefault(story.group, []).append(story)
    for name, members in groups.items():
        if len({tuple(sorted(m.topics)) for m in members}) > 1:
            errors.append(f"group {name}: members have different topics")
        if len({half_of(world.outlets[m.outlet]) for m in members}) > 1:
            errors.append(f"group {name}: spans two halves (tuning, held-out, frozen)")
    for outlet in world.outlets.values():
        if outlet.frozen and not outlet.held_out:
            errors.append(f"world.toml, outlet {outlet.id}: frozen = true needs held_out = true")
    return errors


# --- serving it ------------------------------------------------------------------------------


def thousands(n: int) -> str:
    return f"{n:,}"


class WorldServer:
    """Serves the world at its current tick; counters move on every request of a path."""

    def __init__(self, world: World, base_time: datetime) -> None:
        self.world = world
        self.base_time = base_time
        self.tick = 0
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, kind, body = server.respond(self.path)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> WorldServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- helpers

    def when(self, tick: int, minute: int = 0) -> datetime:
        return self.base_time + timedelta(hours=tick, minutes=minute)

    def counters(self, path: str) -> dict[str, str]:
        with self.lock:
            n = self.hits[path] = self.hits.get(path, 0) + 1
        return {
            "readers": thousands(1000 + 137 * n + 29 * self.tick),
            "entries": str(3 + 2 * n + self.tick),
            "minutes": str(1 + (7 * n + 3 * self.tick) % 55),
            "comments": str(11 + 5 * n),
        }

    def visible(self, outlet: Outlet, place: str) -> list[Story]:
        """Stories of one place online at this tick, newest first."""
        shown = [s for s in outlet.stories if s.place == place and s.tick <= self.tick]
        return sorted(shown, key=lambda s: (s.tick, outlet.stories.index(s)), reverse=True)

    def respond(self, path: str) -> tuple[int, str, bytes]:
        parts = path.split("?")[0].strip("/").split("/")
        outlet = self.world.outlets.get(parts[0]) if parts else None
        if outlet is None or len(parts) < 2:
            return 404, "text/plain", b"not found"
        if self.tick in outlet.down:
            return 503, "text/plain", b"service unavailable"
        if parts[1] == "feed.xml":
            kind = "application/atom+xml" if outlet.feed == "atom" else "application/rss+xml"
            return 200, kind + "; charset=utf-8", self.feed(outlet, path).encode("utf-8")
        if parts[1] == "live.html" and outlet.live_title:
            return 200, "text/html; charset=utf-8", self.live(outlet, path).encode("utf-8")
        if parts[1] == "dossier.html" and outlet.dossier_title:
            return 200, "text/html; charset=utf-8", self.dossier(outlet, path).encode("utf-8")
        if parts[1] == "a" and len(parts) == 3:
            sid = parts[2].removesuffix(".html")
            for story in self.visible(outlet, "feed"):
                if story.id == sid:
                    return 200, "text/html; charset=utf-8", self.article(outlet, story, path)
        return 404, "text/plain", b"not found"

    # -- feeds

    def feed(self, outlet: Outlet, path: str) -> str:
        url = f"{self.base}/{outlet.id}"
        stories = self.visible(outlet, "feed")[:20]
        counters = self.counters(path)
        entries = []
        for i, story in enumerate(stories):
            title, text = story.version(self.tick)
            body = " ".join(text)
            if outlet.feed_counter:
                body += " " + outlet.feed_counter.format(**counters)
            published = self.when(story.tick, minute=5 + i)
            updated = max(
                [published] + [self.when(e.tick, 7) for e in story.edits if e.tick <= self.tick]
            )
            link = f"{url}/a/{story.id}.html"
            if outlet.feed == "atom":
                entries.append(
                    f"<entry><id>urn:{outlet.id}:{story.id}</id><title>{escape(title)}</title>"
                    f'<link href="{link}"/><published>{published.isoformat()}</published>'
                    f"<updated>{updated.isoformat()}</updated>"
                    f"<summary>{escape(body)}</summary></entry>"
                )
            else:
                entries.append(
                    f'<item><guid isPermaLink="false">{outlet.id}-{story.id}</guid>'
                    f"<title>{escape(title)}</title><link>{link}</link>"
                    f"<description>{escape(body)}</description>"
                    f"<pubDate>{format_datetime(published)}</pubDate></item>"
                )
        now = self.when(self.tick, 30).isoformat()
        if outlet.feed == "atom":
            return (
                '<?xml version="1.0" encoding="utf-8"?>'
                f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{outlet.lang}">'
                f"<id>urn:{outlet.id}:feed</id><title>{escape(outlet.name)}</title>"
                f'<link href="{url}/"/><updated>{now}</updated>{"".join(entries)}</feed>'
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(outlet.name)}</title><link>{url}/</link>"
            f"<language>{outlet.lang}</language>"
            f"<description>{escape(outlet.name)}</description>{''.join(entries)}</channel></rss>"
        )

    # -- pages

    def chrome(self, outlet: Outlet, title: str, main: str, counters: dict[str, str]) -> str:
        nav = " ".join(
            f'<a href="/{outlet.id}/s{i}">{escape(n)}</a>' for i, n in enumerate(outlet.nav)
        )
        related = "".join(
            f'<li><a href="/{outlet.id}/a/{s.id}.html">{escape(s.version(self.tick)[0])}</a></li>'
            for s in self.visible(outlet, "feed")[:3]
        )
        meta = "".join(
            f'<p class="meta">{escape(line.format(**counters))}</p>'
            for line in outlet.counter_lines
        )
        return (
            f'<!doctype html><html lang="{outlet.lang}"><head><meta charset="utf-8">'
            f"<title>{escape(title)} | {escape(outlet.name)}</title></head><body>"
            f'<div class="cookie-banner" id="cookie-consent"><p>{escape(outlet.cookie)}</p>'
            "<button>OK</button></div>"
            f'<header><a href="/{outlet.id}/">{escape(outlet.name)}</a><nav>{nav}</nav></header>'
            f"<main><article><h1>{escape(title)}</h1>{meta}{main}</article>"
            f'<aside class="related"><h2>{escape(outlet.related_label)}</h2><ul>{related}</ul>'
            "</aside></main>"
            f"<footer><p>© {escape(outlet.name)} · Impressum · Datenschutz · Kontakt</p></footer>"
            "</body></html>"
        )

    def live(self, outlet: Outlet, path: str) -> str:
        blocks = []
        for i, story in enumerate(self.visible(outlet, "live")):
            title, text = story.version(self.tick)
            stamp = self.when(story.tick, 10 + i)
            paras = "".join(f"<p>{escape(p)}</p>" for p in text)
            blocks.append(
                f'<section class="live-entry" id="e-{story.id}"><h2>{escape(title)}</h2>'
                f'<time datetime="{stamp.isoformat()}">{stamp:%H:%M}</time>{paras}</section>'
            )
        assert outlet.live_title
        return self.chrome(outlet, outlet.live_title, "".join(blocks), self.counters(path))

    def dossier(self, outlet: Outlet, path: str) -> str:
        paras = []
        # A dossier grows at its end: the oldest paragraphs first.
        for story in reversed(self.visible(outlet, "dossier")):
            title, text = story.version(self.tick)
            paras.append(f"<h2>{escape(title)}</h2>")
            paras += [f"<p>{escape(p)}</p>" for p in text]
        assert outlet.dossier_title
        return self.chrome(outlet, outlet.dossier_title, "".join(paras), self.counters(path))

    def article(self, outlet: Outlet, story: Story, path: str) -> bytes:
        title, text = story.version(self.tick)
        main = "".join(f"<p>{escape(p)}</p>" for p in text)
        return self.chrome(outlet, title, main, self.counters(path)).encode("utf-8")


# --- the webhook receiver --------------------------------------------------------------------


class Receiver:
    """Accepts every POST and keeps the JSON bodies with the tick they arrived at."""

    def __init__(self) -> None:
        self.payloads: list[tuple[int, dict[str, Any]]] = []
        self.tick = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = {"unparsable": body.decode("utf-8", "replace")}
                payload["_webhook_id"] = self.headers.get("webhook-id", "")
                receiver.payloads.append((receiver.tick, payload))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- running the CLI -------------------------------------------------------------------------


def shipped_topics() -> str:
    """The [aliases] and [topics.*] tables of the shipped config.toml, verbatim."""
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    return text[text.index("[aliases]") :]


def source_urls(server: WorldServer, outlet: Outlet) -> list[tuple[str, str, str]]:
    """(name, url, kind) of every source an outlet offers."""
    base = f"{server.base}/{outlet.id}"
    out = [(f"{outlet.name} – feed", f"{base}/feed.xml", "feed")]
    if outlet.live_title:
        out.append((f"{outlet.name} – live", f"{base}/live.html", "page"))
    if outlet.dossier_title:
        out.append((f"{outlet.name} – dossier", f"{base}/dossier.html", "page"))
    return out


def write_config(folder: Path, server: WorldServer, receiver: Receiver) -> Path:
    """The shipped topics and poll settings; only the sources, channels and network differ."""
    sources = "".join(
        f'\n[[sources]]\nname = {json.dumps(name)}\nurl = "{url}"\nkind = "{kind}"\n'
        for outlet in server.world.outlets.values()
        for name, url, kind in source_urls(server, outlet)
    )
    text = f"""\
[http]
user_agent = "source-monitor-harness/1"
allow_networks = ["127.0.0.1/32"]
respect_robots = false

[poll]
baseline = true
workers = 1

[seeds]
enabled = false

[state]
path = {json.dumps(str(folder / "state"))}

[web]
enabled = false
{sources}
[channels.hook]
kind = "webhook"
url = "{receiver.url}"
format = "standard"
alerts = true
send_empty = true

[channels.files]
kind = "file"
path = "digests"
send_empty = true

{shipped_topics()}"""
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cli(config: Path, log: list[str], *args: str) -> None:
    """Run the real CLI; its output goes into the run log (a failure is logged, not fatal)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--log-level", "WARNING", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    took = time.monotonic() - started
    log.append(f"$ monitor {' '.join(args)}  (exit {done.returncode}, {took:.1f} s)")
    log += [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]


# --- scoring ---------------------------------------------------------------------------------


def words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(text)}


@dataclass
class Shown:
    """One item as an analyst sees it (one entry per digest, whatever its topics)."""

    tick: int
    digest: str
    kind: str  # new | update
    source: str  # feed | live | dossier | ?
    outlet: str | None
    title: str
    snippet: str
    topics: list[str]
    also: list[str]
    story: Story | None = None
    chrome: str | None = None
    verdict: str = ""


def is_update(item: dict[str, Any]) -> bool:
    if str(item.get("previous") or "").strip():
        return True
    for key in ("kind", "change", "status"):
        if str(item.get(key) or "").lower() in ("update", "updated", "edit", "edited"):
            return True
    return bool(item.get("update") is True or item.get("updated") is True)


def locate(server: WorldServer, item: dict[str, Any]) -> tuple[str | None, str]:
    """The outlet and the kind of source an item came from, by URL, else by source name."""
    for key in ("source_key", "link", "url"):
        value = str(item.get(key) or "")
        m = re.search(r"127\.0\.0\.1:\d+/([a-z0-9_-]+)/([a-z.]+)", value)
        if m and m.group(1) in server.world.outlets:
            place = {"feed.xml": "feed", "live.html": "live", "dossier.html": "dossier"}
            if key == "source_key" or m.group(2) in place:
                return m.group(1), place.get(m.group(2), "feed")
    name = str(item.get("source") or "")
    for outlet in server.world.outlets.values():
        for src_name, _url, _kind in source_urls(server, outlet):
            if name == src_name:
                return outlet.id, src_name.rsplit(" – ", 1)[1]
    return None, "?"


def identify(world: World, shown: Shown, at_tick: int) -> None:
    """Map an item to the story (or chrome text) of its outlet and source it came from."""
    if shown.outlet is None:
        return
    outlet = world.outlets[shown.outlet]
    seen = words(shown.title + " " + shown.snippet)
    if not seen:
        return
    candidates: list[tuple[float, Story | None, str | None]] = []
    for story in outlet.stories:
        if story.place != shown.source and shown.source != "?":
            continue
        texts = [story.title, *story.text]
        texts += [p for e in story.edits for p in [e.title or "", *e.text]]
        overlap = len(seen & words(" ".join(texts))) / len(seen)
        candidates.append((overlap, story, None))
    chrome = {
        "navigation": " ".join(outlet.nav),
        "cookie": outlet.cookie,
        "counter": " ".join(outlet.counter_lines),
    }
    # Related-article boxes show other feed stories' titles on every page.
    chrome["related"] = " ".join(s.title for s in outlet.stories if s.place == "feed")
    for name, text in chrome.items():
        if name == "related" and shown.source == "feed":
            continue
        overlap = len(seen & words(text)) / len(seen)
        candidates.append((overlap + (0.01 if name != "related" else 0), None, name))
    best = max(candidates, key=lambda c: c[0], default=(0.0, None, None))
    if best[0] >= MIN_OVERLAP:
        shown.story, shown.chrome = best[1], best[2]


def collect(server: WorldServer, payloads: list[tuple[int, dict[str, Any]]]) -> list[Shown]:
    out: list[Shown] = []
    for tick, payload in payloads:
        data = payload.get("data") or {}
        topics = data.get("topics") or {}
        by_key: dict[tuple[str, ...], Shown] = {}
        for topic, block in topics.items() if isinstance(topics, dict) else []:
            for item in (block or {}).get("items") or []:
                outlet, source = locate(server, item)
                key = (
                    str(item.get("source_key") or item.get("source")),
                    str(item.get("link")),
                    str(item.get("title")),
                    str(item.get("snippet"))[:80],
                    str(is_update(item)),
                )
                if key in by_key:
                    by_key[key].topics.append(topic)
                    continue
                shown = Shown(
                    tick=tick,
                    digest=str(data.get("id") or payload.get("_webhook_id")),
                    kind="update" if is_update(item) else "new",
                    source=source,
                    outlet=outlet,
                    title=str(item.get("title") or ""),
                    snippet=str(item.get("snippet") or item.get("text") or ""),
                    topics=[topic],
                    also=[str(a) for a in item.get("also_reported_by") or []],
                )
                identify(server.world, shown, tick)
                by_key[key] = shown
                out.append(shown)
    return out


def outage_report(
    server: WorldServer, payloads: list[tuple[int, dict[str, Any]]]
) -> dict[str, Any]:
    """Whether the digests name the down outlet while it is down, and its recovery after."""
    down_outlets = [o for o in server.world.outlets.values() if o.down]
    found_key = False
    named: dict[str, list[int]] = {o.id: [] for o in down_outlets}
    recovered: dict[str, list[int]] = {o.id: [] for o in down_outlets}
    for tick, payload in payloads:
        data = payload.get("data") or {}
        for key, value in data.items():
            low = key.lower()
            if not any(w in low for w in ("outage", "failing", "recover", "unreadable")):
                continue
            found_key = True
            if key == "outages" and isinstance(value, list):
                # The documented form (docs/webhook.md): one object per spell, with its event.
                for notice in value:
                    for outlet in down_outlets:
                        where = f"{notice.get('name', '')} {notice.get('url', '')}"
                        if outlet.name in where or f"/{outlet.id}/" in where:
                            event = notice.get("event")
                            if event in ("down", "over"):
                                named[outlet.id].append(tick)
                            if event in ("up", "over"):
                                recovered[outlet.id].append(tick)
                continue
            blob = json.dumps(value, ensure_ascii=False)
            for outlet in down_outlets:
                if outlet.name in blob or f"/{outlet.id}/" in blob:
                    recovery = "recover" in low or (
                        "recover" in blob.lower() and tick > max(outlet.down)
                    )
                    target = recovered if recovery else named
                    target[outlet.id].append(tick)
    if not found_key:
        return {"outage_named": "n/a", "recovery_named": "n/a"}
    return {
        "outage_named": "yes" if all(named.values()) else "no",
        "recovery_named": "yes" if all(recovered.values()) else "no",
        "named_at_ticks": named,
        "recovery_at_ticks": recovered,
    }


def score(world: World, shown: list[Shown], half: str) -> dict[str, Any]:
    """Figures over the outlets of one half: "all", "tuning", "held_out" or "frozen"."""

    def in_half(outlet_id: str | None) -> bool:
        if outlet_id is None or half == "all":
            return half == "all"  # an item from no known outlet counts in the whole only
        return half_of(world.outlets[outlet_id]) == half

    expected: set[tuple[str, str]] = set()
    for labelled in world.stories():
        if not in_half(labelled.outlet):
            continue
        if labelled.expect == "new":
            expected.add((labelled.unit, "new"))
        for edit in labelled.edits:
            if edit.expect == "update":
                expected.add((labelled.id, "update"))
            elif edit.expect == "new":
                expected.add((labelled.unit, "new"))
    # A story that only becomes relevant by an edit is new then (not an update).
    becomes_new = {
        s.id: min(e.tick for e in s.edits if e.expect == "new")
        for s in world.stories()
        if any(e.expect == "new" for e in s.edits)
    }
    becomes_topics = {s.id: [t for e in s.edits for t in e.topics or []] for s in world.stories()}

    reported: dict[tuple[str, str], int] = {}  # unit -> tick first reported
    wrong: set[tuple[str, str]] = set()
    counts = {
        "first_poll": 0,
        "duplicate": 0,
        "volatile": 0,
        "immaterial_edit": 0,
        "chrome": 0,
        "irrelevant": 0,
        "unmapped": 0,
        "split_items": 0,
        "too_early": 0,
        "wrong_topic": 0,
        "not_new": 0,
    }
    lang_of = {st.id: world.outlets[st.outlet].lang for st in world.stories()}
    new_members: dict[str, set[str]] = {}
    for s in sorted(shown, key=lambda s: s.tick):
        if not in_half(s.outlet):
            continue
        if s.tick == 0:
            counts["first_poll"] += 1
        story = s.story
        if story is None:
            # A counter line is volatile text; navigation, related and cookie boxes are chrome.
            kind = ("volatile" if s.chrome == "counter" else "chrome") if s.chrome else "unmapped"
            counts[kind] += 1
            s.verdict = kind
            wrong.add((f"{kind}:{s.outlet}:{s.title[:40]}:{s.snippet[:40]}", s.kind))
            continue
        edits_now = [e for e in story.edits if e.tick <= s.tick]
        last_edit = edits_now[-1] if edits_now else None
        relevant = bool(story.topics) or (
            story.id in becomes_new and becomes_new[story.id] <= s.tick
        )
        if not relevant:
            counts["irrelevant"] += 1
            s.verdict = "irrelevant"
            wrong.add((story.id, s.kind))
            continue
        if s.kind == "update":
            unit = (story.id, "update")
            if unit in expected and last_edit and last_edit.expect == "update":
                s.verdict = "ok" if unit not in reported else "duplicate"
            elif last_edit and last_edit.expect == "new":
                s.verdict = "not_new"  # never received before: must be reported as new
            elif last_edit and last_edit.tick == s.tick and last_edit.expect == "none":
                s.verdict = "immaterial_edit"
            else:
                s.verdict = "volatile"
        else:
            unit = (story.unit, "new")
            start = becomes_new.get(story.id, story.tick)
            if s.tick < start or s.tick == 0:
                s.verdict = "too_early" if s.tick else "first_poll"
            elif (
                story.group
                and new_members.get(story.group)
                and (story.id not in new_members[story.group])
            ):
                shown_langs = {lang_of[m] for m in new_members[story.group]}
                # Copies in another language need not be grouped (no translation model here).
                s.verdict = "split" if lang_of[story.id] in shown_langs else "other_language"
            elif unit in reported and reported[unit] < s.tick:
                if last_edit and last_edit.tick == s.tick and last_edit.expect == "none":
                    s.verdict = "immaterial_edit"
                elif last_edit and last_edit.tick == s.tick:
                    s.verdict = "duplicate"
                else:
                    s.verdict = "volatile"
            else:
                s.verdict = "ok"
            if story.group and s.verdict in ("ok", "split", "other_language"):
                new_members.setdefault(story.group, set()).add(story.id)
        if set(s.topics) - set(story.topics or becomes_topics.get(story.id, [])):
            counts["wrong_topic"] += 1  # informative: the story is right, a topic is not
        if s.verdict == "ok":
            reported.setdefault(unit, s.tick)
        elif s.verdict == "first_poll":
            wrong.add((f"first_poll:{story.id}", s.kind))
        elif s.verdict in ("duplicate", "immaterial_edit", "volatile", "too_early", "not_new"):
            counts[s.verdict] += 1
            wrong.add((f"{s.verdict}:{story.id}:{s.tick}", s.kind))
        elif s.verdict == "split":
            counts["split_items"] += 1
    hits = expected & set(reported)
    total_reported = len(set(reported)) + len(wrong)
    # A group is split when two of its same-language copies are separate items.
    split_groups = 0
    for members in new_members.values():
        langs = [lang_of[m] for m in members]
        if any(langs.count(lang) > 1 for lang in set(langs)):
            split_groups += 1
    return {
        "expected": len(expected),
        "reported": total_reported,
        "correct": len(hits),
        "precision": round(len(hits) / total_reported, 3) if total_reported else 1.0,
        "recall": round(len(hits) / len(expected), 3) if expected else 1.0,
        "missed": sorted(f"{u} ({k})" for u, k in expected - set(reported)),
        "split_groups": split_groups,
        **counts,
    }


# --- checking the scorer itself --------------------------------------------------------------


def ideal_payloads(server: WorldServer) -> list[tuple[int, dict[str, Any]]]:
    """What a perfect run would deliver: every expected unit once, at its tick."""
    world = server.world
    per_tick: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    seen_groups: set[str] = set()
    for story in sorted(world.stories(), key=lambda s: s.tick):
        outlet = world.outlets[story.outlet]
        url = {n.rsplit(" – ", 1)[1]: u for n, u, _k in source_urls(server, outlet)}[story.place]
        events: list[tuple[int, str, Edit | None]] = []
        if story.expect == "new":
            late = [t for t in range(story.tick, world.ticks) if t not in outlet.down]
            events.append((late[0], "new", None))
        events += [(e.tick, e.expect, e) for e in story.edits if e.expect in ("new", "update")]
        for tick, kind, edit in events:
            if kind == "new" and story.group:
                if story.group in seen_groups:
                    continue
                seen_groups.add(story.group)
            title, text = story.version(tick)
            item = {
                "source_key": url,
                "link": f"{server.base}/{outlet.id}/a/{story.id}.html",
                "title": title,
                "snippet": " ".join(text)[:300],
                "previous": " ".join(story.text) if kind == "update" else "",
            }
            labels = story.topics or (edit.topics if edit and edit.topics else [])
            per_tick.setdefault(tick, []).extend((t, item) for t in labels)
    out = []
    for tick in range(world.ticks):
        topics: dict[str, Any] = {}
        for topic, item in per_tick.get(tick, []):
            topics.setdefault(topic, {"items": []})["items"].append(item)
        out.append((tick, {"type": "digest.created", "data": {"id": f"d{tick}", "topics": topics}}))
    return out


def self_check() -> None:
    """The scorer gives 1.0 to a perfect run and counts every kind of fault it is shown."""
    world = load_world()
    server = WorldServer(world, datetime(2026, 1, 1, tzinfo=UTC))
    try:
        ideal = ideal_payloads(server)
        figures = score(world, collect(server, ideal), "all")
        assert figures["precision"] == figures["recall"] == 1.0, figures
        assert figures["expected"] == figures["correct"] > 0, figures
        # Faults: a story again a tick later, a second copy of a syndicated story, a counter
        # line, the last digest lost.
        story = next(s for s in world.stories() if s.group and s.expect == "new")
        twin = next(
            s
            for s in world.stories()
            if s.group == story.group
            and s is not story
            and world.outlets[s.outlet].lang == world.outlets[story.outlet].lang
        )
        counter_outlet = next(o for o in world.outlets.values() if o.dossier_title)
        faulty = [(t, json.loads(json.dumps(p))) for t, p in ideal[:-1]]
        extra = [
            (story, story.tick + 1, " ".join(story.text)),
            (twin, story.tick, " ".join(twin.text)),
        ]
        for s, tick, text in extra:
            outlet = world.outlets[s.outlet]
            url = f"{server.base}/{outlet.id}/feed.xml"
            item = {"source_key": url, "title": s.title, "snippet": text, "previous": ""}
            faulty[tick][1]["data"]["topics"].setdefault(s.topics[0], {"items": []})[
                "items"
            ].append(item)
        counter = counter_outlet.counter_lines[0].format(readers="1,234")
        faulty[1][1]["data"]["topics"].setdefault("sanctions", {"items": []})["items"].append(
            {
                "source_key": f"{server.base}/{counter_outlet.id}/dossier.html",
                "title": "",
                "snippet": counter,
                "previous": counter,
            }
        )
        bad = score(world, collect(server, faulty), "all")
        assert bad["duplicate"] + bad["volatile"] >= 2, bad
        assert bad["split_groups"] == 1, bad
        assert bad["recall"] < 1.0 and bad["precision"] < 1.0, bad
        # Outages: no key is n/a, an empty list is "no", the down outlet listed is "yes".
        assert outage_report(server, ideal)["outage_named"] == "n/a"
        down = next(o for o in world.outlets.values() if o.down)
        for tick, payload in ideal:
            listed = tick == max(down.down)
            payload["data"]["failing_sources"] = [{"name": f"{down.name} – feed"}] if listed else []
        assert outage_report(server, ideal)["outage_named"] == "yes"
        assert outage_report(server, ideal)["recovery_named"] == "no"
        if os.environ.get("E2E_SHOW"):
            print(json.dumps(bad, indent=1))
    finally:
        server.httpd.server_close()
    print("self-check passed: a perfect run scores 1.0, faults are counted")


# --- main ------------------------------------------------------------------------------------


def run(keep: Path | None, verbose: bool) -> dict[str, Any]:
    world = load_world()
    # Entry dates a few hours back from now, so nothing is older than any retention or window.
    base_time = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=world.ticks + 1
    )
    folder = Path(tempfile.mkdtemp(prefix="digest-e2e-"))
    log: list[str] = []
    started = time.monotonic()
    try:
        with WorldServer(world, base_time) as server, Receiver() as receiver:
            config = write_config(folder, server, receiver)
            for tick in range(world.ticks):
                server.tick = receiver.tick = tick
                log.append(f"# tick {tick}")
                cli(config, log, "once")
                cli(config, log, "digest")  # every channel: the webhook and the files
            payloads = list(receiver.payloads)
            shown = collect(server, payloads)
            outage = outage_report(server, payloads)
        result: dict[str, Any] = {
            "ticks": world.ticks,
            "outlets": len(world.outlets),
            "stories": len(world.stories()),
            "digests": len(payloads),
            "seconds": round(time.monotonic() - started, 1),
            "halves": {h: score(world, shown, h) for h in HALVES},
            "frozen_half": "intact" if world.frozen_sha256 == FROZEN_SHA256 else "CHANGED",
            **outage,
        }
        if verbose:
            result["items"] = [
                {
                    "tick": s.tick,
                    "kind": s.kind,
                    "outlet": s.outlet,
                    "source": s.source,
                    "story": s.story.id if s.story else s.chrome,
                    "verdict": s.verdict,
                    "topics": s.topics,
                    "title": s.title[:80],
                    "also": s.also,
                }
                for s in shown
            ]
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copytree(folder, keep / "run", dirs_exist_ok=True)
            (keep / "payloads.json").write_text(
                json.dumps([{"tick": t, **p} for t, p in payloads], indent=1, ensure_ascii=False),
                encoding="utf-8",
            )
            (keep / "cli.log").write_text("\n".join(log) + "\n", encoding="utf-8")
            (keep / "result.json").write_text(
                json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8"
            )
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def table(result: dict[str, Any]) -> str:
    rows = [
        ("story precision", "precision"),
        ("story recall", "recall"),
        ("expected units", "expected"),
        ("reported units", "reported"),
        ("split syndicated stories", "split_groups"),
        ("volatile-text reports", "volatile"),
        ("immaterial-edit reports", "immaterial_edit"),
        ("first-poll reports", "first_poll"),
        ("duplicates across digests", "duplicate"),
        ("chrome reported", "chrome"),
        ("irrelevant reported", "irrelevant"),
        ("unmapped items", "unmapped"),
        ("updates of unreceived items", "not_new"),
        ("items under a wrong topic", "wrong_topic"),
    ]
    halves = result["halves"]
    lines = [f"{'':28}{'all':>10}{'tuning':>10}{'held-out':>10}{'frozen':>10}"]
    for label, key in rows:
        lines.append(f"{label:28}" + "".join(f"{halves[h][key]!s:>10}" for h in halves))
    for label, key, ticks in (
        ("outage named", "outage_named", "named_at_ticks"),
        ("recovery named", "recovery_named", "recovery_at_ticks"),
    ):
        found = {k: v for k, v in (result.get(ticks) or {}).items() if v}
        at = f"  (at ticks {found})" if found else ""
        lines.append(f"{label:28}{result[key]!s:>10}{at}")
    lines.append(
        f"({result['outlets']} outlets, {result['stories']} stories, {result['ticks']} ticks, "
        f"{result['digests']} webhook payloads, {result['seconds']} s)"
    )
    lines.append(f"frozen held-out half: {result['frozen_half']} (hash of its outlets and stories)")
    for half, figures in halves.items():
        if figures["missed"]:
            lines.append(f"missed ({half}): {', '.join(figures['missed'])}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", type=Path, help="keep state, digests, payloads and CLI log here")
    parser.add_argument("--verbose", action="store_true", help="list every item and its verdict")
    parser.add_argument(
        "--self-check", action="store_true", help="check the scorer on made-up digests, no CLI"
    )
    args = parser.parse_args()
    if args.self_check:
        self_check()
        return
    result = run(args.keep, args.verbose)
    if args.json:
        print(json.dumps(result, indent=1, ensure_ascii=False))
        return
    print(table(result))
    for item in result.get("items", []):
        print(
            f"  t{item['tick']} {item['kind']:6} {item['verdict']:15} {item['outlet']}/"
            f"{item['source']} {item['story']}: {item['title']}"
        )


if __name__ == "__main__":
    main()
