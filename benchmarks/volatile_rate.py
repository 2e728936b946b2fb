"""False-"new" rate on pages whose volatile parts change, and the catch rate of real edits.

Part 1, the fixed patterns (`monitor.volatile`): for every page in benchmarks/extract_eval/, K
variants are made in which only timestamps, dates, relative times and counters differ (as a news
site re-renders them on every load), and K variants in which one figure in the article text is
edited. Each variant is extracted and fingerprinted like a poll would; a paragraph whose
fingerprint the original page did not have counts as "new".

Part 2, the lines learned per source (`monitor.detect.volatile_lines`): each page also carries
site-specific lines no fixed pattern knows ("· 12 entries", "1,234 readers", weather, a stock
ticker) and is polled P times; the lines change on every poll, and every third poll one figure
of the article text is revised. Novelty and the learning run as in a poll (keys, snapshot,
learned shapes carried from poll to poll); reported are the counter lines (false new) and the
polls whose revision was reported, with the learning and without it.

    python benchmarks/volatile_rate.py [--variants 20] [--polls 12]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from monitor.detect import novelty  # noqa: E402
from monitor.detect.volatile_lines import LineShape, sort_volatile  # noqa: E402
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


def revise(html: str, expected: str, rng: random.Random) -> tuple[str, str] | None:
    """`edited_variant` that also revises the expected text, so that a page can be revised again
    and again (each time one figure of its current text)."""
    figures = [
        m
        for m in FIGURE.finditer(html)
        if m.group(0) in expected and _in_paragraph(html, m.start())
    ]
    if not figures:
        return None
    m = rng.choice(figures)
    digits = re.sub(r"\d", lambda d: str((int(d.group(0)) + 3) % 10), m.group(0), count=1)
    return html[: m.start()] + digits + html[m.end() :], expected.replace(m.group(0), digits, 1)


def keys(html: str, encoding: str = "utf-8") -> set[str]:
    body = html.encode(encoding, errors="replace")
    return {p.key for p in extract_page(body, "https://news.example.org/a").passages}


# Site-specific lines that no fixed pattern masks: they change on every load.
SITE_LINES = [
    lambda r: f"· {r.randint(2, 60)} entries",
    lambda r: f"{r.randint(100, 99999):,} readers",
    lambda r: f"Liveblog · {r.randint(2, 60)} Einträge",
    lambda r: f"Wetter in Berlin: {r.randint(-9, 30)} °C",
    lambda r: f"DAX {r.randint(14000, 19000)},{r.randint(10, 99)} {r.uniform(-2, 2):+.2f} %",
    lambda r: f"Gerade online: {r.randint(10, 5000)} Besucher",
]


# A short line that is news (a fact box): it changes only when the newsroom revises it.
FACT = "Soldaten an der Grenze: {n}"


def with_site_lines(
    html: str, expected: str, rng: random.Random, fact: int = 1000
) -> tuple[str, set[str]]:
    """The page with the site's changing lines and its fact line put next to its first
    paragraph of main text (inside the article, where extraction keeps them); and the changing
    lines themselves."""
    first = next((line for line in expected.splitlines() if len(line) > 40), "")
    at = html.find(first[:30]) if first else -1
    at = html.rfind("<p", 0, at) if at > 0 else -1
    if at < 0:
        at = html.find("</h1>") + len("</h1>")
    made = {make(rng) for make in SITE_LINES}
    block = "".join(f"<p>{line}</p>" for line in [*sorted(made), FACT.format(n=f"{fact:,}")])
    return html[:at] + block + html[at:], made


def learned_run(
    html: str, expected: str, encoding: str, polls: int, rng: random.Random
) -> dict[str, int]:
    """Poll one page `polls` times as described above; count what was reported."""
    counts = dict.fromkeys(
        ("lines", "false_plain", "false_learned", "edits", "caught_plain", "caught_learned",
         "facts", "facts_plain", "facts_learned", "facts_late"), 0,
    )  # fmt: skip
    page, made = with_site_lines(volatile_variant(html, rng), expected, rng)
    doc = extract_page(page.encode(encoding, errors="replace"), "https://news.example.org/a")
    counts["lines"] = sum(p.text in made for p in doc.passages)
    known_plain = {p.key for p in doc.passages}
    known = set(known_plain)
    snapshot = [p.text for p in doc.passages]
    shapes: dict[str, LineShape] = {}
    now = datetime(2026, 12, 1, tzinfo=UTC)
    article, text = html, expected
    fact = 1000
    for n in range(1, polls + 1):
        now += timedelta(minutes=15)
        revised = revise(article, text, rng) if n % 3 == 0 else None
        edit = revised is not None
        if revised is not None:
            article, text = revised
            counts["edits"] += 1
        if n % 4 == 2:  # the fact line is revised now and then, never at consecutive polls
            fact += rng.randint(100, 900)
            counts["facts"] += 1
        page, made = with_site_lines(volatile_variant(article, rng), expected, rng, fact)
        passages = extract_page(
            page.encode(encoding, errors="replace"), "https://news.example.org/a"
        ).passages
        plain = novelty(passages, known_plain).fresh
        known_plain |= {p.key for p in passages}
        news = novelty(passages, known)
        current = [p.text for p in passages]
        lines = sort_volatile(news.fresh, current, snapshot, shapes, now)
        known |= {k for k in news.new_keys if k not in lines.skipped}
        snapshot, shapes = current, lines.shapes
        for reported, which in ((plain, "plain"), (lines.report, "learned")):
            counts[f"false_{which}"] += sum(p.text in made for p in reported)
            counts[f"caught_{which}"] += edit and any(p.text not in made for p in reported)
            # A revised fact reported at its poll, or (held back once) at the next one.
            reported_fact = any(p.text.startswith(FACT[:10]) for p in reported)
            counts[f"facts_{which}"] += reported_fact
            counts["facts_late"] += which == "learned" and reported_fact and n % 4 == 3
    return counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", type=int, default=20)
    ap.add_argument("--polls", type=int, default=12)
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

    print(f"\nsite-specific changing lines, {args.polls} polls per page (after the baseline):")
    total: dict[str, int] = {}
    for page in sorted(PAGES.glob("*.html")):
        raw = page.read_bytes()
        try:
            html, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            html, encoding = raw.decode("cp1252"), "cp1252"
        expected = page.with_suffix(".expected.txt").read_text(encoding="utf-8")
        got = learned_run(html, expected, encoding, args.polls, rng)
        for k, v in got.items():
            total[k] = total.get(k, 0) + v
        print(
            f"{page.stem:28} lines kept by extraction {got['lines']}  false new: "
            f"{got['false_plain']:3d} patterns only, {got['false_learned']:3d} learned  "
            f"revisions reported: {got['caught_plain']}/{got['edits']} patterns only, "
            f"{got['caught_learned']}/{got['edits']} learned  "
            f"fact line revisions reported: {got['facts_plain']}/{got['facts']} patterns only, "
            f"{got['facts_learned']}/{got['facts']} learned"
        )
    polled = total["lines"] * args.polls
    print(
        f"\nchanging lines reported as new: patterns only {total['false_plain']} of {polled} "
        f"line-polls ({total['false_plain'] / max(polled, 1):.1%}), learned "
        f"{total['false_learned']} ({total['false_learned'] / max(polled, 1):.1%})"
    )
    print(
        f"article revisions reported at their poll: patterns only {total['caught_plain']} of "
        f"{total['edits']}, learned {total['caught_learned']} of {total['edits']}"
    )
    print(
        f"short fact line revisions reported: patterns only {total['facts_plain']} of "
        f"{total['facts']}, learned {total['facts_learned']} of {total['facts']} "
        f"({total['facts_late']} of them one poll late)"
    )


if __name__ == "__main__":
    main()
