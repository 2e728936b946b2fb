"""Issue 15, recall: text in <div>s without a <p>, between two kept parts of the article.

An interview built of page-builder blocks writes each question and answer in a <div> of its
own ("qa-block" > "qa-question", Sitecore; "block-question", Wagtail). trafilatura weighs
containers by their paragraphs, so both its runs kept the intro and the closing note, which
are <p>s, and lost every question and answer between them (a Portuguese interview,
extract_eval24: recall 0.21). A box between two kept ones under the same parent is read when
it is an interview's (by its class), a plain box with no class, or of the kept boxes' kind;
callouts, pull quotes and promotion boxes between them stay out.

The page here is written for this test and served over 127.0.0.1; it guards what stays out.
The pages whose text was lost are development pages of test_extract_recall_rules.py.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

INTRO = (
    "Beatriz Quintela spent twelve years advising marine insurers in London before she went"
    " back to Santos, where she now teaches international law. We spoke to her by video in"
    " the week Seoul raised its estimate of North Korean soldiers in Russia."
)
NOTE = "The interview has been edited for length and clarity."
QA = [
    (
        "Rumo Global — You say the sanctions have become a game of hide and seek. Why?",
        "Beatriz Quintela — Because most of the enforcement happens at sea, and at sea it is"
        " easy to disappear. A ship turns off its transponder, changes its name and its flag.",
    ),
    (
        "Rumo Global — What changed when the panel of experts ended in April 2024?",
        "Beatriz Quintela — We lost the one source that everyone, at least in theory,"
        " accepted. The new monitoring team does serious work, but Moscow rejects it.",
    ),
    (
        "Rumo Global — Does Brazil have any part in this?",
        "Beatriz Quintela — More than it seems. Our ports take ships under flags of"
        " convenience all the time; a careful inspection in Santos can reveal a great deal.",
    ),
]
PROMO = "Listen too: our podcast episode on the shadow fleet"
PULL = "A ship turns off its transponder and changes its name."
CALLOUT = "Was this forwarded to you? Subscribe for free and get it every Friday."


def block(classes: str, inner: str) -> str:
    inner = f'<div class="component-content">{inner}</div>'
    return f'<div class="component {classes} col-12">{inner}</div>'


def interview_page() -> str:
    qa = [
        block(
            "qa-block",
            f'<div class="qa-question"><span class="qa-label">{q.split(" — ")[0]} —</span>'
            f' {q.split(" — ")[1]}</div><div class="qa-answer"><span class="qa-label">'
            f"{a.split(' — ')[0]} —</span> {a.split(' — ')[1]}</div>",
        )
        for q, a in QA
    ]
    promo = block(
        "promo promo-inline",
        f'<div class="promo-text"><p><strong>{PROMO}</strong></p><a href="/podcasts/fleet">'
        "Listen now</a></div>",
    )
    pull = block("pullquote", f"<blockquote>{PULL}</blockquote>")
    callout = block("callout-card", f"<div>📬</div><div>{CALLOUT}</div>")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Interview</title>'
        '</head><body><header class="site-header"><nav><a href="/">Home</a> <a href="/world">'
        'World</a> <a href="/interviews">Interviews</a></nav></header><main><div id="content"'
        ' class="container"><div class="row"><div class="component container col-lg-8'
        ' article-main"><div class="component-content"><div class="row">'
        + block(
            "page-content article-header",
            '<div class="field-category">Interview</div><h1>"The sanctions have become a game'
            ' of hide and seek"</h1><div class="field-meta">By Rafael Monteiro</div>',
        )
        + block("rich-text article-intro", f"<p>{INTRO}</p>")
        + qa[0]
        + pull
        + qa[1]
        + promo
        + qa[2]
        + callout
        + block("rich-text article-note", f"<p><em>{NOTE}</em></p>")
        + '</div></div></div><div class="component col-lg-4 sidebar"><div class="component-'
        'content"><h3>Most read</h3><ol><li><a href="/a">Dollar falls after inflation data'
        '</a></li><li><a href="/b">Roads closed after the rains</a></li></ol></div></div>'
        '</div></div></main><footer class="site-footer"><p>© 2026 Rumo Global</p></footer>'
        "</body></html>"
    )


def test_an_interviews_questions_and_answers_in_divs_are_read(
    content_server: ContentServer,
) -> None:
    texts = texts_of(fetched(content_server.set("/interviews/quintela", interview_page())))
    assert_kept(texts, [INTRO, NOTE, *(part for pair in QA for part in pair)])
    assert_out(texts, [PROMO, CALLOUT, "Dollar falls"])
    assert sum(PULL in text for text in texts) <= 1  # the pull quote is not read again
