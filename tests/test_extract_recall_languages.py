"""Issue 15, pages in languages other than English and German: where their text went missing
(measured on benchmarks/extract_eval8/pages/dev) and the general rules that put it back.

Every page is written for this test and served over 127.0.0.1; each also holds the text the
rule under test keeps, so that it fails without that rule.
"""

from __future__ import annotations

from monitor.source_kinds import SOURCE_KINDS
from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, page, texts_of

# --- a component's class word is no furniture word ----------------------------------------

CHANNEL_POSTS = [
    "El ministerio de Defensa confirmó la llegada de otro grupo de soldados al puerto de Vigo."
    "<br><br>Según la misma fuente, se trata de unos doscientos hombres.",
    "La Unión Europea añadió a su lista a tres empresas navieras que transportaban munición."
    "<br><br>Sus activos en la Unión quedan congelados desde hoy.",
    "Recordamos: el acuerdo obliga a ambas partes a prestarse ayuda «con todos los medios»."
    "<br><br>Entró en vigor el pasado mes de diciembre.",
]


def channel_preview() -> str:
    """A messaging app's channel preview: every post is a "widget" of the app's embed code."""
    posts = []
    for n, text in enumerate(CHANNEL_POSTS):
        forwarded = (
            '<div class="chan_widget_message_forwarded_from">Reenviado de <a href="/s/otro">'
            'Monitor Naval</a></div><a class="chan_widget_message_photo_wrap" href="/p/2"'
            ' style="background-image:url(/f/2.jpg)"></a>'
            if n == 1
            else ""
        )
        posts.append(
            f'<div class="chan_widget_message_wrap"><div class="chan_widget_message">{forwarded}'
            f'<div class="chan_widget_message_text" dir="auto">{text}</div>'
            f'<div class="chan_widget_message_footer"><span class="chan_widget_message_views">'
            f'{12 - n}.4K</span><time datetime="2026-03-0{n + 1}T08:00:00+00:00">08:0{n}</time>'
            "</div></div></div>"
        )
    return (
        "<!DOCTYPE html><html lang='es'><head><meta charset='utf-8'><title>Vigía Naval</title>"
        "</head><body class='widget_frame_base'><header class='chan_header'><div"
        " class='chan_header_title'>Vigía Naval</div><div class='chan_header_counter'>31 200"
        " suscriptores</div><a class='chan_action_button' href='app://open'>Abrir en la app</a>"
        f"</header><main class='chan_channel_history'>{''.join(posts)}</main><div"
        " class='chan_channel_join'><a href='app://join'>Unirse al canal</a></div></body></html>"
    )


def test_posts_in_elements_whose_class_names_a_widget_are_kept(
    content_server: ContentServer,
) -> None:
    # trafilatura's main pass drops every element whose class holds "widget" or "message";
    # its wild-text recovery keeps the posts, and the forwarded one only in its default mode.
    # The merge refused it for "widget", our furniture word for a sidebar's boxes; in a
    # component's class ("chan_widget_message_text", "elementor-widget-text-editor") it names
    # the kind of component, not what it holds.
    texts = texts_of(fetched(content_server.set("/canal", channel_preview())))
    assert_kept(
        texts,
        [
            "añadió a su lista a tres empresas navieras",
            "Sus activos en la Unión quedan congelados desde hoy.",
            "Según la misma fuente, se trata de unos doscientos hombres.",
            "Entró en vigor el pasado mes de diciembre.",
        ],
    )
    assert_out(texts, ["Unirse al canal", "Abrir en la app"])


# --- an article of <br><br> runs keeps its first run ----------------------------------------

# A regional paper's story: its body is one <div> of text runs between <br><br>, with a
# "read also" box inside the run and a comment section whose class trafilatura does not know
# (on such a page its main pass gives up and it reads the runs as loose text).
BR_RUN_ARTICLE = (
    "<!DOCTYPE html>\n"
    '<html lang="it">\n'
    "<head>\n"
    '<meta charset="utf-8">\n'
    "<title>Ponte sul Serchio, lavori rinviati - Gazzetta della Valle</title>\n"
    '<meta name="viewport" content="width=device-width">\n'
    '<link rel="stylesheet" href="/css/gdv.css">\n'
    '<script>var gdv_paywall={"free":3,"used":1};</script>\n'
    "<script"
    ' type="application/ld+json">{"@context":"http://schema.org","@type":"NewsArticle","hea'
    'dline":"Ponte sul Serchio, i lavori partono con un anno di'
    ' ritardo","datePublished":"2026-03-03T07:00:00+01:00"}</script>\n'
    "</head>\n"
    "<body>\n"
    '<div class="consent" id="consent"><div class="consent-inner"><h2>La tua'
    " privacy</h2><p>La Gazzetta della Valle e i suoi partner usano cookie e tecnologie"
    " simili per migliorare la tua esperienza e misurare l'uso del"
    " sito.</p><button>Accetta</button> <a"
    ' href="/impostazioni">Impostazioni</a></div></div>\n'
    '<div class="header"><a href="/" class="logo">Gazzetta della Valle</a><ul'
    ' class="nav"><li><a href="/cronaca">Cronaca</a></li><li><a'
    ' href="/sport">Sport</a></li><li><a href="/cultura">Cultura</a></li></ul><a'
    ' class="abo" href="/abbonati">Abbonati</a></div>\n'
    '<div class="main">\n'
    '<div class="breadcrumbs"><a href="/">Home</a> &rsaquo; <a'
    ' href="/cronaca">Cronaca</a></div>\n'
    '<div class="artikel">\n'
    "<h1>Ponte sul Serchio, i lavori partono con un anno di ritardo</h1>\n"
    '<div class="firma">di Marta Neri &middot; 3 mar. 2026, 07:00 &middot; <a'
    ' href="#commenti">2 commenti</a></div>\n'
    '<div class="foto"><img src="/foto/ponte.jpg" alt=""><div class="didascalia">Il ponte'
    " sul Serchio. Foto: Luca Bini</div></div>\n"
    '<div class="testo">\n'
    "La ristrutturazione del ponte sul Serchio non partirà in primavera, ma soltanto nel"
    " 2027. Il consorzio ha bisogno di altro tempo per le autorizzazioni.<br><br>\n"
    "Lo ha annunciato ieri sera il presidente del consorzio durante un incontro pubblico"
    " nella sala parrocchiale. Erano presenti circa cento residenti.<br><br>\n"
    "<b>Il traffico</b><br>\n"
    "Secondo il consorzio il problema principale è la deviazione dei camion durante i"
    " lavori, che il comune deve ancora approvare.<br><br>\n"
    "Il ponte ha più di settant'anni e non rispetta le nuove norme di sicurezza. Con la"
    " piena del fiume resta chiuso ai mezzi pesanti.<br><br>\n"
    '<div class="leggi-anche"><strong>Leggi anche</strong><a href="/cronaca/barga">Chiusa'
    ' la strada per Barga</a><a href="/cronaca/piena">Piena del Serchio, allerta'
    " gialla</a></div>\n"
    "I residenti hanno reagito in modo diverso. «Almeno avremo un'altra estate"
    " tranquilla», dice una vicina.<br><br>\n"
    "Il consorzio terrà un nuovo incontro pubblico in autunno.\n"
    "</div>\n"
    '<div class="paywall-teaser"><p>Hai letto 1 dei 3 articoli gratuiti di questo'
    ' mese.</p><a href="/abbonati">Abbonati ora a 1 euro a settimana</a></div>\n'
    '<div class="condividi"><a href="#">WhatsApp</a> <a href="#">Facebook</a> <a'
    ' href="#">X</a></div>\n'
    "</div>\n"
    '<div class="reazioni" id="reazioni"><h3>Reazioni (2)</h3><div'
    ' class="reazione"><b>Gino da Barga</b><p>Sempre la stessa storia coi'
    ' permessi.</p></div><div class="reazione"><b>R. Lenzi</b><p>Meglio tardi che'
    " male.</p></div></div>\n"
    '<div class="piu-letti"><h3>I più letti</h3><ol><li><a href="#">Incendio in un'
    ' capannone a Lucca</a></li><li><a href="#">Nuovo orario dei treni regionali per'
    ' Firenze</a></li><li><a href="#">Pista ciclabile chiusa per'
    " lavori</a></li></ol></div>\n"
    "</div>\n"
    '<div class="footer"><p>&copy; 2026 Gazzetta della Valle &middot; <a'
    ' href="/colofon">Redazione</a> &middot; <a href="/privacy">Privacy</a> &middot; <a'
    ' href="/tips">Segnalazioni</a></p></div>\n'
    "</body>\n"
    "</html>\n"
)


def test_the_first_run_of_an_article_written_between_br_br_is_kept(
    content_server: ContentServer,
) -> None:
    # Precision mode reads the runs as loose text and loses the element's own text before the
    # first <br>; the default run keeps the element as one paragraph holding the kept runs,
    # which the merge refused whole as a dump of the page. It is read run by run.
    doc = fetched(content_server.set("/ponte", BR_RUN_ARTICLE))
    texts = texts_of(doc)
    assert_kept(
        texts,
        [
            "La ristrutturazione del ponte sul Serchio non partirà in primavera",
            "Lo ha annunciato ieri sera il presidente del consorzio",
            "Almeno avremo un'altra estate tranquilla",
        ],
    )
    # Each run once, in the page's order.
    first = next(i for i, t in enumerate(texts) if t.startswith("La ristrutturazione"))
    assert texts[first + 1].startswith("Lo ha annunciato"), texts
    assert sum("Lo ha annunciato" in t for t in texts) == 1, texts
    assert_out(texts, ["I più letti", "Incendio in un capannone"])


def test_the_extractor_version_is_raised_for_other_languages_recall() -> None:
    # Pages polled by extractor 7 are fetched in full once and their new paragraphs recorded,
    # not reported (tests/test_upgrade_extractor.py).
    assert SOURCE_KINDS["page"].EXTRACTOR >= 8


# --- a wiki's section headings, whatever the language of its edit links ------------------


def test_a_wikis_boxed_headings_with_long_edit_links_stand_over_their_paragraphs(
    content_server: ContentServer,
) -> None:
    # The heading's box holds its edit links besides it: "[edit]" in English, and two longer
    # links in most other languages ("[edytuj | edytuj kod]"), which made it no heading's own
    # box, and the heading was lost.
    sections = [
        ("Historia", "Przeprawę nocną uruchomiono w 1998 roku z jednym statkiem."),
        ("Zamknięcie", "Przewoźnik ogłosił koniec nocnych rejsów w maju 2026 roku."),
    ]
    body = "".join(
        f'<div class="mw-heading mw-heading2"><h2 id="{h}">{h}</h2><span class="mw-editsection">'
        f'[<a href="/edit/{h}">edytuj</a> | <a href="/edit-src/{h}">edytuj kod</a>]</span></div>'
        f"<p>{p}</p>"
        for h, p in sections
    )
    main = (
        "<div id='content'><h1>Nocny prom na wyspy</h1><div class='mw-parser-output'><p>Nocny"
        f" prom na wyspy był połączeniem promowym z wyspami północnymi.</p>{body}</div></div>"
    )
    doc = fetched(content_server.set("/wiki-pl", page("Nocny prom na wyspy", main, lang="pl")))
    titled = {p.text: p.title for p in doc.passages}
    for heading, paragraph in sections:
        assert titled.get(paragraph) == heading, titled


# --- posts whose class says "message" --------------------------------------------------------

PREVIEW_POSTS = [
    "🔴 PILNE: Ministerstwo potwierdza, że do portu w Gdyni wpłynął drugi statek z amunicją."
    "<br><br>Według rzecznika ładunek był przeznaczony dla armii sąsiedniego kraju."
    "<br><br>Resort nie podał, kto jest właścicielem statku.",
    "Straż Graniczna zatrzymała kapitana i dwóch członków załogi, którzy mieli fałszywe"
    " dokumenty przewozowe.",
    "📌 Podsumowanie dnia:<br>• drugi statek w Gdyni<br>• zatrzymany kapitan<br>• śledztwo"
    " prowadzi prokuratura w Gdańsku",
]


def messaging_preview(posts: list[str]) -> str:
    """A messaging app's channel preview: posts in elements classed "..._widget_message_..."."""
    items = "".join(
        '<div class="chan_widget_message_wrap"><div class="chan_widget_message"><div'
        ' class="chan_widget_message_author"><span>Port i Morze</span></div><div'
        f' class="chan_widget_message_text" dir="auto">{text}</div><div'
        f' class="chan_widget_message_footer"><span class="chan_widget_message_views">{9 - n}.1K'
        f'</span><time datetime="2026-04-0{n + 1}T09:00:00+00:00">09:0{n}</time></div></div>'
        "</div>"
        for n, text in enumerate(posts)
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Port i Morze</title></head>"
        "<body class='chan_webpreview'><header class='chan_header'><a class='chan_header_link'"
        " href='/s/port'><div class='chan_header_title'>Port i Morze</div><div"
        " class='chan_header_counter'>12,4 tys. subskrybentów</div></a></header><main"
        " class='chan_main'><section class='chan_channel_history'><div class='chan_channel_info'>"
        "<div class='chan_channel_info_title'>Port i Morze</div><div"
        " class='chan_channel_info_description'>Wiadomości z portów Bałtyku, sprawdzone."
        "<br>Kontakt: @port_morze</div></div><div class='chan_service_date'>1 kwietnia</div>"
        f"{items}</section></main><div class='chan_footer'>Możesz obejrzeć kanał i dołączyć do"
        " niego. <a href='app://join'>Otwórz w aplikacji</a></div></body></html>"
    )


def test_a_run_of_posts_classed_message_is_the_pages_text(content_server: ContentServer) -> None:
    # trafilatura's main pass drops every element whose class holds "message" or "widget", in
    # both modes: on a channel preview it kept the channel's description alone, and its
    # default run fell back on the whole page as one paragraph, which the merge refuses. A
    # class that says "message" on two elements or more is a run of posts: masked for it.
    texts = texts_of(fetched(content_server.set("/kanal", messaging_preview(PREVIEW_POSTS))))
    assert_kept(
        texts,
        [
            "Ministerstwo potwierdza, że do portu w Gdyni wpłynął drugi statek z amunicją.",
            "Resort nie podał, kto jest właścicielem statku.",
            "Straż Graniczna zatrzymała kapitana i dwóch członków załogi",
            "śledztwo prowadzi prokuratura w Gdańsku",
        ],
    )
    assert_out(texts, ["Otwórz w aplikacji", "12,4 tys. subskrybentów"])


# --- a disclosure box's question over its answer ------------------------------------------

FAQ_PAGE = (
    "<!DOCTYPE html><html lang='nl'><head><meta charset='utf-8'><title>Veerdienst naar de"
    " eilanden: vragen en antwoorden - Provincie Noordkust</title></head><body><div"
    " id='kop'><a href='/' class='logo'>Provincie Noordkust</a><ul class='menu'><li><a"
    " href='/verkeer/'>Verkeer</a></li><li><a href='/natuur/'>Natuur</a></li><li><a"
    " href='/nieuws/'>Nieuws</a></li></ul></div><div id='pad'><a href='/'>Home</a> &gt; <a"
    " href='/verkeer/'>Verkeer</a></div><div id='pagina'><div id='navigatie'><h2>In deze"
    " rubriek</h2><ul><li><a href='#'>Wegen</a></li><li><a href='#'>Veerdiensten</a></li>"
    "</ul></div><div id='inhoud'><h1 class='titel'>Veerdienst naar de eilanden: vragen en"
    " antwoorden</h1><div class='tekst'><p>De nachtelijke veerdienst naar de eilanden stopt"
    " eind oktober. Hieronder staan de antwoorden op de vragen die de provincie het vaakst"
    " krijgt.</p>"
    "<details class='faq'><summary>Wanneer vaart de laatste nachtboot?</summary><div"
    " class='faq__antwoord'><p>De laatste nachtboot vertrekt op 31 oktober om half twaalf uit"
    " de haven van Noordkust.</p></div></details>"
    "<details class='faq'><summary>Kan ik mijn abonnement terugkrijgen?</summary><div"
    " class='faq__antwoord'><p>Ja. Wie een jaarabonnement heeft, krijgt het deel na oktober"
    " terug als hij dat voor 1 december aanvraagt.</p></div></details>"
    "<details class='faq'><summary>Wat als ik 's nachts naar het vasteland moet?</summary><div"
    " class='faq__antwoord'><p>Voor spoedgevallen blijft de reddingsboot beschikbaar:</p><ul>"
    "<li>bel het alarmnummer;</li><li>meld u bij de havenmeester.</li></ul></div></details>"
    "</div><div class='zie-ook'><h3>Zie ook</h3><ul><li><a href='#'>Dienstregeling zomer"
    "</a></li><li><a href='#'>Tarieven veerdienst</a></li></ul></div></div></div><div"
    " id='voet'><ul><li><a href='#'>Sitemap</a></li><li><a href='#'>Privacy</a></li></ul>"
    "</div></body></html>"
)


def test_a_disclosure_boxs_summary_stands_over_its_answer(content_server: ContentServer) -> None:
    # A FAQ of <details>: trafilatura keeps the answers and drops each <summary>, the question;
    # put back as the title of its answer's first paragraph, as a dropped heading is.
    doc = fetched(content_server.set("/faq", FAQ_PAGE))
    titled = {p.text: p.title for p in doc.passages}
    assert titled.get(
        "De laatste nachtboot vertrekt op 31 oktober om half twaalf uit de haven van Noordkust."
    ) == ("Wanneer vaart de laatste nachtboot?"), titled
    answer = next(text for text in titled if text.startswith("Ja. Wie een jaarabonnement"))
    assert titled[answer] == "Kan ik mijn abonnement terugkrijgen?", titled
