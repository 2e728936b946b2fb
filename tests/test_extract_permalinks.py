"""Issue 15, English recall after extractor version 11 (extract_eval12 as development data): a
heading that starts with an empty permalink to itself (<a href="#id" class="headerlink"></a>, as
Hexo, Hugo, Jekyll, Sphinx and MkDocs themes write them) keeps its text.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from monitor.models import Document
from monitor.source_kinds import SOURCE_KINDS
from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, fetched, texts_of

INTRO = [
    "The pond behind the allotments froze three weeks later than in any winter we recorded.",
    "Its water held the warmth of a long autumn, and the first hard frost came in January.",
    "Until then the ducks kept a channel open by the jetty, and the heron stood there daily.",
    "Several members asked whether the late freeze would harm the frogspawn in the spring.",
    "We do not think so: the spawn is laid in March, long after the ice has gone again.",
    "The warden checked the overflow pipe twice, as a late thaw can bring sudden floods.",
]
# Each section's heading stands over a list or a table, not a paragraph (a paragraph's heading
# is put back by restore_headings whatever the link did).
STEPS = [
    "Read the thermometer fixed to the jetty at eight each morning.",
    "Note the depth of any ice at the edge by the reeds.",
    "Write down whether the ducks' channel by the jetty is still open.",
    "Photograph the north bank from the gate, so that the pictures can be compared.",
]
ROWS = [("December", "6.5 degrees"), ("January", "4.2 degrees")]
SECTIONS = {
    "What we measured": "<ul>" + "".join(f"<li>{step}</li>" for step in STEPS) + "</ul>",
    "Readings by month": "<table><thead><tr><th>Month</th><th>Water at half a metre</th></tr>"
    "</thead><tbody>"
    + "".join(f"<tr><td>{month}</td><td>{value}</td></tr>" for month, value in ROWS)
    + "</tbody></table>",
}
CLOSING = "We will add a second thermometer by the reeds, where the water is shallower."


def blog_page(anchor: str) -> str:
    """A post whose <h2> headings each begin with ``anchor`` (its {id} filled in)."""
    sections = "".join(
        f'<h2 id="s{n}">{anchor.format(id=f"s{n}")}{heading}</h2>{content}'
        for n, (heading, content) in enumerate(SECTIONS.items(), 1)
    )
    intro = "".join(f"<p>{text}</p>" for text in INTRO)
    # A blog theme's page: its menu and footer in <nav> and <footer>, and a table of contents
    # in the sidebar that links to each heading by its words (so that the recall pass's
    # heading is taken for the sidebar's link, and does not bring the lost one back).
    toc = "".join(
        f'<li><a class="nav-link" href="#s{n}">{heading}</a></li>'
        for n, heading in enumerate(SECTIONS, 1)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>The late freeze |'
        ' Pond notes</title></head><body><nav><a href="/">Home</a> <a href="/archives/">'
        f'Archives</a></nav><aside class="sidebar"><ol class="post-toc">{toc}</ol></aside>'
        '<main><article class="post"><header class="post-header"><h1>The late freeze</h1>'
        "</header>"
        f'<div class="post-body">{intro}{sections}<p>{CLOSING}</p></div></article></main>'
        "<footer><p>Pond notes, written by the allotment society.</p></footer></body></html>"
    )


def headings_of(doc: Document) -> set[str]:
    return {p.title for p in doc.passages if p.title}


def test_headings_after_an_empty_permalink_are_kept(content_server: ContentServer) -> None:
    # Hexo/NexT: the link holds nothing; trafilatura read the heading's text as the link's.
    anchor = '<a href="#{id}" class="headerlink" title="link"></a>'
    doc = fetched(content_server.set("/2026/03/late-freeze", blog_page(anchor)))
    assert headings_of(doc) >= set(SECTIONS)
    assert_kept(texts_of(doc), [*INTRO, *STEPS, CLOSING])


def test_headings_after_a_permalink_icon_are_kept(content_server: ContentServer) -> None:
    # Hugo/MkDocs themes: the permalink holds an icon, no text.
    anchor = '<a class="anchor" href="#{id}" aria-hidden="true"><i class="icon-link"></i></a>'
    doc = fetched(content_server.set("/2026/03/late-freeze-hugo", blog_page(anchor)))
    assert headings_of(doc) >= set(SECTIONS)


def test_a_heading_link_with_text_is_unchanged(content_server: ContentServer) -> None:
    # A permalink with text of its own ("#", "¶") is not the empty kind: its heading's text
    # still comes through.
    anchor = '<a class="headerlink" href="#{id}">¶</a>'
    doc = fetched(content_server.set("/2026/03/late-freeze-sphinx", blog_page(anchor)))
    assert_kept(texts_of(doc), [*INTRO, *STEPS, CLOSING])


def test_the_extractor_version_is_raised_for_permalinks() -> None:
    # Pages polled by version 11 are fetched in full once; an unchanged body is only recorded.
    assert SOURCE_KINDS["page"].EXTRACTOR >= 12
