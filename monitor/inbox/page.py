"""The inbox page (`/inbox`): the newest reports of each topic with their evidence, or, with a
search or a filter, the archive's hits newest first. Plain HTML forms (GET), no script; readable
on a phone. Everything from the web (titles, texts, snippets, names, URLs) reaches the page as
data through an autoescaping template; only http(s) URLs become links.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from monitor.digest.views import clean, safe_href, title_line
from monitor.feedback.pages import CSRF
from monitor.inbox.actions import item_actions
from monitor.inbox.search_keys import parse_query, parse_when
from monitor.store.archive import ArchiveHit, ArchiveQuery, QueryError
from monitor.store.interfaces import ArchiveStore

RECENT_PER_TOPIC = 10
RESULTS = 50
_TEXT_SHOWN = 600
_FIELD_MAX = 500  # longer form values are cut: a query is words, not a document

_ENV = ImmutableSandboxedEnvironment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    # A bool, not select_autoescape(): escaping must not depend on a template's file name.
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class InboxDaemon(Protocol):
    """What the inbox reads from the daemon."""

    @property
    def store(self) -> ArchiveStore: ...

    def topic_ids(self) -> list[str]: ...


def highlight(snippet: str, spans: tuple[tuple[int, int], ...]) -> Markup:
    """The snippet with its evidence spans in <mark>, every piece escaped."""
    out = Markup("")
    at = 0
    for start, end in sorted(spans):
        if start < at or end > len(snippet) or start >= end:
            continue  # overlapping or out of range: shown unmarked rather than wrong
        out += escape(snippet[at:start]) + Markup("<mark>") + escape(snippet[start:end])
        out += Markup("</mark>")
        at = end
    return out + escape(snippet[at:])


def hit_view(
    hit: ArchiveHit, csrf: str | None = None, live_topics: Collection[str] = ()
) -> dict[str, Any]:
    """What the template shows of one hit (plain strings, escaped by the template).
    `live_topics`: the topics of the running config, the only ones feedback can name."""
    return {
        "title": title_line(hit.title, 200) or clean(hit.text, 120),
        "href": safe_href(hit.url),
        "url": clean(hit.url, 200),
        "source": clean(hit.source_name, 120),
        "topic": hit.topic,
        "language": hit.language or "",
        "reported": hit.reported_at.strftime("%Y-%m-%d %H:%M UTC") if hit.reported_at else "",
        "published": hit.published.strftime("%Y-%m-%d") if hit.published else "unknown",
        "snippet": highlight(hit.evidence.snippet, hit.evidence.spans),
        "terms": ", ".join(hit.evidence.terms),
        "text": clean(hit.text, _TEXT_SHOWN),
        "also": [clean(name, 120) for name in hit.also_reported_by],
        "is_update": hit.is_update,
        "previous": clean(hit.previous, _TEXT_SHOWN),
        "previous_title": title_line(hit.previous_title, 200),
        "actions": item_actions(hit, csrf, live_topics),
        "item_id": hit.item_id,
    }


def _form(request: web.Request) -> dict[str, str]:
    keys = ("q", "topic", "source", "lang", "since", "until")
    return {k: request.query.get(k, "").strip()[:_FIELD_MAX] for k in keys}


async def inbox(request: web.Request) -> web.Response:
    daemon: InboxDaemon = request.app[INBOX_DAEMON]
    store = daemon.store
    form = _form(request)
    live = set(daemon.topic_ids())
    topics = sorted(live | set(store.archive_topics()))
    errors: list[str] = []
    query: ArchiveQuery | None = None
    if any(form.values()):
        words = None
        try:
            words = parse_query(form["q"]) if form["q"] else None
        except QueryError as exc:
            errors.append(f"search: {exc}")
        since = until = None
        for key in ("since", "until"):
            try:
                if form[key]:
                    moment = parse_when(form[key], end=key == "until")
                    since, until = (moment, until) if key == "since" else (since, moment)
            except ValueError as exc:
                errors.append(f"{key}: {exc}")
        if form["topic"] and form["topic"] not in topics:
            errors.append(f"topic: no topic {form['topic']!r}; pick one from the list")
        if form["lang"] and form["lang"] not in ("de", "en"):
            errors.append("language: de or en")
        if not errors:
            query = ArchiveQuery(
                words,
                form["topic"] or None,
                form["source"] or None,
                form["lang"] or None,
                since,
                until,
                RESULTS,
            )
    csrf = request.get(CSRF)
    results = None
    recent: list[tuple[str, list[dict[str, Any]]]] = []
    if query is not None:
        results = [hit_view(h, csrf, live) for h in store.search_archive(query)]
    elif not errors:
        for topic in topics:
            hits = store.search_archive(ArchiveQuery(topic=topic, limit=RECENT_PER_TOPIC))
            recent.append((topic, [hit_view(h, csrf, live) for h in hits]))
    html = _ENV.get_template("inbox.html").render(
        form=form, topics=topics, errors=errors, results=results, recent=recent
    )
    return web.Response(text=html, content_type="text/html", status=400 if errors else 200)


INBOX_DAEMON: web.AppKey[InboxDaemon] = web.AppKey("inbox_daemon")


def add_routes(app: web.Application, daemon: InboxDaemon) -> None:
    """Register the inbox's routes on the daemon's web app (its auth middleware guards them)."""
    app[INBOX_DAEMON] = daemon
    app.router.add_get("/inbox", inbox)
