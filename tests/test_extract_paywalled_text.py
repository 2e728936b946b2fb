"""Issue 15, recall: the text a paywall hides is the article's.

A metered page keeps the rest of its story in the paywall's own box ("cmp-paywall__content"
inside "paywall", AEM core components), beside the gate that asks the reader to subscribe. The
box's class said paywall, so every paragraph in it was refused as the paywall's (an AEM daily,
extract_eval24: recall 0.47). A box named for the hidden text ("paywall__content",
"paywall-content", "paywalled") is read; the gate's own lines stay out.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

OPEN = [
    "For most of the last decade the yard on the bay repaired fishing trawlers and the odd"
    " coastal tanker, and its books show a business that barely covered its costs.",
    "Satellite images and port records show that since early 2025 it has repaired at least"
    " six cargo ships that had carried containers from Rajin in North Korea.",
]
MIDDLE = (
    "Several of those ships are named in the reports of the Multilateral Sanctions Monitoring"
    " Team, which took over part of the work of the UN panel of experts."
)
HIDDEN = [
    "Former workers, speaking on condition that they not be named, described ships arriving"
    " with their transponders switched off and leaving under new names.",
    '"We painted over the names on the stern more than once," one of them said. "Nobody'
    ' asked why."',
    "Sanctions lawyers say the repairs may breach resolution 2397, which bars states from"
    " providing services to vessels involved in prohibited trade.",
]
GATE = "You have reached your free article limit"
MOST_READ = [
    "Rotterdam lashers vote on a strike over night shifts",
    "Freight rates on the Asia to Europe lane fall for a third week",
    "Insurers raise war-risk premiums for ships calling in the Black Sea",
    "A new container terminal opens in Gdansk after two years of work",
    "Tanker owners order fewer ships as the fleet ages",
]


def text(paragraphs: list[str]) -> str:
    """One text component holding ``paragraphs``."""
    inner = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<div class="text"><div class="cmp-text">{inner}</div></div>'


def page(content_class: str) -> str:
    most_read = "".join(
        f'<li class="cmp-list__item"><a class="cmp-list__item-link" href="/n/{i}">{title}</a></li>'
        for i, title in enumerate(MOST_READ)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>The yard</title>'
        '</head><body><div class="root container"><div class="cmp-container"><header'
        ' class="cmp-header"><a href="/">The Ledger</a> <a href="/world">World</a> <a'
        ' href="/ports">Ports</a> <a href="/markets">Markets</a></header><div class="grid">'
        '<div class="container"><div id="container-article" class="cmp-container">'
        '<div class="title"><h1 class="cmp-title__text">The yard that renames ships</h1></div>'
        '<div class="text cmp-text--standfirst"><div class="cmp-text"><p>A small repair yard'
        " has serviced ships that carried North Korean cargo to Russia.</p></div></div>"
        '<div class="byline"><div class="cmp-byline"><span>By Marit Holt</span><time>3 December'
        ' 2026</time></div></div><div class="image"><div class="cmp-image"><img src="/d.jpg"'
        ' alt=""><span class="cmp-image__title">A ship in a floating dock.</span></div></div>'
        + text(OPEN)
        + '<div class="adcontainer"><div class="cmp-ad"><span class="cmp-ad__label">'
        "Advertisement</span></div></div>"
        + text([MIDDLE])
        + '<div class="paywall"><div class="cmp-paywall" data-paywall-state="metered">'
        f'<div class="cmp-paywall__gate" aria-hidden="true"><p class="cmp-paywall__headline">'
        f"{GATE}</p><p>Subscribe for full access to every story.</p>"
        '<a class="cmp-button" href="/subscribe">Subscribe now</a></div>'
        f'<div class="{content_class}">{text(HIDDEN[:2])}<div class="adcontainer">'
        '<div class="cmp-ad"><span class="cmp-ad__label">Advertisement</span></div></div>'
        f"{text(HIDDEN[2:])}</div></div></div>"
        '<div class="sharing"><div class="cmp-sharing"><a href="#">Share on X</a><a href="#">'
        'Email</a></div></div><div class="tags"><div class="cmp-tags"><a href="/t/1">Shipping'
        '</a> <a href="/t/2">Sanctions</a></div></div></div></div>'
        '<div class="container"><div id="container-rail" class="cmp-container"><div'
        f' class="list"><div class="cmp-list--mostread"><h2>Most read</h2><ul class="cmp-list">'
        f"{most_read}</ul></div></div>"
        '<div class="newsletter"><div class="cmp-newsletter"><h2>The Ledger Daily</h2><p>'
        'Shipping news before the market opens.</p><a class="cmp-button" href="/nl">Sign up'
        "</a></div></div></div></div></div>"
        '<footer class="cmp-footer"><ul><li><a href="/about">About</a></li><li><a'
        ' href="/terms">Terms</a></li></ul><p>© 2026 The Ledger</p></footer></div></div>'
        "</body></html>"
    )


def test_the_text_behind_a_paywalls_gate_is_read(content_server: ContentServer) -> None:
    for n, content_class in enumerate(("cmp-paywall__content", "paywall-content")):
        texts = texts_of(fetched(content_server.set(f"/story/{n}", page(content_class))))
        assert_kept(texts, [*OPEN, MIDDLE, *HIDDEN])
        assert_out(texts, [GATE, "Subscribe for full access", "Advertisement", *MOST_READ])
