"""The sixth hand-written extraction set of issue 15 (benchmarks/extract_eval6): held out, frozen.

Written after the sets of extract_eval, extract_eval3, extract_eval4 and extract_eval5 had all been
scored (so those count as development data). Each language's pages were written by a different
engineer and hashed into `heldout/SHA256SUMS-<lang>` before any extractor ran on them. A change to
one of those pages or labels (tuning on them, even by accident), or a page added after the freeze,
fails here.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

HELD = Path(__file__).resolve().parent.parent / "benchmarks" / "extract_eval6" / "pages" / "heldout"
# NAME.html + NAME.expected.txt, NAME = two-letter language, "_", lower-case words.
_NAME = re.compile(r"[a-z]{2}_[a-z0-9_]+")


def _frozen(sums: Path) -> dict[str, str]:
    """File name -> digest, from a `sha256sum` listing."""
    lines = sums.read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split(maxsplit=1) for line in lines if line)}


def test_every_page_has_its_hand_labelled_main_text() -> None:
    pages = {p.stem for p in HELD.glob("*.html")}
    labels = {p.name.removesuffix(".expected.txt") for p in HELD.glob("*.expected.txt")}
    assert pages == labels, f"{HELD}: pages without a label or labels without a page"
    for name in pages:
        assert _NAME.fullmatch(name), f"{HELD / name}.html: name is not LANG_words"
        label = HELD / f"{name}.expected.txt"
        assert label.read_text(encoding="utf-8").strip(), f"{label} is empty"
    assert len(pages) >= 15


def test_every_language_of_the_held_out_set_is_frozen() -> None:
    languages = {p.name[:2] for p in HELD.glob("*.html")}
    assert languages
    for lang in languages:
        assert (HELD / f"SHA256SUMS-{lang}").is_file(), f"held-out {lang} not frozen"


def test_the_held_out_set_is_unchanged_since_it_was_frozen() -> None:
    sums_files = sorted(HELD.glob("SHA256SUMS-*"))
    assert sums_files
    for sums in sums_files:
        lang = sums.name.removeprefix("SHA256SUMS-")
        frozen = _frozen(sums)
        present = {p.name for p in HELD.glob(f"{lang}_*")}
        assert present == set(frozen), f"held-out {lang} files added or removed after freezing"
        for name, digest in frozen.items():
            actual = hashlib.sha256((HELD / name).read_bytes()).hexdigest()
            assert actual == digest, f"{name} changed after the held-out set was frozen"
