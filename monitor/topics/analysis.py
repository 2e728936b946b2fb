"""Text analysis for German and English paragraphs.

A paragraph becomes a list of *units*, each with a kind, a surface string, character offsets and
the token positions it covers:

- words: case-folded; umlauts and ß folded both ways (ä→ae and ä→a, ß→ss) so Pjöngjang, Pjoengjang
  and Pjongjang meet; lemmatised with simplemma (Soldaten→Soldat, troops→troop);
- hyphenated words: each part is a word of its own, plus one *joined* unit over all parts, so
  "Nord-Korea" is found by Nordkorea and by "Nord Korea"; a hyphen at a line break followed by a
  lower-case letter is a PDF word break and is removed ("Sol-\\ndaten" → Soldaten);
- numbers: 3.000, 3,000, 3 000 (narrow space) and 3000 are one number;
- treaty-article references: "Artikel 4", "Art. 4", "Article 4(2)", "Art. 4 Abs. 2",
  "Articles 3 and 4" become article units a topic asks for with `art:4`.

German compound parts (Truppenentsendung → Truppe + Entsendung) are found against the topics'
own vocabulary, so they are computed by the matcher, not here (see `matcher.py`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from monitor.topics.dictionaries import is_known, lemmatize

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = ("de", "en")

# Unit kinds. Plain ints keep the hot loop of the matcher cheap.
WORD, NUMBER, JOINED, ARTICLE = 0, 1, 2, 3
KIND_NAMES = {WORD: "word", NUMBER: "number", JOINED: "joined", ARTICLE: "article"}

# One unit: (kind, surface, start, end, first position, last position).
Unit = tuple[int, str, int, int, int, int]

_NUMBER_SEPARATORS = ".,'’\u00a0\u202f\u2009"
# Line breaks after a hyphen, with blanks around them: "-\n", "- \n  ", "-\n\n". Written so that
# each blank belongs to one place only: the plain `(?:[ \t]*\r?\n[ \t]*)*` lets the blanks between
# two breaks go to either, and a hyphen before many blank lines then took exponential time.
_BREAKS = r"(?:[ \t]*\r?\n[ \t]*(?:\r?\n[ \t]*)*)?"
_TOKEN = re.compile(
    # A number may carry thousands or decimal separators, but must not run into letters (2024er).
    rf"(?P<n>\d+(?:[{_NUMBER_SEPARATORS}]\d+)*(?!\w))"
    # A word joined by apostrophes, soft hyphens and hyphens, also across a line break; or a
    # plain word (most words: a separate group spares them the splitting).
    rf"|(?P<c>\w+(?:(?:['’\u00ad]|[-\u2010\u2011]{_BREAKS})\w+)+)"
    r"|(?P<w>\w+)"
)
_SEGMENT_SPLIT = re.compile(rf"(['’\u00ad]|[-\u2010\u2011]{_BREAKS})")
_NUMBER_SPLIT = re.compile(rf"[{_NUMBER_SEPARATORS}]")

# Enough function words to tell German from English in one paragraph; words both languages use
# ("in", "an", "die", "war", "also") are left out on purpose.
# fmt: off
GERMAN_STOPWORDS = frozenset(
    {
        "der", "das", "und", "ist", "nicht", "ein", "eine", "einen", "einem", "einer", "eines",
        "des", "dem", "den", "zu", "mit", "von", "auf", "für", "sich", "auch", "im", "bei",
        "wird", "wurde", "wurden", "werden", "sind", "hat", "haben", "nach", "über", "aus", "vom",
        "zum", "zur", "dass", "daß", "als", "wie", "oder", "aber", "noch", "nur", "sei", "seien",
        "seit", "gegen", "diese", "dieser", "dieses", "sowie", "laut", "unter", "um", "soll",
        "sollen", "habe", "hatte", "hatten", "bereits", "wegen", "ihre", "ihren", "sein", "seine",
        "seiner", "zwischen",
    }
)
ENGLISH_STOPWORDS = frozenset(
    {
        "the", "and", "is", "are", "was", "were", "of", "to", "on", "for", "with", "that", "this",
        "by", "from", "has", "have", "had", "be", "been", "it", "its", "as", "at", "not", "or",
        "but", "which", "will", "would", "their", "they", "said", "says", "than", "into", "after",
        "about", "against", "who", "what", "when", "where", "while", "also", "more", "over",
        "under", "between",
    }
)
# fmt: on

_ADJECTIVE_ENDING = re.compile(r"..isch(e|en|er|es|em)$")
_UMLAUT_DIGRAPHS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "æ": "ae", "œ": "oe", "ø": "oe"})


def strip_marks(text: str) -> str:
    """Remove diacritics: é→e, ä→a (the base-vowel fold)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def fold_forms(word: str) -> tuple[str, ...]:
    """The folded spellings of one word: case-folded, with ä→ae and with ä→a (ß→ss either way)."""
    lower = word.casefold()
    if lower.isascii():
        return (lower,)
    digraph = strip_marks(lower.translate(_UMLAUT_DIGRAPHS))
    base = strip_marks(lower)
    return (digraph,) if digraph == base else (digraph, base)


@lru_cache(maxsize=131072)
def lemma_forms(word: str, language: Language) -> tuple[str, ...]:
    """Folded lemma of `word` in `language` (simplemma), or () when it is the word itself."""
    lemma = lemmatize(word, language)
    if lemma.casefold() == word.casefold():
        return ()
    return fold_forms(lemma)


@lru_cache(maxsize=131072)
def word_keys(word: str, language: str | None = None) -> frozenset[str]:
    """Every folded spelling and lemma under which a text word is found.

    Both languages' lemmas are kept: German reports quote English names ("Panel of Experts")
    and the other way round. But when the paragraph's `language` is known and its dictionary
    knows the word, the other language's lemma is a misreading, not a quotation: English "list"
    is not German "listen" (the lemma of gelistet).
    """
    keys = set(fold_forms(word))
    known_here = language in LANGUAGES and is_known(word, str(language))
    for lang in LANGUAGES:
        if known_here and lang != language:
            continue
        keys.update(lemma_forms(word, lang))
    return frozenset(_with_adjective_stems(keys))


@lru_cache(maxsize=131072)
def surface_keys(word: str) -> frozenset[str]:
    """The keys of `word` that come from its own spelling (its folds), not from a lemma."""
    return frozenset(_with_adjective_stems(set(fold_forms(word))))


def query_word_keys(word: str) -> frozenset[str]:
    """Keys for a word written in a query: its folds and its lemmas in both languages.

    Maintainers write nouns in lower case as often as not, so the capitalised spelling is
    lemmatised too (simplemma finds German nouns by their capital).
    """
    keys = set(fold_forms(word))
    for variant in {word, word.lower(), word[:1].upper() + word[1:].lower()}:
        for lang in LANGUAGES:
            keys.update(lemma_forms(variant, lang))
    return frozenset(_with_adjective_stems(keys))


def _with_adjective_stems(keys: set[str]) -> set[str]:
    """Add the stem of German -isch adjectives simplemma does not know (nordkoreanische)."""
    for key in list(keys):
        if m := _ADJECTIVE_ENDING.search(key):
            keys.add(key[: m.start(1)])
    return keys


def normalise_number(text: str) -> tuple[str, ...]:
    """Keys for a written number: 3.000 / 3,000 / 3 000 → "3000"; 2,5 → "2.5".

    Anything else with separators (dates, versions) gives its dotted form and each group.
    """
    groups = _NUMBER_SPLIT.split(text)
    if len(groups) == 1:
        return (text,)
    separators = set(_NUMBER_SPLIT.findall(text))
    if (
        len(separators) == 1
        and 1 <= len(groups[0]) <= 3
        and groups[0] != "0"
        and all(len(g) == 3 for g in groups[1:])
    ):
        return ("".join(groups),)
    if len(groups) == 2:
        return (f"{groups[0]}.{groups[1]}",)
    return (".".join(groups), *groups)


def _segments(word: str, start: int) -> list[tuple[str, int, int]]:
    """Split a word match at hyphens; join across apostrophes, soft hyphens and PDF line breaks."""
    pieces = _SEGMENT_SPLIT.split(word)
    groups: list[tuple[str, int, int]] = []
    text, seg_start = pieces[0], start
    end = pos = start + len(pieces[0])
    for i in range(1, len(pieces), 2):
        sep, seg = pieces[i], pieces[i + 1]
        here = pos + len(sep)
        pos = here + len(seg)
        if sep in "'’":
            # The English possessive is not part of the word; other apostrophes are (O'Brien).
            if seg.lower() == "s" and i + 2 >= len(pieces):
                continue
            text, end = text + seg, pos
        elif sep == "\u00ad" or ("\n" in sep and seg[:1].islower()):
            text, end = text + seg, pos
        else:
            groups.append((text, seg_start, end))
            text, seg_start, end = seg, here, pos
    groups.append((text, seg_start, end))
    return groups


def tokenize(text: str, base: int = 0) -> list[Unit]:
    """Words, numbers and joined hyphen compounds of `text`, positions counted from `base`."""
    units: list[Unit] = []
    append = units.append
    pos = base
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "w":
            append((WORD, m.group(), m.start(), m.end(), pos, pos))
            pos += 1
        elif kind == "n":
            append((NUMBER, m.group(), m.start(), m.end(), pos, pos))
            pos += 1
        else:
            s = m.group()
            groups = _segments(s, m.start())
            first = pos
            for seg, a, b in groups:
                append((WORD, seg, a, b, pos, pos))
                pos += 1
            if len(groups) > 1:
                joined = groups[0][0] + "".join(g[0].lower() for g in groups[1:])
                append((JOINED, joined, groups[0][1], groups[-1][2], first, pos - 1))
    return units


_ARTICLE_HEADS = frozenset(
    {"art", "arts", "artikel", "artikels", "artikeln", "article", "articles"}
)
_ABBREVIATED_HEADS = frozenset({"art", "arts"})
_PARAGRAPH_WORDS = frozenset({"abs", "absatz", "absatzes", "para", "paragraph", "par", "paragraf"})
_LIST_WORDS = frozenset({"and", "und", "or", "oder", "sowie", "bzw"})
_RANGE_WORDS = frozenset({"bis", "to", "through"})
_HEAD_GAP = re.compile(r"\.?[\s\u00a0]*(?:-[\s\u00a0]*)?")
_ROMAN = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def _roman(text: str) -> int | None:
    if not text or not text.isupper() or not _ROMAN.fullmatch(text):
        return None
    total = 0
    for a, b in zip(text, text[1:] + " ", strict=True):
        value = _ROMAN_VALUES[a]
        total += -value if b != " " and _ROMAN_VALUES[b] > value else value
    return total


def _article_number(unit: Unit, allow_roman: bool) -> tuple[str, str | None] | None:
    """(article, paragraph or None) from a number unit, or None when it is not an article number."""
    kind, surface = unit[0], unit[1]
    if kind == NUMBER or (kind == WORD and surface.isdigit()):
        keys = normalise_number(surface)
        if len(keys) == 1 and keys[0].replace(".", "", 1).isdigit():
            number, _, sub = keys[0].partition(".")
            if len(number) <= 3:
                return number.lstrip("0") or "0", (sub or None)
        return None
    if kind == WORD and allow_roman and (value := _roman(surface)) is not None:
        return str(value), None
    return None


def find_articles(text: str, units: list[Unit]) -> list[Unit]:
    """Article units for every treaty-article reference in `units` (tokens of `text`).

    The surface of an article unit is "4" or "4.2" (article 4, paragraph 2); it spans the whole
    reference ("Art. 4 Abs. 2") and covers the positions from the head word to the last number.
    """
    found: list[Unit] = []
    words = [u for u in units if u[0] != JOINED]
    n = len(words)
    i = 0
    while i < n:
        head = words[i]
        norm = head[1].casefold()
        if head[0] != WORD or norm not in _ARTICLE_HEADS or i + 1 >= n:
            i += 1
            continue
        gap = text[head[3] : words[i + 1][2]]
        if not _HEAD_GAP.fullmatch(gap) or (norm in _ABBREVIATED_HEADS and gap == ""):
            i += 1
            continue
        j = i + 1
        previous: int | None = None
        while j < n:
            ref = _article_number(words[j], allow_roman=norm not in _ABBREVIATED_HEADS)
            if ref is None:
                break
            number, sub = ref
            last = words[j]
            # "4(2)" and "4 (2)", or "Abs. 2" / "para. 2" after the number.
            if sub is None and j + 1 < n:
                nxt = words[j + 1]
                between = text[last[3] : nxt[2]]
                if between.strip() == "(" and nxt[0] == NUMBER and text[nxt[3] : nxt[3] + 1] == ")":
                    sub, last, j = nxt[1], nxt, j + 1
                elif (
                    nxt[0] == WORD
                    and nxt[1].casefold() in _PARAGRAPH_WORDS
                    and j + 2 < n
                    and words[j + 2][0] == NUMBER
                    and _HEAD_GAP.fullmatch(text[nxt[3] : words[j + 2][2]])
                ):
                    sub, last, j = words[j + 2][1], words[j + 2], j + 2
            end = last[3] + (1 if text[last[3] : last[3] + 1] == ")" else 0)
            numbers = [number]
            if previous is not None and int(number) > previous and int(number) - previous <= 20:
                numbers = [str(k) for k in range(previous + 1, int(number) + 1)]
            for k in numbers:
                value = f"{k}.{sub}" if sub and k == number else k
                found.append((ARTICLE, value, head[2], end, head[4], last[5]))
            previous = None
            # A list or range continues: "Articles 3 and 4", "Art. 3, 4", "Art. 3-5", "3 bis 5".
            if j + 1 < n:
                nxt = words[j + 1]
                between = text[last[3] : nxt[2]].strip(" ()\u00a0")
                joiner = nxt[1].casefold() if nxt[0] == WORD else ""
                if between in {",", "&", "/"} and nxt[0] == NUMBER:
                    j += 1
                    continue
                if between in {"-", "–"} and nxt[0] == NUMBER:
                    previous, j = int(number), j + 1
                    continue
                if (
                    between == ""
                    and j + 2 < n
                    and joiner in _LIST_WORDS | _RANGE_WORDS
                    and words[j + 2][0] == NUMBER
                ):
                    previous = int(number) if joiner in _RANGE_WORDS else None
                    j += 2
                    continue
            break
        i = max(i + 1, j)
    return found


def detect_language(words: list[str]) -> Language | None:
    """German or English by counting function words; None when neither clearly wins."""
    de = en = 0
    for word in words:
        lower = word.lower()
        if lower in GERMAN_STOPWORDS:
            de += 1
        elif lower in ENGLISH_STOPWORDS:
            en += 1
    if de > en:
        return "de"
    if en > de:
        return "en"
    # No function word to go by (a headline, a short line): umlauts and ß are German.
    if any(c in word for word in words for c in "äöüßÄÖÜ"):
        return "de"
    return None


# --- the raw-text fold of the prefilter --------------------------------------------------------
#
# The matcher's prefilter looks for topic anchors in the raw paragraph before any tokenising. Its
# fold must keep every word the analysis finds, in some spelling an anchor can be derived from, as
# one contiguous run of characters. `fold_chars` is a per-character map (so folding a word and
# folding the text around it agree): case-folded, compatibility-decomposed, accents dropped, ä→a
# (the umlaut as its base vowel), æ/œ/ø → ae/oe/oe, and apostrophes and soft hyphens deleted (the
# tokeniser joins words across them). `fold_text` then deletes hyphens with the line breaks after
# them (Nord-Korea → nordkorea, Sol-\ndaten → soldaten) and separators between digits
# (3.000, 3 000 → 3000). An anchor never contains a character `fold_text` may delete
# (`FOLD_REMOVABLE`), so it stays contiguous whatever was deleted around it.

_FOLD_DELETED = frozenset("'’\u00ad")
_FOLD_LIGATURES = {"æ": "ae", "œ": "oe", "ø": "oe"}
FOLD_REMOVABLE = frozenset("-\u2010\u2011., \t\r\n")
_FOLD_HYPHENS = re.compile(rf"[-\u2010\u2011]{_BREAKS}")
# The separator first: a pattern that starts with a character class is searched much faster.
_FOLD_DIGIT_SEPARATORS = re.compile(r"[., ](?<=\d.)(?=\d)")


def _fold_char(char: str) -> str:
    """The fold of one character, applied until it no longer changes (℡ → TEL → tel)."""
    out = char
    for _ in range(8):
        step = unicodedata.normalize("NFKD", out.casefold())
        step = "".join(
            _FOLD_LIGATURES.get(c, c)
            for c in step
            if not unicodedata.combining(c) and c not in _FOLD_DELETED
        )
        if step == out:
            break
        out = step
    return out


class _FoldTable(dict[int, str]):
    """`str.translate` table filled on first sight of each character."""

    def __missing__(self, code: int) -> str:
        value = self[code] = _fold_char(chr(code))
        return value


_FOLD_TABLE = _FoldTable()


def fold_chars(text: str) -> str:
    """The prefilter's per-character fold: Pjöngjang → pjongjang, O'Brien → obrien."""
    if text.isascii():
        return text.lower().replace("'", "")
    return text.translate(_FOLD_TABLE)


def fold_text(text: str) -> str:
    """The prefilter's fold of a whole paragraph: `fold_chars`, then hyphens and digit groups."""
    folded = fold_chars(text)
    if "-" in folded or "\u2010" in folded or "\u2011" in folded:
        folded = _FOLD_HYPHENS.sub("", folded)
    return _FOLD_DIGIT_SEPARATORS.sub("", folded)


def prepare(text: str) -> str:
    """Compose decomposed umlauts (a + U+0308) so that they are single letters."""
    if text.isascii() or unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True, slots=True)
class Token:
    """One analysed unit: what it says, where it is, and the keys a query term can meet it by."""

    text: str
    kind: str
    start: int
    end: int
    first: int
    last: int
    keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class Analysis:
    """The analysed paragraph: its (given or detected) language and its tokens in text order."""

    text: str
    language: Language | None
    tokens: tuple[Token, ...]


def unit_keys(unit: Unit) -> frozenset[str]:
    """The keys of one unit outside any topic vocabulary (compound parts need the vocabulary)."""
    kind, surface = unit[0], unit[1]
    if kind == NUMBER:
        return frozenset(normalise_number(surface))
    if kind == ARTICLE:
        return frozenset({f"art:{surface.partition('.')[0]}", f"art:{surface}"})
    return word_keys(surface)


def analyse(text: str, language: str | None = None) -> Analysis:
    """Tokenise, fold and lemmatise one paragraph; detect German/English when not given."""
    text = prepare(text)
    units = tokenize(text)
    units.extend(find_articles(text, units))
    units.sort(key=lambda u: (u[4], u[0]))
    lang: Language | None
    if language in LANGUAGES:
        lang = language
    else:
        lang = detect_language([u[1] for u in units if u[0] == WORD])
    tokens = tuple(
        Token(u[1], KIND_NAMES[u[0]], u[2], u[3], u[4], u[5], unit_keys(u)) for u in units
    )
    return Analysis(text, lang, tokens)
