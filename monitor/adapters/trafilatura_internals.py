"""trafilatura's private parts, used by page extraction (monitor/extract/main_text.py and
monitor/extract/page_meta.py).

trafilatura's public API is `load_html`, `bare_extraction` and `extract_metadata`. Two speed-ups
need more:

* the fast run: `bare_extraction` with `fast=True` skips the comparison with readability and
  jusText. It is taken only where trafilatura 2.3's comparison rules prove the full run would
  return the same; checking that needs its options class (`settings.Extractor`, with its
  `min_extracted_size`), the XPath of tags that send a result to jusText
  (`external.SANITIZED_XPATH`), and readability's "unlikely candidate" rule
  (`readability_lxml.REGEXES`, `FRAME_TAGS`);
* the recall pass is skipped where it cannot add anything: text inside the tags trafilatura
  deletes with their content before it looks for the main text (`settings.MANUALLY_CLEANED`)
  never reaches its output;
* the full default run differs from its fast run where a short result is retried
  (`core.ESCALATION_MAX_LENGTH`, `core.ESCALATION_PAGE_SHARE`): the recall pass takes the
  full run there;
* a light metadata pass: `extract_metadata` also finds categories, tags, licence and the date,
  which cost most of its time; its helpers in `trafilatura.metadata` are called one by one.

pyproject.toml bounds trafilatura to 2.3.x; tests/test_adapters.py fails when a release moves or
changes these, and tests/test_extract_pages.py compares the results with the public API's.
"""

from __future__ import annotations

from typing import Any

from trafilatura import core, metadata
from trafilatura.external import SANITIZED_XPATH
from trafilatura.readability_lxml import FRAME_TAGS, REGEXES
from trafilatura.settings import MANUALLY_CLEANED, Extractor

__all__ = [
    "CHECKED_RELEASE",
    "FRAME_TAGS",
    "MANUALLY_CLEANED",
    "SANITIZED_XPATH",
    "Extractor",
    "escalation_bounds",
    "metadata",
    "unlikely_patterns",
]

# The trafilatura release whose full run was checked to behave as main_text.py assumes.
CHECKED_RELEASE = (2, 3)


def unlikely_patterns() -> tuple[Any, Any]:
    """Readability's (unlikely candidate, but maybe a candidate) class/id patterns."""
    return REGEXES["unlikelyCandidatesRe"], REGEXES["okMaybeItsACandidateRe"]


def escalation_bounds() -> tuple[int, float]:
    """(ESCALATION_MAX_LENGTH, ESCALATION_PAGE_SHARE): a default-mode result shorter than both
    (the second a share of the page's text) is retried, its full run weighing jusText's too."""
    return int(core.ESCALATION_MAX_LENGTH), float(core.ESCALATION_PAGE_SHARE)
