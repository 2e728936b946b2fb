"""Issue 15, structural losses found on benchmarks/extract_eval9 (development data): text a
page's markup hides from trafilatura in both modes, and boxes that let chrome in.

Every page is written for this test and served over 127.0.0.1; each holds the text the rule
under test keeps (or the noise it keeps out), so that it fails without that rule.
"""

from __future__ import annotations

from monitor.source_kinds import SOURCE_KINDS
from tests.conftest import ContentServer
from tests.test_extract_page_types import (
    CHROME,
    assert_kept,
    assert_out,
    fetched,
    page,
    texts_of,
)

# --- a named anchor before a paragraph's text ---------------------------------------------

RULING_POINTS = [
    "The applicant runs a ferry company between Tallinn and Helsinki and was listed in March"
    " because its vessels had carried military cargo for a sanctioned supplier.",
    "The applicant contends that each shipment was declared to customs and that none of the"
    " goods appeared on any list of controlled items at the time.",
    "The Council replies that the listing rests on three press reports and one statement of"
    " the supplier's own director, which the applicant does not dispute.",
    "It is for the competent authority to establish that the reasons relied on are well"
    " founded, and not for the person concerned to prove the contrary.",
    "The action must therefore be dismissed in its entirety, and the applicant ordered to pay"
    " the costs.",
]


def numbered_ruling() -> str:
    """A court's judgment: each numbered paragraph starts with an empty anchor to link to."""
    points = "".join(
        f'<p class="PointNumbered"><a id="point{n}"></a>{n} {text}</p>'
        + ('<p class="Title1"><b>Findings of the Court</b></p>' if n == 2 else "")
        for n, text in enumerate(RULING_POINTS, start=1)
    )
    return page(
        "Judgment in Case T-77/26",
        '<div id="document_content"><p class="Centre">JUDGMENT OF THE GENERAL COURT</p>'
        '<p class="Centre"><b>Judgment</b></p>'
        f'<p class="Title1"><b>Background to the dispute</b></p>{points}</div>',
    )


def test_numbered_paragraphs_after_an_empty_anchor_are_kept(
    content_server: ContentServer,
) -> None:
    # trafilatura gives an empty element its tail as text: each paragraph became one link
    # (<ref>), and both runs' blocks were dropped as runs of links.
    texts = texts_of(fetched(content_server.set("/ruling", numbered_ruling())))
    assert_kept(texts, [f"{n} {text}" for n, text in enumerate(RULING_POINTS, start=1)])
    assert_out(texts, CHROME)


def test_extractor_version_is_raised_for_the_structural_rules() -> None:
    # Pages polled by version 8 are fetched in full once; an unchanged body is only recorded
    # (tests/test_upgrade_extractor.py).
    assert SOURCE_KINDS["page"].EXTRACTOR >= 9
