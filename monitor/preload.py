"""Imported once by the parser processes' fork server, so that every worker starts ready.

Workers are forked from that server and share what it loaded: the extractors, trafilatura and
its helpers, and simplemma's German and English dictionaries (the language tie-break and the
matcher's lemmas read both). The dictionaries come from the user's cache, packed and checked
as the compiled topics are (`monitor.topic_cache.use_packed_dictionaries`): some milliseconds,
where building them from simplemma's streams took about 0.6 s of every start (that is done
once, when the cache has none, and stored). Without this, every new worker would pay for all
of it on its first documents.
"""

from __future__ import annotations

import gc
import signal

# Ctrl-C reaches the whole process group. The fork server is still importing here, with Python's
# default handler, and would print a KeyboardInterrupt traceback; the parent decides what stops.
# Workers forked from the server inherit this too.
signal.signal(signal.SIGINT, signal.SIG_IGN)

# The imports below come after that on purpose (they take a second or more): E402.
# Imported here so that workers need not: the parsers, and the matcher (built in each worker
# from its config).
import trafilatura  # noqa: E402, F401
from simplemma.strategies.dictionaries import LOW_MEMORY_DICTIONARY_FACTORY  # noqa: E402

import monitor.extract.feeds  # noqa: E402
import monitor.extract.pages  # noqa: E402
import monitor.sandbox  # noqa: E402  # what a worker runs (`_serve`): else each imports it
import monitor.source_kinds  # noqa: E402
import monitor.topics.worker  # noqa: E402, F401
from monitor.topic_cache import DICTIONARY_LANGUAGES, use_packed_dictionaries  # noqa: E402

use_packed_dictionaries()  # no cache folder: built from simplemma's streams, as before
for _language in DICTIONARY_LANGUAGES:
    LOW_MEMORY_DICTIONARY_FACTORY.get_dictionary(_language)

# Forked workers share these objects; the collector need never look at them (and touching them
# would copy their pages into every worker).
gc.freeze()
