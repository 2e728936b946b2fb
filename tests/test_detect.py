"""Detect: which passages are new to their source, and what an edited paragraph replaced."""

import subprocess
import sys

from monitor.detect import (
    changed_words,
    keys_to_look_up,
    novelty,
    page_snapshot,
    previous_version,
    previous_versions,
)
from monitor.models import Passage

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


# --- novelty: pure, over the keys the store says a source has -------------------------------



def p(key: str, text: str = "", former: str | None = None) -> Passage:
    return Passage(key, text or key, former_key=former)


def test_passages_the_source_has_are_not_new() -> None:
    passages = [p("a"), p("b"), p("c"), p("b", "b again")]
    assert keys_to_look_up(passages) == ["a", "b", "c"]
    found = novelty(passages, {"b", "x"})
    # A key counts once, at its first place, carried by its last passage.
    assert [(q.key, q.text) for q in found.fresh] == [("a", "a"), ("c", "c")]
    assert (found.new_keys, found.seen_keys, found.rekeyed) == (["a", "c"], ["b"], False)


def test_a_source_never_stored_looks_nothing_up() -> None:
    passages = [p("a", former="old-a")]
    assert keys_to_look_up(passages, first=True, rekeying=True) == []
    found = novelty(passages, set())
    assert [q.key for q in found.fresh] == ["a"] and found.new_keys == ["a"]


def test_an_upgraded_source_moves_to_new_keys_without_reporting_again() -> None:
    passages = [p("new-1", former="old-1"), p("new-2", former="old-2"), p("kept"), p("fresh")]
    assert keys_to_look_up(passages, rekeying=True) == [
        "new-1", "new-2", "kept", "fresh", "old-1", "old-2",
    ]  # fmt: skip
    found = novelty(passages, {"old-1", "kept"}, rekeying=True)
    assert [q.key for q in found.fresh] == ["new-2", "fresh"]
    # Known by its former key only: no row under the new key yet, so one is written.
    assert found.new_keys == ["new-1", "new-2", "fresh"]
    assert found.seen_keys == ["kept"]
    assert found.rekeyed
    # Former keys count only while the source is moving.
    assert [q.key for q in novelty(passages, {"old-1"}).fresh] == [
        "new-1",
        "new-2",
        "kept",
        "fresh",
    ]


def test_an_empty_poll_does_not_finish_the_move() -> None:
    assert not novelty([], set(), rekeying=True).rekeyed


def test_edits_link_new_paragraphs_to_removed_ones() -> None:
    new = OLD.replace("3.000", "10.000")
    fresh = [p("k1", new), p("k2", "Ein ganz neuer Absatz über etwas anderes.")]
    current = page_snapshot([p("k0", OTHER), *fresh])
    assert current == [OTHER, new, "Ein ganz neuer Absatz über etwas anderes."]
    assert previous_versions(fresh, current, [OTHER, OLD]) == [OLD, None]
    # A paragraph still on the page was not replaced.
    assert previous_versions(fresh, [*current, OLD], [OTHER, OLD]) == [None, None]


def test_detect_reads_no_database_and_extract_does_not_import_detect() -> None:
    def loaded(imports: str, prefixes: tuple[str, ...]) -> list[str]:
        found = f"[m for m in sys.modules if m.startswith({prefixes})]"
        code = f"import sys, {imports}; print(*{found})"
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return run.stdout.split()

    assert loaded("monitor.detect", ("sqlalchemy", "monitor.store")) == []
    assert loaded("monitor.extract.pages, monitor.extract.feeds", ("monitor.detect",)) == []
