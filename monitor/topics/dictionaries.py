"""simplemma's German and English dictionaries, kept compressed in memory.

simplemma's default store decodes each dictionary into a Python dict: about 110 MB for German
and 25 MB for English, most of the daemon's memory. Its low-memory store keeps the compressed
stream and decodes a small block per lookup (about 35 MB for both); the matcher caches every
word it has analysed, so the slower lookup is paid once per distinct word.

The prefilter also needs the inverse: every form whose lemma is one of the topics' words. That
is one sequential pass over the stream (no dict is built), done once per new topic word; the
stream is read in monitor/adapters/simplemma_internals.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

# isort: off
# The adapter first: it keeps simplemma from loading the rules of languages never matched.
from monitor.adapters.simplemma_internals import dictionary_pairs

import simplemma
from simplemma.strategies import DefaultStrategy
from simplemma.strategies.dictionaries import LOW_MEMORY_DICTIONARY_FACTORY

# isort: on

LEMMATIZER = simplemma.Lemmatizer(
    lemmatization_strategy=DefaultStrategy(dictionary_factory=LOW_MEMORY_DICTIONARY_FACTORY)
)


def lemmatize(word: str, language: str) -> str:
    """simplemma's lemma of `word` in `language` ("de" or "en")."""
    return LEMMATIZER.lemmatize(word, lang=language)


@lru_cache(maxsize=65536)
def is_known(word: str, language: str) -> bool:
    """Does simplemma's (low-memory) dictionary of `language` list `word` as a form?"""
    return simplemma.is_known(word, language, low_memory=True)


def forms_of(language: str, lemmas: Iterable[bytes]) -> dict[bytes, list[bytes]]:
    """Lemma (UTF-8) -> every form the dictionary maps to it, for the given lemmas."""
    wanted = set(lemmas)
    found: dict[bytes, list[bytes]] = {lemma: [] for lemma in wanted}
    if not wanted:
        return found
    mapping = LOW_MEMORY_DICTIONARY_FACTORY.get_dictionary(language)
    for form, lemma in dictionary_pairs(mapping):
        if lemma in wanted:
            found[lemma].append(form)
    return found
