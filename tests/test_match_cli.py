"""`monitor match --explain` through the real CLI: the reasons are the query's own for every
topic, also where the raw-text prefilter decides, and `--json --explain` is one JSON document."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import wiring
from monitor.topics import compile_topics
from tests.test_end_to_end import shipped_topics

# `t` needs Kursk and one of two words; `w` has a single term.
TOPICS = """
[topics.t]
query = "Kursk AND (troop* OR Soldat)"
[topics.w]
query = "Wetter"
"""


def write_config(folder: Path, topics: str) -> Path:
    cfg = folder / "config.toml"
    cfg.write_text(
        f"[seeds]\npath = 'seeds'\n[channels.out]\nkind = 'file'\n{topics}", encoding="utf-8"
    )
    return cfg


def match(cfg: Path, text: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "match", *args, "-"],
        cwd=cfg.parent,
        input=text,
        capture_output=True,
        text=True,
        timeout=300,
    )


def reasons(stdout: str) -> dict[str, str]:
    """The `# topic: why` blocks of `match --explain`, continuation lines included."""
    out: dict[str, str] = {}
    topic = ""
    for line in stdout.splitlines():
        if line.startswith("# "):
            topic, _, why = line[2:].partition(": ")
            out[topic] = why
        elif topic:
            out[topic] += "\n" + line
    return out


@pytest.mark.parametrize(
    ("text", "why"),
    [
        # Troops occur, Kursk does not: the prefilter skips the paragraph on Kursk alone.
        ("Russian troops advanced.", "not matched: Kursk not found"),
        ("Soldaten rücken vor.", "not matched: Kursk not found"),
        ("The weather is fine.", "not matched: none of its terms occur (Kursk, Soldat, troop*)"),
    ],
)
def test_explain_gives_the_querys_reason_where_the_prefilter_decides(
    tmp_path: Path, text: str, why: str
) -> None:
    cfg = write_config(tmp_path, TOPICS)
    config = wiring.load(cfg)
    filtered = compile_topics(config.topics, config.aliases)
    unfiltered = compile_topics(config.topics, config.aliases, prefilter=False)
    assert "t" not in filtered.prefilter_topics(text)  # the case this test is about
    assert unfiltered.explain(text)["t"] == why

    run = match(cfg, text, "--explain")
    assert run.returncode == 1, run.stderr
    assert run.stdout.startswith("# ")  # nothing matched: only reasons
    assert reasons(run.stdout)["t"] == why


def test_explain_on_the_shipped_topics_agrees_with_the_unfiltered_matcher(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, shipped_topics())
    config = wiring.load(cfg)
    filtered = compile_topics(config.topics, config.aliases)
    unfiltered = compile_topics(config.topics, config.aliases, prefilter=False)
    text = "Russian troops advanced near Kursk; Moscow signed no treaty."
    assert filtered.prefilter_topics(text) != filtered.topic_ids  # some topics are skipped

    run = match(cfg, text, "--explain")
    assert run.returncode == 1, run.stderr
    got = reasons(run.stdout)
    assert got == unfiltered.explain(text)
    # Troops, Kursk and Moscow are among troop_deployment's terms: they do occur.
    assert "none of its terms occur" not in got["troop_deployment"]


def test_json_explain_is_one_document_with_the_reasons_inside(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, TOPICS)
    text = "Soldaten und troops bei Kursk."
    plain = match(cfg, text, "--json")
    assert plain.returncode == 0, plain.stderr
    listed = json.loads(plain.stdout)
    assert [m["topic"] for m in listed] == ["t"]
    assert "why" not in listed[0]  # --json alone is as it was

    run = match(cfg, text, "--json", "--explain")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert set(data) == {"matches", "not_matched"}
    (hit,) = data["matches"]
    assert {k: v for k, v in hit.items() if k != "why"} == listed[0]
    assert hit["why"][0].startswith("matched: score ")
    assert hit["why"][1:] == [f"rule: {hit['rule']}", "terms: " + ", ".join(hit["terms"])]
    assert data["not_matched"] == [
        {"topic": "w", "why": ["not matched: none of its terms occur (Wetter)"]}
    ]


def test_json_explain_without_a_match_still_parses(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, TOPICS)
    run = match(cfg, "Russian troops advanced.", "--json", "--explain")
    assert run.returncode == 1, run.stderr
    assert json.loads(run.stdout) == {
        "matches": [],
        "not_matched": [
            {"topic": "t", "why": ["not matched: Kursk not found"]},
            {"topic": "w", "why": ["not matched: none of its terms occur (Wetter)"]},
        ],
    }


@pytest.mark.parametrize(
    ("text", "topics"),
    [
        # Issue 14 point 5: words inside unrelated words, a pact on something else, a list of
        # names: none of them is a topic.
        ("Die Artikelserie über Nordkoreas Alltag erhielt einen Journalistenpreis.", ""),
        ("Russia and North Korea signed a pact on health cooperation and medical training.", ""),
        ("The names of the Pyongyang delegates to Moscow were published in a list.", ""),
        # True compounds and inflections keep matching.
        ("Das Waffenembargo gegen Nordkorea wird systematisch unterlaufen.", "sanctions"),
    ],
)
def test_shipped_topics_on_hard_cases(tmp_path: Path, text: str, topics: str) -> None:
    cfg = write_config(tmp_path, shipped_topics())
    run = match(cfg, text)
    assert run.returncode == (0 if topics else 1), run.stderr
    assert run.stdout.split() == topics.split()
