"""Issue 15 on forum threads trafilatura reads nothing of (extract_eval19 as development data):
Invision Community classes its posts "cPost ... ipsComment" and puts them in a form, in no
comment area; both of trafilatura's runs kept a sign-in prompt and a visitor count (recall
0.03). Where the kept text is that thin and the page holds posts of one kind, the posts'
paragraphs are its text, without quotes and signatures. A news page's reader comments stay
out: its article is no thin text.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, texts_of

POSTS = [
    (
        "Karjalan_poika",
        [
            "Sopimus astui tänään voimaan. Neljäs artikla on nyt siis virallisesti voimassa,"
            " vaikka joukot ovat olleet Kurskissa jo viikkoja.",
            "Kiinnostavaa on, kuinka kauan rotaatiot kestävät ja näkyykö kuluminen keväällä.",
        ],
    ),
    (
        "Vanha_tykkimies",
        [
            "Tästä on jo viitteitä. Paikallisissa kanavissa on kerrottu junakuljetuksista,"
            " mutta en ole nähnyt mitään vahvistettua.",
        ],
    ),
    (
        "Moderaattori",
        [
            "Päätöslauselmat 1718 ja 2397 ovat edelleen voimassa, mutta valvonta on"
            " kieltämättä heikentynyt paneelin lopettamisen jälkeen.",
        ],
    ),
]
SIGNATURE = '"Luottamus on hyvä, valvonta parempi."'
QUOTED = "Tämä lainaus on aiemmasta viestistä eikä kuulu vastaukseen itseensä lainkaan."


def post(n: int, author: str, paragraphs: list[str], quote: bool) -> str:
    quoted = (
        f'<blockquote class="ipsQuote"><div class="ipsQuote_citation">{POSTS[0][0]} sanoi:</div>'
        f'<div class="ipsQuote_contents"><p>{QUOTED}</p></div></blockquote>'
        if quote
        else ""
    )
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<article id="elComment_{n}" class="cPost ipsBox ipsComment ipsComment_parent">'
        '<aside class="ipsComment_author cAuthorPane">'
        f'<h3 class="cAuthorPane_author"><a href="/profile/{n}/">{author}</a></h3>'
        '<ul class="cAuthorPane_info"><li>Jäsenet</li><li>2 418</li></ul></aside>'
        f'<div class="ipsColumn ipsColumn_fluid"><div id="comment-{n}_wrap"'
        ' class="ipsComment_content ipsType_medium"><div class="ipsComment_meta">'
        '<a href="#">Lähetetty <time datetime="2024-12-04T09:02:10Z">4. joulukuuta</time></a>'
        '</div><div class="cPost_contentWrap"><div data-role="commentContent"'
        f' class="ipsType_normal ipsType_richText ipsContained">{quoted}{body}</div></div>'
        '<div data-role="memberSignature"><hr class="ipsHr">'
        f'<div class="ipsType_light ipsType_richText"><p>{SIGNATURE}</p></div></div>'
        "</div></div></article>"
    )


def invision_page() -> str:
    posts = "".join(
        post(912201 + i, author, paragraphs, quote=i == 1)
        for i, (author, paragraphs) in enumerate(POSTS)
    )
    return (
        '<!DOCTYPE html><html lang="fi"><head><meta charset="utf-8">'
        "<title>Pohjois-Korean joukot Kurskissa - Foorumi</title></head><body>"
        '<div id="ipsLayout_header"><nav><ul><li><a href="/">Foorumit</a></li>'
        '<li><a href="/search/">Haku</a></li></ul></nav></div>'
        '<main id="ipsLayout_body"><div class="ipsPageHeader"><h1 class="ipsType_pageTitle">'
        "Pohjois-Korean joukot Kurskissa – mitä tiedetään?</h1></div>"
        '<div data-controller="core.front.core.commentFeed" class="ipsClear">'
        f'<form action="#" method="post">{posts}</form></div>'
        '<div class="ipsBox ipsPadding">'
        "<p>Voit kirjoittaa nyt ja rekisteröityä myöhemmin.</p></div>"
        '<div class="ipsWidget"><p>0 jäsentä ja 14 vierasta</p></div></main>'
        '<footer id="ipsLayout_footer"><p>Powered by a forum engine</p></footer>'
        "</body></html>"
    )


def test_a_thread_trafilatura_reads_nothing_of_gives_its_posts(
    content_server: ContentServer,
) -> None:
    doc = fetched(content_server.set("/topic/48812-joukot/", invision_page()))
    texts = texts_of(doc)
    assert_kept(texts, [p for _, paragraphs in POSTS for p in paragraphs])
    assert_out(texts, [SIGNATURE, QUOTED, "Powered by"])


ARTICLE = [
    "Die Bundesregierung hat den nordkoreanischen Geschäftsträger ins Auswärtige Amt"
    " einbestellt, nachdem neue Berichte über Soldaten im Gebiet Kursk bekannt wurden.",
    "Ein Sprecher sagte, man erwarte eine Erklärung zu den Vorwürfen und prüfe weitere"
    " Schritte gemeinsam mit den Partnern in der Europäischen Union.",
    "Nordkorea hat sich zu den Berichten bisher nicht geäußert; auch Moskau schweigt zu der"
    " Frage, wie viele Soldaten derzeit im Einsatz sind.",
]
READER = "Das hätte man schon vor Monaten machen müssen, aber besser spät als nie."


def test_a_news_pages_reader_comments_stay_out(content_server: ContentServer) -> None:
    # Guard: the article is kept, so the page is no thin one and its comments are no text.
    comments = "".join(
        f'<div class="comment"><div class="comment-author">Leser{i}</div>'
        f'<div class="comment-body"><p>{READER} ({i})</p></div></div>'
        for i in range(3)
    )
    page = (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Einbestellt</title>'
        "</head><body><main><article><h1>Geschäftsträger einbestellt</h1>"
        + "".join(f"<p>{p}</p>" for p in ARTICLE)
        + f'</article><section class="reader-comments">{comments}</section></main></body></html>'
    )
    doc = fetched(content_server.set("/politik/einbestellt.html", page))
    texts = texts_of(doc)
    assert_kept(texts, ARTICLE)
    assert_out(texts, [READER])
