"""Matching long texts: work linear in the text, the same hits as in its parts, the cap per item.

No test here times anything. Growth is measured by counting the lines of `monitor/topics` that
run (a tracer), which does not depend on the machine's load; equality of results is checked
against the pairwise definitions of NEAR and of phrases with slop.
"""

from __future__ import annotations

import pickle
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from monitor import wiring
from monitor.config import TopicConfig
from monitor.topics import MAX_MATCH_CHARS, Matcher, cap_text, compile_topics
from monitor.topics.analysis import tokenize
from monitor.topics.nodes import BODY_BASE, Doc, Found, Leaf, Near, Node, Not, Phrase, _gap

ROOT = Path(__file__).resolve().parent.parent
TOPICS_DIR = str(ROOT / "monitor" / "topics")

# Sentences of the kind the shipped topics match, many terms each (the benchmark's style).
DENSE = {
    "de": [
        "Nach Angaben des NIS hat Nordkorea weitere 3.000 Soldaten nach Kursk entsandt.",
        "Nordkoreanische Truppen kämpfen in der Region Kursk an der Seite der russischen Armee.",
        "Pjöngjang beruft sich auf Artikel 4 des Vertrags mit Russland, der Beistand unverzüglich "
        "verlangt.",
        "Nordkorea lieferte Container mit Artilleriegranaten und Raketen nach Russland.",
        "Das Expertengremium der UN meldet Schiff-zu-Schiff-Transfers von Öl nach Nordkorea.",
    ],
    "en": [
        "According to the NIS, North Korea has sent another 3,000 troops to Kursk.",
        "North Korean soldiers are fighting alongside the Russian army in the Kursk region.",
        "Pyongyang invoked Article 4 of its treaty with Russia, which requires assistance "
        "without delay.",
        "North Korea shipped containers of artillery shells and missiles to Russia.",
        "The UN Panel of Experts reports ship-to-ship transfers of oil to North Korea.",
    ],
}
# Words no topic knows, to keep the parts of a long text further apart than any NEAR or slop.
SPACER = " ".join(["lorem ipsum dolor"] * 10)


def dense(sentences: int, language: str, seed: int = 0) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(DENSE[language]) for _ in range(sentences))


@pytest.fixture(scope="module")
def shipped() -> Matcher:
    config = wiring.load(ROOT / "config.toml")
    return compile_topics(config.topics, config.aliases)


# --- the proximity operators agree with their pairwise definitions ---------------------------


def _doc(lists: list[list[Found]]) -> Doc:
    """A paragraph whose feature k holds `lists[k]` (hits in the body)."""
    return Doc("", "", {k: list(found) for k, found in enumerate(lists)}, "de")


def _hits(rng: random.Random, count: int, span: int) -> list[Found]:
    """Random hits of one to three words, some overlapping, some in the title."""
    out = []
    for _ in range(count):
        first = rng.randrange(span) + (BODY_BASE if rng.random() < 0.8 else 0)
        last = first + rng.choice((0, 0, 0, 1, 2))
        out.append((first, last, first * 5, last * 5 + 4))
    return sorted(set(out))


def _near_pairwise(a: list, b: list, n: int) -> list | None:
    used_a = {i for i, x in enumerate(a) if any(_gap(x, y) <= n for y in b)}
    used_b = {j for j, y in enumerate(b) if any(_gap(x, y) <= n for x in a)}
    if not used_a:
        return None
    return [a[i] for i in sorted(used_a)] + [b[j] for j in sorted(used_b)]


def _slop_windows(lists: list[list[Found]], slop: int, leaf: int) -> list | None:
    """Every hit in a window of the two-pointer sweep that holds all words within `slop`."""
    events = sorted((o[0], k, o) for k, found in enumerate(lists) for o in found)
    counts = [0] * len(lists)
    covered = left = 0
    used: set[Found] = set()
    for right in range(len(events)):
        k = events[right][1]
        counts[k] += 1
        covered += counts[k] == 1
        while covered == len(lists):
            window = [e[2] for e in events[left : right + 1]]
            first = min(o[0] for o in window)
            last = max(o[1] for o in window)
            words = sum(o[1] - o[0] + 1 for o in window)
            if last - first + 1 - words <= slop:
                used.update(window)
            lk = events[left][1]
            counts[lk] -= 1
            covered -= counts[lk] == 0
            left += 1
    return [(*o, leaf) for o in sorted(used)] or None


def test_near_holds_where_some_pair_is_close_enough() -> None:
    rng = random.Random(7)
    for trial in range(400):
        span = rng.choice((5, 20, 80))
        a, b = _hits(rng, rng.randint(1, 12), span), _hits(rng, rng.randint(1, 12), span)
        n = rng.choice((0, 1, 3, 10))
        node = Near(left=Leaf(fids=(0,), id=0), right=Leaf(fids=(1,), id=1), distance=n)
        node.seal()
        got = node.eval(_doc([a, b]))
        want = _near_pairwise([(*x, 0) for x in a], [(*y, 1) for y in b], n)
        assert got == want, (trial, a, b, n)


def test_near_explains_the_closest_pair() -> None:
    rng = random.Random(8)
    for _ in range(200):
        a, b = _hits(rng, rng.randint(1, 8), 60), _hits(rng, rng.randint(1, 8), 60)
        node = Near(left=Leaf(fids=(0,), id=0, label="a"), right=Leaf(fids=(1,), id=1, label="b"))
        node.seal()
        doc = _doc([a, b])
        if node.eval(doc) is not None:
            continue
        same_zone = [_gap(x, y) for x in a for y in b if (x[0] >= BODY_BASE) == (y[0] >= BODY_BASE)]
        (why,) = node.why_not(doc)
        if same_zone:
            assert f"but {min(same_zone)} words apart" in why
        else:
            assert "one only in the title" in why


def test_near_explained_when_one_side_is_only_in_the_title(shipped: Matcher) -> None:
    # Comparing only pairs within the title or the body left nothing to compare: min() failed.
    matcher = compile_topics({"t": TopicConfig(query="Nordkorea NEAR/3 Soldaten")}, {})
    why = matcher.explain("Russland meldet 3.000 Soldaten in Kursk.", title="Nordkorea")["t"]
    assert why.startswith("not matched")
    assert "one only in the title, the other only in the body" in why


def test_phrase_with_slop_agrees_with_its_window_definition() -> None:
    rng = random.Random(9)
    for trial in range(400):
        span = rng.choice((6, 25, 90))
        lists = [_hits(rng, rng.randint(1, 10), span) for _ in range(rng.choice((2, 3)))]
        slop = rng.choice((0, 1, 2, 5))
        node = Phrase(parts=tuple((k,) for k in range(len(lists))), slop=slop, id=5)
        assert node.eval(_doc(lists)) == _slop_windows(lists, slop, 5), (trial, lists, slop)


# --- work grows linearly with the text ---------------------------------------------------------


def _lines_run(call: Any) -> int:
    """How many lines of monitor/topics run during `call()` (a count, not a time)."""
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame: FrameType, event: str, arg: object) -> Any:
        return local if frame.f_code.co_filename.startswith(TOPICS_DIR) else None

    sys.settrace(calls)
    try:
        call()
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize("language", ["de", "en"])
def test_matching_work_grows_linearly_with_a_dense_text(shipped: Matcher, language: str) -> None:
    """Four times the text costs about four times the work, not sixteen.

    Comparing every NEAR hit with every other one made the work grow with the square of the
    text: 4n then cost over 10 times what n cost. Sorting allows a little more than 4.
    """
    small, large = dense(100, language), dense(400, language)
    shipped.match(small, language=language)  # words seen once: the cache is warm for both
    shipped.match(large, language=language)
    work_small = _lines_run(lambda: shipped.match(small, language=language))
    work_large = _lines_run(lambda: shipped.match(large, language=language))
    assert work_large < 5 * work_small, (work_small, work_large)


# --- a long text gives the hits of its parts ----------------------------------------------------


def _positions(text: str) -> int:
    """Word positions a text takes (a joined hyphen compound takes none of its own)."""
    return max(u[5] for u in tokenize(text)) + 1


def _proximity_nodes(node: Node) -> Iterator[Node]:
    """The NEAR and phrase nodes of a query whose operands hold no NOT (their hits are local)."""
    if isinstance(node, Near | Phrase) and not any(isinstance(n, Not) for n in _walk(node)):
        yield node
    for child in node.children():
        yield from _proximity_nodes(child)


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children():
        yield from _walk(child)


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_long_text_has_the_hits_of_its_parts(shipped: Matcher, language: str) -> None:
    """Each NEAR and phrase finds in 200 parts joined exactly what it finds in each part.

    The parts are kept further apart than any distance in the shipped topics, so no hit may
    pair with one in another part; the long text takes the linear paths, each part is small.
    """
    parts = [dense(6, language, seed) for seed in range(200)]
    text = f" {SPACER} ".join(parts)
    whole = shipped._doc(text, None, language)
    # Where each part starts in the long text: in words (positions) and in characters.
    offsets, words, chars = [], 0, 0
    for part in parts:
        offsets.append((words, chars))
        words += _positions(part) + _positions(f" {SPACER} ")
        chars += len(part) + len(SPACER) + 2
    nodes = [n for topic in shipped._topics for n in _proximity_nodes(topic.node)]
    assert any(isinstance(n, Near) for n in nodes)
    seen = 0
    for node in nodes:
        expected: set[tuple] = set()
        for part, (word_shift, char_shift) in zip(parts, offsets, strict=True):
            got = node.eval(shipped._doc(part, None, language)) or []
            expected |= {
                (o[0] + word_shift, o[1] + word_shift, o[2] + char_shift, o[3] + char_shift, o[4])
                for o in got
            }
        found = set(node.eval(whole) or [])
        assert found == expected, node.render()
        seen += bool(found)
    assert seen >= 3  # the test is about texts these nodes find something in


def test_a_long_text_matches_what_its_parts_match() -> None:
    """Topics without NOT: the joined text matches exactly the topics some part matches."""
    aliases = {
        "north_korea": ["North Korea*", "Nordkorea*", "nordkoreanisch*", "Pjöngjang", "Pyongyang"],
        "personnel": ["troop*", "soldier*", "Soldat*", "Truppe*"],
        "russia": ["Russia*", "Russland*", "russisch*", "Kursk"],
    }
    topics = {
        "troops": TopicConfig(query="@north_korea NEAR/5 @personnel"),
        "arms": TopicConfig(query='"Raketen nach Russland"~2 OR "missiles to Russia"~2'),
        "treaty": TopicConfig(query="(art:4 NEAR/4 (Vertrag* OR treaty)) AND @russia"),
        "oil": TopicConfig(query="(oil OR Öl) NEAR/3 @north_korea"),
    }
    matcher = compile_topics(topics, aliases)
    rng = random.Random(3)
    parts = [rng.choice(DENSE[rng.choice(("de", "en"))]) for _ in range(300)]
    each = set()
    for part in parts:
        each |= {m.topic for m in matcher.match(part)}
    joined = matcher.match(f" {SPACER} ".join(parts))
    assert {m.topic for m in joined} == each == set(topics)


# --- the tokeniser on a hyphen before many line breaks ------------------------------------------


def test_hyphen_before_many_blank_lines_is_read_in_linear_time() -> None:
    """The blanks between two line breaks could be read two ways, at every break: 2^k tries.

    At 40 breaks the old pattern would run for years; the test runs it in a child process so
    that a regression fails (at the deadline) instead of hanging the suite.
    """
    code = (
        "from monitor.topics.analysis import tokenize, fold_text\n"
        "text = 'Nord-' + '\\n   ' * 40 + '!'\n"
        "print([u[1] for u in tokenize(text)], repr(fold_text(text)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['Nord'] 'nord!'"


def test_hyphenated_line_breaks_still_join() -> None:
    units = tokenize("Sol-\n  daten und Nord- \n\n Korea, aber nicht Nord -\nKorea")
    surfaces = [u[1] for u in units]
    assert surfaces[0] == "Soldaten"
    assert "NordKorea" not in surfaces and "Nordkorea" in surfaces
    assert surfaces[-2:] == ["Nord", "Korea"]


# --- the cap on text per item --------------------------------------------------------------------


def test_cap_text_leaves_short_texts_alone() -> None:
    assert cap_text("Nordkorea entsendet Soldaten.") == ("Nordkorea entsendet Soldaten.", False)
    text = "x" * MAX_MATCH_CHARS
    assert cap_text(text) == (text, False)


def test_cap_text_cuts_at_a_word_boundary() -> None:
    text = "Soldaten " * 50_000  # 450,000 characters
    kept, cut = cap_text(text)
    assert cut
    assert MAX_MATCH_CHARS - 20 <= len(kept) <= MAX_MATCH_CHARS
    assert text.startswith(kept) and kept.endswith("Soldaten")
    assert cap_text("abcdef ghijkl", 9) == ("abcdef", True)
    # No white space near the limit: cut there.
    assert cap_text("a" * 5_000, 3_000) == ("a" * 3_000, True)


def test_matcher_matches_only_the_first_max_chars(shipped: Matcher) -> None:
    filler = "Das Wetter bleibt wechselhaft, am Wochenende wird es wärmer. " * 4_000
    assert len(filler) > MAX_MATCH_CHARS
    terms = "Nordkorea hat 3.000 Soldaten nach Kursk entsandt, um Russland zu unterstützen."
    before = shipped.capped
    assert shipped.match(filler + terms, language="de") == []
    assert shipped.capped == before + 1
    assert {m.topic for m in shipped.match(terms + " " + filler, language="de")} == {
        "troop_deployment"
    }
    why = shipped.explain(filler + terms, language="de")["troop_deployment"]
    assert why.startswith("not matched: none of its terms occur")
    assert shipped.prefilter_topics(filler + terms) == []


def test_the_cap_applies_to_the_title_and_survives_pickling() -> None:
    matcher = compile_topics({"t": TopicConfig(query="title:Nordkorea")}, {}, max_chars=1_000)
    copy = pickle.loads(pickle.dumps(matcher))
    assert copy.max_chars == 1_000
    long_title = "Meldung " * 200 + "Nordkorea"
    for m in (matcher, copy):
        assert m.match("Text", title="Nordkorea") != []
        assert m.match("Text", title=long_title) == []
        assert m.capped == 1
    with pytest.raises(ValueError, match="max_chars"):
        compile_topics({}, {}, max_chars=0)
    # Without a cap the whole text counts, but a title still ends before the body's first
    # position: a word past it would otherwise be taken for a word of the body.
    uncapped = compile_topics({"t": TopicConfig(query="body:Nordkorea")}, {}, max_chars=10**9)
    assert uncapped.match("Meldung " * 30_000 + "Nordkorea") != []
    assert uncapped.match("Text", title="a " * BODY_BASE + "Nordkorea") == []
