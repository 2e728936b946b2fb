"""render_digest: content, grouping, highlighting, labels, health section, hostile text, payload."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from monitor.channels.webhook import WebhookChannel
from monitor.digest.payload import PAYLOAD_LIMIT, encode_payload
from monitor.digest.render import ENV, render_digest
from monitor.digest.views import highlight, safe_href
from monitor.models import Citation, Digest, Evidence, Match, SourceHealth
from monitor.notify.slack import SLACK_MAX_TOTAL, slack_payload
from monitor.notify.teams import TEAMS_LIMIT, teams_payload
from monitor.notify.webhook import payload_format

CREATED = datetime(2026, 11, 22, 6, 30, tzinfo=UTC)
JINJA = "{{ ''.__class__.__mro__ }}"


def evidence(snippet: str, *terms: str) -> Evidence:
    """Evidence whose spans are the first occurrence of each term in the snippet."""
    spans = []
    for term in terms:
        at = snippet.find(term)
        if at >= 0:
            spans.append((at, at + len(term)))
    return Evidence(terms=terms, rule=" AND ".join(terms), snippet=snippet, spans=tuple(spans))


def match(n: int, topic: str, **kw: object) -> Match:
    values: dict = {
        "id": n,
        "topic": topic,
        "score": 1.5,
        "evidence": evidence(f"Item {n}: North Korean troops arrived in Kursk.", "Kursk"),
        "source_key": f"https://src{n}.example/feed",
        "source_name": f"Source {n}",
        "title": f"Headline {n}",
        "link": f"https://news.example/{n}",
        "text": f"Item {n}: North Korean troops arrived in Kursk.",
        "language": "en",
        "published": datetime(2026, 11, 21, 14, 2, tzinfo=UTC),
        "first_seen": datetime(2026, 11, 21, 14, 20, tzinfo=UTC),
    }
    values.update(kw)
    return Match(**values)


def digest(topics: dict[str, list[Match]], **kw: object) -> Digest:
    values: dict = {
        "id": "dg_0123abcd",
        "channel": "analysts",
        "created": CREATED,
        "topics": topics,
        "topic_names": {
            "troop_deployment": "North Korean troops in Russia",
            "sanctions": "Sanctions",
        },
    }
    values.update(kw)
    return Digest(**values)


class Page(HTMLParser):
    """Collects what a mail client would see: tags, attributes, visible text, <mark> texts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.marks: list[str] = []
        self._in_mark = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_mark = self._in_mark or tag == "mark"

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._in_mark = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_mark:
            self.marks.append(data)

    @property
    def visible(self) -> str:
        return "".join(self.text)

    def hrefs(self) -> list[str]:
        return [a["href"] or "" for tag, a in self.tags if tag == "a" and "href" in a]


@pytest.fixture
def seven() -> Digest:
    troops = [match(i, "troop_deployment") for i in range(1, 5)]
    sanctions = [match(i, "sanctions") for i in range(5, 8)]
    return digest({"troop_deployment": troops, "sanctions": sanctions})


# --- subject and structure ---------------------------------------------------------------------


def test_subject_counts_items_per_topic(seven: Digest) -> None:
    rendered = render_digest(seven)
    assert rendered.subject == (
        "[source-monitor] 7 new items: troop_deployment 4, sanctions 3 — 2026-11-22"
    )


def test_alert_subject_and_payload_type(seven: Digest) -> None:
    seven.urgent = True
    rendered = render_digest(seven)
    assert rendered.subject.startswith("[source-monitor] ALERT: 7 new items")
    assert rendered.payload["type"] == "alert.created"


def test_text_is_grouped_by_topic_with_every_field() -> None:
    special = match(
        9,
        "sanctions",
        title="EU widens sanctions",
        evidence=evidence("The EU widened sanctions on Pyongyang today.", "sanctions"),
        citations=[Citation("briefing-2026-11.docx", "see the EU statement of 20 November")],
        also_reported_by=["DW – World", "NK News"],
        language="de",
    )
    d = digest(
        {"troop_deployment": [match(1, "troop_deployment")], "sanctions": [special]},
    )
    text = render_digest(d).text
    troops_at = text.index("North Korean troops in Russia")
    sanctions_at = text.index("== Sanctions")
    assert troops_at < text.index("Headline 1") < sanctions_at < text.index("EU widens sanctions")
    item = text[sanctions_at:]
    assert "Source: Source 9" in item
    assert "Published: 2026-11-21 14:02 UTC" in item
    assert "First seen: 2026-11-21 14:20 UTC" in item
    assert "Language: de" in item
    assert "The EU widened «sanctions» on Pyongyang today." in item
    assert "Link: https://news.example/9" in item
    assert "Cited in briefing-2026-11.docx: see the EU statement of 20 November" in item
    assert "Also reported by: DW – World, NK News" in item
    # A real text digest, not HTML with the tags taken out.
    assert "<" not in text and "&amp;" not in text


def test_html_marks_terms_and_inlines_css(seven: Digest) -> None:
    html = render_digest(seven).html
    page = Page(html)
    assert page.marks == ["Kursk"] * 7
    assert "<style" not in html
    marks = [attrs for tag, attrs in page.tags if tag == "mark"]
    assert all("background-color" in (a.get("style") or "") for a in marks)
    assert page.hrefs() == [f"https://news.example/{n}" for n in range(1, 8)]


def test_times_are_shown_in_the_channel_zone(seven: Digest) -> None:
    rendered = render_digest(seven, ZoneInfo("Europe/Berlin"))
    assert "Published: 2026-11-21 15:02 CET" in rendered.text
    assert "First seen: 2026-11-21 15:20 CET" in rendered.text
    # The payload stays in UTC for machines.
    item = rendered.payload["data"]["topics"]["sanctions"]["items"][0]
    assert item["published"] == "2026-11-21T14:02:00Z"


def test_subject_date_follows_the_zone() -> None:
    late = digest(
        {"sanctions": [match(1, "sanctions")]}, created=datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    )
    assert render_digest(late).subject.endswith("2026-11-22")
    assert render_digest(late, ZoneInfo("Asia/Seoul")).subject.endswith("2026-11-23")


def test_german_labels() -> None:
    m = match(1, "troop_deployment", also_reported_by=["ZEIT"], published=None)
    failing = SourceHealth(
        "k", "Yonhap", "https://en.yna.co.kr/RSS/nk.xml", "error", CREATED, "HTTP 503"
    )
    d = digest({"troop_deployment": [m]}, language="de", failing_sources=[failing])
    rendered = render_digest(d)
    labels = (
        "1 neuer Treffer",
        "Quelle: Source 1",
        "Zuerst gesehen:",
        "Auch berichtet von: ZEIT",
        "Veröffentlicht: unbekannt",
        "Quellen mit Fehlern",
        "Letzter Fehler: HTTP 503",
    )
    for label in labels:
        assert label in rendered.text
        assert label in Page(rendered.html).visible
    assert rendered.subject.startswith("[source-monitor] 1 neuer Treffer: troop_deployment 1")
    assert "Source:" not in rendered.text


def test_empty_digest_says_so() -> None:
    english = render_digest(digest({}))
    assert "No new matches since the last digest." in english.text
    assert "No new matches since the last digest." in Page(english.html).visible
    assert english.subject == "[source-monitor] No new matches — 2026-11-22"
    assert english.payload["data"]["topics"] == {}
    german = render_digest(digest({"sanctions": []}, language="de"))
    assert "Keine neuen Treffer" in german.text
    assert "Keine neuen Treffer" in Page(german.html).visible


def test_failing_sources_section() -> None:
    failing = [
        SourceHealth(
            f"k{i}",
            f"Feed {i}",
            f"https://feed{i}.example/rss",
            "error",
            datetime(2026, 11, 19, 8, 0, tzinfo=UTC),
            f"HTTP 50{i % 10} from server",
        )
        for i in range(60)
    ]
    rendered = render_digest(digest({}, failing_sources=failing))
    text = rendered.text
    assert "Sources with errors (60)" in text
    assert "Feed 0\n  https://feed0.example/rss\n  State: error, since 2026-11-19 08:00 UTC" in text
    assert "Last error: HTTP 500 from server" in text
    assert "… and 10 more" in text and "Feed 59" not in text
    page = Page(rendered.html)
    assert "Feed 49" in page.visible and "… and 10 more" in page.visible
    assert "https://feed3.example/rss" in page.hrefs()
    assert rendered.subject == "[source-monitor] No new matches; 60 sources failing — 2026-11-22"
    data = rendered.payload["data"]
    assert len(data["failing_sources"]) == 50 and data["failing_sources_omitted"] == 10
    assert data["failing_sources"][0] == {
        "key": "k0",
        "name": "Feed 0",
        "url": "https://feed0.example/rss",
        "state": "error",
        "since": "2026-11-19T08:00:00Z",
        "last_error": "HTTP 500 from server",
    }


# --- hostile text -------------------------------------------------------------------------------

HOSTILE_SNIPPET = (
    "Troops in Kursk <script>alert(1)</script> and &lt;script&gt;alert(2)&lt;/script&gt; "
    '<a href="javascript:alert(3)">click</a> <img src=x onerror=alert(4)> '
    f"{JINJA} {{% for x in range(3) %}}X{{% endfor %}} {{{{ 7*7 }}}}"
)


@pytest.fixture
def hostile() -> Digest:
    bad = match(
        1,
        "troop_deployment",
        title=f"<script>alert('t')</script> {JINJA}",
        source_name='<b onmouseover="alert(5)">Evil</b>',
        evidence=evidence(HOSTILE_SNIPPET, "Kursk", "<script>"),
        link="javascript:alert(6)",
        citations=[Citation("<i>doc</i>.pdf", "&lt;a href=https://evil.example&gt;x&lt;/a&gt;")],
        also_reported_by=["<svg onload=alert(7)>"],
    )
    odd_links = [
        match(2, "troop_deployment", link=" JaVaScRiPt:alert(8)"),
        match(3, "troop_deployment", link="data:text/html;base64,PHNjcmlwdD4="),
        match(4, "troop_deployment", link='https://ok.example/?q="><script>alert(9)</script>'),
        match(5, "troop_deployment", link="java\tscript:alert(10)"),
        match(6, "troop_deployment", link="file:///etc/passwd"),
    ]
    failing = SourceHealth(
        "k",
        "<b>Feed</b>",
        "javascript:alert(11)",
        "error",
        None,
        '<img src=x onerror="alert(12)"> ' + JINJA,
    )
    return digest(
        {"troop_deployment": [bad, *odd_links]},
        failing_sources=[failing],
        topic_names={"troop_deployment": "<u>Troops</u>"},
    )


ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "body",
    "div",
    "h1",
    "h2",
    "p",
    "span",
    "a",
    "mark",
    "b",
    "br",
}


def test_hostile_text_is_inert_in_html(hostile: Digest) -> None:
    html = render_digest(hostile).html
    page = Page(html)
    assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS
    for _tag, attrs in page.tags:
        assert not [name for name in attrs if name.startswith("on")]
    assert "<script" not in html.lower()
    # Only http(s) links, with quotes and angle brackets percent-encoded.
    assert page.hrefs() == ["https://ok.example/?q=%22%3E%3Cscript%3Ealert(9)%3C/script%3E"]
    visible = page.visible
    assert "<script>alert(1)</script>" in visible  # shown to the reader as text
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in visible  # decoded once by the client, no more
    assert '<b onmouseover="alert(5)">Evil</b>' in visible
    assert "&lt;a href=https://evil.example&gt;" in visible
    assert "javascript:alert(6)" in visible and "data:text/html" in visible
    assert visible.count(JINJA) == 3  # title, snippet, last error, all literal
    assert "{% for x in range(3) %}X{% endfor %} {{ 7*7 }}" in visible
    assert "<class" not in visible and "49" not in visible
    # Highlighting a term that is itself markup-like still produces escaped text inside <mark>.
    assert "<script>" in page.marks and "Kursk" in page.marks


def test_hostile_text_in_plain_text_and_payload(hostile: Digest) -> None:
    rendered = render_digest(hostile)
    # Markup in a title is removed (issue 12, point 9: it used to reach mail and JSON as tags);
    # what is left is shown as text, never evaluated.
    assert f"1. {JINJA}\n" in rendered.text and "<script>alert('t')" not in rendered.text
    assert "Link (not a web address, not linked): javascript:alert(6)" in rendered.text
    assert "<class" not in rendered.text
    items = rendered.payload["data"]["topics"]["troop_deployment"]["items"]
    assert [i["link"] for i in items] == [
        "",
        "",
        "",
        "https://ok.example/?q=%22%3E%3Cscript%3Ealert(9)%3C/script%3E",
        "",
        "",
    ]
    assert items[0]["title"] == JINJA  # JSON carries plain text


def test_control_and_bidi_characters_are_removed() -> None:
    m = match(1, "sanctions", title="Line one\nFake: line\u202etwo\x00", source_name="A\r\nB")
    rendered = render_digest(digest({"sanctions": [m]}))
    assert "1. Line one Fake: linetwo\n" in rendered.text
    assert "Source: A B\n" in rendered.text


# --- environment and helpers ---------------------------------------------------------------------


def test_environment_is_sandboxed_strict_and_always_escapes() -> None:
    assert isinstance(ENV, ImmutableSandboxedEnvironment)
    assert ENV.undefined is StrictUndefined
    assert ENV.autoescape is True  # a bool: not chosen by file extension
    assert ENV.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    with pytest.raises(SecurityError):
        ENV.from_string(JINJA).render()


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.org/a?b=c", True),
        ("HTTP://example.org/", True),
        ("javascript:alert(1)", False),
        ("  javascript:alert(1)", False),
        ("vbscript:x", False),
        ("data:text/html,x", False),
        ("//example.org/", False),
        ("http:///path-only", False),
        ("http://exa mple.org/", False),
        ("http://a\\@b/", False),
        ("https://example.org/\u202egnp.exe", False),
        ("https://example.org/" + "a" * 3000, False),
        (None, False),
    ],
)
def test_safe_href(url: str | None, ok: bool) -> None:
    assert (safe_href(url) is not None) is ok


def test_highlight_uses_terms_when_spans_are_missing_or_bad() -> None:
    pieces = highlight(
        "Sanktionen gegen Nordkorea, SANKTIONEN", ((50, 60), (-5, -1)), ("sanktionen",), 600
    )
    assert [p.text for p in pieces if p.hit] == ["Sanktionen", "SANKTIONEN"]


def test_highlight_cuts_long_snippets_around_the_first_match() -> None:
    snippet = "x " * 800 + "Kursk" + " y" * 800
    at = snippet.index("Kursk")
    pieces = highlight(snippet, ((at, at + 5),), ("Kursk",), 300)
    joined = "".join(p.text for p in pieces)
    assert joined.startswith("… ") and joined.endswith(" …")
    assert len(joined) <= 310
    assert [p.text for p in pieces if p.hit] == ["Kursk"]


# --- payload -------------------------------------------------------------------------------------


def test_payload_shape(seven: Digest) -> None:
    payload = render_digest(seven).payload
    assert json.loads(encode_payload(payload)) == payload
    assert payload["type"] == "digest.created"
    assert payload["timestamp"] == "2026-11-22T06:30:00Z"
    data = payload["data"]
    assert (data["id"], data["channel"], data["item_count"]) == ("dg_0123abcd", "analysts", 7)
    assert list(data["topics"]) == ["troop_deployment", "sanctions"]
    item = data["topics"]["troop_deployment"]["items"][0]
    scalars = {k: v for k, v in item.items() if not isinstance(v, list)}
    assert all(isinstance(v, str) for v in scalars.values())
    assert item["id"] == "1" and item["snippet"].startswith("Item 1: North Korean troops")
    assert item["link"] == "https://news.example/1" and item["terms"] == ["Kursk"]


def test_payload_stays_under_the_size_limit() -> None:
    long_text = "Nordkoreanische Soldaten " * 200
    big = {
        "troop_deployment": [
            match(
                i,
                "troop_deployment",
                title=f"T{i} " + "ü" * 400,
                evidence=evidence(long_text, "Soldaten"),
                also_reported_by=[f"Outlet {j}" for j in range(30)],
            )
            for i in range(150)
        ],
        "sanctions": [match(1000 + i, "sanctions") for i in range(150)],
    }
    rendered = render_digest(digest(big))
    body = encode_payload(rendered.payload)
    assert len(body) <= PAYLOAD_LIMIT
    data = rendered.payload["data"]
    assert data["truncated"] is True and data["item_count"] == 300
    for topic, expected_first in (("troop_deployment", "0"), ("sanctions", "1000")):
        block = data["topics"][topic]
        assert block["count"] == 150
        assert block["omitted"] == 150 - len(block["items"]) > 0
        assert block["items"][0]["id"] == expected_first  # best-ranked items are kept
    # The email keeps every item.
    assert render_digest(digest(big)).text.count("Source: ") == 300


# --- chat messages: Slack -------------------------------------------------------------------------

SLACK_LINK = re.compile(r"<([^<>]*)>")  # what Slack parses as a link, mention or command


def slack_texts(payload: dict[str, Any]) -> list[str]:
    """Every mrkdwn text in the message, in order."""
    texts = []
    for block in payload["blocks"]:
        if block["type"] == "section":
            texts.append(block["text"])
        elif block["type"] == "context":
            texts += block["elements"]
    assert all(t["type"] == "mrkdwn" and t["verbatim"] is True for t in texts)
    return [t["text"] for t in texts]


def test_slack_message_has_a_section_per_topic_with_links(seven: Digest) -> None:
    seven.failing_sources = [
        SourceHealth("k", "Yonhap", "https://en.yna.co.kr/RSS/nk.xml", "error", CREATED, "HTTP 503")
    ]
    rendered = render_digest(seven, ZoneInfo("Europe/Berlin"), payload=slack_payload)
    payload = rendered.payload
    assert payload == slack_payload(seven, ZoneInfo("Europe/Berlin"))
    assert payload_format(payload) == "slack"
    assert payload["text"] == rendered.subject  # notification fallback
    assert payload["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "source-monitor digest"},
    }
    sections = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    assert len(sections) == 3  # two topics, then failing sources
    troops, sanctions, health = sections
    assert troops.startswith("*North Korean troops in Russia* (troop_deployment) — 4 new items")
    assert "*<https://news.example/1|Headline 1>*" in troops
    assert "Source 1 · 2026-11-21 15:02 CET" in troops
    assert "Item 1: North Korean troops arrived in *Kursk*." in troops
    assert sanctions.count("<https://news.example/") == 3
    assert health.startswith("*Sources with errors* (1)\n\n• *Yonhap* — error, since")
    assert "HTTP 503" in health
    # The stored email parts do not change with the chat format.
    assert rendered.text == render_digest(seven, ZoneInfo("Europe/Berlin")).text


def test_slack_hostile_text_is_inert(hostile: Digest) -> None:
    bad = match(
        7,
        "troop_deployment",
        title="<!channel> <@U024BE7LH> <https://evil.example|Click me> & more",
        source_name="<!here>",
        evidence=evidence("Kursk <!everyone> @channel <#C123> &amp; *bold*", "Kursk"),
    )
    hostile.topics["troop_deployment"].insert(0, bad)
    payload = slack_payload(hostile)
    texts = slack_texts(payload)
    joined = "\n".join(texts)
    # Slack reads <...> as links and mentions: the only ones left are our http(s) links.
    parsed = [m.group(1) for t in texts for m in SLACK_LINK.finditer(t)]
    assert parsed and all(re.match(r"https?://[^|]+\|", p) for p in parsed)
    assert [p.split("|")[0] for p in parsed] == [
        "https://news.example/7",
        "https://ok.example/?q=%22%3E%3Cscript%3Ealert(9)%3C/script%3E",
    ]
    assert (
        "&lt;!channel&gt; &lt;@U024BE7LH&gt; &lt;https://evil.example|Click me&gt; &amp; more"
        in (joined)
    )
    assert "&lt;!here&gt;" in joined and "&amp;amp;" in joined
    assert "javascript" not in "".join(parsed)
    # Every & starts an entity we wrote: nothing from the source can form its own.
    assert not re.search(r"&(?!amp;|lt;|gt;)", joined)


def test_slack_limits_are_kept() -> None:
    many_topics = {
        f"topic_{t}": [
            match(
                t * 100 + i, f"topic_{t}", title="ü" * 300, link="https://x.example/" + "a" * 2000
            )
            for i in range(12)
        ]
        for t in range(60)
    }
    payload = slack_payload(digest(many_topics, failing_sources=[]), max_items=12)
    blocks = payload["blocks"]
    assert len(blocks) <= 50
    assert len(blocks) == 50
    assert blocks[-2]["elements"][0]["text"] == "… and 37 more topics"
    texts = slack_texts(payload)
    assert max(len(t) for t in texts) <= 3000
    first = texts[1]
    shown = first.count("\n\n*ü")
    assert 0 < shown < 12 and first.endswith(f"_… and {12 - shown} more_")
    # A 2 kB link would take the room of several items, so the items go unlinked.
    assert not any("<https://x.example" in text for text in texts)
    total = sum(len(text) for text in texts) + len(blocks[0]["text"]["text"])
    # Slack has refused messages (msg_blocks_too_long) from a little above 11,000 characters.
    assert total <= SLACK_MAX_TOTAL <= 11_000


def test_slack_counts_items_beyond_max_items(seven: Digest) -> None:
    payload = slack_payload(seven, max_items=2)
    troops = slack_texts(payload)[1]
    assert troops.count("*<https://news.example/") == 2
    assert troops.endswith("_… and 2 more_")


def test_slack_german_and_empty() -> None:
    payload = slack_payload(digest({}, language="de", urgent=True))
    assert payload["blocks"][0]["text"]["text"] == "Alarm: source-monitor Übersicht"
    assert "Keine neuen Treffer seit der letzten Übersicht." in slack_texts(payload)


# --- chat messages: Microsoft Teams ---------------------------------------------------------------

MD_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def card_of(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert all(b["type"] == "TextBlock" and b["wrap"] is True for b in card["body"])
    return card


def teams_texts(payload: dict[str, Any]) -> list[str]:
    return [b["text"] for b in card_of(payload)["body"]]


def test_teams_card_has_topics_items_and_links(seven: Digest) -> None:
    rendered = render_digest(seven, ZoneInfo("Europe/Berlin"), payload=teams_payload)
    payload = rendered.payload
    assert payload == teams_payload(seven, ZoneInfo("Europe/Berlin"))
    assert payload_format(payload) == "teams"
    texts = teams_texts(payload)
    assert texts[0] == "source-monitor digest" and texts[1] == "7 new items"
    assert "North Korean troops in Russia (troop_deployment) — 4 new items" in texts
    assert "[Headline 1](https://news.example/1)" in texts
    assert "Item 1: North Korean troops arrived in **Kursk**." in texts
    assert any(t.startswith("Source 1 · 2026-11-21 15:02 CET · Terms: Kursk") for t in texts)
    links = [m.group(2) for t in texts for m in MD_LINK.finditer(t)]
    assert links == [f"https://news.example/{n}" for n in range(1, 8)]


def test_teams_hostile_text_is_inert(hostile: Digest) -> None:
    bad = match(
        7,
        "troop_deployment",
        title="[Verify your account](javascript:alert(1)) [x][1] <at>Everyone</at>",
        link="https://news.example/a_(b)",
        evidence=evidence(
            "Kursk [click](https://evil.example) <https://evil.example> "
            "{{DATE(2026-01-01T00:00:00Z)}}\n[1]: https://evil.example",
            "Kursk",
        ),
    )
    hostile.topics["troop_deployment"].insert(0, bad)
    texts = teams_texts(teams_payload(hostile))
    links = [m.group(2) for t in texts for m in MD_LINK.finditer(t)]
    # Only our own links: http(s), with parentheses encoded so the link cannot end early.
    assert links == [
        "https://news.example/a_%28b%29",
        "https://ok.example/?q=%22%3E%3Cscript%3Ealert%289%29%3C/script%3E",
    ]
    joined = "\n".join(texts)
    untrusted = MD_LINK.sub("", joined)  # everything but our own two links
    for syntax in ("](", "][", "]:", "<at>", "<http", "{{"):
        assert syntax not in untrusted
    # The reader still sees the words; only invisible zero-width spaces were added.
    visible = joined.replace("\u200b", "")
    assert "[click](https://evil.example)" in visible
    assert "\uff3bVerify your account\uff3d(javascript:alert(1))" in visible


def test_teams_card_stays_under_the_size_limit() -> None:
    long_text = "Nordkoreanische Soldaten in Kursk " * 100
    big = {
        f"topic_{t}": [
            match(t * 100 + i, f"topic_{t}", title="ü" * 300, evidence=evidence(long_text, "Kursk"))
            for i in range(10)
        ]
        for t in range(8)
    }
    payload = teams_payload(digest(big))
    assert len(encode_payload(payload)) <= TEAMS_LIMIT <= 28_000  # Teams: about 28 KB at most
    texts = teams_texts(payload)
    assert sum("— 10 new items" in t for t in texts) == 8  # every topic keeps its heading


def test_teams_german_alert() -> None:
    failing = SourceHealth("k", "Yonhap", "https://en.yna.co.kr/", "error", CREATED, "HTTP 503")
    d = digest(
        {"sanctions": [match(1, "sanctions")]},
        language="de",
        urgent=True,
        failing_sources=[failing],
    )
    body = card_of(teams_payload(d))["body"]
    assert body[0]["text"] == "Alarm: source-monitor Übersicht"
    assert body[0]["color"] == "Attention"
    texts = [b["text"] for b in body]
    assert "Quellen mit Fehlern (1)" in texts
    assert any(t.startswith("Yonhap — error, seit") and t.endswith(": HTTP 503") for t in texts)


def test_unknown_chat_format_is_refused(seven: Digest) -> None:
    # The webhook channel's model names its formats; an unknown one never reaches rendering.
    with pytest.raises(ValueError, match="format"):
        WebhookChannel(kind="webhook", url="https://hooks.example/x", format="discord")  # type: ignore[arg-type]
    assert payload_format(render_digest(seven).payload) == "standard"
    assert payload_format({"hello": 1}) is None


def test_an_edited_paragraph_shows_what_changed() -> None:
    from datetime import UTC, datetime

    from monitor.models import Digest, Evidence, Match

    now = datetime(2026, 11, 22, 7, 30, tzinfo=UTC)
    text = "Nordkorea hat laut NIS bereits 10.000 Soldaten nach Russland entsandt."
    match = Match(
        id=1,
        topic="t",
        score=2.0,
        evidence=Evidence(("Soldaten",), "r", text, ()),
        source_key="k",
        source_name="Kurier",
        title="Lage",
        link="https://k.example/a",
        text=text,
        language="de",
        published=now,
        first_seen=now,
        previous=text.replace("10.000", "3.000"),
    )
    digest = Digest("dg_1", "c", now, {"t": [match]}, {"t": "T"}, language="de")
    rendered = render_digest(digest)
    # One sentence in the channel's language, the same in every format; no <del>/<ins> markup
    # (point 7 of issue 14: the old "Geändert: <del>3.000</del> → <ins>10.000</ins>" line).
    sentence = "Was sich geändert hat: aus „3.000“ wurde „10.000“."
    assert sentence in rendered.text
    assert "[Aktualisiert] Lage" in rendered.text
    assert sentence in rendered.html
    assert "<del>" not in rendered.html and "<ins>" not in rendered.html
    item = rendered.payload["data"]["topics"]["t"]["items"][0]
    assert "3.000 Soldaten" in item["previous"]
    assert item["kind"] == "update" and item["change_summary"] == sentence
    assert item["changes"] == [{"before": "3.000", "after": "10.000"}]
