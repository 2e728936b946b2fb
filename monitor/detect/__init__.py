"""Detect: what is new in a fetched document, what an edited paragraph replaced, and which edits
of known feed entries are material.

Pure functions over typed values, no database: the pipeline reads what detect needs from the
store (the keys a source already has, a page's last paragraphs), calls detect, and the store
persists what detect decided. The fingerprints themselves are made during extraction, with the
volatile parts masked by `monitor.volatile`.
"""

from monitor.detect.edits import (
    Change,
    changed_words,
    entry_edit,
    material_changes,
    page_snapshot,
    previous_version,
    previous_versions,
)
from monitor.detect.novelty import Novelty, keys_to_look_up, novelty

__all__ = [
    "Change",
    "Novelty",
    "changed_words",
    "entry_edit",
    "keys_to_look_up",
    "material_changes",
    "novelty",
    "page_snapshot",
    "previous_version",
    "previous_versions",
]
