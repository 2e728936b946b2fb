"""Detect: what is new in a fetched document, and what an edited paragraph replaced.

Pure functions over typed values, no database: the pipeline reads what detect needs from the
store (the keys a source already has, a page's last paragraphs), calls detect, and the store
persists what detect decided. The fingerprints themselves are made during extraction, with the
volatile parts masked by `monitor.volatile`.
"""

from monitor.detect.edits import changed_words, page_snapshot, previous_version, previous_versions
from monitor.detect.novelty import Novelty, keys_to_look_up, novelty

__all__ = [
    "Novelty",
    "changed_words",
    "keys_to_look_up",
    "novelty",
    "page_snapshot",
    "previous_version",
    "previous_versions",
]
