"""DE/EN language detection: function-word counts first, simplemma's dictionaries as tie-break.

All functions are pure: text in, a language code out.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import repeat

from monitor.volatile import is_latin1

# Frequent function words that exist in only one of the two languages ("die", "war", "will",
# "also", "in", "an", "am" are ambiguous and left out).
_EN_LIST = """the and of to is are were that this these those with for on from by as it its has
    have had be been being would which who whom whose but or at they their them he
    she his we our you your said says after about than into over can could should
    there what when where why how not no more most other some such only just been
    also very before while because"""
_EN_WORDS = frozenset(_EN_LIST.split())
_DE_LIST = """der das und ist nicht sich mit dem den des ein eine einer eines einem einen auf
    für von zu zum zur im auch als wird werden wurde wurden sind hat haben hatte
    nach bei aus es sie er wir sein seine seiner ihre ihren ihrem noch wie über
    oder aber nur dass daß um durch gegen bereits schon kein keine keinen diese
    dieser dieses diesen mehr zwischen unter sowie soll sollen kann können ob seit
    vom beim damit jedoch wenn weil laut nun sei seien hatten"""
_DE_WORDS = frozenset(_DE_LIST.split())
_WORD = re.compile(r"[^\W\d_]+")
_LANG_SHIFT = 16  # a sample of 5,000 characters has fewer words than 2**16
_LANG_MASK = (1 << _LANG_SHIFT) - 1
_LANG_WEIGHT = {
    word: (word in _DE_WORDS) + ((word in _EN_WORDS) << _LANG_SHIFT)
    for word in _DE_WORDS | _EN_WORDS
}
# For Latin-1 text, words are found with a byte table instead of _WORD (a regex scan with a
# negated Unicode class is slow): every byte _WORD does not match becomes a space. Casefolding
# keeps Latin-1 letters letters and other characters as they are, so folding before or after
# splitting gives the same words (a test checks this for every Latin-1 character).
LATIN1_WORD_BYTES = bytes(b if _WORD.fullmatch(chr(b)) else 0x20 for b in range(256))
# Latin-1 byte -> its casefolded form, for the bytes whose casefolding is one Latin-1
# character: all but "ß" (-> "ss") and "µ" (-> Greek mu).
LATIN1_FOLD = bytes(
    ord(folded) if len(folded := chr(code).casefold()) == 1 and ord(folded) < 256 else code
    for code in range(256)
)


def _words_and_umlaut(sample: str) -> tuple[list[str], bool]:
    """(``[w.casefold() for w in _WORD.findall(sample)]``, whether ``[äöüß]`` occurs ignoring
    case), several times faster for Latin-1 text."""
    if sample.isascii():
        ascii_words = sample.lower().encode("ascii").translate(LATIN1_WORD_BYTES).decode("ascii")
        return ascii_words.split(), False
    try:
        raw = sample.encode("latin-1")
    except UnicodeEncodeError:
        raw = b""
    if raw and b"\xb5" not in raw and b"\xdf" not in raw:
        # Casefolded by the byte table: "µ" (Greek mu) and "ß" ("ss") excepted, the same.
        data = raw.translate(LATIN1_FOLD)
    else:
        folded = sample.casefold()
        if not (raw and is_latin1(folded)):
            words = [w.casefold() for w in _WORD.findall(sample)]
            return words, re.search(r"[äöüß]", sample, re.IGNORECASE) is not None
        data = folded.encode("latin-1")
    # Casefolding turns Ä, Ö, Ü into ä, ö, ü (bytes E4, F6, FC) but ß into "ss".
    umlaut = b"\xe4" in data or b"\xf6" in data or b"\xfc" in data or "ß" in sample
    return data.translate(LATIN1_WORD_BYTES).decode("latin-1").split(), umlaut


@lru_cache(maxsize=1)
def _simplemma_ready() -> bool:
    try:
        import simplemma  # noqa: F401
    except ImportError:  # pragma: no cover - simplemma is a declared dependency
        return False
    return True


def detect_language_scored(text: str) -> tuple[str, bool]:
    """("de" | "en" | "other", confident) for a text of any length."""
    return score_language(*_words_and_umlaut(text[:5000]))


def score_language(words: list[str], umlaut: bool) -> tuple[str, bool]:
    """`detect_language_scored` from the sample's casefolded words and umlaut test."""
    if not words:
        return "other", False
    # One C-level pass counts both: German hits in the low bits, English ones shifted up.
    score = sum(map(_LANG_WEIGHT.get, words, repeat(0, len(words))))
    de, en = (score & _LANG_MASK) + umlaut, score >> _LANG_SHIFT
    best, hits, other = ("de", de, en) if de > en else ("en", en, de)
    if hits and hits >= 2 * other + 1 and hits / len(words) >= 0.06:
        return best, hits >= 2 or len(words) <= 6
    # No decisive function words (headlines, lists of names): ask the DE/EN dictionaries.
    if _simplemma_ready() and len(words) >= 2:
        import simplemma

        # The low-memory store: the same dictionaries, 35 MB instead of 135 MB per process.
        scores = dict(
            simplemma.langdetect(" ".join(words[:200]), lang=("de", "en"), low_memory=True)
        )
        de_s, en_s = scores.get("de", 0.0), scores.get("en", 0.0)
        if max(de_s, en_s) >= 0.5 and abs(de_s - en_s) >= 0.25:
            return ("de" if de_s > en_s else "en"), False
    return "other", False


def detect_language(text: str) -> str:
    """ "de", "en" or "other": function-word counts first, simplemma's dictionaries as tie-break."""
    return detect_language_scored(text)[0]


def language_from_tag(tag: str | None) -> str | None:
    """Map an HTML/feed language tag ("de-DE", "en_us") to "de", "en" or "other"."""
    if not tag or not tag.strip():
        return None
    primary = re.split(r"[-_\s]", tag.strip().lower(), maxsplit=1)[0]
    if primary in {"de", "deu", "ger", "german"}:
        return "de"
    if primary in {"en", "eng", "english"}:
        return "en"
    return "other"
