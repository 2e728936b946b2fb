"""Matching speed: paragraphs per second on one core, for 10 and for 100 topics.

Usage::

    python benchmarks/bench_match.py [--config config.toml] [--rounds 20] [--topics 10,100]
                                     [--join N]

The topics are the config's shipped topics plus generated ones of the same shape (a subject
alias AND a theme, some with NEAR, phrases, exclusions and article fields) over a vocabulary of
countries, organisations and themes in German and English, so that many paragraphs wake up
several topics and the prefilter has real work to do.

The paragraphs are the texts of the labelled dev set (benchmarks/topics_eval/dev.jsonl) and the
paragraphs of the seed documents (about 110 characters on average; `--join 4` joins every four
into one paragraph of about 460 characters, the length of a typical article paragraph). Each
measurement builds a fresh matcher and clears the
analysis caches, then times

- the first pass over the corpus (every word is new: lemmatisation and compound search run), and
- the steady state (further rounds over the same paragraphs: words come from the cache, as they
  mostly do in a news stream).

Analysis is included in both: `match` tokenises, folds, lemmatises and finds articles itself.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.config import TopicConfig, load_config  # noqa: E402
from monitor.topics import analyse, compile_topics  # noqa: E402
from monitor.topics.analysis import fold_forms, lemma_forms, word_keys  # noqa: E402

SUBJECTS: dict[str, list[str]] = {
    "iran": ["Iran", "iranisch*", "Iranian*", "Teheran", "Tehran"],
    "china": ["China", "chinesisch*", "Chinese", "Peking", "Beijing", "Xi Jinping"],
    "ukraine": ["Ukraine", "ukrainisch*", "Ukrainian*", "Kyiv", "Kiew", "Selenskyj", "Zelensky*"],
    "belarus": ["Belarus", "belarussisch*", "Belarusian*", "Minsk", "Lukaschenko", "Lukashenko"],
    "syria": ["Syrien", "Syria*", "syrisch*", "Damaskus", "Damascus"],
    "venezuela": ["Venezuela*", "Caracas", "Maduro"],
    "israel": ["Israel*", "israelisch*", "Jerusalem", "Netanjahu", "Netanyahu"],
    "nato": ["Nato", "NATO", "Bündnis*", "alliance", "Rutte"],
    "eu": ["EU", "European Union", "Europäische Union", "Brüssel", "Brussels"],
    "un": ["UN", "Vereinte Nationen", "United Nations", "Sicherheitsrat", "Security Council"],
    "usa": ["USA", "United States", "Washington", "Pentagon", "Weißes Haus", "White House"],
    "japan": ["Japan*", "Tokio", "Tokyo"],
    "south_korea": ["Südkorea*", "South Korea*", "Seoul", "ROK"],
    "cuba": ["Kuba", "Cuba*", "Havanna", "Havana"],
    "india": ["Indien", "India*", "indisch*", "Neu-Delhi", "New Delhi"],
    "turkey": ["Türkei", "Turkey", "türkisch*", "Turkish", "Ankara", "Erdogan"],
    "germany": ["Deutschland", "German*", "deutsch*", "Berlin", "Bundesregierung", "Bundeswehr"],
    "baltics": ["Litauen", "Lithuania*", "Lettland", "Latvia*", "Estland", "Estonia*"],
    "vietnam": ["Vietnam*", "Hanoi"],
    "kursk": ["Kursk*", "Belgorod", "Brjansk", "Bryansk"],
}
THEMES: dict[str, str] = {
    "sanctions": "(sanction* OR Sanktion* OR embargo OR Strafmaßnahme OR designat*)",
    "troops": "(troop* OR soldier* OR Truppe OR Soldat OR Einheit OR brigade OR Brigade)",
    "weapons": "(Waffe OR weapon* OR Munition OR munition* OR Rakete OR missile* OR drone*)",
    "treaty": '(treaty OR Vertrag OR Abkommen OR pact OR "mutual defence" OR Beistand*)',
    "talks": "(talks NEAR/5 (peace OR cease*)) OR Verhandlung OR Waffenstillstand",
    "energy": '(oil OR Öl OR gas OR Gas OR "price cap" OR Ölpreisdeckel OR pipeline*)',
    "nuclear": "(nuclear OR Atom* OR uranium OR Uran OR IAEA OR IAEO) -Kraftwerk",
    "cyber": '(cyber* OR hacker* OR "ransomware" OR Cyberangriff OR crypto*)',
    "election": "(election* OR Wahl OR vote* OR ballot*) NOT Tanz*",
    "shipping": '(tanker* OR vessel* OR Schiff OR "ship-to-ship" OR Hafen OR port)',
    "articles": "(art:4 OR art:5 OR art:51 OR art:42) AND (treaty OR Vertrag OR Charta OR charter)",
}


def generated_topics(count: int) -> dict[str, TopicConfig]:
    """`count` topics, subject × theme, in a fixed order."""
    out: dict[str, TopicConfig] = {}
    for theme, clause in THEMES.items():
        for subject in SUBJECTS:
            if len(out) == count:
                return out
            # Half the topics want subject and theme close together, as precise topics do.
            joiner = "NEAR/15" if len(out) % 2 else "AND"
            out[f"{subject}_{theme}"] = TopicConfig(query=f"@{subject} {joiner} ({clause})")
    return out


def build_topics(config_path: str, total: int) -> tuple[dict[str, TopicConfig], dict]:
    config = load_config(config_path)
    topics = dict(config.topics)
    aliases = {**config.aliases, **SUBJECTS}
    topics.update(generated_topics(max(0, total - len(topics))))
    return dict(list(topics.items())[:total]), aliases


def corpus() -> list[str]:
    paragraphs: list[str] = []
    dev = ROOT / "benchmarks" / "topics_eval" / "dev.jsonl"
    if dev.exists():
        for line in dev.read_text(encoding="utf-8").splitlines():
            if line.strip():
                paragraphs.append(json.loads(line)["text"])
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            if len(block.strip()) > 40:
                paragraphs.append(block.strip())
    return paragraphs


def measure(config_path: str, total: int, paragraphs: list[str], rounds: int) -> dict[str, float]:
    topics, aliases = build_topics(config_path, total)
    fold_forms.cache_clear()
    lemma_forms.cache_clear()
    word_keys.cache_clear()
    matcher = compile_topics(topics, aliases)
    start = time.perf_counter()
    hits = 0
    for text in paragraphs:
        hits += len(matcher.match(text))
    cold = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(rounds):
        for text in paragraphs:
            matcher.match(text)
    warm = time.perf_counter() - start
    return {
        "topics": len(topics),
        "paragraphs": len(paragraphs),
        "matches": hits,
        "first_pass_per_s": len(paragraphs) / cold,
        "steady_per_s": len(paragraphs) * rounds / warm,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(ROOT / "config.toml"))
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--topics", default="10,100", help="comma-separated topic counts")
    parser.add_argument("--join", type=int, default=1, help="join every N paragraphs into one")
    args = parser.parse_args(argv)
    paragraphs = corpus()
    if args.join > 1:
        paragraphs = [
            " ".join(paragraphs[i : i + args.join]) for i in range(0, len(paragraphs), args.join)
        ]
    chars = sum(len(p) for p in paragraphs) / max(1, len(paragraphs))
    print(f"{len(paragraphs)} paragraphs, {chars:.0f} characters on average")
    start = time.perf_counter()
    for _ in range(args.rounds):
        for text in paragraphs:
            analyse(text)
    per_s = len(paragraphs) * args.rounds / (time.perf_counter() - start)
    print(f"analyse() alone (all keys, no topics): {per_s:,.0f} paragraphs/s")
    for total in (int(n) for n in args.topics.split(",")):
        r = measure(args.config, total, paragraphs, args.rounds)
        print(
            f"{r['topics']:>4} topics: first pass {r['first_pass_per_s']:>8,.0f} paragraphs/s, "
            f"steady {r['steady_per_s']:>8,.0f} paragraphs/s ({r['matches']} matches per pass)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
