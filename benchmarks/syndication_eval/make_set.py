"""Build the labelled syndication set (set.jsonl) from the wire stories written for the project.

Usage::

    python benchmarks/syndication_eval/make_set.py

Each story in stories_de.txt / stories_en.txt becomes the copies several outlets would publish:
the agency's own text, and outlets that give it another headline, drop the dateline, add an
intro or an outro of their own, trim paragraphs, reorder two of them, change a word or two, or
print a timestamp and a counter. Every copy is labelled with its story (the group) and its
subject; the two stories of a subject share names and places but not their facts (the hard
negatives). Deterministic: the same files give the same set, byte for byte.

The held-out half (split.json) was drawn once, before any tuning, by subject (a subject's two
stories stay together) and frozen with the SHA-256 of its copies; syndication_score.py refuses a
set whose held-out half does not match it.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SET = HERE / "set.jsonl"
SPLIT = HERE / "split.json"

# Outlets' own words around a wire story (written for the project).
INTROS = {
    "de": [
        "Was bisher bekannt ist: Wir fassen die wichtigsten Informationen zusammen.",
        "Die Nachricht sorgte am Morgen für Diskussionen. Unsere Redaktion verfolgt die "
        "Entwicklung und ergänzt diesen Bericht laufend.",
        "Eilmeldung.",
        "Ein Überblick über die Lage.",
    ],
    "en": [
        "Here is what we know so far.",
        "The news drew strong reactions on Monday morning. Our newsroom is following the story "
        "and will update this report as more details emerge.",
        "Breaking news.",
        "A quick look at the latest developments.",
    ],
}
OUTROS = {
    "de": [
        "Mehr zum Thema lesen Sie in unserem Dossier.",
        "Dieser Artikel wurde automatisch aus einem Agenturkanal übernommen und von der "
        "Redaktion nicht bearbeitet.",
        "Folgen Sie uns auch auf unseren Kanälen in den sozialen Netzwerken. Kommentare (34)",
        "Stand: 22.11.2026, 11:45 Uhr",
    ],
    "en": [
        "Read more in our special report.",
        "This article was published automatically from a news agency feed and has not been "
        "edited by our staff.",
        "Follow us on social media for more updates. 34 comments",
        "Updated 5 minutes ago",
    ],
}
# Small rewordings outlets make (first occurrence only).
SWAPS = {
    "de": [
        ("sagte", "erklärte"),
        ("rund", "etwa"),
        ("nach Angaben", "laut Angaben"),
        ("kritisierte", "bemängelte"),
        ("mindestens", "wenigstens"),
        ("soll", "solle"),
    ],
    "en": [
        ("said", "told reporters"),
        ("about", "around"),
        ("more than", "over"),
        ("on Monday", "on Monday morning"),
        ("would", "will"),
        ("warned", "cautioned"),
    ],
}
_DATELINE = re.compile(r"^[A-ZÄÖÜ][A-ZÄÖÜ /().-]+ \((?:dpa|Reuters|AP)\) - ")


def parse(path: Path) -> list[dict[str, object]]:
    """The subjects of one stories file: id, language and their stories (headlines, paragraphs)."""
    subjects: list[dict[str, object]] = []
    story: dict[str, list[str]] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("=== "):
            sid = line[4:].strip()
            subjects.append({"subject": sid, "lang": sid[:2], "stories": {}})
        elif line.startswith("--- "):
            story = {"H": [], "P": []}
            subjects[-1]["stories"][line[4:].strip()] = story  # type: ignore[index]
        elif line[:3] in ("H: ", "P: ") and story is not None:
            story[line[0]].append(line[3:].strip())
        else:
            raise ValueError(f"{path.name}: cannot read line: {line[:60]}")
    return subjects


def swap(text: str, lang: str, rng: random.Random, count: int) -> str:
    pairs = [p for p in SWAPS[lang] if re.search(rf"\b{p[0]}\b", text)]
    for old, new in rng.sample(pairs, min(count, len(pairs))):
        text = re.sub(rf"\b{old}\b", new, text, count=1)
    return text


def copies(lang: str, story: dict[str, list[str]], rng: random.Random) -> list[tuple[str, str]]:
    """(outlet, "headline\\ntext") of each outlet's copy of one story."""
    heads, paras = story["H"], story["P"]
    no_dateline = [_DATELINE.sub("", paras[0]), *paras[1:]]
    out = [("wire", heads[0] + "\n" + "\n\n".join(paras))]

    # Another headline, no dateline, an intro of its own, the last paragraph cut, a reworded
    # word or two, an outro.
    body = [rng.choice(INTROS[lang]), *no_dateline[:-1]]
    body = [swap(p, lang, rng, 1) for p in body]
    out.append(("outlet-1", heads[1] + "\n" + "\n\n".join([*body, rng.choice(OUTROS[lang])])))

    # Two middle paragraphs swapped, a sentence dropped from the second, a timestamp and a
    # counter around it.
    body = list(no_dateline)
    if len(body) >= 3:
        body[1], body[2] = body[2], body[1]
    sentences = re.split(r"(?<=[.!?]) ", body[1])
    if len(sentences) > 1:
        sentences.pop(rng.randrange(len(sentences)))
        body[1] = " ".join(sentences)
    body = [swap(p, lang, rng, 2) for p in body]
    stamp = (
        "Aktualisiert vor 12 Minuten · 1.234 Leser"
        if lang == "de"
        else ("Updated 12 minutes ago · 1,234 readers")
    )
    out.append(("outlet-2", heads[2] + "\n" + "\n\n".join([stamp, *body, OUTROS[lang][0]])))

    # A short version: the first two paragraphs only, under the agency's headline reworded.
    head = heads[rng.randrange(len(heads))]
    body = [swap(p, lang, rng, 1) for p in no_dateline[:2]]
    out.append(("outlet-3", head + "\n" + "\n\n".join([*body, rng.choice(OUTROS[lang])])))
    return out


def build() -> list[dict[str, str]]:
    docs: list[dict[str, str]] = []
    for name in ("stories_de.txt", "stories_en.txt"):
        for subject in parse(HERE / name):
            sid, lang = str(subject["subject"]), str(subject["lang"])
            for story_id, story in subject["stories"].items():  # type: ignore[attr-defined]
                rng = random.Random(f"{sid}/{story_id}")
                for outlet, text in copies(lang, story, rng):
                    docs.append(
                        {
                            "id": f"{sid}{story_id}-{outlet}",
                            "subject": sid,
                            "group": f"{sid}{story_id}",
                            "lang": lang,
                            "outlet": outlet,
                            "text": text,
                        }
                    )
    return docs


def digest(docs: list[dict[str, str]], subjects: set[str]) -> str:
    h = hashlib.sha256()
    for d in docs:
        if d["subject"] in subjects:
            h.update(json.dumps(d, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return h.hexdigest()


def main() -> None:
    docs = build()
    SET.write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8"
    )
    if not SPLIT.exists():  # drawn once; never redrawn (see the module docstring)
        rng = random.Random(20261203)
        held: list[str] = []
        for lang in ("de", "en"):
            ids = sorted({d["subject"] for d in docs if d["lang"] == lang})
            rng.shuffle(ids)
            held += sorted(ids[: len(ids) // 2])
        split = {"heldout_subjects": sorted(held), "heldout_sha256": digest(docs, set(held))}
        SPLIT.write_text(json.dumps(split, indent=1) + "\n", encoding="utf-8")
    groups = len({d["group"] for d in docs})
    print(f"{len(docs)} copies of {groups} stories written to {SET.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
