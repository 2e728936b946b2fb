"""Issue 15 on short lines (extract_eval19 as development data).

- A run of short lines written as <div>s (a recipe's ingredients, "250 ml lauwarme Milch") was
  dropped line by line as labels waiting for a block: recall 0.85 on such a page. A run of
  three or more stands; an article's header lines (kicker, byline, reading time) still go.
- A statute's paragraph that ends in its footnote's mark ("... zu unterrichten.<sup><a>1)</a>")
  was taken for a call to action (a sentence, then one short link) and dropped.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

STORY = (
    "Meine Oma hat den Datschi jedes Jahr im September gebacken, sobald die ersten"
    " Hauszwetschgen reif waren. Wichtig ist ein dünner Teig und viel Obst."
)
INGREDIENTS = [
    "500 g Weizenmehl Type 405",
    "250 ml lauwarme Milch",
    "1 Würfel frische Hefe",
    "60 g Zucker",
    "60 g weiche Butter",
]
STEPS = [
    "Hefe in der lauwarmen Milch mit einem Teelöffel Zucker auflösen und zehn Minuten stehen"
    " lassen.",
    "Mit Mehl, restlichem Zucker und Butter zu einem glatten Teig kneten und zugedeckt eine"
    " Stunde gehen lassen.",
]
HEADER = ["Backen", "Von Oma Hilde", "3 Min. Lesezeit"]


def recipe_page() -> str:
    def ingredient(line: str) -> str:
        amount, food = line.split(" ", 2)[:2], line.split(" ", 2)[2]
        return (
            '<div class="v-list-item ingredient-item"><div class="v-checkbox">'
            '<input type="checkbox"></div><div class="v-list-item-title">'
            f'<span class="ingredient-quantity">{" ".join(amount)}</span> '
            f'<span class="ingredient-food">{food}</span></div></div>'
        )

    steps = "".join(
        f'<div class="instruction-card"><div class="v-card-title"><span>Schritt {i}</span></div>'
        f'<div class="v-card-text"><div class="markdown"><p>{step}</p></div></div></div>'
        for i, step in enumerate(STEPS, 1)
    )
    header = "".join(f'<div class="recipe-meta__line">{line}</div>' for line in HEADER)
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">'
        "<title>Zwetschgendatschi vom Blech</title></head><body>"
        '<nav class="app-bar"><a href="/">Rezepte</a> <a href="/shopping">Einkaufsliste</a></nav>'
        '<main class="v-main"><div class="recipe-page"><h1>Zwetschgendatschi vom Blech</h1>'
        f'<div class="recipe-meta">{header}</div>'
        f'<div class="recipe-description"><p>{STORY}</p></div>'
        '<div class="ingredients-column"><h2>Zutaten</h2><div class="ingredient-list">'
        + "".join(ingredient(line) for line in INGREDIENTS)
        + '</div></div><div class="instructions-column"><h2>Zubereitung</h2>'
        f"{steps}</div></div></main>"
        '<footer class="v-footer"><p>Mealie · Rezeptverwaltung</p></footer></body></html>'
    )


def test_a_run_of_short_lines_in_the_text_is_kept(content_server: ContentServer) -> None:
    doc = fetched(content_server.set("/g/home/r/zwetschgendatschi", recipe_page()))
    texts = texts_of(doc)
    assert_kept(texts, [STORY, *INGREDIENTS, *STEPS])
    # The header's short lines are no list of the text.
    assert_out(texts, HEADER)


SECTION_1 = (
    "(1) Bestehen tatsächliche Anhaltspunkte dafür, dass Ladung oder Schiff Beschränkungen auf"
    " Grund von Rechtsakten der Europäischen Union unterliegen, kann die Hafenbehörde das"
    " Einlaufen bis zur Klärung untersagen."
)
SECTION_2 = "(2) Das Hauptzollamt ist unverzüglich zu unterrichten."
PROMPT = "Die Verordnung gibt es auch als PDF. Hier herunterladen"


def statute_page() -> str:
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">'
        "<title>Hafenmeldeverordnung</title></head><body><main>"
        '<div class="lr-document"><h1>Verordnung über Meldepflichten im Hafen</h1>'
        '<div class="lr-norm"><h3 class="jurNormTitel">§ 3 Prüfung und Einlaufverbot</h3>'
        f'<div class="jurAbsatz">{SECTION_1}</div>'
        f'<div class="jurAbsatz">{SECTION_2}<sup class="fn"><a href="#fn1">1)</a></sup></div>'
        "</div>"
        '<div class="lr-norm"><h3 class="jurNormTitel">§ 4 Ordnungswidrigkeiten</h3>'
        '<div class="jurAbsatz">Ordnungswidrig handelt, wer vorsätzlich oder fahrlässig eine'
        " Angabe nicht, nicht richtig oder nicht rechtzeitig übermittelt.</div></div>"
        '<div class="download-box">Die Verordnung gibt es auch als PDF. '
        '<a href="/hafmeldv.pdf">Hier herunterladen</a></div>'
        '<div class="lr-footnotes"><p id="fn1">1) Geändert durch Verordnung vom 3. Mai.</p>'
        "</div></div></main></body></html>"
    )


def test_a_paragraph_ending_in_its_footnote_mark_is_kept(content_server: ContentServer) -> None:
    doc = fetched(content_server.set("/lr/hafmeldv", statute_page()))
    texts = texts_of(doc)
    assert_kept(texts, [SECTION_1, SECTION_2])
    # A sentence, then one short link of its own, is still a call to action.
    assert_out(texts, [PROMPT])
