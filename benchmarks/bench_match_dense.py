"""Matching time on long texts dense in topic terms: seconds per size, German and English.

Usage::

    python benchmarks/bench_match_dense.py [--config config.toml] [--sizes 1M,10M]
                                           [--language de,en] [--seed 1] [--no-cap]

Each text is built from sentences of the kind the shipped topics match (North Korean troops in
Kursk, the treaty's Article 4, sanctions, arms and fuel moving to Russia), with places, sources,
numbers and articles drawn at random, joined into paragraphs of four sentences, up to the size
asked for (in characters; 1M = 1,000,000). Nearly every sentence holds several terms of every
topic, so this is the worst case for proximity (NEAR, phrases with slop, scores of close terms)
and for the evidence: a real article has a few dozen such terms, these texts hundreds of
thousands.

For each size and language the script builds fresh matchers from the config and matches the
text once with `Matcher.match`, as the pipeline does with one item (its whole text, a title
given): first with no cap, which measures how matching grows with the text, then with the
matcher's cap on text per item (`MAX_MATCH_CHARS`), as in the pipeline, where any size costs what
its first part costs. It prints wall-clock and CPU seconds (the CPU figure is the steadier one on
a busy machine) and the topics matched. `--no-cap` leaves out the capped runs.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor import wiring  # noqa: E402
from monitor.config import Config  # noqa: E402
from monitor.topics import MAX_MATCH_CHARS, compile_topics  # noqa: E402

UNCAPPED = sys.maxsize

# {slots} are filled from FILL; every sentence carries terms of one or more shipped topics.
SENTENCES: dict[str, list[str]] = {
    "de": [
        "Nach Angaben von {intel} hat Nordkorea weitere {n} Soldaten nach {place} entsandt.",
        "Nordkoreanische Truppen kämpfen in der Region {place} an der Seite der russischen Armee.",
        "Die Koreanische Volksarmee verlegte {n} Pioniere und Offiziere in den Fernen Osten.",
        "Laut {intel} wurden {n} nordkoreanische Soldaten in {place} getötet oder verwundet.",
        "Pjöngjang beruft sich auf Artikel 4 des Vertrags mit Russland, der Beistand "
        "unverzüglich und mit allen verfügbaren Mitteln verlangt.",
        "Der Partnerschaftsvertrag zwischen Moskau und der DVRK trat am 4. Dezember in Kraft; "
        "Art. {art} regelt die Zusammenarbeit.",
        "Die Staatsduma hat den Vertrag mit Nordkorea ratifiziert, Artikel {art} sieht "
        "gegenseitigen Beistand vor.",
        "Die EU verhängte neue Sanktionen gegen Nordkorea wegen der Lieferung von Munition "
        "an Russland.",
        "Nordkorea lieferte {n} Container mit Artilleriegranaten und Raketen nach Russland.",
        "Das Expertengremium der UN meldet Schiff-zu-Schiff-Transfers von Öl nach Nordkorea, "
        "über der Ölobergrenze von {n} Barrel.",
        "Russland liefert Treibstoff und Militärtechnik an Pjöngjang im Gegenzug für "
        "Soldaten aus Nordkorea.",
        "Nordkoreanische Arbeiter werden trotz der Resolution 2397 nach {place} geschickt.",
        "In {place} setzte Russland ballistische Raketen vom Typ KN-23 aus Nordkorea ein.",
    ],
    "en": [
        "According to {intel}, North Korea has sent another {n} troops to {place}.",
        "North Korean soldiers are fighting alongside the Russian army in the {place} region.",
        "The Korean People's Army deployed {n} engineers and officers to Russia's Far East.",
        "{intel} says {n} North Korean troops were killed or wounded in {place}.",
        "Pyongyang invoked Article 4 of its treaty with Russia, which requires assistance "
        "without delay and with all means.",
        "The comprehensive strategic partnership treaty between Moscow and the DPRK entered into "
        "force in December; Article {art} covers cooperation.",
        "The Duma ratified the treaty with North Korea; Article {art} provides for mutual "
        "assistance.",
        "The EU imposed new sanctions on North Korea over the delivery of ammunition to Russia.",
        "North Korea shipped {n} containers of artillery shells and missiles to Russia.",
        "The UN Panel of Experts reports ship-to-ship transfers of oil to North Korea above the "
        "cap of {n} barrels.",
        "Russia supplied fuel and military technology to Pyongyang in exchange for troops from "
        "North Korea.",
        "North Korean workers are sent to {place} despite resolution 2397.",
        "In {place}, Russia fired KN-23 ballistic missiles supplied by North Korea.",
    ],
}
FILL: dict[str, dict[str, list[str]]] = {
    "de": {
        "intel": ["dem NIS", "dem Pentagon", "dem HUR", "britischen Geheimdiensten"],
        "place": ["Kursk", "Sudscha", "Chabarowsk", "Wladiwostok", "Ussurijsk", "Donezk"],
    },
    "en": {
        "intel": ["the NIS", "the Pentagon", "HUR", "UK defence intelligence"],
        "place": ["Kursk", "Sudzha", "Khabarovsk", "Vladivostok", "Ussuriysk", "Donetsk"],
    },
}

TITLES = {"de": "Nordkoreas Soldaten für Russland", "en": "North Korean troops for Russia"}


def dense_text(size: int, language: str, seed: int = 1) -> str:
    """About `size` characters of topic-dense paragraphs in `language` ("de" or "en")."""
    rng = random.Random(seed)
    sentences, fill = SENTENCES[language], FILL[language]
    paragraphs: list[str] = []
    total = 0
    while total < size:
        parts = []
        for _ in range(4):
            template = rng.choice(sentences)
            intel, place = rng.choice(fill["intel"]), rng.choice(fill["place"])
            number = f"{rng.randint(1, 30) * 500:,}"
            if language == "de":
                number = number.replace(",", ".")
            article = rng.choice((2, 3, 4, 5, 8, 10, 16))
            parts.append(template.format(intel=intel, place=place, n=number, art=article))
        paragraph = " ".join(parts)
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(paragraphs)[:size]


def parse_size(text: str) -> int:
    """ "1M" → 1,000,000; "200K" → 200,000; "5000" → 5000."""
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def timed(config: Config, text: str, language: str, max_chars: int) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds of one `match` by a fresh matcher, and the topics it found."""
    matcher = compile_topics(config.topics, config.aliases, max_chars=max_chars)
    gc.collect()
    started, cpu = time.perf_counter(), time.process_time()
    found = matcher.match(text, title=TITLES[language], language=language)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return seconds, cpu, ", ".join(m.topic for m in found) or "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "config.toml"))
    parser.add_argument("--sizes", default="1M,10M", help="comma-separated, e.g. 100K,1M,10M")
    parser.add_argument("--language", default="de,en")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-cap", action="store_true", help="only the runs without the cap")
    args = parser.parse_args(argv)
    config = wiring.load(Path(args.config))
    print(f"config={args.config}  cap={MAX_MATCH_CHARS:,} characters")
    print(f"{'language':8} {'size':>12} {'cap':>7} {'seconds':>9} {'cpu s':>9}  topics")
    for language in args.language.split(","):
        for size in (parse_size(s) for s in args.sizes.split(",")):
            text = dense_text(size, language, args.seed)
            runs = [("none", UNCAPPED)] + ([] if args.no_cap else [("on", MAX_MATCH_CHARS)])
            for label, cap in runs:
                seconds, cpu, topics = timed(config, text, language, cap)
                figures = f"{len(text):>12,} {label:>7} {seconds:>9.2f} {cpu:>9.2f}"
                print(f"{language:8} {figures}  {topics}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
