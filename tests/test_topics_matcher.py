"""The matcher: scores, thresholds, evidence, explain, prefilter, pickling, config integration."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from monitor import wiring
from monitor.config import ConfigError, TopicConfig
from monitor.models import Evidence, TopicMatch
from monitor.topics import TopicError, compile_topics

ALIASES = {
    "north_korea": ["North Korea", "North Korean*", "Nordkorea*", "nordkoreanisch*", "DPRK"],
    "russia": ["Russia*", "Russland", "Moskau", "Moscow", "Kursk*"],
}
TOPICS = {
    "troops": TopicConfig(query="@north_korea AND (troop* OR Soldat) AND @russia"),
    "sanctions": TopicConfig(query="@north_korea AND (sanction* OR Sanktion)"),
    "german_only": TopicConfig(query="Kursk", languages=["de"]),
}
TEXT = (
    "Ukraine says 3,000 North Korean troops have reached the Kursk region, where Russia is "
    "preparing a counter-offensive."
)


@pytest.fixture(scope="module")
def matcher():
    return compile_topics(TOPICS, ALIASES)


def one(query: str, **config: object):
    return compile_topics({"t": TopicConfig(query=query, **config)}, ALIASES)


# --- matching and scoring ----------------------------------------------------------------------


def test_match_returns_topic_matches(matcher) -> None:
    result = matcher.match(TEXT, language="en")
    assert [m.topic for m in result] == ["troops"]
    assert isinstance(result[0], TopicMatch)
    assert isinstance(result[0].evidence, Evidence)


def test_topic_ids_in_config_order(matcher) -> None:
    assert matcher.topic_ids == ["troops", "sanctions", "german_only"]


def test_results_sorted_by_score(matcher) -> None:
    text = "North Korean troops in Russia; new sanctions on North Korea and more sanctions."
    result = matcher.match(text)
    assert [m.topic for m in result] == ["troops", "sanctions"]
    assert result[0].score > result[1].score


def test_score_counts_distinct_terms() -> None:
    m = one("Kursk OR Belgorod OR Sumy")
    spread = " x" * 30
    one_term = m.match(f"Kursk{spread} Kursk")[0].score
    two_terms = m.match(f"Kursk{spread} Belgorod")[0].score
    assert one_term == 1.0
    assert two_terms == 2.0


def test_score_rewards_proximity() -> None:
    m = one("Kursk AND troops")
    close = m.match("troops in Kursk")[0].score
    far = m.match("troops" + " x" * 30 + " Kursk")[0].score
    assert far == 2.0
    assert close == 2.5


def test_score_rewards_title() -> None:
    m = one("Kursk AND troops")
    body = m.match("troops" + " x" * 30 + " Kursk")[0].score
    title = m.match("troops" + " x" * 30, title="Kursk")[0].score
    assert title == body + 0.5


def test_overlapping_terms_count_once() -> None:
    m = one("Nordkorea* OR nordkoreanisch*")
    assert m.match("nordkoreanische Soldaten")[0].score == 1.0


def test_threshold() -> None:
    text = "troops" + " x" * 30 + " Kursk"
    assert one("Kursk AND troops", threshold=2.0).match(text)
    assert not one("Kursk AND troops", threshold=2.1).match(text)


def test_topic_languages(matcher) -> None:
    assert [m.topic for m in matcher.match("Kämpfe in Kursk", language="de")] == ["german_only"]
    assert matcher.match("fighting in Kursk", language="en") == []
    # Detected when not given.
    assert [m.topic for m in matcher.match("Die Kämpfe in Kursk dauern an")] == ["german_only"]


# --- evidence ----------------------------------------------------------------------------------


def test_evidence_terms_rule_snippet(matcher) -> None:
    (hit,) = matcher.match(TEXT, language="en")
    ev = hit.evidence
    assert ev.terms == ("North Korean", "troops", "Kursk", "Russia")
    assert ev.rule == "@north_korea AND troop* AND @russia"
    assert ev.snippet == TEXT
    assert [ev.snippet[a:b] for a, b in ev.spans] == ["North Korean", "troops", "Kursk", "Russia"]


def test_rule_shows_only_the_alternatives_that_held() -> None:
    m = one("(Kursk AND troops) OR (Belgorod AND tanks) NOT submarine")
    (hit,) = m.match("tanks in Belgorod")
    assert hit.evidence.rule == "Belgorod AND tanks"


def test_snippet_is_cut_around_the_hits() -> None:
    m = one("Kursk AND troops")
    text = "Lorem ipsum dolor. " * 30 + "The troops reached\n\nKursk today. " + "Sit amet. " * 30
    (hit,) = m.match(text)
    ev = hit.evidence
    assert 200 <= len(ev.snippet) <= 300
    assert ev.snippet.startswith("… ") and ev.snippet.endswith(" …")
    assert "\n" not in ev.snippet
    assert [ev.snippet[a:b] for a, b in ev.spans] == ["troops", "Kursk"]


def test_snippet_from_title_when_only_the_title_holds_terms() -> None:
    m = one("Kursk")
    (hit,) = m.match("Nothing here.", title="Battle of Kursk")
    assert hit.evidence.snippet == "Battle of Kursk"
    assert hit.evidence.spans == ((10, 15),)


def test_phrase_and_article_evidence() -> None:
    m = one('"North Korea" AND art:4')
    (hit,) = m.match("North Korea cited Art. 4 Abs. 2 of the treaty.")
    assert hit.evidence.terms == ("North Korea", "Art. 4 Abs. 2")


# --- explain -----------------------------------------------------------------------------------


def test_explain_matched(matcher) -> None:
    lines = matcher.explain(TEXT, language="en")["troops"]
    assert lines.startswith("matched: score ")
    assert "rule: @north_korea AND troop* AND @russia" in lines
    assert "terms: North Korean, troops, Kursk, Russia" in lines


def test_explain_missing_clause(matcher) -> None:
    why = matcher.explain("Russian troops advanced near Kursk.")
    assert why["troops"] == "not matched: @north_korea not found (none of its 5 entries)"


def test_explain_no_term_at_all(matcher) -> None:
    why = matcher.explain("The weather is fine.")
    assert why["sanctions"].startswith("not matched: none of its terms occur (")


def test_explain_exclusion() -> None:
    m = one("Kursk AND NOT (submarine OR U-Boot)")
    why = m.explain("The Kursk submarine sank in 2000.")["t"]
    assert why == "not matched: excluded by NOT (submarine OR U-Boot) (found 'submarine')"


def test_explain_near_too_far() -> None:
    m = one("troops NEAR/3 Kursk")
    why = m.explain("troops" + " x" * 5 + " Kursk")["t"]
    assert why == "not matched: troops NEAR/3 Kursk: both found, but 5 words apart (at most 3)"


def test_explain_phrase_words_apart() -> None:
    why = one('"North Korea"').explain("Korea, North")["t"]
    assert "its words occur, but not next to each other in this order" in why


def test_explain_below_threshold() -> None:
    why = one("Kursk", threshold=5).explain("Kursk")["t"]
    assert why.startswith("not matched: score 1 is below the threshold 5")


def test_explain_language(matcher) -> None:
    why = matcher.explain("fighting in Kursk", language="en")["german_only"]
    assert why == "not matched: the topic is for de, the text is en"


def test_explain_or_lists_alternatives() -> None:
    why = one("Kursk AND (troops OR soldiers)").explain("Kursk")["t"]
    assert why == "not matched: none of troops, soldiers found"


# --- prefilter, pickling, config -----------------------------------------------------------------


def test_prefilter_skips_topics_without_terms(matcher) -> None:
    doc = matcher._doc("Sanctions on North Korea", None, "en")
    candidates = [matcher.topic_ids[i] for i in matcher._candidates(doc)]
    assert "german_only" not in candidates
    assert "sanctions" in candidates


def test_pickle_round_trip(matcher) -> None:
    copy = pickle.loads(pickle.dumps(matcher))
    assert copy.topic_ids == matcher.topic_ids
    assert copy.match(TEXT, language="en") == matcher.match(TEXT, language="en")


def test_topic_error_pickles() -> None:
    exc = TopicError("t", "position 3: expected x", 3)
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.topic, copy.detail, copy.position) == ("t", "position 3: expected x", 3)


def test_config_check_reports_topic_errors(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[aliases]\nnk = ["DPRK"]\n\n[topics.broken]\nquery = "@nk AND (troops OR"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        wiring.load(config)
    (issue,) = info.value.issues
    assert issue.key == "topics.broken.query"
    assert issue.line == 5
    assert issue.message == "position 18: expected a term, a \"phrase\" or '(' after 'OR'"


def test_shipped_config_compiles() -> None:
    config = wiring.load(Path(__file__).resolve().parent.parent / "config.toml")
    matcher = compile_topics(config.topics, config.aliases)
    assert {"troop_deployment", "treaty_articles", "sanctions"} <= set(matcher.topic_ids)
