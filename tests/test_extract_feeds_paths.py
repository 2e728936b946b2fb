"""The lxml fast path and feedparser give identical Documents for the same feed.

Entry identity (the Passage key) must not depend on the path: a feed that flips between the
paths would otherwise show every entry as new twice. Each feed is parsed both ways and the whole
Document (passages: key, title, text, link, published, language; feed title, language, date and
warnings) must be equal; the tests also check which path a feed takes, so that a fast path that
silently declines everything cannot pass.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from monitor.extract import feeds
from monitor.extract.feeds_fast import parse_fast
from monitor.models import Document

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "extract"
URL = "https://feeds.example.org/dir/feed.xml"

sys.path.insert(0, str(ROOT / "benchmarks"))
from corpus_server import feed as corpus_feed  # noqa: E402


def both(body: bytes, url: str = URL, content_type: str | None = None) -> tuple[Document, bool]:
    """The Document (asserted equal on both paths) and whether the fast path took the feed."""
    data, _, _ = feeds._prepare(body, url, content_type)
    fast_taken = parse_fast(data, url) is not None
    assert feeds.FAST_PATH
    fast = feeds.parse_feed(body, url, content_type)
    feeds.FAST_PATH = False
    try:
        reference = feeds.parse_feed(body, url, content_type)
    finally:
        feeds.FAST_PATH = True
    assert fast == reference
    return fast, fast_taken


def rss(items: str, channel: str = "<title>Kanal</title>", ns: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom" '
        f'xmlns:media="http://search.yahoo.com/mrss/"{ns}><channel>{channel}{items}'
        "</channel></rss>"
    ).encode()


def atom(entries: str, head: str = "<title>Atom</title>", lang: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"{lang}>'
        f"{head}{entries}</feed>"
    ).encode()


FAST_FEEDS: dict[str, bytes] = {
    "corpus": corpus_feed(0, 0),
    "corpus bumped": corpus_feed(17, 3),
    "guid permalink relative": rss("<item><guid>a-1</guid><title>Eins</title></item>"),
    "guid not permalink": rss(
        '<item><guid isPermaLink="false">a-1</guid><title>Eins</title>'
        "<link>/relative/path?a=1&amp;b=2</link></item>"
    ),
    "guid before and after link": rss(
        "<item><guid>https://x.example/g1</guid><link>https://x.example/l1</link>"
        "<title>A</title></item><item><link>https://x.example/l2</link>"
        "<guid>https://x.example/g2</guid><title>B</title></item>"
        "<item><guid>https://x.example/g3</guid><title>C</title></item>"
    ),
    "no guid, no link": rss(
        "<item><title>Nur Titel</title><description>Nur Text.</description></item>"
        "<item><title>Nur Titel</title></item><item><description>Ohne Titel</description></item>"
    ),
    "html and cdata": rss(
        "<item><guid>h1</guid><title>AT&amp;amp;T &lt;b&gt;bold&lt;/b&gt; title</title>"
        "<description><![CDATA[<p>Erster <a href='/rel'>Absatz</a>.</p><p>Zweiter &amp; "
        "letzter&nbsp;Absatz<br/>mit Zeile.</p><script>alert(1)</script>]]></description>"
        "</item><item><guid>h2</guid><title>Plain &lt;tag&gt; in a title</title>"
        "<description>&lt;p&gt;Escaped &amp;amp; markup&lt;/p&gt;</description></item>"
    ),
    "content encoded and dc": rss(
        "<item><guid>c1</guid><title>Lang</title><description>Kurz.</description>"
        "<content:encoded><![CDATA[<div><p>Der lange Text des Artikels über die Lage.</p>"
        "<iframe src='https://e.example'>frame text</iframe><p hidden>versteckt</p></div>]]>"
        "</content:encoded><dc:creator>Redaktion</dc:creator>"
        "<dc:date>2026-11-20T09:00:00+01:00</dc:date></item>"
        "<item><guid>c2</guid><content:encoded>Nur Inhalt ohne Beschreibung.</content:encoded>"
        "<description>Beschreibung danach.</description>"
        "<pubDate>Sat, 21 Nov 2026 10:00:00 GMT</pubDate><dc:date>2026-11-22</dc:date></item>"
    ),
    "links of every kind": rss(
        '<item><guid isPermaLink="false">l1</guid><atom:link rel="self" href="https://s.example/"/>'
        '<enclosure url="https://m.example/a.mp3" type="audio/mpeg" length="1"/>'
        "<title>Self only</title></item>"
        '<item><guid isPermaLink="false">l2</guid><link>javascript:alert(1)</link>'
        '<atom:link href="/alt"/><title>Unsafe then alternate</title></item>'
        '<item><guid isPermaLink="false">l3</guid><link></link><title>Empty link</title></item>'
        '<item><guid isPermaLink="false">l4</guid><link> data:text/html,x </link>'
        "<title>Data link</title></item>"
        "<item><title>Link text</title><link>  https://x.example/q?a=1&amp;amp;b=2  </link>"
        "</item>",
        channel="<title>L</title><link>https://x.example/</link>"
        '<atom:link rel="self" type="application/rss+xml" href="https://x.example/rss"/>',
    ),
    "media and categories": rss(
        "<item><guid>m1</guid><title>Bild</title><category>Politik</category>"
        '<media:content url="https://img.example/1.jpg" medium="image"/>'
        '<media:thumbnail url="https://img.example/t.jpg"/><comments>https://x.example/c</comments>'
        "<author>a@example.org (A)</author><description>Mit Bild.</description></item>"
    ),
    "unknown namespaces": rss(
        "<item><guid>u1</guid><title>Erweitert</title><foo:extra>x</foo:extra>"
        "<foo:group><foo:inner>y</foo:inner></foo:group><description>Text</description></item>",
        ns=' xmlns:foo="http://foo.example/ns"',
    ),
    "non-ascii, mojibake, cp1252": rss(
        "<item><guid>n1</guid><title>Straße – „Zitat“ Ã¤</title>"
        "<description>Preis &#128; 5 &#150; Öl &#8364;</description></item>"
        "<item><guid>n2</guid><title>\u00c3\u00a4rger</title><description>Gr\u00c3\u00bc\u00c3\u009fe"
        "</description></item>"
    ),
    "dates": rss(
        "<item><guid>d1</guid><title>x</title><pubDate>Fri, 20 Nov 2026 08:00:00 +0100</pubDate>"
        "</item><item><guid>d2</guid><title>y</title><pubDate>not a date</pubDate></item>"
        "<item><guid>d3</guid><title>z</title><pubDate>2026-11-20T08:00:00Z</pubDate>"
        "<pubDate>garbage</pubDate></item>",
        channel="<title>D</title><language>de-DE</language>"
        "<lastBuildDate>Fri, 20 Nov 2026 08:00:00 GMT</lastBuildDate>",
    ),
    "channel furniture": rss(
        "<item><guid>f1</guid><title>Eins</title></item>",
        channel="<title>Feed &amp; mehr</title><description>Sub</description>"
        "<image><url>https://x.example/i.png</url><title>Bildtitel</title>"
        "<link>https://x.example/</link></image><ttl>60</ttl><generator>gen</generator>",
    ),
    "no guid, shared link": rss(
        "".join(
            f"<item><title>{t}</title><link>https://x.example/live</link>"
            f"<description>Stand {n}</description></item>"
            for n, t in enumerate(["Eins", "Zwei", "Zwei", "", "Drei &amp;lt;b&amp;gt;x"])
        )
        + "<item><title>Eigen</title><link>https://x.example/own</link></item>"
    ),
    "duplicates": rss(
        "<item><guid>same</guid><title>Eins</title></item>"
        "<item><guid>same</guid><title>Zwei</title></item>"
    ),
    "empty channel": rss(""),
    "atom basics": atom(
        '<entry><id>tag:x.example,2026:1</id><title type="html">A &amp;lt;b&amp;gt;</title>'
        '<link href="https://x.example/1"/><link rel="self" href="https://x.example/1.atom"/>'
        "<updated>2026-11-20T08:00:00Z</updated><published>2026-11-19T08:00:00+09:00</published>"
        '<summary>Kurz.</summary><content type="html">&lt;p&gt;Lang &amp;amp; '
        "ausf&#252;hrlich.&lt;/p&gt;</content><author><name>N</name><email>e@x</email></author>"
        "</entry><entry><id>relative-2</id><title>Ohne Link</title>"
        '<content type="text">Use &lt;script&gt; literally</content></entry>'
        '<entry><id>tag:x.example,2026:3</id><title type="text">Nur self</title>'
        '<link rel="self" href="/self"/><link rel="alternate" type="text/html" href="rel/alt"/>'
        "</entry>",
        head="<title>Atom &amp; Co</title><id>urn:feed</id><updated>2026-11-20T08:00:00Z</updated>"
        '<link rel="self" href="https://x.example/atom"/><author><name>Redaktion</name></author>',
        lang=' xml:lang="en"',
    ),
    "atom id is the link": atom(
        "<entry><id>https://x.example/post/1</id><title>Id as link</title></entry>"
        '<entry><link href="https://x.example/post/2"/><id>https://x.example/id/2</id>'
        "<title>Link first</title></entry>"
    ),
}

FALLBACK_FEEDS: dict[str, bytes] = {
    "xhtml atom": (DATA / "atom.xml").read_bytes(),
    "rdf": (DATA / "rdf.xml").read_bytes(),
    "rss 0.91": b'<rss version="0.91"><channel><title>Alt</title><item><title>x</title>'
    b"<link>https://x.example/</link></item></channel></rss>",
    "undefined entity": rss("<item><guid>e</guid><title>a&nbsp;b</title></item>"),
    "bozo": b'<rss version="2.0"><channel><title>B</title><item><guid>b</guid>'
    b"<title>AT&T</title></item></channel></rss>",
    "xml:base": atom(
        '<entry xml:base="https://other.example/dir/"><id>a</id><link href="x"/>'
        "<title>t</title></entry>"
    ),
    "repeated title": rss("<item><guid>r</guid><title>a</title><title>b</title></item>"),
    "media group": rss(
        "<item><guid>g</guid><media:group><media:title>Medientitel</media:title></media:group>"
        "</item>"
    ),
    "nested namespace": rss(
        '<item xmlns:x="http://x.example/"><guid>n</guid><x:y>1</x:y><title>t</title></item>'
    ),
    "dc title": rss("<item><guid>t</guid><dc:title>DC</dc:title></item>"),
    "billion laughs": (DATA / "billion_laughs.xml").read_bytes(),
}


@pytest.mark.parametrize("name", sorted(FAST_FEEDS))
def test_fast_path_feeds_match_feedparser(name: str) -> None:
    _, fast = both(FAST_FEEDS[name])
    assert fast, f"{name} should take the fast path"


@pytest.mark.parametrize("name", sorted(FALLBACK_FEEDS))
def test_unusual_feeds_fall_back_to_feedparser(name: str) -> None:
    _, fast = both(FALLBACK_FEEDS[name])
    assert not fast, f"{name} should go to feedparser"


@pytest.mark.parametrize(
    ("name", "fast"),
    [("rss2.xml", True), ("hostile.xml", True), ("latin1.xml", True), ("atom.xml", False)],
)
@pytest.mark.parametrize("content_type", [None, "application/rss+xml; charset=iso-8859-1"])
def test_fixture_feeds_match(name: str, fast: bool, content_type: str | None) -> None:
    _, taken = both((DATA / name).read_bytes(), content_type=content_type)
    assert taken is fast


def test_fast_path_passages_look_right() -> None:
    """Not only equal: the shared result is what the fixtures say it should be."""
    doc, _ = both(FAST_FEEDS["guid not permalink"])
    (entry,) = doc.passages
    assert entry.key == "a-1"
    assert entry.link == "https://feeds.example.org/relative/path?a=1&b=2"
    doc, _ = both(FAST_FEEDS["guid permalink relative"])
    assert doc.passages[0].key == "https://feeds.example.org/dir/a-1"  # feedparser resolves it
    doc, _ = both(FAST_FEEDS["html and cdata"])
    assert doc.passages[0].text == "Erster Absatz.\n\nZweiter & letzter Absatz\nmit Zeile."
    assert "alert" not in doc.passages[0].text


# Building blocks for random feeds; each is (element XML, kind) and kinds repeat as real feeds do.
_RSS_PARTS = [
    "<title>{w}</title>",
    "<title>{w} &amp;amp; {w}</title>",
    "<title><![CDATA[{w} <em>{w}</em>]]></title>",
    "<description>{s}</description>",
    "<description><![CDATA[<p>{s}</p><p>{s} <a href='/x'>{w}</a></p>]]></description>",
    "<description>&lt;p&gt;{s}&lt;/p&gt;&lt;ul&gt;&lt;li&gt;{w}&lt;/li&gt;&lt;/ul&gt;</description>",
    "<content:encoded><![CDATA[<div><h2>{w}</h2><p>{s}</p><p>{s}</p></div>]]></content:encoded>",
    "<guid>{w}-{n}</guid>",
    '<guid isPermaLink="false">{w}-{n}</guid>',
    "<guid>https://x.example/{n}</guid>",
    "<link>https://x.example/{w}/{n}</link>",
    "<link>/{w}/{n}?a=1&amp;b={n}</link>",
    '<atom:link href="https://x.example/alt/{n}"/>',
    '<atom:link rel="self" href="https://x.example/self/{n}"/>',
    "<pubDate>Fri, {d} Nov 2026 08:00:00 +0000</pubDate>",
    "<dc:date>2026-11-{d}T08:00:00Z</dc:date>",
    "<category>{w}</category>",
    "<dc:creator>{w}</dc:creator>",
    '<enclosure url="https://x.example/{n}.mp3" type="audio/mpeg"/>',
]
_ATOM_PARTS = [
    "<title>{w}</title>",
    '<title type="html">{w} &amp;lt;i&amp;gt;{w}&amp;lt;/i&amp;gt;</title>',
    "<summary>{s}</summary>",
    '<summary type="html">&lt;p&gt;{s}&lt;/p&gt;</summary>',
    '<content type="html">&lt;p&gt;{s}&lt;/p&gt;&lt;p&gt;{s}&lt;/p&gt;</content>',
    "<content>{s}</content>",
    "<id>tag:x.example,2026:{n}</id>",
    "<id>https://x.example/id/{n}</id>",
    '<link href="https://x.example/{w}/{n}"/>',
    '<link rel="alternate" type="text/html" href="/{w}/{n}"/>',
    '<link rel="enclosure" href="https://x.example/{n}.mp3"/>',
    "<updated>2026-11-{d}T08:00:00Z</updated>",
    "<published>2026-11-{d}T08:00:00+02:00</published>",
    "<author><name>{w}</name></author>",
    "<category term='{w}'/>",
]
_WORDS = ["Truppen", "Kursk", "troops", "treaty", "Grenze", "Sanktionen", "München", "Straße"]


def _random_feed(rng: random.Random) -> bytes:
    atom_feed = rng.random() < 0.4
    parts = _ATOM_PARTS if atom_feed else _RSS_PARTS
    entries = []
    for n in range(rng.randint(0, 8)):
        chosen = rng.sample(parts, rng.randint(1, 6))
        fill = {"n": n, "d": rng.randint(10, 28)}
        xml = "".join(
            p.format(
                w=rng.choice(_WORDS),
                s=" ".join(rng.choice(_WORDS) for _ in range(8)),
                **fill,
            )
            for p in chosen
        )
        entries.append(f"<entry>{xml}</entry>" if atom_feed else f"<item>{xml}</item>")
    return atom("".join(entries)) if atom_feed else rss("".join(entries))


def test_random_feeds_match_feedparser() -> None:
    rng = random.Random(20261120)
    fast_count = 0
    for _ in range(150):
        _, fast = both(_random_feed(rng))
        fast_count += fast
    # About half the random entries repeat a title, summary or id (feedparser's depth rules
    # decide which one wins): those feeds go to feedparser, the rest must be fast.
    assert fast_count >= 60
