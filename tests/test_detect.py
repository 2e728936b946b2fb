"""Detect: which passages are new to their source, and what an edited paragraph replaced."""

import subprocess
import sys

from monitor.detect import (
    changed_words,
    entry_edit,
    keys_to_look_up,
    material_changes,
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


# --- feed entries: which edits are material (issue 14, point 1) -------------------------------

ENTRY_DE = (
    "Aktualisiert 08:05 Uhr. Nordkorea hat nach Angaben des NIS bereits 3.000 Soldaten nach "
    "Russland entsandt, sagte Sprecher Kim am Montag in Seoul."
)
ENTRY_EN = (
    "Updated 3 minutes ago. South Korea's spy agency said on Monday that North Korea has sent "
    "about 3,000 troops to Russia, spokesman Lee told reporters in Seoul."
)
MATERIAL = {
    "a figure (de)": (ENTRY_DE, ENTRY_DE.replace("3.000", "10.000")),
    "a figure (en)": (ENTRY_EN, ENTRY_EN.replace("3,000", "12,000")),
    "a figure added": (ENTRY_EN, ENTRY_EN.replace("about 3,000", "about 3,000 of 5,000")),
    "a name (de)": (ENTRY_DE, ENTRY_DE.replace("NIS", "Pentagons")),
    "a name (en)": (ENTRY_EN, ENTRY_EN.replace("Lee", "Park")),
    "a place": (ENTRY_EN, ENTRY_EN.replace("in Seoul", "in Busan")),
    "a weekday": (ENTRY_EN, ENTRY_EN.replace("Monday", "Tuesday")),
    "a negation added (de)": (ENTRY_DE, ENTRY_DE.replace("hat nach", "hat nicht nach")),
    "a negation added (en)": (ENTRY_EN, ENTRY_EN.replace("has sent", "has not sent")),
    "a negation as n't": (ENTRY_EN, ENTRY_EN.replace("has sent", "hasn't sent")),
    "a negation removed (de)": (ENTRY_DE.replace("entsandt", "keine Soldaten entsandt"), ENTRY_DE),
    "a sentence added": (ENTRY_EN, ENTRY_EN + " Pyongyang denied the report on state television."),
    "a sentence removed": (ENTRY_DE + " Die Lage bleibt nach Angaben der Armee ruhig.", ENTRY_DE),
}
NOT_MATERIAL = {
    "identical": (ENTRY_EN, ENTRY_EN),
    "white space": (ENTRY_EN, "  " + ENTRY_EN.replace(" ", "  ").replace("Seoul.", "Seoul.\n")),
    "a typo fixed (en)": (ENTRY_EN.replace("reporters", "reportres"), ENTRY_EN),
    "a typo fixed (de)": (ENTRY_DE.replace("Soldaten", "Soldatne"), ENTRY_DE),
    "a name respelt": (ENTRY_DE.replace("Kim", "Kimm"), ENTRY_DE),
    "case": (ENTRY_EN, ENTRY_EN.replace("spy agency", "Spy Agency")),
    "punctuation": (ENTRY_DE, ENTRY_DE.replace(", sagte", " – sagte")),
    "number separators": (ENTRY_DE, ENTRY_DE.replace("3.000", "3000")),
    "a time stamp": (ENTRY_DE, ENTRY_DE.replace("08:05", "09:41")),
    "a relative time": (ENTRY_EN, ENTRY_EN.replace("3 minutes", "25 minutes")),
    "a plain word swapped": (ENTRY_EN, ENTRY_EN.replace("told reporters", "told journalists")),
}


def test_material_edits_of_an_entry_are_numbers_names_negations_and_sentences() -> None:
    for case, (old, new) in MATERIAL.items():
        assert entry_edit(("t", old), ("t", new)) is not None, case


def test_typos_whitespace_timestamps_and_counters_are_not_material_edits() -> None:
    for case, (old, new) in NOT_MATERIAL.items():
        assert entry_edit(("t", old), ("t", new)) is None, case


def test_a_title_edit_counts_like_a_text_edit_and_says_what_changed() -> None:
    edit = entry_edit(("3,000 troops sent", ENTRY_EN), ("12,000 troops sent", ENTRY_EN))
    assert edit is not None
    titles, texts = edit
    assert [(c.before, c.after) for c in titles] == [("3,000", "12,000")] and texts == []
    # Shown are the material runs only: the typo fixed elsewhere in the entry is left out.
    edited = ENTRY_DE.replace("3.000", "10.000").replace("Russland", "Rusland")
    assert [(c.before, c.after) for c in material_changes(ENTRY_DE, edited)] == [
        ("3.000", "10.000")
    ]


def test_a_counter_at_the_end_of_an_entry_is_no_edit() -> None:
    """Feeds that append "· 1,234 readers" to every entry change it on every request: found by
    the end-to-end harness (benchmarks/digest_e2e.py), where each poll reported an update."""
    body = "Pyongyang denied that troops were sent to Kursk, the agency said."
    assert entry_edit(("T", f"{body} · 1,137 readers"), ("T", f"{body} · 1,303 readers")) is None
    assert entry_edit(("T", f"{body} · 12 Leser"), ("T", f"{body} · 15 Leser")) is None
    # A figure in the entry's own text still counts, counter or not.
    edited = body.replace("troops", "3,000 troops")
    assert entry_edit(("T", f"{body} · 1,137 readers"), ("T", f"{edited} · 1,303 readers"))
