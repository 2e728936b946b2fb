"""The raw-text prefilter: which topics a paragraph can possibly match, decided before analysis.

Every compiled topic gets a set of *anchors*: strings of which at least one occurs in
`fold_text(title + " " + paragraph)` whenever the topic matches. One Aho-Corasick automaton over
all anchors tells, per paragraph, which topics survive; a paragraph no topic survives is never
tokenised, lemmatised or searched for compounds, and of the others only the survivors are
evaluated.

Why a topic that matches always survives (the soundness argument):

- `fold_chars` is a per-character map, so the fold of a word is a substring of the fold of the
  text, and `fold_text` only deletes characters in `FOLD_REMOVABLE` beyond that; anchors never
  contain those, so an anchor inside a word's fold is also inside the paragraph's fold. The
  tokeniser's joins (apostrophes, soft hyphens, hyphens, PDF line breaks, digit groups) are all
  deleted by the fold, so joined words (Nord-Korea → nordkorea) stay contiguous. The properties
  of `fold_chars` this needs are checked for every character in tests/test_topics_prefilter.py.
- A term holds only through a feature of some word, number or article of the paragraph.
  Per kind of feature the anchors are:
  * a word key (a folded spelling or a lemma): the key's *stem* (the key less one inflection
    ending: soldaten→soldat, truppe→trupp, liefern→liefer), plus the forms that simplemma's
    dictionary gives the key as lemma without showing the stem (entsandt for entsenden, fought
    for fight). A word carries a key through its own spelling (the key then starts with the
    stem) or through its lemma; the matcher credits a lemma only when the word contains one of
    these anchors (see `Matcher._word_features`), so either way an anchor occurs. Lemmas that
    simplemma's rules make up for words outside its dictionary and that share no stem with the
    word are therefore not credited;
  * numbers: the key's digits (3.000, 3 000 and 3000 all fold to 3000; a decimal or a date
    key gives its longest group of digits);
  * compound parts and wildcard pieces: the folded literal text (a part is a substring of the
    word's fold, `pre*` a prefix, `*krieg` a suffix, `Pj?ngjang` has the pieces pj and ngjang);
  * treaty articles: the head word as the folded text shows it: artikel or article, or art and
    arts followed by what may follow them in a reference (a full stop, white space, or a digit
    once a hyphen is folded away: Art. 4, Art 4, Art-4).
  The analysis folds umlauts two ways (ä→ae and ä→a) while `fold_chars` folds ä→a, so every
  spelling with ae/oe/ue is also tried with the e left out (and a piece found inside a word may
  start with the e of such a pair, so that e may be left out too).
- A query node's anchors follow its logic: OR and a leaf's alternatives need the union of their
  items' anchors; AND, NEAR and a phrase need any one item's (the cheapest is taken); NOT and
  lang: need nothing and so give no anchors; a topic whose query has no anchors is never skipped.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from itertools import product
from typing import TYPE_CHECKING, Any

import ahocorasick

from monitor.topics.analysis import FOLD_REMOVABLE, LANGUAGES, fold_chars, fold_forms, fold_text
from monitor.topics.dictionaries import forms_of
from monitor.topics.nodes import Alias, And, Leaf, Near, Node, Or, Phrase, Zone

if TYPE_CHECKING:
    from monitor.topics.query import Features

Anchors = frozenset[str] | None

# Head words of article references (analysis._ARTICLE_HEADS) as anchors: the long ones whole,
# the abbreviations with the character that must follow them.
_ARTICLE_WORDS = ("artikel", "article")
_ARTICLE_ABBREVIATIONS = ("art", "arts")
_article_anchors: frozenset[str] | None = None
# Inflection endings a lemma's forms may lack or replace (sagen/sagte, liefern/lieferte,
# Truppe/Trupps, city/cities); the dictionary's forms cover what the stem misses (cite/citing).
_STEM_ENDINGS = ("en", "e", "n", "y")
_MIN_STEM = 4
_MAX_VARIANTS = 64
# Rough share of news paragraphs that contain a string of this length, to pick the cheapest
# anchors of an AND (only the ranking matters).
_RATE = {1: 1.0, 2: 0.5, 3: 0.2, 4: 0.06, 5: 0.02, 6: 0.008, 7: 0.004, 8: 0.002, 9: 0.001}
_DEFAULT_RATE = 0.0005
_REMOVABLE_SPLIT = re.compile("[" + re.escape("".join(sorted(FOLD_REMOVABLE))) + "]")


def stem(key: str) -> str:
    """The part of a folded key that every inflected form shows: the key less one ending."""
    for ending in _STEM_ENDINGS:
        if key.endswith(ending) and len(key) - len(ending) >= _MIN_STEM:
            return key[: -len(ending)]
    return key


def _piece(text: str) -> str | None:
    """The longest run of `text` without a character the text fold may delete."""
    best = max(_REMOVABLE_SPLIT.split(text), key=len)
    return best or None


def _fallback(text: str, inner: bool) -> str | None:
    """The longest run with no e that could be the second letter of an umlaut pair."""
    runs, start = [], 0
    for i, c in enumerate(text):
        if c == "e" and ((i == 0 and inner) or (i > 0 and text[i - 1] in "aou")):
            runs.append(text[start:i])
            start = i + 1
    runs.append(text[start:])
    pieces = [p for run in runs if (p := _piece(run))]
    return max(pieces, key=len) if pieces else None


def spellings(folded: str, inner: bool = False) -> Anchors:
    """Anchors for a folded string found in a word's fold: one per ae/oe/ue reading.

    `folded` is in `fold_chars` form. Each ae, oe, ue may stand for ä, ö, ü (which the text fold
    makes a, o, u), so each may lose its e; with `inner` (the string may start anywhere in the
    word) a leading e may be the second half of such a pair. None when nothing is left to find.
    """
    optional = [i for i in range(1, len(folded)) if folded[i] == "e" and folded[i - 1] in "aou"]
    if inner and folded.startswith("e"):
        optional.insert(0, 0)
    if 2 ** len(optional) > _MAX_VARIANTS:
        piece = _fallback(folded, inner)
        return frozenset({piece}) if piece else None
    out: set[str] = set()
    for drops in product((False, True), repeat=len(optional)):
        dropped = {i for i, drop in zip(optional, drops, strict=True) if drop}
        piece = _piece("".join(c for i, c in enumerate(folded) if i not in dropped))
        if piece is None:
            return None
        out.add(piece)
    return frozenset(out)


def key_anchors(key: str) -> Anchors:
    """Anchors of a word key's stem (see the module docstring), without the dictionary's forms."""
    return spellings(stem(fold_chars(key)))


# --- forms the lemmatiser's dictionary lists for a lemma -------------------------------------

_UMLAUTS = {"a": "ä", "o": "ö", "u": "ü"}
_MAX_SPELLINGS = 256
# (language, lemma as stored) → the dictionary's forms of it; filled per compile, kept per process.
_FORMS: dict[tuple[str, bytes], tuple[bytes, ...]] = {}


def lemma_spellings(key: str) -> set[str]:
    """How a lemma folding to `key` may be written: umlauts, ß and a capital restored.

    Only ae/oe/ue are read as umlauts: a key folded with ä→a always comes with its sibling
    folded with ä→ae (the compiler keeps both folds), and `dictionary_forms` gives both the forms.
    """
    options: list[tuple[str, ...]] = []
    i = 0
    while i < len(key):
        pair = key[i : i + 2]
        if pair in ("ae", "oe", "ue"):
            options.append((pair, _UMLAUTS[pair[0]]))
            i += 2
        elif pair == "ss":
            options.append((pair, "ß"))
            i += 2
        else:
            options.append((key[i],))
            i += 1
    total = 1
    for option in options:
        total *= len(option)
    combos = product(*options) if total <= _MAX_SPELLINGS else [tuple(key)]
    out: set[str] = set()
    for combo in combos:
        word = "".join(combo)
        out.update((word, word[:1].upper() + word[1:]))
    return out


def dictionary_forms(keys: Iterable[str]) -> dict[str, set[str]]:
    """Folded key → `fold_chars` of every form the dictionaries give a lemma folding to it.

    One pass over each dictionary per call for the lemmas not seen before in this process.
    """
    wanted = set(keys)
    lemmas = {s.encode() for key in wanted for s in lemma_spellings(key)}
    found: dict[str, set[str]] = {}
    for lang in LANGUAGES:
        missing = {lemma for lemma in lemmas if (lang, lemma) not in _FORMS}
        if missing:
            for lemma, listed in forms_of(lang, missing).items():
                _FORMS[lang, lemma] = tuple(listed)
        for lemma in lemmas:
            forms = _FORMS[lang, lemma]
            if not forms:
                continue
            for key in fold_forms(lemma.decode()):
                if key in wanted:
                    found.setdefault(key, set()).update(fold_chars(f.decode()) for f in forms)
    return found


def lemma_anchors(key: str, forms: Iterable[str]) -> Anchors:
    """Anchors of a word key: its stem, and each dictionary form that does not show the stem."""
    anchors = key_anchors(key)
    if anchors is None:
        return None
    extra = {p for form in forms if not any(a in form for a in anchors) and (p := _piece(form))}
    return anchors | extra


def _wildcard_anchors(pattern: str) -> Anchors:
    """The cheapest literal piece of a folded wildcard pattern (`pre*`, `*krieg`, `pj?ngjang`)."""
    options: list[Anchors] = []
    for index, piece in enumerate(re.split(r"[*?]", pattern)):
        if piece:
            options.append(spellings(fold_chars(piece), inner=index > 0))
    return cheapest(options)


def article_anchors() -> frozenset[str]:
    """Anchors of every article reference (computed once: it looks at every character)."""
    global _article_anchors
    if _article_anchors is None:
        # After art/arts comes the gap of analysis._HEAD_GAP (a full stop, white space, a
        # hyphen, which the fold deletes) and then the number, whose digits `isdigit` knows.
        everything = map(chr, range(sys.maxunicode + 1))
        follow = {"."}
        for char in filter(lambda c: c.isspace() or c.isdigit(), everything):
            folded = fold_chars(char)
            if folded:
                follow.add(folded[0])
        pieces = {head + c for head in _ARTICLE_ABBREVIATIONS for c in follow}
        _article_anchors = frozenset(pieces | set(_ARTICLE_WORDS))
    return _article_anchors


def feature_anchors(features: Features) -> dict[int, Anchors]:
    """Anchors of every feature a compiled query can ask for, by feature id."""
    table: dict[int, Anchors] = {}
    forms = dictionary_forms(features.keys)
    for key, fid in features.keys.items():
        table[fid] = lemma_anchors(key, forms.get(key, ()))
    for part, fid in features.parts.items():
        table[fid] = spellings(fold_chars(part), inner=True)
    for pattern, fid in features.wildcards.items():
        table[fid] = _wildcard_anchors(pattern)
    for fid in features.articles.values():
        table[fid] = article_anchors()
    return table


def cost(anchors: frozenset[str]) -> float:
    """Estimated share of paragraphs in which one of `anchors` occurs."""
    return min(1.0, sum(_RATE.get(len(a), _DEFAULT_RATE) for a in anchors))


def cheapest(options: Iterable[Anchors]) -> Anchors:
    """Of several anchor sets any one of which is necessary, the one least often found."""
    known = [a for a in options if a is not None]
    return min(known, key=lambda a: (cost(a), len(a), sorted(a))) if known else None


def union(options: Iterable[Anchors]) -> Anchors:
    """All anchor sets together (each alternative needs its own); None if one has none."""
    out: set[str] = set()
    for anchors in options:
        if anchors is None:
            return None
        out |= anchors
    return frozenset(out)


def node_anchors(node: Node, table: dict[int, Anchors], memo: dict[int, Anchors]) -> Anchors:
    """Anchors one of which occurs in every paragraph the node holds for (None: no such set)."""
    key = id(node)
    if key in memo:
        return memo[key]
    result: Anchors
    if isinstance(node, Phrase):
        result = cheapest(union(table[f] for f in part) for part in node.parts)
    elif isinstance(node, Leaf):
        result = union(table[f] for f in node.fids)
    elif isinstance(node, Or):
        result = union(node_anchors(i, table, memo) for i in node.items)
    elif isinstance(node, And):
        result = cheapest(node_anchors(i, table, memo) for i in node.items)
    elif isinstance(node, Near):
        result = cheapest(node_anchors(i, table, memo) for i in (node.left, node.right))
    elif isinstance(node, Zone | Alias):
        result = node_anchors(node.item, table, memo)
    else:  # NOT and lang: hold without any term
        result = None
    memo[key] = result
    return result


def minimal(anchors: frozenset[str]) -> list[str]:
    """The anchors that do not contain another one (which would be found anyway)."""
    kept: list[str] = []
    for anchor in sorted(anchors, key=lambda a: (len(a), a)):
        if not any(k in anchor for k in kept):
            kept.append(anchor)
    return kept


class Prefilter:
    """One Aho-Corasick automaton over the anchors of all topics; `woken` gives a topic bitmask."""

    def __init__(self, topic_anchors: Sequence[Anchors]):
        self.anchors: list[list[str] | None] = []
        self.always = 0
        masks: dict[str, int] = {}
        for index, anchors in enumerate(topic_anchors):
            if anchors is None:
                self.anchors.append(None)
                self.always |= 1 << index
                continue
            kept = minimal(anchors)
            self.anchors.append(kept)
            for anchor in kept:
                masks[anchor] = masks.get(anchor, 0) | (1 << index)
        self._automaton: Any = None
        if masks:
            automaton = ahocorasick.Automaton()
            for anchor, mask in masks.items():
                automaton.add_word(anchor, mask)
            automaton.make_automaton()
            self._automaton = automaton

    def woken(self, text: str, title: str | None = None) -> int:
        """Bit i set: topic i may match this paragraph (and must be evaluated)."""
        mask = self.always
        if self._automaton is not None:
            folded = fold_text(f"{title} {text}" if title else text)
            for _, bits in self._automaton.iter(folded):
                mask |= bits
        return mask
