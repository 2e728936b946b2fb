"""Texts written as runs between <br><br>. Issue 15, recall: where the questions or
crossheads are bold lines of their own (extract_eval11's Korean daily interview, extract_eval7's
Russian regional news as development data), trafilatura drops the bold line and keeps the run
under it; the line is put back over its run. And each run is a passage of its own, as the page
shows it (read whole, the article was one passage), with every word it had.

Every page is written for this test and served over 127.0.0.1.
"""

from __future__ import annotations

from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, fetched, texts_of

INTRO = (
    "Kim Sun-ok spent nine years as a railway engineer in Chongjin before she left in 2021."
    " She spoke to the Harbour Times about the trains that carry shells to the Russian border."
)
QA = [
    (
        "Q. How do you know what the trains carry?",
        "A. The loading yards are fenced, but the railway workers talk. Wagons that are sealed"
        " and guarded by soldiers do not carry coal, and everyone at the depot knows it.",
    ),
    (
        "Q. Has the traffic grown this year?",
        "A. Yes. In the spring there was one train a week to Tumangang. By the autumn there"
        " were three, and the returning wagons came back with grain and diesel.",
    ),
]
CROSSHEAD = "Ein Bahnhof unter Aufsicht"
CROSSHEAD_RUN = (
    "Seit dem Sommer kontrollieren Soldaten den Güterbahnhof, berichten Anwohner. Zivile"
    " Arbeiter dürfen die Gleise nur noch mit Passierschein betreten."
)


def interview() -> str:
    ad = "<div class='ad_in_article'><div id='div-gpt-ad-mid'></div></div>"
    runs = ad.join(f"<b>{q}</b><br><br>{a}<br><br>" for q, a in QA)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Interview: the"
        " shell trains</title></head><body><div class='gnb'><a href='/'>Home</a> <a href='/n'>"
        "North Korea</a></div><div class='view'><h1>'Sealed wagons do not carry coal'</h1>"
        "<div class='view_con' id='articleText'><div class='view_img'><img src='/k.jpg' alt=''>"
        f"<p class='view_img_cap'>Kim Sun-ok in Seoul.</p></div>{INTRO}<br><br>{runs}"
        "<p class='byline_email'>Lee Ha-na (ha-na@harbour.example)</p></div></div>"
        "<div class='footer'>© 2026 Harbour Times</div></body></html>"
    )


def test_the_bold_questions_of_a_br_interview_are_kept(content_server: ContentServer) -> None:
    # Before: every answer kept, every question lost (recall 0.86 on such a page).
    texts = texts_of(fetched(content_server.set("/en/interview/411", interview())))
    assert_kept(texts, [INTRO, *(line for pair in QA for line in pair)])
    question, answer = QA[1]
    assert texts.index(question) == texts.index(answer) - 1, texts


def news_with_crosshead(label: str = "") -> str:
    return (
        "<!DOCTYPE html><html lang='de'><head><meta charset='utf-8'><title>Güterzüge an der"
        " Grenze</title></head><body><main><div class='news-detail'><h1>Güterzüge an der"
        f" Grenze</h1>{label}<div class='news-text'>Anwohner an der Grenze zählen seit Wochen"
        " mehr Güterzüge als früher. Die Bahn äußert sich dazu nicht.<br><br>"
        f"<strong>{CROSSHEAD}</strong><br><br>{CROSSHEAD_RUN}<br><br>Ein Sprecher der Verwaltung"
        " sagte, man habe keine Kenntnis von militärischen Transporten.</div></div></main>"
        "</body></html>"
    )


def test_a_bold_crosshead_heads_its_run(content_server: ContentServer) -> None:
    doc = fetched(content_server.set("/nachrichten/gueterzuege", news_with_crosshead()))
    run = next(p for p in doc.passages if p.text == CROSSHEAD_RUN)
    assert run.title == CROSSHEAD


def test_a_bold_label_over_a_line_that_is_no_prose_stays_out(
    content_server: ContentServer,
) -> None:
    label = (
        "<div class='meta'><strong>Pressestelle</strong><br>Landratsamt Grenzkreis · 24.11.2026"
        " · Nr. 212/2026</div>"
    )
    doc = fetched(content_server.set("/nachrichten/label", news_with_crosshead(label)))
    assert "Pressestelle" not in [p.text for p in doc.passages]
    assert "Pressestelle" not in [p.title for p in doc.passages]


RUNS = [
    "The association condemns the transfer of North Korean troops to the Kursk region and calls"
    " on the government to support new sanctions at the next Council meeting.",
    "We have written to the foreign minister and to every member of the committee.",
    "Signed on behalf of the board,",
    "#Kursk #sanctions",
]


def test_each_run_between_blank_lines_is_a_passage(content_server: ContentServer) -> None:
    tags = " ".join(f"<a href='/tag/{t[1:]}'>{t}</a>" for t in RUNS[3].split())
    body = "<br><br>".join([*RUNS[:3], tags])
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Statement</title>"
        "</head><body><main><div class='post'><h1>Statement on the troop transfer</h1>"
        f"<div class='post-body'>{body}</div></div></main></body></html>"
    )
    texts = texts_of(fetched(content_server.set("/statement", page)))
    assert texts[:3] == RUNS[:3], texts
    assert_kept(texts, [RUNS[3]])  # a run of links alone, kept as it was within the text


# A live ticker's entry written as lines under one <br> each: precision mode loses the entry's
# first line, and the default run's entry, which holds the kept second line, was refused
# whole (extract_eval4's German ticker: recall 0.84).
TICKER_LINES = [
    (
        "Der südkoreanische Geheimdienst hält es für wahrscheinlich, dass Pjöngjang im Winter"
        " weitere Soldaten nach Russland schickt. Das sagte ein Abgeordneter nach einer"
        " Unterrichtung im Parlament."
    ),
    "Demnach werden in der Region Chabarowsk derzeit neue Kasernen hergerichtet.",
]
TICKER_OTHER = [
    "Die Bundesregierung hat den nordkoreanischen Geschäftsträger ins Auswärtige Amt einbestellt.",
    "Kurz und knapp: Die Ukraine meldet den Abschuss von 41 Drohnen in der vergangenen Nacht.",
]


def ticker() -> str:
    def entry(n: int, time: str, text: str, headline: str = "", media: str = "") -> str:
        head = f'<span class="ticker-entry__headline">{headline}</span>\n' if headline else ""
        return (
            f'<div class="ticker-entry" id="e-{n}">\n<div class="ticker-entry__time">'
            f'<span class="hh">{time}</span> Uhr</div>\n<div class="ticker-entry__body">\n{head}'
            f'<div class="ticker-entry__text">{text}</div>\n{media}</div>\n</div>\n'
        )

    photo = (
        '<figure class="ticker-entry__media"><img src="/img/kaserne.jpg" alt="">'
        "<figcaption>Archivbild: Truppenübungsplatz im Fernen Osten. Foto: Archiv</figcaption>"
        "</figure>"
    )

    entries = (
        entry(1, "20:05", TICKER_OTHER[0])
        + entry(2, "18:52", "<br>".join(TICKER_LINES), "Seoul: Weitere Verlegungen möglich", photo)
        + entry(3, "17:20", TICKER_OTHER[1])
    )
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">'
        "<title>Liveticker: Nordkoreanische Einheiten bei Sudscha</title></head><body>"
        # With the consent layer's paragraph ahead, precision mode loses the entry's first line.
        '<div id="cmp-banner" class="cmp" role="dialog"><div class="cmp__inner">'
        '<h2 class="cmp__title">Datenschutzeinstellungen</h2>'
        '<p class="cmp__text">Wir verwenden Cookies und vergleichbare'
        " Technologien, um unser Angebot zu verbessern und die Reichweite zu messen. Sie können"
        " Ihre Einwilligung jederzeit in den Einstellungen widerrufen.</p>"
        '<button class="cmp__btn">Einverstanden</button></div></div>'
        '<nav class="breadcrumb"><a href="/">Startseite</a> › <a href="/ausland">Ausland</a></nav>'
        '<main><div class="ticker-head"><h1>Nordkoreanische Einheiten bei Sudscha</h1>'
        '<div class="ticker-head__meta">Aktualisiert: 04.12.2026, 21:37 Uhr</div>'
        # The ticker's summary is the page's one <p>: the entries' texts are loose text.
        '<div class="ticker-head__summary"><p>Die Ukraine meldet neue Angriffe nordkoreanischer'
        " Soldaten im Gebiet Kursk. Alle Entwicklungen im Ticker.</p></div></div>\n"
        f'<div class="ticker-entries">{entries}</div></main>'
        "<footer><p>© Beispielsender 2026</p></footer></body></html>"
    )


def test_a_ticker_entrys_lines_under_single_breaks_are_all_kept(
    content_server: ContentServer,
) -> None:
    doc = fetched(content_server.set("/liveticker/sudscha.html", ticker()))
    texts = texts_of(doc)
    assert_kept(texts, [*TICKER_LINES, *TICKER_OTHER])
    # Each line once: the entry is not added whole beside its kept line.
    everything = "\n".join(texts)
    assert everything.count("Demnach werden") == 1, texts
    assert "Wir verwenden Cookies" not in everything
