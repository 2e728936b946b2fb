"""The hand-written extraction set (benchmarks/extract_eval3): complete, split, held-out frozen.

The held-out half was split off and hashed before anything was scored on it; a change to one
of its pages or labels (tuning on it, even by accident) fails here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SET = Path(__file__).resolve().parent.parent / "benchmarks" / "extract_eval3" / "pages"


def test_every_page_has_its_hand_labelled_main_text() -> None:
    for half in ("dev", "heldout"):
        pages = sorted((SET / half).glob("*.html"))
        assert len(pages) >= 15, half
        for page in pages:
            label = page.with_name(page.stem + ".expected.txt")
            assert label.read_text(encoding="utf-8").strip(), label


def test_the_halves_are_disjoint_and_hold_both_languages() -> None:
    dev = {p.stem for p in (SET / "dev").glob("*.html")}
    held = {p.stem for p in (SET / "heldout").glob("*.html")}
    assert not dev & held
    for half in (dev, held):
        assert {name[:3] for name in half} == {"de_", "en_"}
    assert len(dev) + len(held) >= 30


def test_the_held_out_half_is_unchanged_since_it_was_frozen() -> None:
    sums = (SET / "heldout" / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    frozen = dict(reversed(line.split(maxsplit=1)) for line in sums if line.strip())
    present = {p.name for p in (SET / "heldout").iterdir() if p.name != "SHA256SUMS"}
    assert present == set(frozen), "held-out files added or removed after freezing"
    for name, digest in frozen.items():
        actual = hashlib.sha256((SET / "heldout" / name).read_bytes()).hexdigest()
        assert actual == digest, f"{name} changed after the held-out half was frozen"
