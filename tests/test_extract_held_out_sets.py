"""The held-out extraction pages of issue 15 (the held-out half of benchmarks/extract_eval4, and
the fresh sets extract_eval5, extract_eval6, extract_eval7 and extract_eval9 to extract_eval30):
complete and frozen.

Each of the fresh sets was written after every earlier set had been scored (those count as
development data since), by engineers who ran no extractor on their pages: in each set English
and German by different engineers, other languages by a third or fourth (extract_eval9 and
extract_eval15 to extract_eval18: four engineers; extract_eval10 to extract_eval14: three).
Each engineer hashed their held-out pages, per language, into `heldout/SHA256SUMS-<lang>` (or
`SHA256SUMS-<lang>-<part>`) before any extractor ran on them. A change to a page or a label
(tuning on them, even by accident), or a page added or removed after the freeze, fails here.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
# The fewest pages each set has in the languages it was written for (it may hold others too).
SETS: dict[str, dict[str, int]] = {
    "extract_eval4": {"de": 19, "en": 19},
    "extract_eval5": {"de": 20, "en": 20},
    "extract_eval6": {"de": 15, "en": 15},
    "extract_eval7": {"de": 22, "en": 22, "fr": 6, "es": 4, "it": 4},
    "extract_eval9": {
        **{"de": 31, "en": 30, "ca": 3, "cs": 4, "es": 7, "fr": 7, "it": 6, "nl": 5},
        **{"pl": 5, "pt": 6, "ro": 4, "ru": 5, "sv": 4, "uk": 6},
    },
    "extract_eval10": {
        **{"de": 26, "en": 28, "da": 1, "es": 4, "fr": 5, "it": 4, "nl": 2, "no": 1},
        **{"pl": 3, "pt": 1, "ru": 2, "uk": 2},
    },
    "extract_eval11": {
        **{"de": 18, "en": 22, "da": 1, "es": 4, "fr": 5, "it": 4, "nl": 2},
        **{"pl": 2, "pt": 1, "ru": 2, "uk": 2},
    },
    "extract_eval12": {
        **{"de": 21, "en": 26, "da": 1, "es": 4, "fr": 4, "it": 3, "nl": 2},
        **{"no": 1, "pl": 3, "pt": 2, "ru": 3, "uk": 2},
    },
    "extract_eval13": {
        **{"de": 19, "en": 18, "da": 1, "es": 3, "fr": 5, "it": 3, "nl": 2},
        **{"no": 1, "pl": 3, "pt": 2, "ru": 3, "uk": 3},
    },
    "extract_eval14": {
        **{"de": 23, "en": 20, "da": 1, "es": 4, "fr": 5, "it": 4, "nl": 3},
        **{"no": 1, "pl": 4, "pt": 2, "ru": 3, "uk": 3},
    },
    "extract_eval15": {
        **{"de": 26, "en": 25, "ca": 1, "cs": 1, "da": 1, "es": 4, "fr": 5, "it": 4},
        **{"nl": 3, "pl": 4, "pt": 2, "ru": 3, "sv": 1, "uk": 3},
    },
    "extract_eval16": {
        **{"de": 21, "en": 25, "cs": 1, "es": 4, "fi": 1, "fr": 5, "it": 4, "nl": 3},
        **{"no": 1, "pl": 4, "pt": 3, "ro": 1, "ru": 3, "uk": 3},
    },
    "extract_eval17": {
        **{"de": 20, "en": 20, "ca": 1, "cs": 1, "es": 4, "fr": 5, "hu": 1, "it": 4},
        **{"nl": 3, "pl": 4, "pt": 2, "ru": 3, "sv": 1, "uk": 3},
    },
    "extract_eval18": {
        **{"de": 20, "en": 23, "es": 4, "fr": 5, "hu": 1, "it": 4, "nl": 3, "pl": 4},
        **{"pt": 2, "ro": 1, "ru": 3, "sk": 1, "sv": 1, "uk": 3},
    },
    "extract_eval19": {
        **{"de": 22, "en": 22, "ca": 2, "cs": 1, "da": 1, "el": 1, "es": 3, "fi": 2, "fr": 4},
        **{"hu": 1, "it": 3, "ja": 1, "ko": 2, "nl": 1, "no": 1, "pl": 1, "pt": 2, "ro": 2},
        **{"ru": 1, "sv": 1, "tr": 2},
    },
    "extract_eval20": {
        **{"de": 22, "en": 22, "bg": 2, "ca": 1, "el": 2, "es": 4, "et": 2, "fr": 4, "hr": 2},
        **{"it": 3, "lt": 2, "pt": 2, "ro": 2, "sk": 2, "sr": 2, "zh": 2},
    },
    "extract_eval21": {
        **{"de": 22, "en": 22, "bg": 1, "ca": 1, "el": 1, "es": 3, "et": 1, "fi": 1, "fr": 4},
        **{"gl": 1, "hr": 1, "hu": 1, "id": 1, "it": 4, "ja": 1, "ko": 1, "lt": 1, "lv": 1},
        **{"pt": 2, "ro": 1, "sk": 1, "sl": 1, "sr": 1, "tr": 1, "vi": 1},
    },
    "extract_eval22": {
        **{"de": 22, "en": 22, "ar": 1, "ca": 2, "cs": 1, "da": 1, "es": 3, "fi": 1, "fr": 4},
        **{"he": 1, "hu": 1, "it": 3, "ja": 1, "ko": 1, "nl": 1, "no": 1, "pl": 1, "pt": 2},
        **{"ro": 2, "ru": 1, "sv": 1, "tr": 1, "uk": 1, "zh": 1},
    },
    "extract_eval23": {
        **{"de": 22, "en": 20, "bg": 1, "ca": 1, "cs": 1, "da": 1, "el": 1, "es": 4, "fi": 1},
        **{"fr": 4, "hr": 1, "hu": 1, "it": 4, "ja": 1, "ko": 1, "nl": 1, "no": 1, "pl": 1},
        **{"pt": 2, "ro": 1, "ru": 1, "sv": 1, "tr": 1, "uk": 1},
    },
    "extract_eval24": {
        **{"de": 22, "en": 22, "ca": 1, "cs": 1, "da": 1, "el": 1, "es": 4, "fr": 4, "hr": 1},
        **{"hu": 1, "it": 4, "ja": 1, "ko": 1, "nl": 1, "no": 1, "pl": 1, "pt": 2, "ro": 1},
        **{"ru": 1, "sl": 1, "sv": 1, "tr": 1, "uk": 1, "zh": 1},
    },
    "extract_eval25": {
        **{"de": 22, "en": 22, "ar": 1, "bg": 1, "ca": 2, "cs": 1, "da": 1, "el": 1, "es": 3},
        **{"fi": 1, "fr": 3, "hr": 1, "hu": 1, "it": 3, "ja": 1, "ko": 1, "nl": 1, "pl": 1},
        **{"pt": 3, "ro": 2, "ru": 1, "sv": 1, "tr": 1, "uk": 1},
    },
    "extract_eval26": {
        **{"de": 8, "en": 22, "ca": 1, "cs": 1, "da": 1, "es": 3, "fr": 4, "hr": 1, "it": 4},
        **{"ko": 1, "nl": 1, "pl": 1, "pt": 2, "ro": 2, "ru": 1, "sv": 1, "uk": 1},
    },
    "extract_eval27": {
        **{"de": 16, "en": 22, "ca": 1, "cs": 1, "da": 1, "es": 4, "fi": 1, "fr": 3, "hu": 1},
        **{"it": 3, "ja": 1, "pl": 1, "pt": 3, "ro": 2, "ru": 1, "sv": 1, "uk": 1},
    },
    "extract_eval28": {
        **{"de": 22, "en": 22, "ar": 1, "bg": 1, "ca": 2, "da": 1, "el": 1, "es": 3, "fi": 1},
        **{"fr": 3, "he": 1, "hr": 1, "it": 3, "ja": 1, "ko": 1, "nl": 1, "no": 1, "pt": 3},
        **{"ro": 2, "ru": 1, "sl": 1, "sv": 1, "tr": 1, "uk": 1, "zh": 1},
    },
    "extract_eval29": {
        **{"de": 22, "en": 22, "ar": 1, "bg": 1, "ca": 2, "cs": 1, "da": 1, "el": 1, "es": 3},
        **{"fi": 1, "fr": 3, "he": 1, "hu": 1, "it": 3, "ja": 1, "ko": 1, "nl": 1, "pl": 1},
        **{"pt": 2, "ro": 3, "ru": 1, "sl": 1, "sv": 1, "tr": 1, "uk": 1, "zh": 1},
    },
    "extract_eval30": {
        **{"de": 22, "en": 22, "ca": 1, "cs": 1, "da": 1, "el": 1, "es": 3, "fi": 1, "fr": 4},
        **{"hr": 1, "hu": 1, "it": 3, "ja": 1, "ko": 1, "nl": 1, "no": 1, "pl": 1, "pt": 3},
        **{"ro": 2, "ru": 1, "sv": 1, "tr": 1, "uk": 1, "zh": 1},
    },
}
# NAME.html + NAME.expected.txt, NAME = two-letter language, "_", words (a CMS class name may
# keep its capitals: "documentDescription").
_NAME = re.compile(r"[a-z]{2}_[A-Za-z0-9_]+")

held_out = pytest.mark.parametrize(("name", "fewest"), SETS.items(), ids=list(SETS))


def _frozen(sums: Path) -> dict[str, str]:
    """File name -> digest, from a `sha256sum` listing."""
    lines = sums.read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split(maxsplit=1) for line in lines if line)}


@held_out
def test_every_page_has_its_hand_labelled_main_text(name: str, fewest: dict[str, int]) -> None:
    held = BENCH / name / "pages" / "heldout"
    pages = {p.stem for p in held.glob("*.html")}
    labels = {p.name.removesuffix(".expected.txt") for p in held.glob("*.expected.txt")}
    assert pages == labels, f"{held}: pages without a label or labels without a page"
    for page in pages:
        assert _NAME.fullmatch(page), f"{held / page}.html: name is not LANG_words"
        label = held / f"{page}.expected.txt"
        assert label.read_text(encoding="utf-8").strip(), f"{label} is empty"
    counts = {lang: len(list(held.glob(f"{lang}_*.html"))) for lang in fewest}
    assert all(counts[lang] >= n for lang, n in fewest.items()), counts


@held_out
def test_every_language_is_frozen_and_unchanged_since(name: str, fewest: dict[str, int]) -> None:
    held = BENCH / name / "pages" / "heldout"
    languages = {p.name[:2] for p in held.glob("*.html")}
    assert set(fewest) <= languages
    for lang in languages:
        listings = [held / f"SHA256SUMS-{lang}", *held.glob(f"SHA256SUMS-{lang}-*")]
        listings = [sums for sums in listings if sums.is_file()]
        assert listings, f"held-out {lang} pages of {name} not frozen"
        frozen = {file: digest for sums in listings for file, digest in _frozen(sums).items()}
        present = {p.name for p in held.glob(f"{lang}_*")}
        assert present == set(frozen), f"{name}: {lang} files added or removed after freezing"
        for file, digest in frozen.items():
            actual = hashlib.sha256((held / file).read_bytes()).hexdigest()
            assert actual == digest, f"{held / file} changed after the set was frozen"
