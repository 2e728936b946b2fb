"""False-"new" rate on pages whose volatile parts change, and the catch rate of real edits.

For every page in benchmarks/extract_eval/, K variants are made in which only timestamps, dates,
relative times and counters differ (as a news site re-renders them on every load), and K variants
in which one figure in the article text is edited. Each variant is extracted and fingerprinted like
a poll would; a paragraph whose fingerprint the original page did not have counts as "new".

    python benchmarks/volatile_rate.py [--variants 20]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.extract import extract_page  # noqa: E402

PAGES = REPO / "benchmarks" / "extract_eval"

# What a site changes between two loads without changing the story.
VOLATILE = [
    (re.compile(r"\b\d{1,2}:\d{2}\b"), lambda r: f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"),
    (
        re.compile(r"\b\d{1,2}\.\d{1,2}\.20\d\d\b"),
        lambda r: f"{r.randint(1, 28)}.{r.randint(1, 12)}.20{r.randint(24, 27)}",
    ),
    (
        re.compile(r"\b(\d+)(\s+(?:Kommentare|comments|shares|Aufrufe|views|Leser))\b", re.I),
        lambda r: f"{r.randint(0, 9999)}\\2",
    ),
    (
        re.compile(r"\b(vor|updated)\s+\d+\s+(Minuten|Stunden|minutes|hours)", re.I),
        lambda r: f"\\1 {r.randint(1, 59)} \\2",
    ),
]
BANNER = [
    "<p class='ticker'>Aktualisiert vor {n} Minuten · {c} Kommentare</p>",
    "<p class='ticker'>Updated {n} minutes ago · {c} shares</p>",
]


def volatile_variant(html: str, rng: random.Random) -> str:
    for pattern, make in VOLATILE:
        html = pattern.sub(lambda m, make=make: m.expand(make(rng)), html)
    banner = rng.choice(BANNER).format(n=rng.randint(1, 59), c=rng.randint(0, 999))
    return html.replace("</h1>", "</h1>" + banner, 1)


# A count in the text ("3,000 troops", "10.000 Soldaten", "45 Tage"), not a year: dates are
# volatile by design and masked, so editing a year inside a date is not an edit of the story.
FIGURE = re.compile(
    r"(?<=[\s(])(\d{1,3}(?:[.,]\d{3})+|(?!19\d\d|20\d\d)\d{2,})(?=\s+[A-Za-zÄÖÜäöü])"
)


def _in_paragraph(html: str, pos: int) -> bool:
    """Whether the text at `pos` is inside a paragraph-like element (not a headline or title)."""
    tag = html[html.rfind("<", 0, pos) : pos].lower()
    return tag.startswith(("<p", "<li", "<td", "<blockquote", "<strong", "<em", "<a "))


def edited_variant(html: str, expected: str, rng: random.Random) -> str | None:
    """Change one figure that stands in the article's main text, or None if it has none."""
    figures = [
        m
        for m in FIGURE.finditer(html)
        if m.group(0) in expected and _in_paragraph(html, m.start())
    ]
    if not figures:
        return None
    m = rng.choice(figures)
    digits = re.sub(r"\d", lambda d: str((int(d.group(0)) + 3) % 10), m.group(0), count=1)
    return html[: m.start()] + digits + html[m.end() :]


def keys(html: str, encoding: str = "utf-8") -> set[str]:
    body = html.encode(encoding, errors="replace")
    return {p.key for p in extract_page(body, "https://news.example.org/a").passages}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", type=int, default=20)
    args = ap.parse_args()
    rng = random.Random(7)
    false_new = paragraphs = edits = caught = 0
    for page in sorted(PAGES.glob("*.html")):
        raw = page.read_bytes()
        # One page is deliberately windows-1252 (a regional site); keep its bytes' encoding.
        try:
            html, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            html, encoding = raw.decode("cp1252"), "cp1252"
        expected = page.with_suffix(".expected.txt").read_text(encoding="utf-8")
        base = keys(html, encoding)
        page_false = 0
        for _ in range(args.variants):
            new = keys(volatile_variant(html, rng), encoding) - base
            page_false += len(new)
            paragraphs += len(base)
            edited = edited_variant(html, expected, rng)
            if edited is not None:
                edits += 1
                caught += bool(keys(edited, encoding) - base)
        false_new += page_false
        print(
            f"{page.stem:28} paragraphs {len(base):3d}  false new over {args.variants} variants: "
            f"{page_false}"
        )
    print(
        f"\nvolatile-only variants: {false_new} false-new paragraphs of {paragraphs} "
        f"({false_new / max(paragraphs, 1):.2%})"
    )
    print(
        f"edited figures: {caught} of {edits} edits detected as new ({caught / max(edits, 1):.0%})"
    )


if __name__ == "__main__":
    main()
