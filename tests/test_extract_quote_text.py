"""Issue 15 on forum posts kept as one quote (extract_eval17 as development data): vBulletin
writes each post's text in a `<blockquote class="postcontent">`, its lines between `<br>`s and,
where the poster made one, a list after them. The quote was read only as its child blocks, so
the post kept its list and lost its prose (recall 0.19 on such a thread). Loose runs that do not
read as prose stay out: an embedded post's attribution, a reply preview's sender name.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched

OPENING = "I am opening a thread because the other one mixes everything together."
FIGURES = (
    "Seoul speaks of about 11,000 soldiers, Kyiv of 12,000, and some Russian channels of a few"
    " hundred instructors. The gap is huge. Does anyone have serious sources on how they count?"
)
LEAD_IN = "What I am sure of:"
ITEMS = [
    "there were flights and trains from Vladivostok in October",
    "the first confirmed casualties date from November",
]
REPLY = (
    "Seoul's figures come from its intelligence service, which counts flights and ships. It is a"
    " reasonable method, but it does not tell fighters from support staff."
)
REPLY_2 = "I would settle on a range of 10,000 to 12,000 and wait for the casualty reports."
MODERATOR = (
    "Remember to link your sources. Posts with figures and no source go to the general thread."
)


def post(number: int, user: str, body: str) -> str:
    return (
        f'<li class="postbitlegacy postcontainer" id="post_{number}">'
        f'<div class="posthead"><span class="date">12/11/2024, 21:{number % 60:02d}</span></div>'
        f'<div class="userinfo"><a class="username" href="/member.php?{number}">'
        f"<strong>{user}</strong></a></div>"
        '<div class="postbody"><div class="postrow"><div class="content">'
        f'<div id="post_message_{number}"><blockquote class="postcontent restore">{body}'
        "</blockquote></div></div></div>"
        '<div class="after_content"><blockquote class="signature restore">'
        '<div class="signaturecontainer"><i>Si vis pacem, para bellum.</i></div></blockquote>'
        "</div></div></li>"
    )


def thread_page() -> str:
    items = "".join(f"<li>{item}</li>" for item in ITEMS)
    # vBulletin writes a line break and a newline per line of the post.
    first = f"{OPENING}<br />\n<br />\n{FIGURES}<br />\n<br />\n{LEAD_IN}<br />\n<ul>{items}</ul>"
    second = (
        '<div class="bbcode_quote"><div class="quote_container">'
        '<div class="bbcode_postedby">Originally posted by <strong>Almogavar</strong></div>'
        '<div class="message">Does anyone have serious sources?</div></div></div>'
        f"{REPLY}<br />\n<br />\n{REPLY_2}"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>How many North Koreans are really in Kursk?</title></head><body>"
        '<div id="navbar"><ul><li><a href="/forum.php">Forums</a></li>'
        '<li><a href="/search.php">New posts</a></li></ul></div>'
        '<div id="pagetitle"><h1>Thread: How many North Koreans are really in Kursk?</h1></div>'
        '<div id="postlist" class="postlist"><ol id="posts" class="posts">'
        f"{post(512001, 'Almogavar', first)}{post(512019, 'Nauta_73', second)}"
        f"{post(512044, 'Moderator_Tajo', MODERATOR)}"
        "</ol></div>"
        '<div id="similar_threads"><h4>Similar threads</h4><ol><li>'
        '<a href="/showthread.php?47210">The treaty article by article</a></li></ol></div>'
        '<div id="footer">Powered by a forum engine. All times are GMT +1.</div></body></html>'
    )


def test_a_posts_own_text_beside_its_list_is_kept(content_server: ContentServer) -> None:
    doc = fetched(content_server.set("/showthread.php", thread_page()))
    texts = [p.text for p in doc.passages]
    assert_kept(texts, [OPENING, FIGURES, LEAD_IN, *ITEMS, REPLY, REPLY_2, MODERATOR])
    assert_out(texts, ["Si vis pacem", "Similar threads", "The treaty article", "Powered by"])


EMBED_TEXT = (
    "The foreign ministry confirms that the envoy met his counterpart in Pyongyang on Tuesday and"
    " discussed the implementation of the treaty's fourth article."
)
ARTICLE = (
    "The statement came hours after the agency reported the visit, and was the first official"
    " word on the talks since the summer."
)


def embed_page() -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Envoy in Pyongyang'
        '</title></head><body><main><article><h1>Envoy in Pyongyang</h1><div class="body">'
        f"<p>{ARTICLE}</p>"
        '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">'
        f"{EMBED_TEXT}</p>&mdash; Example Foreign Ministry (@example_mfa) "
        '<a href="https://social.example/example_mfa/status/1">December 3, 2024</a></blockquote>'
        "<p>Officials in Seoul did not comment on the statement, saying they would study it"
        " first.</p></div></article></main></body></html>"
    )


def test_an_embedded_posts_attribution_stays_out(content_server: ContentServer) -> None:
    # Guard: the attribution is loose text of the quote, but no prose.
    doc = fetched(content_server.set("/news/envoy.html", embed_page()))
    texts = [p.text for p in doc.passages]
    assert_kept(texts, [ARTICLE])
    assert_out(texts, ["@example_mfa", "Example Foreign Ministry ("])
