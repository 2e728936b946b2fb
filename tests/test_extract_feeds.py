"""parse_feed: RSS 2.0, Atom, RDF, hostile entries, entity bombs, charsets and broken feeds."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.extract import ExtractError, parse_feed

DATA = Path(__file__).resolve().parent / "data" / "extract"
FEED_URL = "https://feeds.example.org/dir/feed.xml"


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_rss2_entries_become_clean_passages() -> None:
    doc = parse_feed(load("rss2.xml"), FEED_URL, "application/rss+xml; charset=utf-8")
    assert doc.kind == "feed"
    assert doc.title == "Nachrichten – Ausland"
    assert doc.language == "de"
    assert doc.published == datetime(2026, 11, 22, 6, 30, tzinfo=UTC)
    first, second, third = doc.passages

    assert first.key == "nachrichten-ausland-nordkorea-kursk-101"  # the guid
    assert first.title == "Nordkoreanische Soldaten in Kursk eingetroffen"
    assert first.link == "https://nachrichten.example.org/ausland/nordkorea-kursk-101.html"
    assert first.published == datetime(2026, 11, 22, 6, 30, tzinfo=UTC)
    assert first.published.tzinfo is UTC
    # content:encoded wins over the shorter description; markup, script and style are gone.
    assert first.text == (
        "Nach Angaben südkoreanischer Geheimdienste sind mehrere Tausend nordkoreanische "
        "Soldaten in der Region Kursk eingetroffen.\n\nDas Verteidigungsministerium in Seoul "
        "sprach von einer „neuen Stufe“ der Zusammenarbeit zwischen Pjöngjang und Moskau."
    )
    assert first.language == "de"

    # No guid: the link is the key; a relative link is resolved against the feed URL.
    assert second.key == second.link == "https://feeds.example.org/ausland/kreml-dementi-103.html"
    assert second.text == (
        "Der Kreml hat Berichte über den Einsatz nordkoreanischer Truppen als „Provokation“ "
        "bezeichnet."
    )

    # Neither guid nor link: sha256 of title and text.
    expected = hashlib.sha256(
        b"Neue Sanktionen gegen Nordkorea\nDie EU bereitet ein weiteres Sanktionspaket vor."
    ).hexdigest()
    assert third.key == expected
    assert third.link is None
    assert third.published == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def test_atom_xhtml_html_and_text_constructs() -> None:
    doc = parse_feed(load("atom.xml"), "https://peninsula.example.org/feed.atom")
    assert doc.title == "Peninsula Monitor"
    assert doc.language == "en"
    rich, plain = doc.passages
    assert rich.key == "tag:peninsula.example.org,2026:post-4411"
    assert rich.title == "Satellite images show new activity at Rason port"
    assert rich.link == "https://peninsula.example.org/2026/11/rason-port-activity"
    assert rich.published == datetime(2026, 11, 21, 20, 15, tzinfo=UTC)  # 05:15 +09:00
    assert rich.text.startswith("Commercial satellite images taken on 20 November")
    assert "arms transfers to Russia." in rich.text
    assert "Short teaser" not in rich.text

    # type="text" is literal text: "<script>" and "<tag>" are characters, not markup.
    assert plain.title == "Plain text entry with a literal <tag>"
    assert plain.text == "Use the operator <script> carefully; 3 < 4 and AT&T are text here."


def test_rdf_feed() -> None:
    doc = parse_feed(load("rdf.xml"), "https://archiv.example.org/rss", "application/rdf+xml")
    assert doc.title == "Archiv Sicherheitspolitik"
    assert [p.link for p in doc.passages] == [
        "https://archiv.example.org/analyse/42",
        "https://archiv.example.org/analyse/41",
    ]
    assert doc.passages[0].published == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert doc.passages[1].text == "Nordkorea soll Millionen Artilleriegeschosse geliefert haben."


def test_hostile_entries_lose_scripts_and_unsafe_links() -> None:
    doc = parse_feed(load("hostile.xml"), FEED_URL, "text/xml")
    by_key = {p.key: p for p in doc.passages}
    assert set(by_key) == {"hostile-1", "hostile-2", "hostile-3", "hostile-4"}

    assert by_key["hostile-1"].text == "Harmless looking text."
    assert by_key["hostile-1"].link is None  # javascript:
    assert by_key["hostile-2"].link is None  # "  JaVaScRiPt:" with spaces and mixed case
    assert by_key["hostile-3"].link is None  # data:
    assert by_key["hostile-3"].text == "Visible text only."
    assert by_key["hostile-4"].link == "https://feeds.example.org/news/relative-item"

    # Escaped markup inside the HTML is text and stays text, decoded exactly once.
    assert by_key["hostile-2"].text == (
        'The article quotes the string <script>alert(1)</script> and <a href="https://evil.example">'
        "a link</a> as examples."
    )
    everything = " ".join(f"{p.title} {p.text}" for p in doc.passages)
    for leaked in ("document.cookie", "steal", "evil.example/frame", "display:none"):
        assert leaked not in everything
    assert doc.title == "Hostile feed"


def test_billion_laughs_is_not_expanded() -> None:
    started = time.perf_counter()
    doc = parse_feed(load("billion_laughs.xml"), "https://laughs.example.org/rss")
    assert time.perf_counter() - started < 2.0
    (entry,) = doc.passages
    assert entry.key == "laugh-1"
    assert "lollol" not in entry.text + (entry.title or "")
    assert len(entry.text) < 200
    assert "root:" not in entry.text  # the SYSTEM entity was never resolved
    assert any("not well-formed" in w for w in doc.warnings)


def test_quadratic_blowup_is_not_expanded() -> None:
    # One 100 kB entity referenced 20,000 times would expand to 2 GB.
    body = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "' + "A" * 100_000 + '">]>\n'
        '<rss version="2.0"><channel><title>Q</title><item><guid>q1</guid><title>q</title>'
        "<description>" + "&a;" * 20_000 + "</description></item></channel></rss>"
    ).encode()
    started = time.perf_counter()
    doc = parse_feed(body, "https://blowup.example.org/rss")
    assert time.perf_counter() - started < 2.0
    assert "AAAA" not in doc.passages[0].text
    assert len(doc.passages[0].text) < len(body)


def test_doctype_inside_cdata_is_left_alone() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>C</title><item><guid>c</guid>'
        b"<description><![CDATA[<p>Der Text bleibt &lt;!DOCTYPE&gt; erhalten.</p>]]></description>"
        b"</item></channel></rss>"
    )
    doc = parse_feed(body, FEED_URL)
    assert doc.passages[0].text == "Der Text bleibt <!DOCTYPE> erhalten."
    assert doc.warnings == []


@pytest.mark.parametrize(
    "content_type",
    [
        "application/rss+xml; charset=utf-8",  # wrong header, right XML declaration
        "application/rss+xml; charset=iso-8859-1",
        "text/xml",  # RFC 3023 would say us-ascii
        None,
    ],
)
def test_windows_1252_feed_decodes_whatever_the_header_says(content_type: str | None) -> None:
    doc = parse_feed(load("latin1.xml"), FEED_URL, content_type)
    assert doc.title == "Grüße aus Köln"
    (entry,) = doc.passages
    assert entry.title == "Äußerungen zur „Truppenentsendung“ – Überblick"
    assert entry.text == "Der Außenminister äußerte sich über die Lage in Südkorea; Preis: 5 €."


def test_utf8_feed_labelled_latin1_decodes_as_utf8() -> None:
    body = (
        '<rss version="2.0"><channel><title>Grüße</title><item><guid>u1</guid>'
        "<title>Südkorea prüft Waffenlieferungen</title><description>Präsident äußert "
        "sich.</description></item></channel></rss>"
    ).encode()
    doc = parse_feed(body, FEED_URL, "application/rss+xml; charset=ISO-8859-1")
    assert doc.title == "Grüße"
    assert doc.passages[0].title == "Südkorea prüft Waffenlieferungen"
    assert doc.passages[0].text == "Präsident äußert sich."
    assert any("charset" in w for w in doc.warnings)


def test_latin1_bytes_with_utf8_declaration_fall_back() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Köln</title>'
        "<item><guid>l1</guid><title>Straße</title><description>Öl</description></item>"
        "</channel></rss>"
    ).encode("latin-1")
    doc = parse_feed(body, FEED_URL, "application/rss+xml")
    assert doc.title == "Köln"
    assert doc.passages[0].title == "Straße"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ((DATA / "error_page.html").read_bytes(), "HTML page"),
        (b"", "empty body"),
        (b"   \n ", "empty body"),
        (b"Internal Server Error", "not XML"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "JSON"),
        (b"<?xml version='1.0'?><catalog><book id='1'/></catalog>", "root element <catalog>"),
        (b"/etc/passwd", "not XML"),  # feedparser would open a path given as a string
        (b"https://127.0.0.1:9/feed.xml", "not XML"),  # ... or fetch a URL
    ],
)
def test_broken_feeds_raise_one_clear_line(body: bytes, reason: str) -> None:
    with pytest.raises(ExtractError) as caught:
        parse_feed(body, FEED_URL, "text/html" if b"<html" in body.lower() else None)
    message = str(caught.value)
    assert message.startswith("not a feed: ")
    assert reason in message
    assert "\n" not in message


def test_html_error_page_names_its_title() -> None:
    with pytest.raises(ExtractError, match=r"503 Service Temporarily Unavailable"):
        parse_feed(load("error_page.html"), FEED_URL, "text/html; charset=utf-8")


def test_bozo_feed_with_entries_is_kept_with_a_warning() -> None:
    body = (
        b'<rss version="2.0"><channel><title>Lenient</title>'
        b'<item><guid isPermaLink="false">b1</guid>'
        b"<title>AT&T and Samsung</title><description>Unescaped & ampersand &nbsp; here"
        b"</description></item></channel></rss>"
    )
    doc = parse_feed(body, FEED_URL)
    assert [p.key for p in doc.passages] == ["b1"]
    assert "ampersand" in doc.passages[0].text
    assert any("not well-formed" in w for w in doc.warnings)


def test_truncated_feed_without_usable_entries_is_an_error() -> None:
    with pytest.raises(ExtractError, match=r"^not a feed: "):
        parse_feed(b"<rss><channel><item><title>x</ti", FEED_URL)


def test_feed_without_entries_is_an_empty_document() -> None:
    body = b'<rss version="2.0"><channel><title>Leer</title></channel></rss>'
    doc = parse_feed(body, FEED_URL)
    assert doc.title == "Leer"
    assert doc.passages == []


def _many_items(count: int) -> bytes:
    """An RSS feed of ``count`` items, published one day apart, in no particular order."""
    items = []
    for i in range(count):
        day = (i * 7919) % count  # a permutation, so feed order is not date order
        published = datetime.fromtimestamp(1_767_225_600 + day * 86400, tz=UTC)
        items.append(
            f"<item><guid>n{i}</guid><title>Meldung {i}</title>"
            f"<pubDate>{published.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        )
    return (
        f'<rss version="2.0"><channel><title>Viel</title>{"".join(items)}</channel></rss>'.encode()
    )


def test_items_are_capped_keeping_the_newest() -> None:
    doc = parse_feed(_many_items(300), FEED_URL, max_items=200)
    assert len(doc.passages) == 200
    assert any("300 entries" in w for w in doc.warnings)
    kept = {p.published for p in doc.passages}
    dropped_newest = max(
        p.published
        for p in parse_feed(_many_items(300), FEED_URL, max_items=300).passages
        if p.published not in kept
    )
    assert min(kept) >= dropped_newest  # nothing newer than a kept entry was dropped


def test_oversized_body_is_refused_before_parsing() -> None:
    with pytest.raises(ExtractError, match="feed too large"):
        parse_feed(load("rss2.xml"), FEED_URL, max_bytes=1000)


def test_duplicate_ids_are_skipped() -> None:
    body = (
        b'<rss version="2.0"><channel><title>D</title>'
        b"<item><guid>same</guid><title>Eins</title></item>"
        b"<item><guid>same</guid><title>Zwei</title></item></channel></rss>"
    )
    doc = parse_feed(body, FEED_URL)
    assert [p.title for p in doc.passages] == ["Eins"]
    assert doc.passages[0].text == "Eins"  # a headline-only entry is matched on its title
    assert any("repeated" in w for w in doc.warnings)


@pytest.mark.parametrize("name", ["rss2.xml", "atom.xml", "rdf.xml", "hostile.xml", "latin1.xml"])
def test_record_only_gives_the_same_entries_without_languages(name: str) -> None:
    """A baseline poll parses with record_only: the same keys, texts and links (what is stored
    and compared later), no languages (which only matching uses)."""
    full = parse_feed(load(name), FEED_URL)
    lean = parse_feed(load(name), FEED_URL, record_only=True)
    assert full.passages
    assert [(p.key, p.text, p.title, p.link, p.published) for p in lean.passages] == [
        (p.key, p.text, p.title, p.link, p.published) for p in full.passages
    ]
    assert all(p.language is None for p in lean.passages)
    assert lean.warnings == full.warnings
