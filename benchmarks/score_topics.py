"""Score the topic matcher against the labelled set in benchmarks/topics_eval/.

Usage::

    python benchmarks/score_topics.py [--config config.toml] [--set topics_eval2]
                                      [--split dev|test|all] [--errors]

Every item of the set carries the topic ids an analyst assigned by the definitions in
TOPICS.md. The matcher built from the config predicts topic ids for each text; per topic and per
language the script counts true positives, false positives and false negatives and prints
precision, recall and F1. Predictions for topics that the set does not label are ignored.

`score(items, predict)` is the core computation and has no dependency on the matcher, so tests
can feed it any function.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

TOPIC_IDS: tuple[str, ...] = ("troop_deployment", "treaty_articles", "sanctions")
LANGUAGES: tuple[str, ...] = ("de", "en")
SPLITS: tuple[str, ...] = ("dev", "test")
ALL = "all"
MICRO = "micro"
EVAL_DIR = Path(__file__).resolve().parent / "topics_eval"
REPO_ROOT = Path(__file__).resolve().parent.parent

Item = Mapping[str, Any]
Predict = Callable[[str, str], Iterable[str]]


class EvalSetError(ValueError):
    """The evaluation file is malformed."""


def load_items(split: str = ALL, directory: Path = EVAL_DIR) -> list[dict[str, Any]]:
    """Items of one split ("dev", "test") or of both ("all"), validated."""
    if split not in (*SPLITS, ALL):
        raise EvalSetError(f"unknown split {split!r}; use dev, test or all")
    names = SPLITS if split == ALL else (split,)
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name in names:
        path = directory / f"{name}.jsonl"
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise EvalSetError(f"{where}: invalid JSON ({exc})") from None
                _check_item(item, where)
                if item["id"] in seen:
                    raise EvalSetError(f"{where}: duplicate id {item['id']!r}")
                seen.add(item["id"])
                items.append(item)
    return items


def _check_item(item: Any, where: str) -> None:
    if not isinstance(item, dict):
        raise EvalSetError(f"{where}: expected a JSON object")
    for key, kind in (("id", str), ("lang", str), ("text", str), ("labels", list)):
        if not isinstance(item.get(key), kind):
            raise EvalSetError(f"{where}: field {key!r} missing or not a {kind.__name__}")
    if item["lang"] not in LANGUAGES:
        raise EvalSetError(f"{where}: language {item['lang']!r} is not one of {LANGUAGES}")
    unknown = [label for label in item["labels"] if label not in TOPIC_IDS]
    if unknown:
        raise EvalSetError(f"{where}: unknown labels {unknown}")


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _metrics(tp: int, fp: int, fn: int) -> dict[str, Any]:
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, tp + fn),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
    }


def score(
    items: Iterable[Item], predict: Predict, topics: Sequence[str] = TOPIC_IDS
) -> dict[str, Any]:
    """Compare `predict(text, lang)` with each item's labels.

    Returns a dict with
    - "metrics": {topic or "micro": {lang or "all": {tp, fp, fn, precision, recall, f1}}};
      precision/recall/F1 are None where undefined (no predictions, no positives);
    - "items": {lang or "all": number of items};
    - "exact": {lang or "all": number of items whose predicted set equals the labelled set};
    - "errors": one entry per item with any FP or FN: id, lang, expected, got, fp, fn, text.
    """
    topic_list = list(topics)
    wanted = set(topic_list)
    languages: list[str] = list(LANGUAGES)
    tallies: dict[tuple[str, str], list[int]] = {}
    item_counts: dict[str, int] = {ALL: 0}
    exact: dict[str, int] = {ALL: 0}
    errors: list[dict[str, Any]] = []

    def bump(topic: str, lang: str, slot: int) -> None:
        for row in (topic, MICRO):
            for column in (lang, ALL):
                tallies.setdefault((row, column), [0, 0, 0])[slot] += 1

    for item in items:
        lang = str(item["lang"])
        if lang not in languages:
            languages.append(lang)
        expected = {label for label in item["labels"] if label in wanted}
        got = {topic for topic in predict(item["text"], lang) if topic in wanted}
        for column in (lang, ALL):
            item_counts[column] = item_counts.get(column, 0) + 1
            exact[column] = exact.get(column, 0) + (expected == got)
        for topic in topic_list:
            if topic in expected and topic in got:
                bump(topic, lang, 0)
            elif topic in got:
                bump(topic, lang, 1)
            elif topic in expected:
                bump(topic, lang, 2)
        if expected != got:
            errors.append(
                {
                    "id": item["id"],
                    "lang": lang,
                    "expected": [t for t in topic_list if t in expected],
                    "got": [t for t in topic_list if t in got],
                    "fp": [t for t in topic_list if t in got - expected],
                    "fn": [t for t in topic_list if t in expected - got],
                    "text": item["text"],
                }
            )

    metrics: dict[str, dict[str, dict[str, Any]]] = {}
    for row in (*topic_list, MICRO):
        metrics[row] = {
            column: _metrics(*tallies.get((row, column), [0, 0, 0])) for column in (*languages, ALL)
        }
    for column in (*languages, ALL):
        item_counts.setdefault(column, 0)
        exact.setdefault(column, 0)
    return {"metrics": metrics, "items": item_counts, "exact": exact, "errors": errors}


def _fmt(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def format_table(result: Mapping[str, Any]) -> str:
    metrics = result["metrics"]
    columns = [c for c in next(iter(metrics.values())) if c != ALL] + [ALL]
    width = max(len(row) for row in metrics)
    header = f"{'topic':<{width}}  {'lang':<4}  {'TP':>4}  {'FP':>4}  {'FN':>4}  " + (
        f"{'prec':>6}  {'recall':>6}  {'F1':>6}"
    )
    lines = [header, "-" * len(header)]
    for row, by_lang in metrics.items():
        for column in columns:
            m = by_lang[column]
            lines.append(
                f"{row:<{width}}  {column:<4}  {m['tp']:>4}  {m['fp']:>4}  {m['fn']:>4}  "
                f"{_fmt(m['precision'])}  {_fmt(m['recall'])}  {_fmt(m['f1'])}"
            )
        lines.append("")
    return "\n".join(lines).rstrip()


def format_errors(result: Mapping[str, Any], width: int = 160) -> str:
    lines: list[str] = []
    for error in result["errors"]:
        text = " ".join(error["text"].split())
        if len(text) > width:
            text = text[: width - 1] + "…"
        marks = []
        if error["fp"]:
            marks.append("FP " + ",".join(error["fp"]))
        if error["fn"]:
            marks.append("FN " + ",".join(error["fn"]))
        lines.append(
            f"{error['id']}  expected=[{', '.join(error['expected'])}]  "
            f"got=[{', '.join(error['got'])}]  ({'; '.join(marks)})"
        )
        lines.append(f"    {text}")
    return "\n".join(lines) if lines else "no errors"


def matcher_predict(config_path: str) -> tuple[Predict, list[str]]:
    """A predict function backed by the matcher the config compiles to, and its topic ids."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from monitor import wiring
    from monitor.topics import compile_topics

    config = wiring.load(config_path)
    matcher = compile_topics(config.topics, config.aliases)

    def predict(text: str, lang: str) -> list[str]:
        return [hit.topic for hit in matcher.match(text, title=None, language=lang)]

    return predict, list(config.topics)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score topic matching against topics_eval.")
    parser.add_argument("--config", default="config.toml", help="config file (config.toml)")
    parser.add_argument(
        "--set",
        dest="eval_set",
        default=EVAL_DIR.name,
        help="labelled set: a directory under benchmarks/ or a path (default: topics_eval)",
    )
    parser.add_argument("--split", choices=[*SPLITS, ALL], default=ALL, help="default: all")
    parser.add_argument("--errors", action="store_true", help="list false positives/negatives")
    args = parser.parse_args(argv)

    directory = Path(args.eval_set)
    if not directory.is_dir():
        directory = EVAL_DIR.parent / args.eval_set
    try:
        items = load_items(args.split, directory)
    except (OSError, EvalSetError) as exc:
        print(f"cannot read the evaluation set: {exc}", file=sys.stderr)
        return 2
    try:
        predict, configured = matcher_predict(args.config)
    except ImportError as exc:
        print(f"cannot build the matcher (monitor.topics.compile_topics): {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # ConfigError, TopicError and the like carry a readable message
        print(f"cannot load {args.config}: {exc}", file=sys.stderr)
        return 2
    missing = [topic for topic in TOPIC_IDS if topic not in configured]
    if missing:
        print(f"note: the config has no topic {', '.join(missing)}", file=sys.stderr)

    result = score(items, predict)
    counts = result["items"]
    per_lang = ", ".join(f"{lang} {n}" for lang, n in counts.items() if lang != ALL)
    total = counts[ALL]
    share = result["exact"][ALL] / total if total else 0.0
    print(
        f"set={directory.name}  split={args.split}  config={args.config}  "
        f"items={total} ({per_lang})"
    )
    print(f"items with exactly the labelled topics: {result['exact'][ALL]}/{total} ({share:.1%})")
    print()
    print(format_table(result))
    if args.errors:
        print()
        print(f"errors ({len(result['errors'])} items):")
        print(format_errors(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
