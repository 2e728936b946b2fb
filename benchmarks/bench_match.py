"""Matching speed: paragraphs per second on one core, for 10 and for 100 topics.

Usage::

    python benchmarks/bench_match.py [--config config.toml] [--rounds 20] [--topics 10,100]
                                     [--join N] [--offtopic FRACTION] [--no-prefilter]

The topics: the config's shipped topics (three, with long alias lists, NEAR, NOT and article
fields) come first; the rest are generated as subject × theme, `@subject AND (theme)` or, for
every other topic, `@subject NEAR/15 (theme)`. The 20 subjects are alias lists of countries,
organisations and places in German and English (with wildcards, phrases and short names such
as EU, UN, ROK); the 11 themes (sanctions, troops, weapons, treaty, talks, energy, nuclear,
cyber, election, shipping, articles) use wildcards, phrases, NEAR, NOT and `art:` fields. They
are taken theme by theme, so 10 topics are the 3 shipped ones and 7 sanctions topics, and 100
are the 3 shipped ones and 97 of sanctions, troops, weapons, treaty and talks × the subjects.
Many paragraphs therefore wake up several topics and the prefilter has real work to do.

The paragraphs are the texts of the labelled dev set (benchmarks/topics_eval/dev.jsonl) and the
paragraphs of the seed documents: the worst case, as every one is on the subject of the shipped
topics (about 110 characters on average; `--join 4` joins every four into one paragraph of about
460 characters, the length of a typical article paragraph). `--offtopic 0.9` mixes them with
generated off-subject paragraphs (sport, weather, economy, local news, German and English,
100–500 characters) so that 90% of the stream is off-subject, as in a real news feed.

Each measurement builds a fresh matcher, clears the analysis caches and collects garbage, then
times

- the first pass over the corpus (every word is new: lemmatisation and compound search run), and
- the steady state (further rounds over the same paragraphs: words come from the cache, as they
  mostly do in a news stream).

Analysis is included in both: `match` tokenises, folds, lemmatises and finds articles itself.
`--no-prefilter` turns the matcher's raw-text prefilter off (every paragraph is analysed).
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor import wiring  # noqa: E402
from monitor.config import TopicConfig  # noqa: E402
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
    config = wiring.load(config_path)
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


# Off-subject news: (language, domain) → sentence templates, filled from FILLERS.
OFFTOPIC: dict[tuple[str, str], list[str]] = {
    ("de", "sport"): [
        "{team} gewinnt das Heimspiel gegen {team2} mit {n}:{m}.",
        "Vor {num} Zuschauern im ausverkauften Stadion erzielte {name} in der {min}. Minute "
        "den Führungstreffer.",
        "Der Trainer lobte nach dem Abpfiff die Abwehr, bemängelte aber die Chancenverwertung "
        "im Angriff.",
        "Mit dem Sieg klettert {team} auf Tabellenplatz {n}, {team2} bleibt im Abstiegskampf.",
        "Am {weekday} empfängt die Mannschaft im Pokal den Zweitligisten aus {city}.",
        "{name} verlängert seinen Vertrag bis {year} und soll künftig Kapitän werden.",
        "Die Handballerinnen aus {city} verloren das Spitzenspiel knapp mit {num2}:{num3}.",
        "Beim Stadtlauf gingen am Sonntag mehr als {num} Läuferinnen und Läufer an den Start.",
    ],
    ("en", "sport"): [
        "{team} beat {team2} {n}-{m} in front of a sell-out crowd of {num}.",
        "{name} scored twice in the second half as the hosts came from behind.",
        "The manager praised his defence but said the side must be more clinical in front of goal.",
        "The win lifts {team} to {ordinal} in the table, three points clear of {team2}.",
        "Tickets for the cup tie against {team2} on {weekday_en} go on sale next week.",
        "The club confirmed that {name} has signed a new contract running until {year}.",
        "The marathon attracted more than {num} runners despite the heat.",
        "Injuries to two midfielders leave the coach with few options for the derby.",
    ],
    ("de", "weather"): [
        "Am {weekday} wird es in {city} sonnig bei Höchstwerten um {temp} Grad.",
        "Der Deutsche Wetterdienst warnt vor Sturmböen und Starkregen im Bergland.",
        "In der Nacht kühlt es auf {low} Grad ab, in Tallagen ist Bodenfrost möglich.",
        "Zum Wochenende setzt sich ein Hoch durch, die Temperaturen steigen deutlich.",
        "Gewitter mit Hagel haben am Abend in {city} Keller überflutet und Bäume entwurzelt.",
        "Der {month} war nach Angaben der Meteorologen deutlich zu trocken.",
    ],
    ("en", "weather"): [
        "Forecasters expect highs of {temp} degrees in {city_en} on {weekday_en}.",
        "A yellow warning for heavy rain is in place until Thursday evening.",
        "Overnight temperatures will drop to {low} degrees, with patchy frost in rural areas.",
        "The Met Office said {month_en} had been the wettest on record in parts of the region.",
        "Strong winds brought down trees and caused delays on several commuter lines.",
        "High pressure is expected to bring a dry and settled weekend.",
    ],
    ("de", "economy"): [
        "Der Umsatz von {company} stieg im dritten Quartal um {pct} Prozent auf {num} Millionen "
        "Euro.",
        "Der DAX schloss am {weekday} {pct} Prozent fester bei {num4} Punkten.",
        "Die Inflationsrate lag im {month} bei {pct} Prozent, teilte das Statistische Bundesamt "
        "mit.",
        "{company} will bis {year} rund {num} Stellen abbauen und ein Werk in {city} schließen.",
        "Die Bauzinsen sind zuletzt leicht gesunken, die Nachfrage nach Krediten zieht an.",
        "Der Einzelhandel rechnet für das Weihnachtsgeschäft mit einem kleinen Plus.",
        "Die Gewerkschaft ruft für {weekday} zu Warnstreiks im öffentlichen Nahverkehr auf.",
    ],
    ("en", "economy"): [
        "{company} said revenue rose {pct}% to {num} million dollars in the third quarter.",
        "Shares in {company} fell {pct}% after the firm cut its full-year outlook.",
        "Inflation eased to {pct}% in {month_en}, according to official figures.",
        "The central bank left interest rates unchanged at {pct}% for a third meeting in a row.",
        "Retail sales grew faster than expected as shoppers returned to the high street.",
        "The company plans to open a new distribution centre near {city_en}, creating {num} jobs.",
    ],
    ("de", "local"): [
        "Der Gemeinderat von {city} hat am {weekday} den Haushalt für {year} beschlossen.",
        "Wegen Bauarbeiten ist die {street} ab Montag für drei Wochen gesperrt.",
        "Die Stadtbibliothek verlängert ihre Öffnungszeiten und bietet samstags Lesungen an.",
        "Beim Sommerfest des Sportvereins kamen rund {num} Besucherinnen und Besucher.",
        "Die Feuerwehr rückte in der Nacht zu einem Brand in einer Scheune am Ortsrand aus.",
        "Die Grundschule in {city} erhält einen Anbau mit vier neuen Klassenzimmern.",
        "Der Wochenmarkt zieht wegen der Sanierung des Marktplatzes vorübergehend um.",
    ],
    ("en", "local"): [
        "Councillors in {city_en} approved plans for {num} new homes on the former depot site.",
        "{street_en} will be closed for resurfacing from Monday for two weeks.",
        "The library is extending its opening hours and launching a weekend reading club.",
        "Firefighters were called to a blaze at a warehouse on the edge of town on {weekday_en}.",
        "A local bakery has won a national award for its sourdough bread.",
        "Residents raised concerns about parking at a public meeting in the village hall.",
        "The primary school will get a new playground after a successful fundraising campaign.",
    ],
}
FILLERS: dict[str, list[str]] = {
    "team": [
        "Eintracht Frankfurt",
        "der SC Freiburg",
        "Werder Bremen",
        "der VfL Bochum",
        "Union Berlin",
        "der FC Augsburg",
        "Holstein Kiel",
        "Arsenal",
        "Everton",
    ],
    "team2": [
        "Mainz 05",
        "den 1. FC Köln",
        "Hertha BSC",
        "Fortuna Düsseldorf",
        "Brentford",
        "Leeds United",
        "Hannover 96",
        "Wolverhampton",
    ],
    "name": [
        "Müller",
        "Schneider",
        "Kowalski",
        "Jensen",
        "Okafor",
        "Smith",
        "Andersson",
        "Yilmaz",
        "García",
    ],
    "city": ["Freiburg", "Münster", "Göttingen", "Lübeck", "Regensburg", "Würzburg", "Kassel"],
    "city_en": ["Leeds", "Bristol", "Norwich", "Exeter", "York", "Cardiff", "Dundee"],
    "company": ["Siemens", "Henkel", "Zalando", "Fielmann", "Tesco", "Unilever", "Rolls-Royce"],
    "street": ["Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Lindenallee", "Marktgasse"],
    "street_en": ["High Street", "Station Road", "Church Lane", "Mill Road", "Queen Street"],
    "weekday": ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"],
    "weekday_en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
    "month": ["Januar", "März", "Mai", "Juli", "September", "November"],
    "month_en": ["January", "March", "May", "July", "September", "November"],
    "ordinal": ["third", "fifth", "seventh", "ninth"],
}


def offtopic_paragraphs(count: int, seed: int = 4) -> list[str]:
    """`count` off-subject paragraphs of 100–500 characters, German and English, reproducible."""
    rng = random.Random(seed)
    kinds = sorted(OFFTOPIC)
    numbers = {
        "n": lambda: str(rng.randint(0, 5)),
        "m": lambda: str(rng.randint(0, 4)),
        "num": lambda: f"{rng.randint(2, 60) * 1000:,}",
        "num2": lambda: str(rng.randint(20, 35)),
        "num3": lambda: str(rng.randint(20, 35)),
        "num4": lambda: f"{rng.randint(15000, 19000):,}",
        "min": lambda: str(rng.randint(2, 90)),
        "year": lambda: str(rng.randint(2025, 2029)),
        "temp": lambda: str(rng.randint(-2, 34)),
        "low": lambda: str(rng.randint(-8, 12)),
        "pct": lambda: f"{rng.randint(1, 9)}.{rng.randint(0, 9)}",
    }
    out: list[str] = []
    while len(out) < count:
        kind = rng.choice(kinds)
        templates = OFFTOPIC[kind]
        # German writes 3.000 and 2,5 where English writes 3,000 and 2.5.
        swap = str.maketrans(",.", ".,") if kind[0] == "de" else None
        target = rng.randint(100, 500)
        text = ""
        for template in rng.sample(templates, len(templates)):
            values = {k: rng.choice(v) for k, v in FILLERS.items()}
            values.update({k: make() for k, make in numbers.items()})
            if swap:
                values = {k: v.translate(swap) for k, v in values.items()}
            sentence = template.format(**values)
            if text and len(text) + 1 + len(sentence) > target:
                break
            text = f"{text} {sentence}" if text else sentence
        if len(text) >= 100:
            out.append(text)
    return out


def mix(on_subject: list[str], offtopic: float, seed: int = 4) -> list[str]:
    """The on-subject paragraphs with enough off-subject ones that `offtopic` of all are."""
    if offtopic <= 0:
        return list(on_subject)
    total = round(len(on_subject) / (1 - offtopic))
    paragraphs = on_subject + offtopic_paragraphs(total - len(on_subject), seed)
    random.Random(seed).shuffle(paragraphs)
    return paragraphs


def measure(
    config_path: str, total: int, paragraphs: list[str], rounds: int, prefilter: bool = True
) -> dict[str, float]:
    topics, aliases = build_topics(config_path, total)
    fold_forms.cache_clear()
    lemma_forms.cache_clear()
    word_keys.cache_clear()
    # Matchers from before the prefilter take no such argument.
    if not prefilter and "prefilter" in inspect.signature(compile_topics).parameters:
        matcher = compile_topics(topics, aliases, prefilter=False)
    else:
        matcher = compile_topics(topics, aliases)
    # A full collection costs tens of milliseconds (simplemma's dictionaries are large); leave
    # none pending from the compile so that it does not fall into the timed first pass.
    gc.collect()
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
    parser.add_argument(
        "--offtopic",
        type=float,
        default=0.0,
        help="share of generated off-subject paragraphs in the stream (0.9: 90%%)",
    )
    parser.add_argument(
        "--no-prefilter", action="store_true", help="turn the matcher's raw-text prefilter off"
    )
    args = parser.parse_args(argv)
    if not 0 <= args.offtopic < 1:
        parser.error("--offtopic takes a share from 0 to below 1")
    paragraphs = corpus()
    if args.join > 1:
        paragraphs = [
            " ".join(paragraphs[i : i + args.join]) for i in range(0, len(paragraphs), args.join)
        ]
    on_subject = len(paragraphs)
    paragraphs = mix(paragraphs, args.offtopic)
    chars = sum(len(p) for p in paragraphs) / max(1, len(paragraphs))
    print(
        f"{len(paragraphs)} paragraphs ({len(paragraphs) - on_subject} off-subject), "
        f"{chars:.0f} characters on average"
    )
    start = time.perf_counter()
    for _ in range(args.rounds):
        for text in paragraphs:
            analyse(text)
    per_s = len(paragraphs) * args.rounds / (time.perf_counter() - start)
    print(f"analyse() alone (all keys, no topics): {per_s:,.0f} paragraphs/s")
    for total in (int(n) for n in args.topics.split(",")):
        r = measure(args.config, total, paragraphs, args.rounds, not args.no_prefilter)
        print(
            f"{r['topics']:>4} topics: first pass {r['first_pass_per_s']:>8,.0f} paragraphs/s, "
            f"steady {r['steady_per_s']:>8,.0f} paragraphs/s ({r['matches']} matches per pass)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
