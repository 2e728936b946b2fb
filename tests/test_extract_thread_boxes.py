"""Issue 15, recall: two forum engines whose replies were lost (extract_eval23).

- Vanilla writes each post's text, the opening post's too, straight into its
  "Message userContent" box, runs between <br><br> and no <p>: the box is the post itself,
  and the posts beside the kept one were never looked for (a German thread: recall 0.36; a
  Flarum thread of an earlier set, 0.49).
- Wix's forum writes each paragraph in a wrapper without a class ("<div type="paragraph">
  <p>"), inside a classed "rich-content-viewer": the replies' text boxes, looked for as the
  paragraphs' parents, had no class to be told by (a Spanish thread: recall 0.35).

Quotes of earlier posts, signatures and the "write a comment" box stay out. Every page is
written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

OPENING = [
    "I keep reading that Russia and North Korea promised each other military help in the"
    " treaty of June 2024, but the fourth article speaks of an armed attack on either side.",
    "My question: does the Ukrainian push into Kursk in August 2024 count as such an attack"
    " from the Russian point of view?",
    "And if it does, why were the soldiers only sent in the autumn, months after the push and"
    " weeks before the treaty entered into force? I would be glad of answers with sources.",
]
REPLIES = [
    [
        "Formally yes, that is how Moscow has argued since the spring of 2025. The treaty"
        " entered into force on 4 December 2024, so before that there was no duty at all.",
        "So the order is: troops first, treaty in force after, the reason later still.",
    ],
    [
        "Please keep to the subject and give a source for every figure you quote here; the"
        " thread on shipments is the place for the port numbers.",
    ],
    [
        "Thanks to both of you. That fits what I had read in the committee's report, and I"
        " will look for the Russian statement on the date.",
    ],
]
SIGNATURE = "Better to ask than to quote wrongly."
QUOTED = "does the Ukrainian push into Kursk count"


def vanilla_page() -> str:
    def post(paragraphs: list[str], quote: str = "") -> str:
        quoted = (
            f'<blockquote class="Quote UserQuote"><div class="blockquote-content">'
            f'<a href="/profile/a">kranich</a> wrote:<br>{quote}</div></blockquote>'
            if quote
            else ""
        )
        return (
            '<div class="Item-BodyWrap"><div class="Item-Body"><div class="Message userContent">'
            + quoted
            + "<br><br>".join(paragraphs)
            + f'<div class="Signature UserSignature userContent">{SIGNATURE}</div></div></div>'
            '</div><div class="Reactions"><a href="#" class="ReactButton">Like</a> <a href="#"'
            ' class="ReactButton">Quote</a></div>'
        )

    comments = "".join(
        f'<li class="Item ItemComment" id="Comment_{i}"><div class="Comment"><div'
        ' class="Item-Header CommentHeader"><span class="Author"><a href="/profile/b">'
        f"member{i}</a></span></div>{post(paragraphs, QUOTED if i == 0 else '')}</div></li>"
        for i, paragraphs in enumerate(REPLIES)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Article 4 and'
        ' Kursk</title></head><body class="Vanilla Discussion"><div id="Frame"><div'
        ' class="Head"><a href="/">Forum</a> <a href="/categories">Categories</a></div>'
        '<div class="Panel"><div class="Box BoxInThisDiscussion"><h4>In this discussion</h4>'
        '<ul><li><a href="/profile/a">kranich</a></li></ul></div></div><div id="Content"'
        ' class="Content"><h1>Does Article 4 cover Kursk?</h1><div id="Item_0" class="Item'
        ' ItemDiscussion"><div class="Discussion"><div class="Item-Header DiscussionHeader">'
        '<span class="Author"><a href="/profile/a">kranich</a></span></div>'
        + post(OPENING)
        + '</div></div><div class="CommentsWrap"><h2 class="CommentHeading">3 comments</h2>'
        f'<ul class="MessageList DataList Comments">{comments}</ul></div></div></div>'
        "</body></html>"
    )


def wix_page() -> str:
    def rich(paragraphs: list[str]) -> str:
        return (
            '<div class="rich-content-viewer">'
            + "".join(
                f'<div data-hook="rcv-block{i}" type="paragraph"><p class="paragraph _1Ak3e">'
                f"<span>{text}</span></p></div>"
                for i, text in enumerate(paragraphs)
            )
            + "</div>"
        )

    comments = "".join(
        f'<div data-hook="comment" class="comment"><div data-hook="comment-header"><span'
        f' data-hook="author-name">Member {i}</span><span data-hook="time-ago">3 Nov</span>'
        f'</div><div data-hook="comment-content" class="ricos-viewer">{rich(paragraphs)}'
        '</div><div data-hook="comment-footer"><button>4 likes</button><button>Reply'
        "</button></div></div>"
        for i, paragraphs in enumerate(REPLIES)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Article 4</title>'
        '</head><body><div id="SITE_CONTAINER"><header id="SITE_HEADER"><a href="/">Home</a>'
        ' <a href="/forum">Forum</a></header><main id="PAGES_CONTAINER"><div'
        ' data-hook="post-page"><article data-hook="post" class="post-page__post"><div'
        ' data-hook="post-header"><span data-hook="author-name">Tomas</span></div>'
        '<h1 data-hook="post-title">Does Article 4 cover Kursk?</h1><div'
        ' data-hook="post-content" class="post-content ricos-viewer">'
        + rich(OPENING)
        + '</div><div data-hook="post-footer" class="post-footer"><span>214 views</span>'
        '</div></article><section data-hook="comment-list" class="comments"><h2>3 comments'
        f'</h2>{comments}<div data-hook="comment-box"><div>Write a comment...</div></div>'
        "</section></div></main></div></body></html>"
    )


def test_vanilla_posts_written_in_their_message_box_are_all_read(
    content_server: ContentServer,
) -> None:
    texts = texts_of(fetched(content_server.set("/discussion/8841", vanilla_page())))
    assert_kept(texts, [*OPENING, *(p for reply in REPLIES for p in reply)])
    assert_out(texts, [SIGNATURE, "kranich wrote"])
    assert sum(QUOTED in text for text in texts) <= 1  # the quote is not read twice


def test_wix_forum_replies_in_paragraph_wrappers_are_read(
    content_server: ContentServer,
) -> None:
    texts = texts_of(fetched(content_server.set("/forum/article-4", wix_page())))
    assert_kept(texts, [*OPENING, *(p for reply in REPLIES for p in reply)])
    assert_out(texts, ["Write a comment", "4 likes", "214 views"])
