"""The raw-text prefilter: the fold it relies on, its soundness on varied text, and skipping."""

from __future__ import annotations

import importlib.util
import json
import pickle
import re
import sys
import unicodedata
from pathlib import Path
from types import ModuleType

import pytest

from monitor import wiring
from monitor.config import TopicConfig
from monitor.topics import Matcher, compile_topics
from monitor.topics.analysis import _UMLAUT_DIGRAPHS, fold_chars, fold_text, strip_marks
from monitor.topics.prefilter import Prefilter, spellings, stem

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "benchmarks" / "topics_eval"

FOOTBALL = (
    "Der SC Freiburg gewinnt das Heimspiel gegen Mainz 05 mit 2:1. Vor 34.700 Zuschauern traf "
    "Grifo in der 78. Minute per Foulelfmeter, der Trainer lobte die Abwehr."
)
WEATHER = "Forecasters expect highs of 24 degrees in Leeds on Saturday, with showers later."

# Queries that exercise every kind of feature, with aliases in the style of config.toml.
ALIASES = {
    "north_korea": ["North Korea*", "Nordkorea*", "nordkoreanisch*", "DPRK", "Pjöngjang*"],
    "russia": ["Russia*", "Russland*", "russisch*", "Moskau", "Moscow", "Kreml"],
}
TRICKY = {
    "suffix": "*krieg OR *sanktionen",
    "single": "Pj?ngjang OR advis?rs",
    "prefix": "nordkorea* AND (soldat* OR truppe*)",
    "lemmas": "Soldat OR troop OR entsenden OR fight OR liefern OR Kampf OR Vertrag",
    "compound": "Truppe AND Entsendung",
    "article": "art:4 AND (Vertrag OR treaty)",
    "article_any": "art:* NEAR/6 (Vertrag OR treaty OR Charta)",
    "subarticle": "art:4.2 OR art:51",
    "numbers": '3000 OR 1718 OR "3.000 Soldaten" OR 2,5',
    "hyphen": 'Nord-Korea OR "North Korea"',
    "near": "(Kim NEAR/5 Putin) OR (Schoigu NEAR/3 Pjöngjang)",
    "title": 'title:(Nordkorea OR "North Korea") AND (Russland OR Russia)',
    "exclusion": "(Russland OR Russia) AND NOT Ukraine",
    "language": "lang:de AND Sanktionen",
    "digraphs": "Pjoengjang OR Buendnis OR Massnahmen OR Strassen",
    "umlauts": "Bündnis OR Verträge OR Kämpfe OR Maßnahmen OR Außenministerium",
    "english": "sanctions AND (deliveries OR delivered OR supply)",
    "aliases": "@north_korea AND @russia",
    "short": "EU OR UN OR KPA",
    "boost": "(Nordkorea^2 OR DPRK) AND Russland",
    "slop": '"Truppen entsandt"~3 OR "troops sent"~2',
    "verbs": "entsandt OR geschickt OR deploy OR gesandt",
}


def _module(name: str) -> ModuleType:
    path = ROOT / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _configs() -> dict[str, tuple[dict[str, TopicConfig], dict[str, list[str]]]]:
    config = wiring.load(ROOT / "config.toml")
    bench = _module("bench_match")
    tricky = {name: TopicConfig(query=query) for name, query in TRICKY.items()}
    return {
        "shipped": (dict(config.topics), dict(config.aliases)),
        "bench100": bench.build_topics(str(ROOT / "config.toml"), 100),
        "tricky": (tricky, ALIASES),
    }


# --- the fold ----------------------------------------------------------------------------------


def _drop_e(text: str) -> str:
    return re.sub("(?<=[aou])e", "", text)


def test_fold_is_a_per_character_map_that_keeps_the_analysis_folds() -> None:
    """What the soundness argument needs of `fold_chars`, checked for every BMP character.

    - it is stable (folding twice changes nothing);
    - the analysis' base fold (ä→a) and `lower` fold to the same;
    - the analysis' digraph fold (ä→ae) folds to the same once such an e is left out;
    - decimal digits stay digits (the digit separators are removed between digits).
    """
    failures = []
    for code in range(0x10000):
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        folded = fold_chars(char)
        lower = char.casefold()
        base = fold_chars(strip_marks(lower))
        digraph = fold_chars(strip_marks(lower.translate(_UMLAUT_DIGRAPHS)))
        stable = fold_chars(folded) == folded and fold_chars(char.lower()) == folded
        umlauts = digraph == folded or _drop_e(digraph) == _drop_e(folded)
        digits = not char.isdecimal() or (folded and folded.isdecimal())
        if not (stable and base == folded and umlauts and digits):
            failures.append(char)
    assert failures == []


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Pjöngjang", "pjongjang"),
        ("PJÖNGJANG", "pjongjang"),
        ("Pjo\u0308ngjang", "pjongjang"),
        ("O'Brien’s", "obriens"),
        ("Nord-Korea", "nordkorea"),
        ("Sol-\n  daten", "soldaten"),
        ("Trup\u00adpen", "truppen"),
        ("3.000 und 3,000 und 3\u202f000", "3000 und 3000 und 3000"),
        ("Straße Æther", "strasse aether"),
        ("Art. 4 Abs. 2", "art. 4 abs. 2"),
    ],
)
def test_fold_text(text: str, folded: str) -> None:
    assert fold_text(text) == folded


def test_stems_and_spellings() -> None:
    assert stem("soldaten") == "soldat"
    assert stem("liefern") == "liefer"
    assert stem("truppe") == "trupp"
    assert stem("fern") == "fern"  # too short to lose an ending
    assert spellings("pjoengjang") == {"pjoengjang", "pjongjang"}
    # A piece found inside a word may start with the e of ä written ae.
    assert spellings("entsendung", inner=True) == {"entsendung", "ntsendung"}
    assert spellings("art. 4") == {"art"}


# --- soundness ---------------------------------------------------------------------------------


def _texts() -> list[tuple[str, str | None]]:
    """(text, language) of the labelled set, the seed documents and off-subject news."""
    out: list[tuple[str, str | None]] = []
    for split in ("dev", "test"):
        path = EVAL_DIR / f"{split}.jsonl"
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    out.append((item["text"], item["lang"]))
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            if block.strip():
                out.append((block.strip(), None))
    bench = sys.modules.get("bench_match") or _module("bench_match")
    out.extend((text, None) for text in bench.offtopic_paragraphs(60))
    out.extend([(FOOTBALL, "de"), (WEATHER, "en")])
    return out


_DIGRAPHS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_ARTICLE_SPELLINGS = (
    "Art. {n}",
    "Art.\u00a0{n}",
    "Art {n}",
    "Art-{n}",
    "Artikel {n}",
    "Article {n}",
    "Art. {n} Abs. 2",
    "Article {n}(2)",
    "ARTIKEL {n}",
)
_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V", "16": "XVI", "51": "LI"}


def _variants(text: str) -> list[tuple[str, str | None]]:
    """Spellings the analysis treats alike (or nearly): the prefilter must keep up with them."""
    out = [
        (text.upper(), None),
        (text.translate(_DIGRAPHS).replace("ß", "ss"), None),
        (unicodedata.normalize("NFD", text), None),
        (re.sub(r"(?i)\b(nord|north)\s?(korea)", r"\1-\2", text), None),
        # PDF line breaks and soft hyphens inside long words.
        (re.sub(r"\b(\w{5})(\w{5,})", "\\1-\n\\2", text), None),
        (re.sub(r"\b(\w{4})(\w{4,})", "\\1\u00ad\\2", text), None),
        # Thousands written three ways.
        (re.sub(r"(\d)[.,](\d{3})\b", "\\1\u202f\\2", text), None),
        (re.sub(r"(\d)[.,](\d{3})\b", "\\1\\2", text), None),
    ]
    if re.search(r"(?i)\bart(?:ikel|icle)?s?\b", text):
        for spelling in _ARTICLE_SPELLINGS:
            changed = re.sub(
                r"(?i)\b(?:Art\.?|Artikel|Article)\s*(\d+)",
                lambda m, s=spelling: s.format(n=m.group(1)),
                text,
            )
            out.append((changed, None))
        roman = re.sub(
            r"(?i)\b(?:Art\.?|Artikel)\s*(\d+)",
            lambda m: f"Article {_ROMAN.get(m.group(1), m.group(1))}",
            text,
        )
        out.append((roman, None))
    return out


@pytest.fixture(scope="module")
def matchers() -> dict[str, tuple[Matcher, Matcher]]:
    return {
        name: (compile_topics(topics, aliases), compile_topics(topics, aliases, prefilter=False))
        for name, (topics, aliases) in _configs().items()
    }


def _check(on: Matcher, off: Matcher, text: str, title: str | None, lang: str | None) -> None:
    expected = off.match(text, title=title, language=lang)
    assert on.match(text, title=title, language=lang) == expected, (text, title)
    kept = set(on.prefilter_topics(text, title=title))
    assert {m.topic for m in expected} <= kept, (text, title)


@pytest.mark.parametrize("config", ["shipped", "bench100", "tricky"])
def test_prefilter_changes_no_result(matchers, config: str) -> None:
    """Every labelled text, seed paragraph and their variants: the same matches with and without
    the prefilter, and every matched topic among those the prefilter lets through."""
    on, off = matchers[config]
    for text, lang in _texts():
        _check(on, off, text, None, lang)
        for variant, variant_lang in _variants(text):
            _check(on, off, variant, None, variant_lang)
        # The first sentence as the title, the rest as the body.
        head, _, rest = text.partition(". ")
        if rest:
            _check(on, off, rest, head, lang)
            _check(on, off, "Kein Bezug.", text, lang)


def test_the_comparison_sees_matches(matchers) -> None:
    """The soundness test is not vacuous: every tricky topic matches some of its texts."""
    on, _ = matchers["tricky"]
    matched: set[str] = set()
    for text, lang in _texts():
        for variant, variant_lang in [(text, lang), *_variants(text)]:
            matched.update(m.topic for m in on.match(variant, language=variant_lang))
        head, _, rest = text.partition(". ")
        matched.update(m.topic for m in on.match(rest, title=head, language=lang))
    assert matched == set(TRICKY)


# --- skipping ----------------------------------------------------------------------------------


def test_off_subject_paragraph_is_not_analysed(matchers, monkeypatch: pytest.MonkeyPatch) -> None:
    on, _ = matchers["shipped"]
    assert on.prefilter_topics(FOOTBALL) == []
    assert on.prefilter_topics(WEATHER, title="Weekend weather") == []

    def no_analysis(*args: object) -> None:
        raise AssertionError("the paragraph was analysed")

    monkeypatch.setattr(on, "_doc", no_analysis)
    before = on.skipped
    assert on.match(FOOTBALL, language="de") == []
    assert on.match(WEATHER) == []
    assert on.skipped == before + 2


def test_on_subject_paragraph_is_analysed(matchers) -> None:
    on, _ = matchers["shipped"]
    text = "Nordkorea hat nach Angaben Südkoreas Tausende Soldaten nach Russland entsandt."
    assert "troop_deployment" in on.prefilter_topics(text)
    before = on.skipped
    assert [m.topic for m in on.match(text, language="de")] == ["troop_deployment"]
    assert on.skipped == before


def test_prefilter_can_be_turned_off(matchers) -> None:
    _, off = matchers["shipped"]
    assert off.prefilter_topics(FOOTBALL) == off.topic_ids
    off.match(FOOTBALL)
    assert off.skipped == 0
    copy = pickle.loads(pickle.dumps(off))
    assert copy.prefilter_topics(FOOTBALL) == copy.topic_ids


def test_topic_without_anchors_is_never_skipped() -> None:
    prefilter = Prefilter([None, frozenset({"kursk"})])
    assert prefilter.woken("nothing here") == 0b01
    assert prefilter.woken("Kämpfe bei KURSK") == 0b11


@pytest.mark.parametrize(
    "text",
    [
        "Art. 4 des Vertrags",
        "Art 4 des Vertrags",
        "Art.\u00a04 des Vertrags",
        "Art-4 des Vertrags",
        "Art.\n4 des Vertrags",
        "Artikel IV des Vertrags",
        "Article 4(2) of the treaty",
        "Arts. 3-5 of the treaty",
    ],
)
def test_article_references_pass(text: str) -> None:
    m = compile_topics({"t": TopicConfig(query="art:4 AND (Vertrag OR treaty)")}, {})
    assert m.prefilter_topics(text) == ["t"]
    assert m.match(text)


def test_article_anchor_ignores_words_containing_art() -> None:
    m = compile_topics({"t": TopicConfig(query="art:4")}, {})
    assert m.prefilter_topics("Startschuss für die Partner, die warten; Quartalszahlen.") == []


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("entsenden", "Pjöngjang hat Soldaten entsandt"),
        ("fight", "they fought near Kursk"),
        ("Soldat", "nordkoreanische Soldaten"),
        ("Kampf", "heftige Kämpfe"),
        ("liefern", "Munition wurde geliefert"),
        ("troop", "3,000 troops"),
    ],
)
def test_lemmas_pass_the_prefilter(query: str, text: str) -> None:
    m = compile_topics({"t": TopicConfig(query=query)}, {})
    assert m.prefilter_topics(text) == ["t"]
    assert m.match(text)
