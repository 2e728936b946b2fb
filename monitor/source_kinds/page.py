"""Page sources: an HTML page (or a PDF) whose main text is extracted paragraph by paragraph;
each paragraph is a passage.

robots.txt applies (unless ``[http] respect_robots = false``); the page's paragraphs are kept as
a snapshot so that an edited paragraph is shown with what changed; ``ignore`` patterns remove
text before anything counts as new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from monitor.models import Document

KIND: Final = "page"
ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
ROBOTS = True
SNAPSHOTS = True
ENTRY_VERSIONS = False  # an edited paragraph has a new key: new text, linked by the snapshot
FOLLOWS_LINKS = False
# Raised when page extraction yields paragraphs it did not before (issue 15: layout tables and
# list-item entries split into their paragraphs; 3: headings trafilatura dropped put back over
# their paragraphs; 4: trafilatura's default-mode blocks added to its precision-mode ones,
# minus our boilerplate rules; 5: a timeline's date read with its entry, one-paragraph table
# cells as data, boxed and teaser-classed text put back, more noise kept out; 6: nested
# layout tables read cell by cell, paragraphs split at blank lines, e-mail footers kept out,
# trafilatura's full default run where its fast one may miss posts; 7: footnotes, calls to
# action, donation prompts and byline dates out, fact boxes among the article's text in; 8:
# posts of components classed "widget" or "message" in, an article of <br><br> runs keeps its
# first run, wiki headings with long edit links and FAQ questions put back; 9: paragraphs
# after an empty named anchor in; 10: pointer lines, support appeals, paywall and cookie
# lines in more languages, reading times and error-report prompts out; 11: a header box's lines
# broken with <br> judged by their element; footnote lists, label/value boxes, disclaimers,
# standfirsts, captions and posts' repeated titles out; 12: headings and text after an empty
# permalink, <a href="#...">, in; 13: a page builder's records, calls to action by their box
# and letter-spaced headings; 14: a discussion thread's replies in its comment area, text in
# a form that shows no control, and the bold lines of a <br> text in; runs between blank
# lines are passages of their own; a list item's inline code stays in its sentence; a
# thread's sibling posts trafilatura lost, and Read the Docs pages' boxes, in; 15: a table's
# rows of figures under a row of words, headings linked to their own anchor, a quote's own
# text between its blocks, a live entry's first line under a single break, a chronology's
# dates, a thin thread's posts, runs of short lines, code terms and sentences naming a press
# office, in; teaser lines whose words are all their link's out; 16: a byline made of a <time>
# and author-classed parts (a live entry's head) out, found on the page without spaces; a
# header, footer or form that holds most of the page's text is no furniture; a thread's
# posts written in their post-classed box, replies in classless paragraph wrappers, and the
# text a paywall's box hides, and an interview's question and answer boxes between two kept
# parts of the article, a summary opening the body box, a link aggregator's replies, and
# text trafilatura leaves loose after a heading, and a page builder's text sections of the
# kept one's kind, in).
# A page polled by an older extractor is fetched in full at its next poll; if its body is
# unchanged, its paragraphs are only recorded.
EXTRACTOR: int | None = 16


def extract(
    body: bytes,
    url: str,
    content_type: str | None,
    *,
    max_items: int,
    ignore: tuple[str, ...],
    record_only: bool,
) -> Document:
    """Bytes of a page -> Document (run in a parser process); every passage gets the page's
    title and date (unless it is one entry of several), link and language where it has none of
    its own."""
    # Loaded in the parser process, not when the config is read (see `monitor.source_kinds`).
    from monitor.extract.pages import extract_page
    from monitor.patterns import compile_pattern

    # Ignored text is removed from what is shown as well as from what counts as new.
    patterns = [compile_pattern(p) for p in ignore]  # RE2: linear time, whatever the pattern
    doc = extract_page(body, url, content_type, ignore=patterns, record_only=record_only)
    for p in doc.passages:
        if not p.entry:  # the page's title and date belong to none of several entries
            p.title = p.title or doc.title
            p.published = p.published or doc.published
        p.link = p.link or url
        p.language = p.language or doc.language
    return doc
