"""StoryIndex: one syndicated story on three outlets groups; different stories do not."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from monitor.extract import StoryIndex, from_bytes, minhash_bytes
from monitor.extract.similar import signature

WIRE = (
    "Seoul (dpa) - Nordkorea hat nach Angaben des südkoreanischen Geheimdienstes weitere "
    "Soldaten nach Russland verlegt. Insgesamt sollen sich inzwischen rund 11.000 Mann im Land "
    "aufhalten, ein Großteil davon in der Grenzregion Kursk. Ein Teil der Einheiten sei bereits "
    "an Kampfhandlungen beteiligt, dabei habe es auch Verluste gegeben, hieß es nach einer "
    "nicht öffentlichen Sitzung des Geheimdienstausschusses in Seoul. Genaue Zahlen nannte der "
    "Geheimdienst nicht. Moskau hat die Anwesenheit nordkoreanischer Soldaten bislang weder "
    "bestätigt noch eindeutig dementiert. Kremlsprecher Peskow sagte, die Zusammenarbeit mit "
    "Nordkorea entspreche dem Völkerrecht und richte sich gegen niemanden. Die Ukraine hatte "
    "bereits im Oktober vor einer Entsendung gewarnt und von den westlichen Partnern eine "
    "entschlossenere Reaktion gefordert."
)

# The same wire story as three outlets publish it: own teaser and footer, a changed word here
# and there, a dropped sentence, a timestamp.
OUTLET_A = "Stand: 20.11.2026, 11:45 Uhr. " + WIRE + " Mehr zum Thema lesen Sie in unserem Dossier."
OUTLET_B = (
    "Eilmeldung aus Asien. "
    + WIRE.replace("Seoul (dpa) - ", "")
    .replace("rund 11.000 Mann", "etwa 11.000 Soldaten")
    .replace(" Genaue Zahlen nannte der Geheimdienst nicht.", "")
    + " Dieser Artikel wurde automatisch aus dem dpa-Newskanal übernommen. 34 Kommentare"
)
OUTLET_C = (
    WIRE.replace("Kremlsprecher Peskow sagte", "Der Kremlsprecher Dmitri Peskow erklärte").replace(
        "gewarnt", "eindringlich gewarnt"
    )
    + " Folgen Sie uns auf allen Kanälen. Aktualisiert vor 5 Minuten."
)

# Other stories on the same subject, with much of the same vocabulary.
RELATED = [
    "Seoul (dpa) - Südkorea erwägt als Reaktion auf die Entsendung nordkoreanischer Soldaten "
    "nach Russland, der Ukraine direkt Waffen zu liefern. Bislang hat Seoul nur humanitäre Hilfe "
    "und nicht-tödliche Ausrüstung bereitgestellt. Eine Entscheidung solle in Abstimmung mit den "
    "Verbündeten fallen, sagte ein Sprecher des Präsidialamts am Mittwoch.",
    "Moskau (dpa) - Die russische Staatsduma hat den Vertrag über eine umfassende strategische "
    "Partnerschaft mit Nordkorea ratifiziert. Das Abkommen sieht gegenseitigen militärischen "
    "Beistand vor, falls eine der beiden Seiten angegriffen wird. Kremlsprecher Peskow sagte, "
    "die Zusammenarbeit mit Nordkorea entspreche dem Völkerrecht.",
    "Kiew (dpa) - Die Ukraine hat nach eigenen Angaben erstmals Gefechte mit nordkoreanischen "
    "Soldaten in der Region Kursk geführt. Das Verteidigungsministerium in Kiew sprach von "
    "schweren Verlusten auf der Gegenseite, nannte aber keine Zahlen. Eine unabhängige "
    "Bestätigung gab es nicht.",
]


def test_syndicated_story_groups_into_one() -> None:
    index = StoryIndex()
    assert index.add("outlet-a/1", OUTLET_A) is None
    assert index.add("outlet-b/7", OUTLET_B) == "outlet-a/1"
    assert index.add("outlet-c/3", OUTLET_C) == "outlet-a/1"
    assert index.similarity("outlet-a/1", "outlet-b/7") >= index.threshold
    assert len(index) == 3


def test_related_stories_on_the_same_subject_do_not_group() -> None:
    index = StoryIndex()
    assert index.add("wire", WIRE) is None
    for number, text in enumerate(RELATED):
        assert index.add(f"related-{number}", text) is None
        assert index.similarity("wire", f"related-{number}") < 0.3


def test_groups_stay_anchored_on_the_first_story() -> None:
    index = StoryIndex()
    index.add("first", OUTLET_A)
    index.add("unrelated", RELATED[0])
    assert index.add("second", OUTLET_B) == "first"
    # C is also near B; it still reports the group's first story.
    assert index.add("third", OUTLET_C) == "first"


def test_re_adding_a_key_reports_its_group() -> None:
    index = StoryIndex()
    index.add("a", OUTLET_A)
    index.add("b", OUTLET_B)
    assert index.add("a", OUTLET_A) is None
    assert index.add("b", OUTLET_B) == "a"
    assert len(index) == 2


def test_texts_without_words_are_not_indexed() -> None:
    index = StoryIndex()
    assert index.add("empty", "") is None
    assert index.add("punctuation", " -- !! ") is None
    assert "empty" not in index
    assert minhash_bytes("") == b""
    with pytest.raises(ValueError):
        from_bytes(b"")


def test_signatures_round_trip_through_bytes() -> None:
    data = minhash_bytes(OUTLET_A)
    assert isinstance(data, bytes)
    restored = from_bytes(data)
    original = signature(OUTLET_A)
    assert original is not None
    assert restored == original
    assert minhash_bytes(OUTLET_A) == data  # deterministic across calls

    # An index rebuilt from stored signatures (a restart) still recognises the story.
    rebuilt = StoryIndex()
    assert rebuilt.add_bytes("outlet-a/1", data) is None
    assert rebuilt.add("outlet-c/3", OUTLET_C) == "outlet-a/1"


def test_an_older_releases_minhash_is_refused_not_misread() -> None:
    # datasketch's LeanMinHash bytes (seed, permutations, values), as releases before issue 14
    # stored them: the poller signs the stored text again instead (tests/test_pipeline.py).
    old = (1).to_bytes(8, "little") + (128).to_bytes(4, "little") + bytes(4 * 128)
    with pytest.raises(ValueError, match="not a story sketch"):
        from_bytes(old)
    with pytest.raises(ValueError):
        from_bytes(minhash_bytes(WIRE)[:-3])


# -- the labelled syndication set (benchmarks/syndication_eval) ---------------------------------

SET = Path(__file__).resolve().parent.parent / "benchmarks" / "syndication_eval" / "set.jsonl"


def labelled() -> list[dict[str, str]]:
    return [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines()]


def copy_of(docs: list[dict[str, str]], doc_id: str) -> dict[str, str]:
    [doc] = [d for d in docs if d["id"] == doc_id]
    return doc


def test_a_two_paragraph_copy_groups_with_the_full_story() -> None:
    docs = labelled()
    full, short = copy_of(docs, "de01a-wire"), copy_of(docs, "de01a-outlet-3")
    assert len(short["text"]) < 0.55 * len(full["text"])  # 2 of 5 paragraphs and an outro
    index = StoryIndex()
    assert index.add("wire\x00a", full["text"]) is None
    assert index.add("outlet-3\x00b", short["text"]) == "wire\x00a"
    # Jaccard over both texts would say 0.3; the short copy is contained in the long one.
    assert index.similarity("wire\x00a", "outlet-3\x00b") >= index.threshold


def test_other_stories_with_the_same_names_and_places_stay_apart() -> None:
    docs = labelled()
    for subject in sorted({d["subject"] for d in docs}):
        index = StoryIndex()
        a = [d for d in docs if d["group"] == f"{subject}a"]
        b = [d for d in docs if d["group"] == f"{subject}b"]
        for d in a:
            index.add(f"{d['outlet']}\x00{d['id']}", d["text"])
        for d in b:  # the first copy of the other story joins none of the first story's
            root = index.add(f"{d['outlet']}\x00{d['id']}", d["text"])
            assert root is None or root.split("\x00")[1].startswith(f"{subject}b"), d["id"]


@pytest.mark.parametrize("seed", range(3))
def test_every_copy_in_the_set_groups_with_its_story_and_only_with_it(seed: int) -> None:
    docs = labelled()
    random.Random(seed).shuffle(docs)
    index = StoryIndex()
    groups: dict[str, set[str]] = {}
    for d in docs:
        key = f"{d['outlet']}\x00{d['id']}"
        root = index.add(key, d["text"]) or key
        groups.setdefault(d["group"], set()).add(root)
    split = {story: roots for story, roots in groups.items() if len(roots) > 1}
    assert split == {}
    roots = [root for roots in groups.values() for root in roots]
    assert len(roots) == len(set(roots)) == 60  # no story merged into another


def test_a_sources_own_stories_never_group_together() -> None:
    # One outlet's stories share its boilerplate, never their facts: even a copy from the same
    # source is not "also reported by" that source.
    index = StoryIndex()
    assert index.add("kurier\x001", OUTLET_A) is None
    assert index.add("kurier\x002", OUTLET_A) is None
    assert index.add("bote\x001", OUTLET_B) == "kurier\x001"
