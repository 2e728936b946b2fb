"""Token-level precision / recall / F1 of `extract_page` on the pages in benchmarks/extract_eval/.

Each `NAME.html` has a `NAME.expected.txt` holding the article body a reader would call the main
text (body paragraphs, sub-headings, list items and quotes; not the headline, byline, dates,
captions, teasers, comments or boilerplate). Scores compare bags of normalised word tokens, as
the ScrapingHub article-extraction benchmark does. Section headings are counted once, where they
first appear as a passage title.

    python benchmarks/extract_quality.py [-v] [--dir DIR] [--glob 'en_*.html']
                                         [--tool monitor|trafilatura] [--tree DIR]

`--tool trafilatura` scores trafilatura's `extract()` with its default settings on the same
pages, the baseline the extraction-recall issue measures against.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# `--tree DIR`: score the monitor/ of another source tree (e.g. `git archive main monitor | tar
# -x -C /tmp/before`), for before/after figures from one checkout.
sys.path.insert(0, sys.argv[sys.argv.index("--tree") + 1] if "--tree" in sys.argv else str(REPO))

from monitor.extract import extract_page, normalise  # noqa: E402
from monitor.models import Document  # noqa: E402

_TOKEN = re.compile(r"[^\W_]+")


def tokens(text: str) -> Counter[str]:
    """Bag of normalised word tokens."""
    return Counter(_TOKEN.findall(normalise(text)))


def document_text(doc: Document) -> str:
    """The extracted text as a reader would see it: headings once, then their paragraphs."""
    parts: list[str] = []
    heading: str | None = None
    for passage in doc.passages:
        if passage.title and passage.title != heading:
            parts.append(passage.title)
        heading = passage.title
        parts.append(passage.text)
    return "\n\n".join(parts)


def score(got: Counter[str], want: Counter[str]) -> tuple[float, float, float, int]:
    """(precision, recall, F1, overlap) of two token bags."""
    overlap = sum((got & want).values())
    precision = overlap / sum(got.values()) if got else 0.0
    recall = overlap / sum(want.values()) if want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, overlap


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=REPO / "benchmarks" / "extract_eval")
    parser.add_argument("-v", "--verbose", action="store_true", help="show missing/extra tokens")
    parser.add_argument("--tool", choices=("monitor", "trafilatura"), default="monitor")
    parser.add_argument("-q", "--quiet", action="store_true", help="print the totals only")
    parser.add_argument("--tree", type=Path, help="score the monitor package of this source tree")
    parser.add_argument("--glob", default="*.html", help="pages of --dir, e.g. 'en_*.html'")
    args = parser.parse_args(argv)

    pages = sorted(args.dir.glob(args.glob))
    if not pages:
        print(f"no pages in {args.dir}", file=sys.stderr)
        return 2
    total_got = total_want = total_overlap = 0
    f1s: list[float] = []
    print(f"{'page':32} {'P':>6} {'R':>6} {'F1':>6}  notes")
    started = time.perf_counter()
    for page in pages:
        expected = page.with_name(page.stem + ".expected.txt").read_text(encoding="utf-8")
        if args.tool == "trafilatura":
            import trafilatura

            # Bytes, so that trafilatura reads the page's own charset (windows-1252 pages).
            text = trafilatura.extract(page.read_bytes()) or ""
            warnings: list[str] = []
        else:
            doc = extract_page(page.read_bytes(), f"https://eval.example/{page.name}", "text/html")
            text, warnings = document_text(doc), doc.warnings
        got, want = tokens(text), tokens(expected)
        precision, recall, f1, overlap = score(got, want)
        total_got += sum(got.values())
        total_want += sum(want.values())
        total_overlap += overlap
        f1s.append(f1)
        notes = "; ".join(warnings)
        if not args.quiet:
            print(f"{page.stem:32} {precision:6.3f} {recall:6.3f} {f1:6.3f}  {notes}")
        if args.verbose:
            missing = (want - got).most_common(15)
            extra = (got - want).most_common(15)
            print(f"    missing: {missing}\n    extra:   {extra}")
    elapsed = time.perf_counter() - started
    precision = total_overlap / total_got if total_got else 0.0
    recall = total_overlap / total_want if total_want else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    print(f"{'overall (micro)':32} {precision:6.3f} {recall:6.3f} {f1:6.3f}")
    print(f"{'mean F1 (macro)':32} {'':6} {'':6} {sum(f1s) / len(f1s):6.3f}")
    print(f"{len(pages)} pages in {elapsed:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
