"""Explaining edits: which removed paragraph a new one replaces, and which words changed."""

from monitor.detect import changed_words, previous_version

OLD = "Nordkorea hat nach Angaben des NIS bereits 3.000 Soldaten nach Russland entsandt."
OTHER = "Die Regierung in Seoul beobachtet die Entwicklung seit Wochen mit großer Sorge."


def test_an_edited_paragraph_finds_its_previous_version() -> None:
    new = OLD.replace("3.000", "10.000")
    assert previous_version(new, [OTHER, OLD]) == OLD
    assert changed_words(OLD, new) == [("3.000", "10.000")]


def test_an_unrelated_new_paragraph_has_none() -> None:
    assert (
        previous_version("Kim Jong Un besuchte eine Munitionsfabrik in Pjöngjang.", [OLD]) is None
    )
    assert previous_version(OLD, []) is None
