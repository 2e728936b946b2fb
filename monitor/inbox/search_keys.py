"""The archive's search keys: the topic analysis's folding (`monitor.topics.analysis`) applied to
archived text and to what a reader types, so that a search finds what a topic would.

A text becomes two streams of keys, plain words separated by spaces, for any full-text index:

- `words`: one key per word or number, in text order (case-folded, ä→ae, ß→ss, accents
  dropped; 3.000 → 3000): phrases are looked up here;
- `extra`: the other spellings under which each word is found, in no useful order: the umlaut as
  its base vowel (Pjöngjang → pjongjang beside pjoengjang), lemmas in German and English
  (Soldaten → soldat), hyphen compounds joined (Nord-Korea → nordkorea), treaty-article
  references (Art. 4 Abs. 2 → art_4, art_4_2) and the parts of German compounds that the
  dictionary knows (Truppenentsendung → truppe, entsendung).

A query is parsed into a `SearchQuery` (words, "phrases", prefix*, OR, -excluded) whose terms
carry the same keys; each backend turns it into its own full-text syntax.

This is the one place the archive meets the topic analysis (the store must not import the
topics: they import the config, which reaches the digest and the store again), so the keys
are computed here and handed to the store: `index` when a digest is made, `parse_query` for a
search.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from monitor.models import Match
from monitor.store.archive import Alternative, Phrase, QueryError, SearchQuery, Term
from monitor.topics.analysis import (
    ARTICLE,
    JOINED,
    LANGUAGES,
    NUMBER,
    WORD,
    find_articles,
    fold_forms,
    normalise_number,
    prepare,
    query_word_keys,
    tokenize,
    word_keys,
)
from monitor.topics.dictionaries import is_known

# Anything a full-text tokenizer might split a key at becomes "_" (kept as a word character).
_NOT_KEY = re.compile(r"[^\w]+")
# Linking elements between German compound parts (Truppe-n-entsendung, Sanktion-s-regime).
_LINKS = ("ens", "es", "en", "er", "ns", "n", "s", "e", "")
_MIN_COMPOUND = 8  # shorter words are not split
_MIN_PART = 4
_DIGRAPH = re.compile(r"(?<!q)(ae|oe|ue)")  # "qu" + e is no umlaut
_QUERY_TOKEN = re.compile(r'-?"[^"]*"?|\S+')
_ARTICLE_TERM = re.compile(r"(?i)art:(\d{1,3}(?:\.\d{1,3})?)")
MAX_QUERY_TERMS = 32  # a query longer than this is refused: each term is an index lookup


def clean(key: str) -> str:
    return _NOT_KEY.sub("_", key).strip("_")


def primary_key(unit_kind: int, surface: str) -> str:
    """The one key of a word or number in the `words` stream."""
    if unit_kind == NUMBER:
        return clean(normalise_number(surface)[0])
    return clean(fold_forms(surface)[0])


def _known_de(word: str) -> bool:
    """Does the German dictionary list the word (nouns are listed capitalised)?"""
    return is_known(word, "de") or is_known(word[:1].upper() + word[1:], "de")


@lru_cache(maxsize=65536)
def compound_keys(word: str) -> frozenset[str]:
    """Keys of the parts of a German compound the dictionary knows: the head after each cut
    where what stands left is a known word (maybe with a linking element)."""
    lower = word.casefold()
    if len(lower) < _MIN_COMPOUND or not lower.isalpha():
        return frozenset()
    keys: set[str] = set()
    for cut in range(_MIN_PART, len(lower) - _MIN_PART + 1):
        head = lower[cut:]
        if not _known_de(head):
            continue
        left = lower[:cut]
        # Every reading of the left side counts (truppen, truppe+n, trupp+en): the query may
        # name any of them.
        stems = [
            stem
            for link in _LINKS
            if left.endswith(link)
            and len(stem := left[: len(left) - len(link)] if link else left) >= _MIN_PART
            and _known_de(stem)
        ]
        for stem in stems:
            keys |= word_keys(stem[:1].upper() + stem[1:], "de")
        if stems:
            keys |= word_keys(head[:1].upper() + head[1:], "de")
    return frozenset(keys)


def index(match: Match) -> tuple[str, str]:
    """The key streams of a reported match (what `DigestStore.create_digest` archives with)."""
    return index_keys(match.title, match.text, match.language)


def index_keys(title: str | None, text: str, language: str | None) -> tuple[str, str]:
    """The `words` and `extra` key streams of an archived passage (its title, then its text)."""
    whole = prepare(f"{title}\n{text}" if title else text)
    lang = language if language in LANGUAGES else None
    units = tokenize(whole)
    words: list[str] = []
    extra: set[str] = set()
    for kind, surface, *_ in units:
        if kind == WORD:
            first = primary_key(WORD, surface)
            words.append(first)
            extra.update(word_keys(surface, lang))
            if lang != "en":
                extra.update(compound_keys(surface))
                # An umlaut already written as a digraph (Pjoengjang) is found by its base
                # vowel too (Pjongjang), as one written with the umlaut is.
                if _DIGRAPH.search(first):
                    extra.add(_DIGRAPH.sub(lambda m: m.group()[0], first))
        elif kind == NUMBER:
            keys = normalise_number(surface)
            words.append(clean(keys[0]))
            extra.update(keys[1:])
        elif kind == JOINED:
            extra.update(fold_forms(surface))
    for article in find_articles(whole, units):
        if article[0] == ARTICLE:
            extra.update({f"art_{article[1].partition('.')[0]}", f"art_{article[1]}"})
    cleaned = {clean(k) for k in extra} - set(words) - {""}
    return " ".join(w for w in words if w), " ".join(sorted(cleaned))


def _word_alternatives(word: str, prefix: bool) -> tuple[Alternative, ...]:
    """What one typed word (no spaces) stands for."""
    if m := _ARTICLE_TERM.fullmatch(word):
        return (Term((clean(f"art_{m.group(1)}"),)),)
    units = tokenize(prepare(word))
    # A word of nothing but "_" folds to no key: it is no word.
    plain = [u for u in units if u[0] in (WORD, NUMBER) and primary_key(u[0], u[1])]
    if not plain:
        return ()
    if len(plain) == 1:
        kind, surface = plain[0][0], plain[0][1]
        if kind == NUMBER:
            return (Term(tuple(sorted({clean(k) for k in normalise_number(surface)} - {""}))),)
        if prefix:
            folds = {clean(f) for f in fold_forms(surface)} - {""}
            if min(len(f) for f in folds) < 2:
                raise QueryError(f"{word}*: put at least two letters before the *")
            return (Term(tuple(sorted(folds)), prefix=True),)
        return (Term(tuple(sorted({clean(k) for k in query_word_keys(surface)} - {""}))),)
    # A hyphenated word: its parts in a row, or the parts written as one word.
    joined = [u for u in units if u[0] == JOINED]
    found: list[Alternative] = [Phrase(tuple(primary_key(u[0], u[1]) for u in plain))]
    if joined and (keys := {clean(f) for f in fold_forms(joined[0][1])} - {""}):
        found.append(Term(tuple(sorted(keys))))
    return tuple(found)


def _phrase_alternatives(inner: str) -> tuple[Alternative, ...]:
    plain = [
        u for u in tokenize(prepare(inner)) if u[0] in (WORD, NUMBER) and primary_key(u[0], u[1])
    ]
    if not plain:
        return ()
    return (Phrase(tuple(primary_key(u[0], u[1]) for u in plain)),)


def parse_query(text: str) -> SearchQuery:
    """`sanktion* "Panel of Experts" Nordkorea OR DPRK -Iran` as a SearchQuery; QueryError when
    nothing is left to search for."""
    all_of: list[tuple[Alternative, ...]] = []
    none_of: list[tuple[Alternative, ...]] = []
    join_next = False
    count = 0
    for token in _QUERY_TOKEN.findall(text):
        if token == "OR":
            join_next = bool(all_of)
            continue
        negated = token.startswith("-") and len(token) > 1
        body = token[1:] if negated or token.startswith("+") else token
        if body.startswith('"'):
            alternatives = _phrase_alternatives(body.strip('"'))
        else:
            prefix = body.endswith("*")
            alternatives = _word_alternatives(body.rstrip("*"), prefix)
        if not alternatives:
            continue
        count += 1
        if count > MAX_QUERY_TERMS:
            raise QueryError(f"more than {MAX_QUERY_TERMS} words in one search; use fewer")
        if negated:
            none_of.append(alternatives)
            join_next = False
        elif join_next:
            all_of[-1] = (*all_of[-1], *alternatives)
            join_next = False
        else:
            all_of.append(alternatives)
    if not all_of:
        raise QueryError(
            "nothing to search for: give at least one word that must occur "
            "(an excluded -word alone finds nothing)"
            if none_of
            else "nothing to search for: give at least one word"
        )
    return SearchQuery(tuple(all_of), tuple(none_of))


def parse_when(value: str, *, end: bool = False) -> datetime:
    """A date (YYYY-MM-DD) or ISO time a reader gave, as aware UTC; a date alone is that day's
    start, or with `end` the next day's (so that an "until" day is included). ValueError with
    one line when it is neither."""
    value = value.strip()
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a date: write YYYY-MM-DD or YYYY-MM-DDTHH:MM "
            "(UTC unless it gives an offset)"
        ) from None
    if end and len(value) == len("2026-12-03"):
        when += timedelta(days=1)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
