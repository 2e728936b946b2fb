"""Imported once by the parser processes' fork server, so that every worker starts ready.

Workers are forked from that server and share what it loaded: the extractors, trafilatura and
its helpers, and simplemma's dictionaries for the language tie-break (about 0.6 s to load).
Without this, every new worker would pay for all of it on its first documents.
"""

from __future__ import annotations

import gc

import trafilatura  # noqa: F401  (imported here so that workers need not)
from simplemma.strategies.dictionaries import LOW_MEMORY_DICTIONARY_FACTORY

import monitor.extract.parse  # noqa: F401

for _language in ("de", "en"):
    LOW_MEMORY_DICTIONARY_FACTORY.get_dictionary(_language)

# Forked workers share these objects; the collector need never look at them (and touching them
# would copy their pages into every worker).
gc.freeze()
