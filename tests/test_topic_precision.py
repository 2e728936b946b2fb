"""Story precision of the shipped topics (issue 14): what a passage must say itself.

- A page's headline completes a paragraph's match but is not inherited by a paragraph about
  another country (`context_excludes`): on a page about North Korea's sanctions, a section
  about Iran's is not a North Korea sanctions item.
- The treaty topic is the Russia–DPRK treaty: another treaty that only names North Korea's in
  passing, or a cultural agreement between the two states, is not it.
- A sanctions item needs sanctions language about North Korea, not sanctions on another state
  in a text that also names North Korea.

The texts here were written for these tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from monitor.config import TopicConfig, load_config
from monitor.topics import TopicError
from monitor.topics.matcher import Matcher, compile_topics
from tests.conftest import REPO, ContentServer
from tests.local_config import LOOPBACK_HTTP, NO_SEEDS
from tests.test_passage_context import monitor, shipped_topics


@pytest.fixture(scope="module")
def shipped() -> Matcher:
    cfg = load_config(REPO / "config.toml")
    return compile_topics(cfg.topics, cfg.aliases)


def topics(
    matcher: Matcher, text: str, title: str | None = None, context: bool = False
) -> set[str]:
    return {m.topic for m in matcher.match(text, title=title, context=context)}


# --- the page's headline: completes, is not inherited by another country's paragraph ---------

SANCTIONS_PAGE = "Hintergrund: Die Sanktionen gegen Nordkorea"
SYRIA = (
    "Auch Syrien steht seit Jahren unter Sanktionen des Westens; einige davon wurden nach dem "
    "Machtwechsel in Damaskus gelockert."
)
OIL_CAP = (
    "Seit 2017 gilt eine Obergrenze von 500.000 Barrel raffinierter Ölprodukte im Jahr; "
    "Lieferungen darüber hinaus verstoßen gegen die Beschlüsse des Sicherheitsrats."
)


def test_a_paragraph_about_another_country_does_not_inherit_the_headlines_country(
    shipped: Matcher,
) -> None:
    context = f"{SANCTIONS_PAGE} — Syrien"
    # As a title of its own (a feed entry's) the headline still counts; as the page's shared
    # headline it does not carry North Korea into a paragraph about Syria.
    assert topics(shipped, SYRIA, context) == {"sanctions"}
    assert topics(shipped, SYRIA, context, context=True) == set()


def test_the_headline_still_completes_a_paragraph_that_names_no_other_country(
    shipped: Matcher,
) -> None:
    assert topics(shipped, OIL_CAP) == set()
    assert topics(shipped, OIL_CAP, f"{SANCTIONS_PAGE} — Die Ölobergrenze", context=True) == {
        "sanctions"
    }


def test_a_paragraph_naming_north_korea_itself_keeps_its_match_beside_another_country(
    shipped: Matcher,
) -> None:
    text = "Anders als gegen Syrien verhängte der Sicherheitsrat gegen Nordkorea ein Waffenembargo."
    assert topics(shipped, text, SANCTIONS_PAGE, context=True) == {"sanctions"}


TROOPS_PAGE = "Explainer: North Korean troops in Russia's war"


@pytest.mark.parametrize(
    "text",
    [
        # Other armies' soldiers, named as such.
        "Russian troops retook the small town of Sudzha in March after months of fighting.",
        "Ukrainische Soldaten hielten Teile des Gebiets Kursk sieben Monate lang.",
        # Nothing of soldiers at all: a place or a country is not the topic's substance.
        "The EU has listed more than 2,000 Russian persons and firms since 2022.",
        "The Kremlin confirmed on Monday that Putin will travel to Pyongyang next month.",
    ],
)
def test_a_paragraph_must_say_something_of_the_topic_itself_to_inherit_the_headline(
    shipped: Matcher, text: str
) -> None:
    assert topics(shipped, text, f"{TROOPS_PAGE} — Background") == {"troop_deployment"}
    assert topics(shipped, text, f"{TROOPS_PAGE} — Background", context=True) == set()


def test_soldiers_the_headline_names_the_country_of_are_still_the_topic(shipped: Matcher) -> None:
    text = "Seoul's spy agency says another 3,000 soldiers reached the Kursk region in January."
    assert topics(shipped, text, f"{TROOPS_PAGE} — Reinforcements", context=True) == {
        "troop_deployment"
    }


def test_context_excludes_that_does_not_compile_names_the_topic_and_key() -> None:
    topic = TopicConfig(query="Nordkorea", context_excludes="Iran AND")
    with pytest.raises(TopicError, match=r"topic t\.context_excludes: .*after 'AND'"):
        compile_topics({"t": topic}, {})


# --- the treaty is the Russia–DPRK treaty ------------------------------------------------------


def test_another_treaty_that_names_north_koreas_only_in_passing_is_not_the_treaty(
    shipped: Matcher,
) -> None:
    text = (
        "Moscow and Minsk signed a new security treaty on Friday that obliges Russia to defend "
        "Belarus, officials said; it follows a string of agreements the Kremlin has reached "
        "this year, including one with North Korea."
    )
    assert "treaty_articles" not in topics(shipped, text, "Russia and Belarus sign security treaty")


def test_a_comparison_that_describes_the_russia_dprk_treaty_still_counts(shipped: Matcher) -> None:
    text = (
        "Unlike the treaty with Belarus, the pact North Korea ratified with Russia in 2024 "
        "obliges each side to give military help without delay."
    )
    assert "treaty_articles" in topics(shipped, text)


def test_a_cultural_agreement_between_the_two_states_is_not_the_treaty(shipped: Matcher) -> None:
    text = (
        "Moskau und Pjöngjang haben ein Abkommen über gemeinsame Filmfestivals und den "
        "Austausch von Orchestern unterzeichnet."
    )
    assert topics(shipped, text, "Russland und Nordkorea schließen Filmabkommen") == set()


@pytest.mark.parametrize(
    ("title", "text"),
    [
        (
            "Moskau und Pjöngjang unterzeichnen Vertrag über Zugverbindung",
            "Russland und Nordkorea haben einen Vertrag über eine direkte Personenzugverbindung "
            "zwischen Wladiwostok und Pjöngjang unterzeichnet.",
        ),
        (
            "Russia and North Korea sign treaty on student exchanges",
            "Moscow and Pyongyang signed a treaty on university exchanges that lets 500 students "
            "a year study in the other country.",
        ),
    ],
)
def test_a_treaty_on_something_else_between_the_two_states_is_not_the_treaty(
    shipped: Matcher, title: str, text: str
) -> None:
    assert "treaty_articles" not in topics(shipped, text, title)


def test_the_treatys_own_name_with_on_still_counts(shipped: Matcher) -> None:
    text = (
        "Russia and North Korea signed the Treaty on Comprehensive Strategic Partnership in "
        "Pyongyang in June 2024."
    )
    assert "treaty_articles" in topics(shipped, text)


def test_an_army_ensemble_on_tour_is_not_a_deployment(shipped: Matcher) -> None:
    text = (
        "An ensemble of the North Korean army gave three concerts in Khabarovsk as part of a "
        "cultural exchange programme."
    )
    assert "troop_deployment" not in topics(shipped, text, "Pyongyang singers tour Russia")


def test_the_treatys_german_name_as_abkommen_still_counts(shipped: Matcher) -> None:
    ratified = (
        "Die Staatsduma hat das Abkommen mit Nordkorea über gegenseitigen Beistand ratifiziert."
    )
    article = "Artikel 4 des russisch-nordkoreanischen Abkommens regelt die militärische Hilfe."
    assert "treaty_articles" in topics(shipped, ratified)
    assert "treaty_articles" in topics(shipped, article)


# --- sanctions language about North Korea -------------------------------------------------------


def test_sanctions_on_another_state_in_a_text_that_names_north_korea_are_not_the_topic(
    shipped: Matcher,
) -> None:
    text = (
        "Washington imposed new sanctions on Venezuelan oil officials on Monday; analysts say "
        "the approach resembles the one once tried with North Korea."
    )
    assert "sanctions" not in topics(shipped, text)


def test_sanctions_on_north_korea_beside_another_state_still_count(shipped: Matcher) -> None:
    text = (
        "The EU imposed sanctions on two Venezuelan shipowners and a North Korean trading "
        "company that moved fuel to Nampo in breach of the UN cap."
    )
    assert "sanctions" in topics(shipped, text)


# --- end to end: the real CLI over a local page ---------------------------------------------------


def dossier(sections: list[tuple[str, str]]) -> str:
    body = "".join(f"<h2>{h}</h2><p>{p}</p>" for h, p in sections)
    return (
        f"<!doctype html><html lang='de'><head><title>{SANCTIONS_PAGE}</title>"
        "<meta property='article:published_time' content='2026-12-02T10:00:00Z'></head><body>"
        "<nav><a href='/'>Start</a> <a href='/politik'>Politik</a></nav>"
        f"<main><article><h1>{SANCTIONS_PAGE}</h1>{body}</article></main>"
        "<footer>Impressum · Datenschutz</footer></body></html>"
    )


BASE = (
    "Seit 2006 hat der UN-Sicherheitsrat eine Reihe von Resolutionen gegen das "
    "Atomwaffenprogramm Pjöngjangs beschlossen; ein Ausschuss wacht über ihre Umsetzung."
)


def test_cli_a_dossier_section_about_another_country_is_not_reported(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/dossier", dossier([("Seit 2006", BASE)]))
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
{LOOPBACK_HTTP}
{NO_SEEDS}
[[sources]]
name = "Dossier"
url = "{srv.base}/dossier"
kind = "page"

[channels.files]
kind = "file"
send_empty = false

{shipped_topics()}
""",
        encoding="utf-8",
    )
    first = monitor(cfg, "once")
    assert first.returncode == 0, first.stderr
    srv.set(
        "/dossier",
        dossier([("Seit 2006", BASE), ("Die Ölobergrenze", OIL_CAP), ("Syrien", SYRIA)]),
    )
    second = monitor(cfg, "once")
    assert second.returncode == 0, second.stderr
    sent = monitor(cfg, "digest")
    assert sent.returncode == 0, sent.stdout + sent.stderr

    [written] = (tmp_path / "state" / "digests").glob("*.json")
    payload = json.loads(written.read_text(encoding="utf-8"))
    items = [i for group in payload["data"]["topics"].values() for i in group["items"]]
    # The oil-cap section is completed by the page's headline; the Syria section is not.
    assert [i["title"] for i in items] == ["Die Ölobergrenze"]
    assert "Syrien" not in written.read_text(encoding="utf-8")


def test_cli_check_names_a_broken_context_query_by_its_key_and_line(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
{NO_SEEDS}
[topics.t]
query = "Nordkorea"
context_excludes = "Iran AND"
""",
        encoding="utf-8",
    )
    done = monitor(cfg, "check")
    assert done.returncode == 2, done.stdout + done.stderr
    out = done.stdout + done.stderr
    # One line: where (file, line, key) and what is wrong.
    assert re.search(r"line \d+, topics\.t\.context_excludes: position 8: .*after 'AND'", out)
