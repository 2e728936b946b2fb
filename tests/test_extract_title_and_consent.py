"""Issue 15, precision (extract_eval21 as development data): on two SvelteKit live blogs
trafilatura's default run fell back to reading the page's title and a French consent notice,
and the recall pass let both in (precision 0.74 and 0.88). A recall block that is the page's
<title> is refused as its headline is, and the French consent notice's phrases are
boilerplate's.
"""

from __future__ import annotations

from monitor.extract.boilerplate import added_blocks, boilerplate

TITLE = "DIRECT. Traité Russie–Corée du Nord : l'article 4 entre en vigueur – L'Écho du Rhône"
CONSENT = (
    "L'Écho du Rhône et ses 143 partenaires utilisent des traceurs pour mesurer l'audience et"
    " personnaliser la publicité. Vous pouvez accepter, refuser ou paramétrer vos choix à tout"
    " moment."
)
ENTRY = (
    "Le ministère sud-coréen des Affaires étrangères a convoqué l'ambassadeur de Russie à Séoul"
    " pour protester contre l'entrée en vigueur du traité."
)
KEPT = "Le traité signé le 19 juin 2024 à Pyongyang entre en vigueur ce mercredi, dit Moscou."


def test_the_pages_title_and_a_french_consent_notice_stay_out() -> None:
    merged = added_blocks(
        [("p", KEPT)],
        [("p", TITLE), ("p", CONSENT), ("p", KEPT), ("p", ENTRY)],
        title=TITLE,
    )
    assert merged == [("p", KEPT), ("p", ENTRY)], merged


def test_a_sentence_about_trackers_is_no_consent_notice() -> None:
    # Guard: the notice's words alone ("traceurs", trackers) are news too.
    text = "Les douanes ont posé des traceurs GPS sur trois conteneurs partis de Vladivostok."
    assert not boilerplate("p", text, [])
