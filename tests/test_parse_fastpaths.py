"""The shortcuts that cut the parse CPU per document (issue 17) give exactly what the general
code gives: each is compared with the general way on edge cases (German umlauts and ß, no-break
and zero-width spaces, bidi marks, entities, numbers, dates and times the masker handles) and on
generated text. Stored keys depend on these results byte for byte (an upgrade re-reports nothing),
so equality, not similarity, is asserted throughout."""

from __future__ import annotations

import random
import urllib.parse

import pytest
from feedparser.urls import _urljoin as feedparser_urljoin

from monitor.extract import feeds, feeds_fast

# --------------------------------------------------------------------------------------------
# URLs of feed entries: joined without parsing when urllib would give them back as they are
# --------------------------------------------------------------------------------------------

BASES = [
    "",
    "https://news.example.org/feed.xml",
    "http://news.example.org/a/b/feed?x=1",
    "https://news.example.org",
    "feed://odd.example.org/",
    "https://[::1]:8080/feed",
    "https://[broken/feed",  # urllib refuses it: every join fails
    "HTTPS://UPPER.example.org/",
]
URLS = [
    "https://news.example.org/2026/11/22/story.html",
    "http://news.example.org/story",
    "https://news.example.org",
    "https://news.example.org/",
    "https://news.example.org:8443/a?b=c&d=e#top",
    "https://news.example.org/a?",  # empty query: urllib drops the "?"
    "https://news.example.org/a#",  # empty fragment: dropped
    "https://news.example.org/a?#f",
    "https://news.example.org/a;jsessionid=1",  # path parameters
    "https://news.example.org/a;",
    "https://news.example.org/a/../b/./c",
    "HTTPS://news.example.org/upper-scheme",
    "https:///three-slashes.example.org/",
    "https://user:pw@news.example.org/",
    "https://[::1]/ipv6",
    "https://[::1/broken",
    "https://straße.example.org/umlaut-host",
    "https://news.example.org/straße",
    "https://news.example.org/a b",
    "https://news.example.org/a\tb",
    " https://news.example.org/lead-space",
    "https://news.example.org/trail-space ",
    "https://news.example.org/%C3%BC?q=%20#frag?x#y",
    "https://news.example.org/\u200bzero-width",
    "/relative/path",
    "relative",
    "?only=query",
    "#only-fragment",
    "//protocol-relative.example.org/x",
    "mailto:desk@example.org",
    "javascript:alert(1)",
    "urn:uuid:1234",
    "tag:example.org,2026:entry-1",
    "",
]


def _random_urls(n: int) -> list[str]:
    rng = random.Random(17)
    pieces = ["https://", "http://", "HTTP://", "news.example.org", "h", ":80", ":", "/", "//",
              "a", "ä", "ß", ";", ";p", "?", "?q=1", "&", "#", "#f", "%20", " ", "\t", "[", "]",
              "@", "..", ".", "~", "\u00a0", "\u200f", "&amp;", "(", ")", "'", "*", "+", ",",
              "=", "!", "$", "_", "-", "\\", "|", "^", "`", "{", "}", "<", ">", '"']  # fmt: skip
    out = []
    for _ in range(n):
        head = rng.choice(["https://news.example.org", "http://h.example", "https://", ""])
        out.append(head + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8))))
    return out


@pytest.mark.parametrize("base", BASES)
def test_join_url_is_feedparsers_join(base: str) -> None:
    for uri in [*URLS, *_random_urls(3000)]:
        assert feeds_fast.join_url(base, uri) == feedparser_urljoin(base, uri), (base, uri)


def _reference_safe_link(href: object, base: str) -> str | None:
    """`feeds._safe_link` as it was before its shortcut: urljoin, then urlsplit."""
    if not isinstance(href, str) or not href.strip():
        return None
    try:
        absolute = urllib.parse.urljoin(base, href.strip())
        parts = urllib.parse.urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return absolute


@pytest.mark.parametrize("base", BASES)
def test_safe_link_shortcut_changes_nothing(base: str) -> None:
    for href in [*URLS, *_random_urls(3000), None, 42, "   "]:
        assert feeds._safe_link(href, base) == _reference_safe_link(href, base), (base, href)


def test_plain_url_takes_only_urls_urllib_gives_back() -> None:
    assert feeds_fast.plain_url("https://news.example.org/a?b=c#d", "https://x.example/")
    for uri in ("https://news.example.org/a;b", "https://news.example.org/a?", "HTTPS://x.org/"):
        assert not feeds_fast.plain_url(uri, "https://x.example/")
    # A base urllib cannot parse makes every join fail: no shortcut then.
    assert not feeds_fast.plain_url("https://news.example.org/a", "https://[broken/")


# --------------------------------------------------------------------------------------------
# Feed values: cp1252 repair only where a C1 control is, dates parsed once per string
# --------------------------------------------------------------------------------------------


def _reference_repair(value: str) -> str:
    """`feeds_fast._repair` before its shortcut: feedparser's two steps, always."""
    import contextlib

    if value.isascii():
        return value
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        value = value.encode("iso-8859-1").decode("utf-8")
    return value.translate(feeds_fast.CP1252)


def test_c1_class_covers_the_cp1252_table() -> None:
    for code in range(0x110000):
        in_class = feeds_fast._C1_CONTROLS.fullmatch(chr(code)) is not None
        assert in_class == (0x80 <= code <= 0x9F), hex(code)
    assert all(0x80 <= code <= 0x9F for code in feeds_fast.CP1252)


@pytest.mark.parametrize(
    "value",
    [
        "Größere Truppenverbände",
        "GrÃ¶ÃŸere TruppenverbÃ¤nde",  # UTF-8 read as Latin-1
        "\x80 Euro, \x93Zitat\x94, \x96 Strich",  # cp1252 bytes as C1 controls
        "Ã¤\x80",
        "no\u00a0break, zero\u200bwidth, \u200fRTL\u200e mark, &amp; entity",
        "Пхеньян \x85",
        "",
        "ascii only",
    ],
)
def test_repair_shortcut_changes_nothing(value: str) -> None:
    assert feeds_fast._repair(value) == _reference_repair(value)


@pytest.mark.parametrize(
    "value",
    [
        "Fri, 20 Nov 2026 08:00:00 +0000",
        "2026-11-22T07:30:00+01:00",
        "Sonntag, 22. November 2026",
        "yesterday",
        "",
    ],
)
def test_remembered_dates_are_feedparsers(value: str) -> None:
    assert feeds_fast._parse_date(value) == feeds_fast.parse_date(value)
    assert feeds_fast._parse_date(value) == feeds_fast.parse_date(value)  # from the cache


# --------------------------------------------------------------------------------------------
# HTML to text: whitespace collapsed by str.split instead of a regex
# --------------------------------------------------------------------------------------------


def _reference_tidy(raw: str) -> str:
    """`text._tidy_blocks` before: each line's whitespace collapsed by the _SPACES regex."""
    from monitor.extract import text

    blocks = []
    for block in raw.split(text._BLOCK):
        lines = []
        for line in block.replace("\n", " ").split(text._LINE):
            line = text._SPACES.sub(" ", line).strip()
            if line:
                lines.append(line)
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def test_tidy_blocks_collapses_every_space_as_before() -> None:
    from monitor.extract import text

    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace() or text._SPACES.match(chr(c))]
    assert "\u00a0" in spaces and "\u3000" in spaces and "\x1c" in spaces
    rng = random.Random(5)
    words = ["Größe", "ß", "straße", "10.000", "22.11.2026", "07:30", "\u200b", "\u200f", "&amp;"]
    for _ in range(3000):
        parts = [rng.choice([*words, *spaces, text._BLOCK, text._LINE, "\n"]) for _ in range(12)]
        raw = "".join(parts)
        assert text._tidy_blocks(raw) == _reference_tidy(raw), repr(raw)


# --------------------------------------------------------------------------------------------
# Edits: one matcher per new paragraph, the cheapest bound first
# --------------------------------------------------------------------------------------------


def _reference_previous_version(text: str, removed: list[str]) -> str | None:
    """`edits.previous_version` before: a new SequenceMatcher for every pair."""
    from difflib import SequenceMatcher

    from monitor.detect.edits import EDIT_SIMILARITY

    words = text.split()
    best, best_ratio = None, EDIT_SIMILARITY
    for old in removed:
        matcher = SequenceMatcher(None, old.split(), words, autojunk=False)
        if matcher.quick_ratio() < best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio >= best_ratio:
            best, best_ratio = old, ratio
    return best


def test_previous_versions_as_before() -> None:
    from monitor.detect.edits import previous_version, previous_versions
    from monitor.models import Passage

    rng = random.Random(11)
    vocabulary = [
        "Truppen",
        "Soldaten",
        "Grenze",
        "3.000",
        "10.000",
        "Pjöngjang",
        "Größe",
        "am",
        "07:30",
        "Uhr",
        "nicht",
        "no",
    ]
    for _ in range(400):
        removed = [" ".join(rng.choices(vocabulary, k=rng.randint(0, 12))) for _ in range(6)]
        removed.append("")  # an empty paragraph: two empty texts have a ratio of 1
        base = rng.choice(removed).split()
        if base:
            base[rng.randrange(len(base))] = rng.choice(vocabulary)
        text = " ".join(base)
        expected = _reference_previous_version(text, removed)
        assert previous_version(text, removed) == expected, (text, removed)
        fresh = [Passage(key="k", text=text)]
        assert previous_versions(fresh, [text], removed) == [
            _reference_previous_version(text, [r for r in removed if r != text])
        ]


# --------------------------------------------------------------------------------------------
# Paragraph keys: folding by byte table, whitespace left as it is when already collapsed, the
# masker's digit-free patterns written out, the only-volatile test on the first tokens
# --------------------------------------------------------------------------------------------

# Besides the atoms of tests/test_extract_text.py: what the shortcuts above decide on.
_EDGE_ATOMS = [
    "Größe", "STRASSE", "Straße", "ß", "ẞ", "Ÿ", "ÿ", "µ", "À", "Þ", "×", "÷", "Æon", "ØL",
    "\xa0", "  ", "\t", "\n", " \x1c ", "\x85", "\u200b", "\u200f", "\u200e", "\u202e", "\ufeff",
    "&amp;", "&nbsp;", "&#228;", "«Zitat»", "`x`", "´", "10\xa0000", "3.000", "22.11.2026",
    "07:30 Uhr", "vor 5 Minuten", "5 minutes ago", "heute", "yesterday", "Stand:", "{v}",
    "updated on", "by the", "am", "Soldaten", "troops", "und", "the", "Kim", "Ölpreis", "ÄRA",
    "vor einer Stunde", "VOR WENIGEN TAGEN", "vor ein paar Minuten", "an hour ago", "Just now",
]  # fmt: skip


def _edge_texts(count: int = 6000) -> list[str]:
    from tests.test_extract_text import _ATOMS

    rng = random.Random(23)
    atoms = [*_ATOMS, *_EDGE_ATOMS]
    texts = []
    for _ in range(count):
        joiner = rng.choice([" ", " ", "", "  ", "\xa0"])
        text = joiner.join(rng.choice(atoms) for _ in range(rng.randint(1, 10)))
        texts.append(rng.choice(["", " ", "\t"]) + text + rng.choice(["", " "]))
    return texts


def test_latin1_fold_table_is_casefold() -> None:
    from monitor.extract.language import LATIN1_FOLD as _LATIN1_FOLD
    from monitor.extract.text import _LATIN1_OTHER_SPACES

    for code in range(256):
        folded = chr(code).casefold()
        if code in (0xB5, 0xDF):  # µ (slow path) and ß (casefolded as text)
            assert folded != chr(_LATIN1_FOLD[code])
        else:
            assert folded == chr(_LATIN1_FOLD[code]), hex(code)
        assert (code in _LATIN1_OTHER_SPACES) == (chr(code).isspace() and code != 0x20)


def test_canonical_and_language_as_the_separate_calls() -> None:
    from monitor.extract.language import detect_language_scored
    from monitor.extract.text import canonical, canonical_and_language

    for text in _edge_texts():
        assert canonical_and_language(text) == (canonical(text), *detect_language_scored(text)), (
            repr(text)
        )


def test_language_as_defined() -> None:
    from monitor.extract.language import detect_language_scored
    from tests.test_extract_text import _language_reference

    for text in [*_edge_texts(), "Maß µ", "µ", "Straße", "ÄÖÜ"]:
        assert detect_language_scored(text) == _language_reference(text), repr(text)


def test_mask_volatile_as_every_pattern_in_turn() -> None:
    from monitor.extract.text import normalise
    from monitor.volatile import mask_lowered, mask_volatile
    from tests.test_extract_text import _mask_reference

    for text in _edge_texts():
        for form in (text, normalise(text)):
            expected = _mask_reference(form)
            assert mask_volatile(form) == expected, repr(form)
            try:
                form.encode("latin-1")
            except UnicodeEncodeError:
                continue
            if form == form.lower():  # the Latin-1 way canonical_and_language calls it
                assert mask_lowered(form, form, latin1=True) == expected, repr(form)


def test_only_volatile_first_tokens_as_before() -> None:
    from monitor.extract.text import canonical
    from monitor.volatile import canonical_only_volatile
    from tests.test_extract_text import _only_volatile_reference

    texts = [*_edge_texts(), "Updated {v} by the Soldaten", "am um at on {v} uhr von by the x"]
    for text in texts:
        for canon in (canonical(text), text):
            assert canonical_only_volatile(canon) == _only_volatile_reference(canon), repr(canon)


# --------------------------------------------------------------------------------------------
# Stories: a heading over an element without links heads no list of links
# --------------------------------------------------------------------------------------------


def _reference_heads_links(heading: object) -> bool:
    """`stories._heads_links` before its shortcut."""
    from monitor.extract import stories

    nxt = heading.getnext()  # type: ignore[attr-defined]
    while nxt is not None and not isinstance(nxt.tag, str):
        nxt = nxt.getnext()
    if nxt is None or stories._tag(nxt) in stories._HEADINGS:
        return False
    text = " ".join(" ".join(nxt.itertext()).split())
    links = sum(len(" ".join(" ".join(a.itertext()).split())) for a in nxt.iter("a"))
    return bool(text) and links >= stories.LINK_SHARE * len(text)


def test_heads_links_as_before_on_every_heading() -> None:
    from pathlib import Path

    from lxml import html as lxml_html

    from monitor.extract import stories

    root = Path(__file__).resolve().parent.parent
    pages = sorted(root.glob("benchmarks/extract_eval*/**/*.html"))
    pages += sorted((root / "tests/data/extract").glob("*.html"))
    made = (
        "<h2>Mehr zum Thema</h2><ul><li><a href='/a'>Größe</a></li></ul>"
        "<h2>Leer</h2><p></p><h2>Text</h2><p>Nur Text, keine Links.</p>"
        "<h2>Link allein</h2><a href='/x'>Straße</a><h2>Gemischt</h2><p>Ein <a>Link</a> im "
        "langen Text, der weit mehr Wörter hat als der Link.</p><h3>Ende</h3><!-- c -->"
    )
    trees = [lxml_html.fromstring(p.read_bytes()) for p in pages]
    trees.append(lxml_html.fromstring(f"<html><body>{made}</body></html>"))
    checked = 0
    for tree in trees:
        for heading in tree.iter("h1", "h2", "h3", "h4", "h5", "h6"):
            assert stories._heads_links(heading) == _reference_heads_links(heading)
            checked += 1
    assert checked > 400
