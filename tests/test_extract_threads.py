"""Issue 15, recall on discussion threads (extract_eval6, extract_eval7 and extract_eval14 as
development data): a thread's replies stand in the page's comment area, which a news page's
reader comments share, and must come in only where the page is the thread. An opening post
kept in a <form> for editing in place (old Reddit's "usertext") is text, not a form.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from monitor.source_kinds import SOURCE_KINDS
from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

OPENING = [
    "I have been reading the port records of Rajin for October. Three freighters called twice"
    " within ten days, each time after a stop at a Russian pier near Vladivostok.",
    "Is there a way to check whether any of them is already on a sanctions list?",
]
OPENING_ITEMS = ["Which registries list the owners?", "Do the lists give the IMO numbers?"]
REPLIES = [
    "Most lists give the IMO number, which stays with the hull when a ship is renamed. Search by"
    " that number rather than by name.",
    "The Security Council committee's list is still published, and several governments keep"
    " their own with more entries.",
    "Thanks, the second freighter turns up under its old name on one of the national lists.",
    "Check the flag too. Two of the three changed flags this year, which is a pattern in itself.",
]
QUOTED = "Search by that number rather than by name."
REASON = "Reason: rule 2, no personal attacks"
TAGLINES = ("harbour_watch 88 points", "ledger_fox 41 points", "moderator 17 points")
BUTTONS = ("permalink", "embed", "report")
SIDE_RULE = "Posts need a source link."


def _tagline(author: str, points: int) -> str:
    return (
        f'<p class="tagline"><a href="/user/{author}" class="author">{author}</a>'
        f' <span class="score">{points} points</span> <time>2 hours ago</time></p>'
    )


def _buttons() -> str:
    items = "".join(f'<li><a href="#">{b}</a></li>' for b in BUTTONS)
    return f'<ul class="flat-list buttons">{items}</ul>'


def _usertext(inner: str) -> str:
    # As old Reddit writes every post: a form for editing in place, its controls hidden.
    return (
        '<form action="#" class="usertext"><input type="hidden" name="thing_id" value="t1">'
        f'<div class="usertext-body"><div class="md">{inner}</div></div>'
        '<button type="submit" class="save" style="display: none">save</button></form>'
    )


def _comment(author: str, points: int, inner: str, child: str = "") -> str:
    return (
        f'<div class="thing comment"><div class="entry">{_tagline(author, points)}'
        f"{_usertext(inner)}{_buttons()}</div>"
        f'<div class="child"><div class="sitetable listing">{child}</div></div></div>'
    )


def aggregator_thread() -> str:
    """A link aggregator's self post (old-Reddit-like) with nested replies in "commentarea"."""
    post = (
        f"<p>{OPENING[0]}</p><ol>"
        + "".join(f"<li>{item}</li>" for item in OPENING_ITEMS)
        + f"</ol><p>{OPENING[1]}</p>"
    )
    reply = _comment(
        "ledger_fox",
        41,
        f"<blockquote><p>{QUOTED}</p></blockquote><p>{REPLIES[2]}</p>",
    )
    comments = (
        _comment("harbour_watch", 88, f"<p>{REPLIES[0]}</p><p>{REPLIES[1]}</p>", reply)
        # A reply written without paragraphs, its runs between blank lines.
        + _comment("moderator", 17, REPLIES[3].replace(" Two of", "<br><br>Two of"))
        + _comment("someone", 2, "<p>[deleted]</p>")
        + _comment("gone", 1, f"<p><em>removed by mod</em></p><div class='small'>{REASON}</div>")
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Rajin freighters"
        " : shipwatch</title></head><body class='comments-page'>"
        "<div class='side'><form action='/search'><input type='text' name='q'></form>"
        f"<div class='titlebox'><div class='md'><ol><li>{SIDE_RULE}</li></ol></div></div></div>"
        "<div class='content' role='main'><div class='sitetable linklisting'>"
        "<div class='thing self link'><div class='entry'><p class='title'><a href='#'>Three"
        " freighters between Rajin and Vladivostok</a></p>"
        f"<div class='expando'>{_usertext(post)}</div>{_buttons()}</div></div></div>"
        "<div class='commentarea'><div class='panestack-title'>all 34 comments</div>"
        f"<div class='sitetable nestedlisting'>{comments}</div></div></div>"
        "<div class='footer'><p>© 2026 shipwatch.example</p></div></body></html>"
    )


def test_a_threads_replies_and_its_opening_post_are_kept(content_server: ContentServer) -> None:
    # Before: the opening post stood in a <form> (refused as furniture) and the replies in the
    # comment area (left out by trafilatura); recall 0.07 on such a page of extract_eval14.
    doc = fetched(content_server.set("/r/shipwatch/comments/abc", aggregator_thread()))
    texts = texts_of(doc)
    assert_kept(texts, [*OPENING, *OPENING_ITEMS, *REPLIES[:3], *REPLIES[3].split(" Two of")])
    assert_out(texts, [*TAGLINES, "[deleted]", "removed by mod", REASON])
    assert not set(BUTTONS) & set(texts), texts
    assert QUOTED not in texts  # a quoted earlier reply is not a block of its own


def forum_topic() -> str:
    """A forum topic (Invision-like): every post, the first too, stands in "#comments"."""
    posts = [
        (OPENING[0] + " " + OPENING[1], "Navi e porti."),
        (REPLIES[0], "Fair winds."),
        (REPLIES[3], "Fair winds."),
    ]
    articles = "".join(
        f"<article class='cPost ipsComment'><aside class='cAuthorPane'><h3>user{i}</h3>"
        f"<ul><li>{100 * i} posts</li></ul></aside><div class='ipsColumn'>"
        f"<div data-role='commentContent' class='ipsType_richText ipsContained'><p>{text}</p>"
        f"</div><div class='cPost_signature'><p>{signature}</p></div></div></article>"
        for i, (text, signature) in enumerate(posts, 1)
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Freighters - Naval"
        " forum</title></head><body><div class='ipsCookieBanner'><p>We use cookies to improve"
        " this site.</p></div><main><h1>Three freighters between Rajin and Vladivostok</h1>"
        f"<div id='comments' class='cTopic'>{articles}</div>"
        "<div class='cTopicReply'><p>Sign in to reply.</p></div></main></body></html>"
    )


def test_a_forum_topics_posts_in_a_comment_area_are_kept(content_server: ContentServer) -> None:
    # Before: the first post only (its <article>), recall 0.42 on such a page of extract_eval7.
    doc = fetched(content_server.set("/forum/topic/881", forum_topic()))
    texts = texts_of(doc)
    assert_kept(texts, [*OPENING, REPLIES[0], REPLIES[3]])
    assert_out(texts, ["Fair winds.", "Navi e porti."])


ARTICLE = [
    "Three freighters sailed twice between Rajin and a Russian pier near Vladivostok in"
    " October, port records show.",
    "Two of the ships changed their flags this year. Their owners did not answer questions"
    " sent by email.",
    "The Security Council committee's list of designated vessels names none of the three.",
]
READER = [
    "Great reporting, but why does nobody stop these ships at sea? Somebody should act now.",
    "I was a sailor for twenty years and this has always happened, nothing new here at all.",
]


def news_article(body_class: str) -> str:
    """A news article with its readers' comments under it."""
    comments = "".join(
        f"<li class='comment'><div class='comment-author'>reader{i}</div>"
        f"<div class='comment-content'><p>{text}</p></div></li>"
        for i, text in enumerate(READER)
    )
    body = "".join(f"<p>{p}</p>" for p in ARTICLE)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Freighters</title>"
        "</head><body><main><article><h1>Freighters shuttle between Rajin and Vladivostok</h1>"
        f"<div class='{body_class}'>{body}</div></article>"
        f"<section id='comments' class='comments-area'><h2>2 comments</h2>"
        f"<ol class='comment-list'>{comments}</ol></section></main></body></html>"
    )


def test_a_news_articles_reader_comments_stay_out(content_server: ContentServer) -> None:
    # The article's paragraphs stand in a box of their own: its comments are its readers'.
    doc = fetched(content_server.set("/world/freighters", news_article("entry-content")))
    texts = texts_of(doc)
    assert_kept(texts, ARTICLE)
    assert_out(texts, READER)


def test_a_form_that_shows_a_control_stays_furniture(content_server: ContentServer) -> None:
    # A newsletter box in a <form> beside the article: a field to fill in, so not the text.
    signup = (
        "<form class='box' action='/subscribe'><p>Get our shipping briefing every Friday, with"
        " the week's designations and port calls.</p><input type='email' name='email'>"
        "<button>Sign up</button></form>"
    )
    page = news_article("entry-content").replace("</article>", f"{signup}</article>")
    texts = texts_of(fetched(content_server.set("/world/freighters-signup", page)))
    assert_kept(texts, ARTICLE)
    assert_out(texts, ["Get our shipping briefing every Friday"])


def test_the_extractor_version_is_raised_for_threads() -> None:
    # Pages polled by version 13 are fetched in full once; an unchanged body is only recorded.
    assert SOURCE_KINDS["page"].EXTRACTOR >= 14
