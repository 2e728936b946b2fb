"""StoryIndex: one syndicated story on three outlets groups; different stories do not."""

from __future__ import annotations

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
    assert restored.jaccard(original) == 1.0
    assert minhash_bytes(OUTLET_A) == data  # deterministic across calls

    # An index rebuilt from stored signatures (a restart) still recognises the story.
    rebuilt = StoryIndex()
    assert rebuilt.add_bytes("outlet-a/1", data) is None
    assert rebuilt.add("outlet-c/3", OUTLET_C) == "outlet-a/1"


def test_signature_size_must_match_the_index() -> None:
    index = StoryIndex(num_perm=64)
    with pytest.raises(ValueError, match="permutations"):
        index.add_bytes("x", minhash_bytes(WIRE, num_perm=128))
