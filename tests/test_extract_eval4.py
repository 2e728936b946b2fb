"""The hand-written extraction set of issue 15 (benchmarks/extract_eval4): complete, split, frozen.

Each language's pages were written by a different engineer; the held-out half of each language
was hashed into `heldout/SHA256SUMS-<lang>` before anything was scored on it. A page filed in the
wrong half fails here; a change to a held-out page or label, or a page added to that half after
its freeze, fails in `tests/test_extract_held_out_sets.py`, with the other held-out sets.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

SET = Path(__file__).resolve().parent.parent / "benchmarks" / "extract_eval4" / "pages"
HALVES = ("dev", "heldout")
# NAME.html + NAME.expected.txt, NAME = two-letter language, "_", lower-case words.
_NAME = re.compile(r"[a-z]{2}_[a-z0-9_]+")


def _half_of(name: str) -> str:
    """The split rule, fixed before any scoring: first hex digit of sha256(NAME) 0-7 is dev."""
    return "dev" if hashlib.sha256(name.encode("utf-8")).hexdigest()[0] in "01234567" else "heldout"


def test_every_page_has_its_hand_labelled_main_text() -> None:
    total = 0
    for half in HALVES:
        folder = SET / half
        pages = {p.stem for p in folder.glob("*.html")}
        labels = {p.name.removesuffix(".expected.txt") for p in folder.glob("*.expected.txt")}
        assert pages == labels, f"{folder}: pages without a label or labels without a page"
        for name in pages:
            assert _NAME.fullmatch(name), f"{folder / name}.html: name is not LANG_words"
            label = folder / f"{name}.expected.txt"
            assert label.read_text(encoding="utf-8").strip(), f"{label} is empty"
        total += len(pages)
    assert total >= 30


def test_each_page_sits_in_the_half_its_name_hashes_to() -> None:
    for half in HALVES:
        for page in (SET / half).glob("*.html"):
            assert _half_of(page.stem) == half, f"{page} belongs in {_half_of(page.stem)}/"
