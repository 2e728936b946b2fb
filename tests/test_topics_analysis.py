"""Text analysis, one feature at a time: folding, lemmas, compounds, hyphens, numbers, articles."""

from __future__ import annotations

import pytest

from monitor.config import TopicConfig
from monitor.topics import Matcher, analyse, compile_topics
from monitor.topics.analysis import (
    detect_language,
    fold_forms,
    normalise_number,
    tokenize,
)


def matcher(query: str, aliases: dict[str, list[str]] | None = None) -> Matcher:
    return compile_topics({"t": TopicConfig(query=query)}, aliases or {})


def hits(query: str, text: str, **kwargs: str) -> bool:
    return bool(matcher(query).match(text, **kwargs))


def keys_of(text: str, word: str) -> frozenset[str]:
    for token in analyse(text).tokens:
        if token.text == word:
            return token.keys
    raise AssertionError(f"{word!r} is not a token of {text!r}")


# --- case, Unicode, umlauts, ß ---------------------------------------------------------------


def test_case_folding() -> None:
    assert hits("sanktionen", "Neue SANKTIONEN beschlossen")
    assert hits("SANKTIONEN", "neue sanktionen")


def test_umlaut_folds_both_ways() -> None:
    assert fold_forms("Pjöngjang") == ("pjoengjang", "pjongjang")
    for spelling in ("Pjöngjang", "Pjoengjang", "Pjongjang"):
        assert hits("Pjöngjang", f"Aus {spelling} hieß es"), spelling
    assert hits("Pjoengjang", "Aus Pjöngjang hieß es")
    assert not hits("Pjoengjang", "Aus Pjongjang hieß es")  # oe need not have been an umlaut


def test_sharp_s_folds_to_ss() -> None:
    assert hits("Außenministerium", "das Aussenministerium teilte mit")
    assert hits("Aussenministerium", "das Außenministerium teilte mit")


def test_decomposed_umlaut_is_composed_first() -> None:
    decomposed = "Pjo\u0308ngjang"
    assert hits("Pjöngjang", f"Aus {decomposed} hieß es")


def test_diacritics_stripped() -> None:
    assert hits("Medvedev", "Medvédev sagte")


# --- lemmas ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("Soldat", "Tausende Soldaten wurden verlegt"),
        ("Soldaten", "ein Soldat wurde gefangen genommen"),
        ("troop", "troops were sent"),
        ("troops", "a troop was sent"),
        ("Sanktion", "die Sanktionen greifen"),
        ("deploy", "they were deployed"),
        ("Vertrag", "Artikel 4 des Vertrags"),
        ("entsenden", "Pjöngjang hat Soldaten entsandt"),
    ],
)
def test_lemmas(query: str, text: str) -> None:
    assert hits(query, text)


def test_other_language_lemma_only_for_words_the_paragraph_language_does_not_know() -> None:
    # Issue 14 point 5: English "list" read as a German verb met "gelistet" (lemma "listen"),
    # so "published in a list" next to Pyongyang looked like a sanctions listing.
    assert not hits("gelistet", "The names were published in a list.", language="en")
    assert hits("gelistet", "Die Firma wurde gelistet.", language="de")
    # A word the paragraph's language does not know keeps the other language's lemma: a German
    # report quoting English words.
    assert hits("troop", "Die Zeitung schreibt von 'North Korean troops' in Kursk.", language="de")
    assert hits("send", "Pyongyang sent soldiers.", language="en")


def test_lemma_keys_in_analysis() -> None:
    assert "soldat" in keys_of("Die Soldaten", "Soldaten")
    assert "troop" in keys_of("The troops", "troops")


# --- German compounds --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("Truppe", "Die Truppenentsendung wurde bestätigt"),  # modifier with linking -n-
        ("Entsendung", "Die Truppenentsendung wurde bestätigt"),  # head
        ("Sanktion", "Das Sanktionsregime der UN"),  # modifier with linking -s-
        ("Sanktion", "neue Russlandsanktionen"),  # head with plural ending
        ("Russland", "des Russlands"),  # inflection the lemmatiser does not know
        ("Waffenlieferung", "die Waffenlieferungen an Moskau"),
    ],
)
def test_compound_parts(query: str, text: str) -> None:
    assert hits(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("Einheit", "eine einheitliche Position"),  # a derivation, not a compound
        ("Truppe", "sie trupp en route"),  # no part at all
        ("Kursk", "der Kurs der Regierung"),  # the part is longer than the word
    ],
)
def test_compound_parts_refused(query: str, text: str) -> None:
    assert not hits(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("gelistet", "Die Artikelserie erhielt einen Journalistenpreis"),  # journa|listen|preis
        ("Tikel", "Der Zeitungsartikel erschien gestern"),  # artikel is not art + tikel
        ("Pakt", "ein Kompaktwagen aus Korea"),  # kom is no word: no compound kom|pakt
        ("sold", "Die Soldaten marschierten"),  # aten is no word: no compound sold|aten
    ],
)
def test_compound_part_must_sit_between_words(query: str, text: str) -> None:
    # Issue 14 point 5: a topic word found inside an unrelated word is no compound part.
    assert not hits(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("Embargo", "Das Waffenembargo gegen Nordkorea"),
        ("Embargo", "ein Ölembargo"),  # an umlaut on the left (folded oel|embargo)
        ("Rakete", "die Kurzstreckenraketen"),  # the left side is itself a compound
        ("Sanktion", "die Rüstungssanktionen"),  # umlaut and linking -s-
        ("Lieferung", "die Munitionslieferungen aus Nordkorea"),
        ("Beistand", "die Beistandsklausel"),  # modifier: nothing left of it to check
    ],
)
def test_true_compounds_still_match(query: str, text: str) -> None:
    assert hits(query, text)


def test_quoted_word_does_not_look_into_compounds() -> None:
    assert hits("Truppe", "die Tanztruppe trat auf")
    assert not hits('"Truppe"', "die Tanztruppe trat auf")
    assert hits('"Truppe"', "die Truppen marschierten")  # inflection still folds


def test_prefix_does_not_look_into_compounds() -> None:
    assert hits("Truppe*", "die Truppenentsendung")
    assert not hits("Truppe*", "die Friedenstruppe")


# --- hyphens -----------------------------------------------------------------------------------


def test_hyphenated_word_has_parts_and_joined_form() -> None:
    tokens = analyse("Nord-Korea droht").tokens
    kinds = [(t.text, t.kind, t.first, t.last) for t in tokens][:3]
    assert kinds == [("Nord", "word", 0, 0), ("Nordkorea", "joined", 0, 1), ("Korea", "word", 1, 1)]


@pytest.mark.parametrize("text", ["Nord-Korea droht", "Nordkorea droht", "Nord Korea droht"])
def test_hyphen_variants_in_query(text: str) -> None:
    assert hits("Nord-Korea", text)


def test_hyphen_variants_in_text() -> None:
    assert hits("Nordkorea", "Nord-Korea droht")
    assert hits('"Nord Korea"', "Nord-Korea droht")
    assert hits("Korea", "Nord-Korea droht")


def test_phrase_continues_after_hyphenated_word() -> None:
    assert hits('"Nordkorea droht"', "Nord-Korea droht")


def test_pdf_line_break_hyphen_is_removed() -> None:
    text = "nordkoreanische Sol-\n\ndaten in Russland"
    assert hits("Soldat", text)
    assert hits('"nordkoreanische Soldaten"', text)
    # A capital after the break is a real hyphenated compound.
    assert [t.text for t in analyse("Nato-\nGeneralsekretär").tokens if t.kind == "word"] == [
        "Nato",
        "Generalsekretär",
    ]


def test_english_possessive() -> None:
    assert hits('"Pyongyang troops"', "Pyongyang's troops")
    assert hits('"Russia"', "Russia’s war")


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("3.000", ("3000",)),
        ("3,000", ("3000",)),
        ("3\u202f000", ("3000",)),
        ("1.500.000", ("1500000",)),
        ("2,5", ("2.5",)),
        ("2.5", ("2.5",)),
        ("0,125", ("0.125",)),
        ("19.06.2024", ("19.06.2024", "19", "06", "2024")),
    ],
)
def test_number_normalisation(text: str, keys: tuple[str, ...]) -> None:
    assert normalise_number(text) == keys


@pytest.mark.parametrize("written", ["3.000", "3,000", "3000", "3\u00a0000"])
def test_numbers_match_with_either_separator(written: str) -> None:
    assert hits("3000", f"mindestens {written} Soldaten")
    assert hits("3.000", f"at least {written} soldiers")
    assert hits("3,000", f"at least {written} soldiers")


def test_number_followed_by_hyphen_word() -> None:
    units = tokenize("a 12,000-strong force")
    assert [u[1] for u in units] == ["a", "12,000", "strong", "force"]


# --- treaty articles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "articles"),
    [
        ("Artikel 4 des Vertrags", {"4"}),
        ("nach Art. 4 des Vertrags", {"4"}),
        ("nach Art.4", {"4"}),
        ("Article 4 of the treaty", {"4"}),
        ("Art. 4 Abs. 2 regelt", {"4", "4.2"}),
        ("Artikel 4 Absatz 2 regelt", {"4", "4.2"}),
        ("Article 4(2) says", {"4", "4.2"}),
        ("Article 4 (2) says", {"4", "4.2"}),
        ("gemäß Artikels 4", {"4"}),
        ("Articles 3 and 4", {"3", "4"}),
        ("Artikel 2, 3 und 4", {"2", "3", "4"}),
        ("Art. 3-5", {"3", "4", "5"}),
        ("Artikel 3 bis 5", {"3", "4", "5"}),
        ("die Artikel-4-Klausel", {"4"}),
        ("Article IV of the pact", {"4"}),
        ("Art. 42(7) EUV", {"42", "42.7"}),
    ],
)
def test_article_references(text: str, articles: set[str]) -> None:
    tokens = [t for t in analyse(text).tokens if t.kind == "article"]
    found = {k.removeprefix("art:") for t in tokens for k in t.keys}
    assert found == articles


@pytest.mark.parametrize(
    "text", ["eine Art Bündnis", "Artikel über die Lage", "Art and 4 artists", "4 Artikel"]
)
def test_not_article_references(text: str) -> None:
    assert not any(t.kind == "article" for t in analyse(text).tokens)


def test_abbreviation_without_dot_is_an_article() -> None:
    # "Art 4" is often written without the dot, so it counts; "Art4" (no gap) does not.
    assert any(t.kind == "article" for t in analyse("gemäß Art 4 des Vertrags").tokens)
    assert not any(t.kind == "article" for t in analyse("Art4").tokens)


def test_article_span_covers_the_reference() -> None:
    text = "Laut Art. 4 Abs. 2 gilt"
    (token,) = [t for t in analyse(text).tokens if t.kind == "article"]
    assert text[token.start : token.end] == "Art. 4 Abs. 2"


# --- language ----------------------------------------------------------------------------------


def test_language_detection() -> None:
    german = ["Die", "Truppen", "sind", "nach", "Russland", "verlegt", "worden"]
    english = ["The", "troops", "have", "been", "moved", "to", "Russia"]
    assert detect_language(german) == "de"
    assert detect_language(english) == "en"
    assert detect_language(["Kursk"]) is None
    assert analyse("Die Truppen sind da").language == "de"
    assert analyse("Die Truppen sind da", language="en").language == "en"
