"""Text helpers: HTML to text, normalisation, masking, fingerprints, PDF repair, language."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from monitor.extract import (
    dehyphenate,
    detect_language,
    fingerprint,
    html_to_text,
    normalise,
    split_paragraphs,
)
from monitor.volatile import mask_volatile

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


# --- html_to_text ---------------------------------------------------------------------------


def test_html_to_text_drops_code_and_keeps_paragraphs() -> None:
    html = (
        "<div><p>Erster&nbsp;Absatz mit <b>fett</b>.</p><script>steal()</script>"
        "<style>p{color:red}</style><ul><li>Punkt eins</li><li>Punkt<br>zwei</li></ul></div>"
    )
    text = html_to_text(html)
    assert text == "Erster Absatz mit fett.\n\nPunkt eins\n\nPunkt\nzwei"


def test_html_to_text_decodes_entities_exactly_once() -> None:
    # An escaped tag in the source is text: it must come out as "<script>", never be run as a tag
    # (dropped like a script) and never be decoded a second time.
    html = "<p>Quote: &lt;script&gt;alert(1)&lt;/script&gt; and &amp;lt;b&amp;gt;</p>"
    assert html_to_text(html) == "Quote: <script>alert(1)</script> and &lt;b&gt;"


def test_html_to_text_removes_invisible_characters_and_comments() -> None:
    html = (
        "<p>Truppen\u00adentsendung<!-- hidden comment -->\u200b jetzt</p><p hidden>versteckt</p>"
    )
    assert html_to_text(html) == "Truppenentsendung jetzt"


@pytest.mark.parametrize("html", ["", "   ", "<p></p>", "<!-- nur ein Kommentar -->"])
def test_html_to_text_empty(html: str) -> None:
    assert html_to_text(html) == ""


def test_html_to_text_survives_deep_nesting() -> None:
    html = "<div>" * 5000 + "tief" + "</div>" * 5000
    assert "tief" in html_to_text(html)


# --- normalise ------------------------------------------------------------------------------


def test_normalise_unifies_case_width_quotes_dashes_and_space() -> None:
    a = normalise("„STRASSE“ – ﬁnal\u00a0Ｔｅｓｔ\u200b   Truppen\u00adentsendung")
    b = normalise('"straße" - final test truppenentsendung')
    assert a == b == '"strasse" - final test truppenentsendung'


def test_normalise_keeps_umlauts() -> None:
    assert normalise("Südkorea ÄUSSERT sich") == "südkorea äussert sich"


# --- mask_volatile / fingerprint ------------------------------------------------------------

VOLATILE = [
    "22.11.2026",
    "22. November 2026",
    "Nov 22, 2026",
    "2026-11-22",
    "2026-11-22T07:30:00+01:00",
    "Sunday, November 22nd 2026",
    "07:30",
    "7.30 Uhr",
    "7:30 pm",
    "07:30 Uhr MEZ",
    "updated 5 minutes ago",
    "an hour ago",
    "vor 3 Stunden",
    "aktualisiert am 22.11.2026",
    "Stand: 22.11.2026, 07:30 Uhr",
    "Updated yesterday",
    "heute, 07:30 Uhr",
    "1,234 comments",
    "12 Kommentare",
    "345 shares",
    "Views: 1.2k",
    "Kommentare (12)",
    "1.204 mal geteilt",
]


@pytest.mark.parametrize("text", VOLATILE)
def test_mask_volatile_masks_timestamps_and_counters(text: str) -> None:
    masked = mask_volatile(normalise(text))
    assert not re.search(r"\d", masked), masked
    assert "{v}" in masked


CONTENT = [
    "3,000 troops",
    "10.000 Soldaten",
    "1.000.000 Menschen",
    "im Juni 2024",
    "Artikel 4",
    "Resolution ES-11/1",
    "rund 2 Millionen Artilleriegeschosse",
    "am 23. Oktober",
    "11.000 Container",
]


@pytest.mark.parametrize("text", CONTENT)
def test_mask_volatile_keeps_content_figures(text: str) -> None:
    assert mask_volatile(normalise(text)) == normalise(text)


def test_fingerprint_ignores_volatile_changes() -> None:
    text = "Aktualisiert am 22. November 2026, {}: Rund 3.000 Soldaten sind in Kursk. {} Kommentare"
    before = text.format("07:30 Uhr", 12)
    after = text.format("9.05 Uhr", 57)
    assert fingerprint(before) == fingerprint(after)
    assert re.fullmatch(r"[0-9a-f]{32}", fingerprint(before))


def test_fingerprint_changes_when_a_figure_is_edited() -> None:
    before = "Officials said about 3,000 troops had arrived by late October. Updated 5 minutes ago"
    after = "Officials said about 10,000 troops had arrived by late October. Updated 2 hours ago"
    assert fingerprint(before) != fingerprint(after)
    assert fingerprint(before.replace("3,000", "3.000")) != fingerprint(before)


def test_fingerprint_ignores_case_whitespace_and_soft_hyphens() -> None:
    assert fingerprint("Die  Truppen\u00adentsendung.") == fingerprint("die truppenentsendung.")


def test_fingerprint_applies_ignore_patterns() -> None:
    ignore = [re.compile(r"Anzeige:[^.]*\."), re.compile(r"Wetter in Köln: \S+")]
    a = "Der Kreml schweigt. Anzeige: Jetzt Abo sichern. Wetter in Köln: 7°C"
    b = "Der Kreml schweigt. Anzeige: Sparen Sie 50 Prozent. Wetter in Köln: 9°C"
    assert fingerprint(a, ignore) == fingerprint(b, ignore)
    assert fingerprint(a) != fingerprint(b)


def test_mask_volatile_is_linear_on_hostile_input() -> None:
    started = time.perf_counter()
    for text in ["1" * 20000, "1, " * 8000, "vor " * 5000, "{v} " * 5000 + "x", "a " * 10000]:
        mask_volatile(text)
    assert time.perf_counter() - started < 2.0


# --- dehyphenate / split_paragraphs ---------------------------------------------------------


def test_dehyphenate_joins_syllable_breaks_and_keeps_compounds() -> None:
    text = (
        "Nordkoreas Entscheidung zur Truppen-\n\nentsendung scheint von mehre-\n\nren Motiven "
        "geleitet. Die rus-\nsisch-nordkoreanische Kooperation und die Nordkorea-\nRussland-"
        "Kooperation, die Sicherheits-\nund Verteidigungspartnerschaft mit Süd-\nkorea."
    )
    assert dehyphenate(text) == (
        "Nordkoreas Entscheidung zur Truppenentsendung scheint von mehreren Motiven geleitet. "
        "Die russisch-nordkoreanische Kooperation und die Nordkorea-Russland-Kooperation, die "
        "Sicherheits- und Verteidigungspartnerschaft mit Südkorea."
    )


def test_dehyphenate_rejoins_wrapped_lines_into_paragraphs() -> None:
    text = (
        "Am 23.\n\nOktober bestätigten die USA die Anwesen-\n\nheit von Soldaten in "
        "Russ-\n\nland.\n\nEinige zentrale Fragen bleiben\n\nvorerst offen.\n"
    )
    assert dehyphenate(text).split("\n\n") == [
        "Am 23. Oktober bestätigten die USA die Anwesenheit von Soldaten in Russland.",
        "Einige zentrale Fragen bleiben vorerst offen.",
    ]


def test_dehyphenate_moves_link_lists_and_rejoins_wrapped_urls() -> None:
    text = (
        "Diese kennzeichnet sich durch die (zumindest vorüber-\n"
        "https://edition.cnn.com/2024/10/29/politics/north-korean-troops-ukraine\n"
        "https://www.swp-berlin.org/publikation/wie-russland-fuer-einen-langen-krieg-rekrutiert\n"
        " gehende) Aufgabe des Ziels.\n\nQuelle: https://www.example.org/analyse/nord-\n"
        "korea-truppen abgerufen.\n"
    )
    assert dehyphenate(text).split("\n\n") == [
        "Diese kennzeichnet sich durch die (zumindest vorübergehende) Aufgabe des Ziels.",
        "https://edition.cnn.com/2024/10/29/politics/north-korean-troops-ukraine\n"
        "https://www.swp-berlin.org/publikation/wie-russland-fuer-einen-langen-krieg-rekrutiert",
        # A URL is broken at one of its own hyphens, never hyphenated: the hyphen stays.
        "Quelle: https://www.example.org/analyse/nord-korea-truppen abgerufen.",
    ]


def test_dehyphenate_seed_document() -> None:
    raw = (SEEDS / "000_ad56a14a3258c6de.txt").read_text(encoding="utf-8")
    assert "Truppen-\n\nentsendung" in raw
    text = dehyphenate(raw)
    assert "Nordkoreas Entscheidung zur Truppenentsendung scheint von mehreren Motiven" in text
    assert "Nordkorea-Russland-Kooperation" in text
    assert "Sicherheits- und Verteidigungspartnerschaft" in text
    assert "russisch-nordkoreanischen Verteidigungskooperation" in text
    assert not re.search(r"[a-zäöü]-\n", text)


def test_split_paragraphs() -> None:
    wrapped = (
        "Ein hart umbrochener Absatz, wie ihn E-Mail-Programme\n"
        "bei 60 Zeichen erzeugen, geht hier in der nächsten\n"
        "Zeile weiter\n\nZweiter   Absatz.\n"
    )
    assert split_paragraphs(wrapped) == [
        "Ein hart umbrochener Absatz, wie ihn E-Mail-Programme bei 60 Zeichen erzeugen, geht "
        "hier in der nächsten Zeile weiter",
        "Zweiter Absatz.",
    ]
    one_per_line = (
        "Überschrift ohne Punkt\n" + "Ein langer Absatz, der eine ganze Zeile füllt. " * 3
    )
    assert len(split_paragraphs(one_per_line)) == 2
    assert split_paragraphs(" \n\n ") == []


# --- detect_language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nordkorea hat Soldaten nach Russland geschickt.", "de"),
        ("Die Truppen sind in der Region Kursk eingetroffen.", "de"),
        ("Kim Jong Un besucht Moskau", "de"),
        ("North Korea has sent troops to Russia.", "en"),
        ("The war in Ukraine enters a new phase", "en"),
        ("Pyongyang says the treaty was ratified by its assembly", "en"),
        ("Le président a annoncé que les troupes sont arrivées.", "other"),
        ("Путин встретился с Ким Чен Ыном.", "other"),
        ("", "other"),
        ("12345 !!!", "other"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_detect_language_is_fast_on_sentences() -> None:
    sentences = [
        "Der Kreml hat die Berichte über nordkoreanische Soldaten zurückgewiesen.",
        "South Korea said it would review all options in response to the deployment.",
    ]
    detect_language(sentences[0])
    started = time.perf_counter()
    for _ in range(1000):
        for sentence in sentences:
            detect_language(sentence)
    assert time.perf_counter() - started < 1.0


def test_format_character_class_matches_unicodedata() -> None:
    """The range class used by normalise() holds every Cf character and otherwise only code
    points this Python's Unicode version leaves unassigned (newer versions made them Cf)."""
    import sys
    import unicodedata

    from monitor.extract.text import _FORMAT_CHARS

    for code in range(sys.maxunicode + 1):
        ch = chr(code)
        category = unicodedata.category(ch)
        if category == "Cf":
            assert _FORMAT_CHARS.match(ch), hex(code)
        elif _FORMAT_CHARS.match(ch):
            assert category == "Cn", hex(code)


# --- fast paths give what the plain definitions give ----------------------------------------

_ATOMS = [
    "Updated", "updated on", "5 minutes ago", "vor 3 Stunden", "22.11.2026", "22. November 2026",
    "Nov 22, 2026", "07:30", "7.30 Uhr", "7 pm", "7am", "2026-11-22T07:30:00Z", "11/22/2026",
    "1,204 comments", "Kommentare: 12", "heute", "gestern, 07:30", "today at 7:30 pm", "just now",
    "gerade eben", "{v}", "{V}", "JUST NOW", "İstanbul", "ı", "ſ", "juſt now", "Stand:",
    "Aktualisiert am", "by the", "von", "Soldaten", "troops", "the", "und", "für", "über",
    "Straße", "ẞ", "µ", "½", "²", "\xad", "ﬁ", "٣", "３", "Mon.,", "Sonntag,", "3rd of March 2026",
    "·", "|", ",", ".", "-", "—", "„", "“", "`", "´", "«x»", "at", "um", "on", "Nov. 22 07:30",
    "22 Nov 2026", "MÄRZ", "mrz", "Dez.", "\u212a", "a few hours ago", "10.000", "3,000", "45",
    "2026", "Uhr", "PM", "A.M.", "views", "shares 12", "Leser", "12 Tsd. Aufrufe", "yesterday",
    "vorgestern", "standheute", "10\xa0000 Soldaten", "Nr.\xa05", "ª", "¹", "¼",
]  # fmt: skip


def _fuzz(count: int = 4000) -> list[str]:
    import random

    rng = random.Random(5)
    return [
        rng.choice([" ", "", "\n"]).join(rng.choice(_ATOMS) for _ in range(rng.randint(1, 8)))
        for _ in range(count)
    ]


def _mask_reference(text: str) -> str:
    """mask_volatile as defined: every pattern in turn (the digit-free ones without a digit)."""
    from monitor import volatile as t

    patterns = (*t._VOLATILE, *t._COUNTERS) if re.search(r"\d", text) else t._VOLATILE[-3:]
    for pattern in (*patterns, t._DAY_BEFORE_STAMP, t._STAMP, t._RUN):
        text = pattern.sub("{v}", text)
    return text


def _language_reference(text: str) -> tuple[str, bool]:
    """detect_language_scored as defined, finding words with the word pattern."""
    import simplemma

    from monitor.extract import language as t

    sample = text[:5000]
    words = [w.casefold() for w in t._WORD.findall(sample)]
    if not words:
        return "other", False
    de = sum(w in t._DE_WORDS for w in words) + bool(re.search(r"[äöüß]", sample, re.I))
    en = sum(w in t._EN_WORDS for w in words)
    best, hits, other = ("de", de, en) if de > en else ("en", en, de)
    if hits and hits >= 2 * other + 1 and hits / len(words) >= 0.06:
        return best, hits >= 2 or len(words) <= 6
    if len(words) >= 2:
        scores = dict(simplemma.langdetect(" ".join(words[:200]), lang=("de", "en")))
        de_s, en_s = scores.get("de", 0.0), scores.get("en", 0.0)
        if max(de_s, en_s) >= 0.5 and abs(de_s - en_s) >= 0.25:
            return ("de" if de_s > en_s else "en"), False
    return "other", False


def _only_volatile_reference(canon: str) -> bool:
    from monitor import volatile as t

    return not t._LETTERS.search(t._STAMP_ONLY.sub(" ", canon.replace("{v}", " ")))


def test_mask_volatile_prechecks_change_nothing() -> None:
    for text in _fuzz():
        for form in (text, normalise(text)):
            assert mask_volatile(form) == _mask_reference(form), repr(form)


def test_only_volatile_shortcut_changes_nothing() -> None:
    from monitor.extract.text import canonical
    from monitor.volatile import canonical_only_volatile

    for text in [*_fuzz(), "Updated {v} by the", "Stand: {v} Uhr", "édited {v}", "Éthe {v}"]:
        canon = canonical(text)
        assert canonical_only_volatile(canon) == _only_volatile_reference(canon), repr(text)


def test_language_fast_paths_change_nothing() -> None:
    from monitor.extract.language import detect_language_scored

    texts = [*_fuzz(), "Der Außenminister äußerte sich", "ÄRGER über Öl", "Maß", "µ und ß"]
    for text in texts:
        assert detect_language_scored(text) == _language_reference(text), repr(text)


def test_latin1_words_fold_like_the_word_pattern() -> None:
    """Casefolding keeps every Latin-1 word character a word character and leaves the others
    alone, so folding before or after finding the words gives the same words."""
    from monitor.extract.language import _WORD
    from monitor.extract.language import LATIN1_WORD_BYTES as _LATIN1_WORD_BYTES

    for code in range(256):
        char = chr(code)
        is_word = bool(_WORD.fullmatch(char))
        assert _LATIN1_WORD_BYTES[code] == (code if is_word else 0x20)
        folded = char.casefold()
        if is_word:
            assert all(_WORD.fullmatch(c) for c in folded), hex(code)
        else:
            assert folded == char, hex(code)


def test_plain_latin1_text_folds_to_plain_latin1_text() -> None:
    """Latin-1 text without the characters NFKC changes (bar the no-break space) and without
    the soft hyphen casefolds to such text, so NFKC leaves both forms alone."""
    import unicodedata

    from monitor.extract.text import _LATIN1_SLOW

    plain = [chr(code) for code in range(256) if code not in _LATIN1_SLOW]
    for char in plain:
        folded = char.casefold()
        assert all(c in plain for c in folded), hex(ord(char))
        if char != "\xa0":
            assert unicodedata.normalize("NFKC", char) == char, hex(ord(char))


def test_canonical_and_language_matches_the_separate_calls() -> None:
    from monitor.extract.language import detect_language_scored
    from monitor.extract.text import canonical, canonical_and_language

    texts = [*_fuzz(), "Die «Truppen» `x´", "Ａｒｔｉｋｅｌ", "x" * 6000 + " ö"]
    for text in texts:
        assert canonical_and_language(text) == (canonical(text), *detect_language_scored(text))


def test_normalise_latin1_quotes_and_soft_hyphen() -> None:
    assert normalise("«Köln» `Bonn´ Trup\xadpen") == '"köln" \'bonn ́ truppen'
    assert normalise("`Bonn`") == "'bonn'"
