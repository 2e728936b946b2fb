"""The feedback pages of the web server.

* `/fb/<token>`: the page a digest's signed link opens. GET only shows what the link asks for
  and one button (mail scanners open every link: a GET changes nothing); the button POSTs back to
  the same URL, whose signature is the credential. No session, no secret in the page.
* `/feedback` (authenticated): the marks and mutes in force, who set them and when, each with an
  undo button; `/feedback/mark` and `/feedback/undo` take the in-app buttons' POSTs (CSRF token).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from jinja2 import select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from monitor.feedback.forms import undo_button
from monitor.feedback.links import ACTIONS, BadLink, LinkSigner
from monitor.feedback.records import WHO_LINK, FeedbackRecords, UnknownItem
from monitor.store import Store

# What the web server's guard found out about an authenticated request, for the handlers.
WHO = web.RequestKey("who", str)  # the basic-auth user name, or "token"
CSRF = web.RequestKey("csrf", str)  # the CSRF token of forms on this page
# A checked POST body's text fields.
FORM: web.RequestKey[dict[str, str]] = web.RequestKey("form", dict)

_env = ImmutableSandboxedEnvironment(autoescape=select_autoescape(default=True))
_HEAD = """<!doctype html><html><head><meta charset="utf-8"><title>{{ title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px sans-serif;margin:1em auto;max-width:46em;padding:0 1em}
button{font-size:1em;padding:.5em 1em}.quote{border-left:3px solid #ccc;padding-left:.8em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;
text-align:left;vertical-align:top}.fb-form{display:inline}</style></head><body>"""
CONFIRM = _env.from_string(
    _HEAD
    + """<h1>{{ title }}</h1>
{% if error %}<p id="error">{{ error }}</p>{% else %}
<p>Topic: <b>{{ topic }}</b> · Source: <b>{{ source }}</b></p>
<div class="quote"><p><b>{{ item_title }}</b></p><p>{{ text }}</p></div>
{% if done %}<p id="done">{{ done }}</p>{% else %}
<form method="post"><button type="submit" id="confirm">{{ button }}</button></form>
{% endif %}{% endif %}</body></html>"""
)
LIST = _env.from_string(
    _HEAD
    + """<h1>Feedback in force</h1>
{% if message %}<p id="message">{{ message }}</p>{% endif %}
<table id="feedback"><tr><th>what</th><th>topic</th><th>source / item</th><th>who, when</th>
<th></th></tr>
{% for f in rows %}<tr><td>{{ "muted source" if f.kind == "mute" else "not relevant" }}</td>
<td>{{ f.topic }}</td><td>{{ f.source_key }}{% if f.kind != "mute" %}<br>
<small>{{ f.title or "" }} {{ (f.text or "")[:200] }}</small>{% endif %}</td>
<td>{{ f.who }}, {{ f.created_at.strftime("%Y-%m-%d %H:%M UTC") }}</td>
<td>{{ undo(f.id) }}</td></tr>
{% else %}<tr><td colspan="5">None: every topic reports everything it matches.</td></tr>
{% endfor %}</table></body></html>"""
)
TITLES = {
    "not_relevant": ("Not relevant?", "Mark as not relevant for this topic"),
    "mute": ("Mute this source for this topic?", "Mute this source for this topic"),
}
DONE = {
    "not_relevant": "Recorded: this passage and its copies no longer appear under this topic.",
    "mute": "Recorded: this source no longer appears under this topic until the mute is undone.",
}


@dataclass(slots=True)
class FeedbackPages:
    """The handlers, over the state database and the link signer."""

    store: Callable[[], Store]  # the daemon's, once it has opened it
    signer: LinkSigner
    topics: Callable[[], list[str]]
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def records(self) -> FeedbackRecords:
        return FeedbackRecords(self.store().engine)

    def _page(self, token: str, done: bool) -> web.Response:
        try:
            claim = self.signer.check(token, self.clock())
            info = self.records.item(claim.item_id)
        except (BadLink, UnknownItem, ValueError, TypeError) as exc:
            text = str(exc) if isinstance(exc, BadLink | UnknownItem) else "not a feedback link"
            html = CONFIRM.render(title="Feedback link", error=text)
            return web.Response(status=403, text=html, content_type="text/html")
        title, button = TITLES[claim.action]
        html = CONFIRM.render(
            title=title,
            error=None,
            topic=claim.topic,
            source=info.source_name,
            item_title=info.title or "",
            text=info.text[:600],
            button=button,
            done=DONE[claim.action] if done else None,
        )
        return web.Response(text=html, content_type="text/html")

    async def link_page(self, request: web.Request) -> web.Response:
        return self._page(request.match_info["token"], done=False)

    async def link_post(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        try:
            claim = self.signer.check(token, self.clock())
        except (BadLink, ValueError, TypeError):
            return self._page(token, done=False)
        if claim.topic not in self.topics():
            html = CONFIRM.render(
                title="Feedback link",
                error=f"the topic {claim.topic!r} is no longer configured; nothing to record",
            )
            return web.Response(status=410, text=html, content_type="text/html")
        try:
            self.records.record(claim.action, claim.item_id, claim.topic, WHO_LINK, self.clock())
        except UnknownItem:
            return self._page(token, done=False)
        return self._page(token, done=True)

    async def list_page(self, request: web.Request, message: str = "") -> web.Response:
        csrf = request[CSRF]
        html = LIST.render(
            rows=self.records.active(), undo=lambda i: undo_button(i, csrf), message=message
        )
        return web.Response(text=html, content_type="text/html")

    async def mark(self, request: web.Request) -> web.Response:
        form = request[FORM]
        action, topic = form.get("action", ""), form.get("topic", "")
        try:
            item_id = int(form.get("item_id", ""))
        except ValueError:
            return web.Response(status=400, text="item_id: expected an item number\n")
        if action not in ACTIONS or topic not in self.topics():
            return web.Response(status=400, text="action or topic: not one this server knows\n")
        try:
            self.records.record(action, item_id, topic, request[WHO], self.clock())
        except UnknownItem as exc:
            return web.Response(status=404, text=f"{exc}\n")
        return _see_other(_back(request))

    async def undo(self, request: web.Request) -> web.Response:
        try:
            feedback_id = int(request[FORM].get("id", ""))
        except ValueError:
            return web.Response(status=400, text="id: expected a feedback number\n")
        if not self.records.undo(feedback_id, request[WHO], self.clock()):
            return web.Response(status=404, text="no feedback in force by that number\n")
        return _see_other("/feedback")


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _back(request: web.Request) -> str:
    """Where an in-app button returns: its page on this server, else the feedback list."""
    referer = request.headers.get("Referer", "")
    here = f"{request.scheme}://{request.host}/"
    if referer.startswith(here):
        # Never "//host": a path on this server only.
        return "/" + referer[len(here) :].lstrip("/\\")
    return "/feedback"
