"""The query language, one feature at a time, and its error messages."""

from __future__ import annotations

import pytest

from monitor.config import TopicConfig
from monitor.topics import Matcher, TopicError, compile_topics

ALIASES = {
    "north_korea": ["North Korea", "North Korean*", "Nordkorea*", "DPRK", "Kim Jong Un"],
    "russia": ["Russia*", "Russland", "Moskau", "Moscow"],
    "both": ["@north_korea", "@russia"],
    "fragment": ["(Kursk OR Kursker) -U-Boot"],
}


def matcher(query: str, aliases: dict[str, list[str]] | None = None) -> Matcher:
    return compile_topics({"t": TopicConfig(query=query)}, ALIASES if aliases is None else aliases)


def hits(query: str, text: str, **kwargs: str) -> bool:
    return bool(matcher(query).match(text, **kwargs))


def error(query: str, aliases: dict[str, list[str]] | None = None) -> TopicError:
    with pytest.raises(TopicError) as info:
        matcher(query, aliases)
    return info.value


# --- boolean operators -------------------------------------------------------------------------


def test_and() -> None:
    assert hits("Kursk AND troops", "troops in Kursk")
    assert not hits("Kursk AND troops", "tanks in Kursk")


def test_implicit_and() -> None:
    assert hits("Kursk troops", "troops in Kursk")
    assert not hits("Kursk troops", "tanks in Kursk")


def test_plus_is_required() -> None:
    assert hits("+Kursk +troops", "troops in Kursk")
    assert not hits("+Kursk +troops", "Kursk")


def test_or() -> None:
    assert hits("Kursk OR Belgorod", "fighting in Belgorod")
    assert not hits("Kursk OR Belgorod", "fighting in Sumy")


def test_not_and_minus() -> None:
    assert hits("Kursk NOT submarine", "fighting in Kursk")
    assert not hits("Kursk NOT submarine", "the Kursk submarine sank")
    assert hits("Kursk AND NOT submarine", "fighting in Kursk")
    assert not hits("Kursk -submarine", "the Kursk submarine sank")
    assert hits("Kursk -submarine", "fighting in Kursk")


def test_and_binds_tighter_than_or() -> None:
    query = "Kursk OR troops AND Korea"
    assert hits(query, "Kursk")
    assert hits(query, "troops from Korea")
    assert not hits(query, "troops")


def test_parentheses() -> None:
    query = "(Kursk OR Belgorod) AND troops"
    assert hits(query, "troops in Belgorod")
    assert not hits(query, "Belgorod")


def test_only_negative_query_is_refused() -> None:
    exc = error("NOT Kursk")
    assert "without finding any term" in exc.detail


# --- phrases, prefixes, wildcards --------------------------------------------------------------


def test_exact_phrase_in_order_and_adjacent() -> None:
    assert hits('"North Korea"', "North Korea said")
    assert not hits('"North Korea"', "Korea North")
    assert not hits('"North Korea"', "North of South Korea")


def test_phrase_words_fold_inflection() -> None:
    assert hits('"nordkoreanische Soldaten"', "nordkoreanischen Soldaten")


def test_phrase_with_wildcard_word() -> None:
    assert hits('"North Korean*"', "North Koreans fought")
    assert not hits('"North Korean*"', "North Dakota Koreans")


def test_prefix() -> None:
    assert hits("sanktion*", "Sanktionspaket beschlossen")
    assert hits("sanktion*", "sanktioniert")
    assert not hits("sanktion*", "Strafen")


def test_wildcards_anywhere() -> None:
    assert hits("Pj?ngjang", "Pjongjang")
    assert hits("*krieg", "der Angriffskrieg")
    assert not hits("*krieg", "Kriegsende")


def test_short_prefix_is_refused() -> None:
    assert "at least 2 letters" in error("a*").detail
    assert "too short" in error("*ab").detail


# --- proximity ---------------------------------------------------------------------------------


def test_phrase_slop() -> None:
    assert hits('"troops Kursk"~3', "troops were sent to Kursk")  # 3 words between
    assert not hits('"troops Kursk"~2', "troops were sent to Kursk")
    assert hits('"troops Kursk"~3', "Kursk received the troops")  # any order


def test_near() -> None:
    assert hits("troops NEAR/3 Kursk", "troops were sent to Kursk")
    assert not hits("troops NEAR/2 Kursk", "troops were sent to Kursk")
    assert hits("Kursk NEAR/3 troops", "troops were sent to Kursk")


def test_near_default_distance_is_ten() -> None:
    text = "troops " + "x " * 10 + "Kursk"
    assert hits("troops NEAR Kursk", text)
    assert not hits("troops NEAR Kursk", "troops " + "x " * 11 + "Kursk")


def test_near_binds_tighter_than_and_or() -> None:
    query = "Korea AND troops NEAR/2 Kursk"
    assert hits(query, "Korea: troops in Kursk")
    assert not hits(query, "Korea troops " + "x " * 5 + "Kursk")
    assert hits("Belgorod OR troops NEAR/1 Kursk", "Belgorod")


def test_near_with_groups_and_chains() -> None:
    query = "(troops OR soldiers) NEAR/3 (Kursk OR Belgorod)"
    assert hits(query, "soldiers were in Belgorod")
    chain = "troops NEAR/2 Kursk NEAR/2 Korea"
    assert hits(chain, "Korea sent troops to Kursk")
    assert not hits(chain, "Korea " + "x " * 6 + "troops to Kursk")


def test_near_inside_near_operand() -> None:
    query = "Korea NEAR/5 (talks NEAR/1 peace OR Waffenstillstand)"
    assert hits(query, "Korea wants peace talks")
    assert hits(query, "Korea lehnt Waffenstillstand ab")


def test_near_errors() -> None:
    assert error("NEAR/5 Kursk").detail == (
        "position 0: expected a term, a \"phrase\" or '(' before 'NEAR/5'"
    )
    assert error("Kursk NEAR/5").detail == (
        "position 12: expected a term, a \"phrase\" or '(' after 'NEAR/5'"
    )
    assert "write NEAR/n in capitals" in error("a near/5 b").detail
    assert "needs a term" in error("Kursk NEAR/5 (NOT troops)").detail


# --- aliases -----------------------------------------------------------------------------------


def test_alias() -> None:
    assert hits("@north_korea AND troops", "DPRK troops")
    assert hits("@north_korea AND troops", "Kim Jong Un inspected troops")
    assert not hits("@north_korea AND troops", "Kim inspected troops")


def test_alias_entries_are_phrases_with_wildcards() -> None:
    assert hits("@north_korea", "North Koreans")
    assert not hits("@north_korea", "Korea North")


def test_alias_of_aliases() -> None:
    assert hits("@both", "Moskau")
    assert hits("@both", "DPRK")


def test_alias_entry_may_be_a_query_fragment() -> None:
    assert hits("@fragment", "Kursker Gebiet")
    assert not hits("@fragment", "das U-Boot Kursk")


def test_unknown_alias() -> None:
    exc = error("@nope AND troops")
    assert exc.detail == (
        "position 0: unknown alias @nope; defined aliases: @both, @fragment, @north_korea, @russia"
    )
    assert exc.position == 0


def test_alias_loop() -> None:
    exc = error("@a", {"a": ["@b"], "b": ["@a"]})
    assert "alias loop: @a → @b → @a" in exc.detail


def test_alias_entry_syntax_error_names_alias_and_entry() -> None:
    exc = error("@bad", {"bad": ["Kursk", "(Kursk OR"]})
    assert exc.topic == "t"
    assert exc.detail.startswith("alias @bad, entry 2 ('(Kursk OR'): position 9: expected")


# --- fields ------------------------------------------------------------------------------------


def test_title_field() -> None:
    m = matcher("title:Kursk AND troops")
    assert m.match("troops advanced", title="Battle of Kursk")
    assert not m.match("troops advanced in Kursk", title="Battle news")


def test_body_field() -> None:
    m = matcher("body:Kursk")
    assert m.match("fighting in Kursk", title="News")
    assert not m.match("fighting", title="Kursk")


def test_unrestricted_terms_match_title_or_body() -> None:
    m = matcher("Kursk AND troops")
    assert m.match("troops advanced", title="Kursk")


def test_lang_field() -> None:
    m = matcher("Kursk AND lang:de")
    assert m.match("Die Kämpfe in Kursk dauern an")
    assert not m.match("The fighting in Kursk goes on")
    assert m.match("Kursk", language="de")
    assert "lang: takes de or en" in error("lang:fr AND x").detail


def test_article_field() -> None:
    assert hits("art:4", "nach Artikel 4 des Vertrags")
    assert hits("art:4", "Art. 4 Abs. 2")
    assert hits("art:4.2", "Art. 4 Abs. 2")
    assert not hits("art:4.2", "Art. 4 Abs. 1")
    assert not hits("art:4", "Artikel 5")
    assert hits("art:(4 OR 5)", "Artikel 5")
    assert hits("article:4", "Article 4")
    assert hits("art:*", "Article 12")
    assert not hits("art:4", "4 Artikel")
    assert "art: takes an article number" in error("art:four").detail


def test_unknown_field() -> None:
    assert error("source:reuters AND x").detail == (
        "position 0: unknown field 'source:'; fields are title, body, lang, art"
    )


def test_boost_weights_the_score() -> None:
    plain = matcher("Kursk AND troops").match("troops . . . . . . . . . . . . . . . . . Kursk")
    boosted = matcher("Kursk^3 AND troops").match("troops . . . . . . . . . . . . . . . . . Kursk")
    assert boosted[0].score == plain[0].score + 2


def test_boost_on_alias() -> None:
    text = "DPRK " + "x " * 20 + "troops"
    plain = matcher("@north_korea AND troops").match(text)[0].score
    boosted = matcher("@north_korea^2 AND troops").match(text)[0].score
    assert boosted == plain + 1


# --- syntax errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "detail", "position"),
    [
        ("a AND (b OR", "position 11: expected a term, a \"phrase\" or '(' after 'OR'", 11),
        (
            "a AND OR b",
            "position 6: expected a term, a \"phrase\" or '(' after 'AND', found 'OR'",
            6,
        ),
        ("(a OR b", "position 7: expected ')' to close the '(' at position 0", 7),
        ("a OR b)", "position 6: unexpected ')' after 'b': there is no '(' to close", 6),
        ("title:", "position 6: expected a term, a \"phrase\" or '(' after 'title:'", 6),
        ("x AND", "position 5: expected a term, a \"phrase\" or '(' after 'AND'", 5),
    ],
)
def test_syntax_errors(query: str, detail: str, position: int) -> None:
    exc = error(query)
    assert exc.detail == detail
    assert exc.position == position
    assert str(exc) == f"topic t: {detail}"


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("Kursk~", "fuzzy matching"),
        ("[a TO b]", "ranges"),
        ("/kur.k/", "regular expressions"),
        ("a and b", "'and' in lower case"),
        ("Kursk OR or", "'or' in lower case"),
        ("", "the query is empty"),
    ],
)
def test_unsupported_syntax_is_named(query: str, fragment: str) -> None:
    assert fragment in error(query).detail


def test_error_names_the_topic() -> None:
    topics = {
        "good": TopicConfig(query="Kursk"),
        "broken": TopicConfig(query="Kursk AND"),
    }
    with pytest.raises(TopicError) as info:
        compile_topics(topics, {})
    assert info.value.topic == "broken"
