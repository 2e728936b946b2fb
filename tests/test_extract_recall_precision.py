"""Issue 15, precision after the recall work (benchmarks/extract_eval10 as development data):
lines of the page's furniture in any language that the recall pass let in, or that precision
mode kept, stay out of the text.

Every page is written for this test and served over 127.0.0.1; each holds the noise the rule
under test keeps out beside the text it must keep, so that it fails without that rule.
"""

from __future__ import annotations

from monitor.source_kinds import SOURCE_KINDS
from tests.conftest import ContentServer
from tests.test_extract_page_types import assert_kept, assert_out, fetched, page, texts_of

# --- a pointer to another story, a support appeal, an error-report prompt (Ukrainian) ------

NEWS_UK = [
    "Сили оборони отримали нову партію далекобійних систем, повідомив речник командування.",
    "За його словами, разом із системами прибули й інструктори, які навчатимуть розрахунки.",
    "Боєприпаси до них, за даними розвідки, доставляють залізницею через прикордонну станцію.",
    "Речник не уточнив, на якій ділянці фронту використовуватимуть ці системи найближчим часом.",
]
POINTER_UK = "Читайте також: Уряд затвердив новий порядок виплат для переселенців"
APPEAL_UK = "Обласна газета існує завдяки читачам. Підтримайте нас, щоб ми могли працювати далі."
ERROR_UK = "Помітили помилку? Виділіть її та натисніть Ctrl+Enter"


def pointer_page() -> str:
    paragraphs = [f"<p>{text}</p>" for text in NEWS_UK]
    # The pointer stands between two of the article's paragraphs, as news sites place it.
    paragraphs.insert(
        2,
        '<p><strong>Читайте також:</strong> <a href="/news/2026/12/01/1234/">Уряд затвердив'
        " новий порядок виплат для переселенців</a></p>",
    )
    return page(
        "Нова партія систем",
        f"<article><h1>Нова партія далекобійних систем прибула на фронт</h1>{''.join(paragraphs)}"
        f'<div class="donate-line"><p>{APPEAL_UK}</p></div>'
        f'<div class="error-hint"><p>{ERROR_UK}</p></div></article>',
        lang="uk",
    )


def test_pointer_appeal_and_error_prompt_lines_stay_out_in_any_language(
    content_server: ContentServer,
) -> None:
    texts = texts_of(fetched(content_server.set("/uk/news", pointer_page())))
    assert_kept(texts, NEWS_UK)
    assert_out(texts, ["Читайте також", "Підтримайте нас", "Ctrl+Enter"])


# --- a paywall and a cookie notice (Norwegian), a reading time (German) -----------------------

NEWS_NO = [
    "Busselskapet legger om rutene i hele kommunen fra første mandag i mars, opplyser fylket.",
    "Første avgang om morgenen flyttes en halvtime tidligere, og kveldsruta på lørdag forsvinner.",
    "Fylkestinget vedtok endringene i desember etter en lang debatt om kostnadene for"
    " skolebussene.",
]
PAYWALL_NO = [
    "Denne artikkelen er for abonnenter",
    "Har du allerede abonnement? Logg inn",
    "Vi og våre partnere bruker informasjonskapsler for å gi deg en bedre opplevelse.",
]


def paywall_page() -> str:
    body = "".join(f"<p>{text}</p>" for text in NEWS_NO)
    wall = "".join(f"<div><span>{text}</span></div>" for text in PAYWALL_NO)
    main = f"<article><h1>Nye bussruter fra mars</h1>{body}{wall}</article>"
    return page("Nye bussruter", main, "no")


def test_paywall_and_cookie_lines_stay_out_in_other_languages(
    content_server: ContentServer,
) -> None:
    texts = texts_of(fetched(content_server.set("/no/buss", paywall_page())))
    assert_kept(texts, NEWS_NO)
    assert_out(texts, ["abonnenter", "abonnement", "informasjonskapsler"])


NEWS_DE = [
    "Seit dem Winter kämpfen Soldaten aus dem Ausland an der Seite der Armee im Grenzgebiet.",
    "Offiziere berichten von Angriffen in Wellen, ohne Deckung und mit hohen Verlusten an der"
    " Front.",
    "Überläufer schildern eine Ausbildung von wenigen Wochen, die auf diesen Einsatz kaum"
    " vorbereitete.",
]


def reading_time_page() -> str:
    body = "".join(f"<p>{text}</p>" for text in NEWS_DE)
    meta = (
        '<div class="atc-Meta"><span>Von <a href="/autor/x/">Lena Berger</a>, Kiew</span> '
        '<time datetime="2026-02-18T16:40:00+0100">18.02.2026, 16:40</time> '
        "<span>Lesezeit: 4 Min.</span></div>"
    )
    main = f"<article><h1>Sturm in Wellen, ohne Deckung</h1>{meta}{body}</article>"
    return page("Sturm in Wellen", main, "de")


def test_reading_time_line_stays_out(content_server: ContentServer) -> None:
    texts = texts_of(fetched(content_server.set("/de/sturm", reading_time_page())))
    assert_kept(texts, NEWS_DE)
    assert_out(texts, ["Lesezeit"])


def test_extractor_version_is_raised_for_the_precision_rules() -> None:
    # Pages polled by version 9 are fetched in full once; an unchanged body is only recorded.
    assert SOURCE_KINDS["page"].EXTRACTOR >= 10


# --- a call to action: a box's sentence, then a short link of its own ------------------------

CONCERT = [
    "Am Sonntag sang der Kammerchor in der vollen Stadtkirche sein erstes Konzert nach der Pause.",
    "Unter der Leitung der neuen Chorleiterin erklangen Werke von Praetorius und Mendelssohn.",
    "Das Publikum dankte mit langem Beifall, und der Chor gab zwei Zugaben aus dem Frühjahr.",
]
CALLS = [
    ("Du singst gern? Wir proben jeden Dienstag im Gemeindehaus.", "Hier mehr erfahren"),
    ("Das Stadtwiki sucht Autorinnen und Autoren für seine Vereinsseiten.", "Mitmachen!"),
]
# A post that ends with its source's address keeps it: an address is no call to action.
SOURCE_LINE = "Den Mitschnitt gibt es beim Sender."
SOURCE_URL = "https://radio.example/mitschnitt"


def call_to_action_page() -> str:
    body = "".join(f"<p>{text}</p>" for text in CONCERT)
    calls = "".join(
        f'<div class="j-module j-text"><p><span>{lead} <a href="/mit/">{label}</a></span></p></div>'
        for lead, label in CALLS
    )
    source = (
        f'<div class="j-module j-text"><p>{SOURCE_LINE} <a href="/x">{SOURCE_URL}</a></p></div>'
    )
    return page(
        "Konzertbericht",
        f'<div class="j-module j-text"><h1>Kammerchor singt wieder</h1>{body}</div>{calls}{source}',
        "de",
    )


def test_call_to_action_after_a_sentence_stays_out(content_server: ContentServer) -> None:
    texts = texts_of(fetched(content_server.set("/de/chor", call_to_action_page())))
    assert_kept(texts, CONCERT)
    assert_out(texts, [label for _, label in CALLS] + [lead for lead, _ in CALLS])


# --- a dateline in another language over a statement -----------------------------------------

STATEMENT_UK = [
    "Міністерство рішуче засуджує чергову ракетну атаку на енергетичну інфраструктуру країни.",
    "Ми закликаємо партнерів посилити тиск на агресора та прискорити постачання систем ППО.",
    "Відповідальність за кожен злочин буде встановлена, а винні понесуть справедливе покарання.",
]
DATELINES = ["12 грудня 2026 - 14:20", "3 de marzo de 2026 · 09:15"]


def statement_page(dateline: str) -> str:
    body = "".join(f"<p>{text}</p>" for text in STATEMENT_UK)
    return page(
        "Заява",
        f'<div class="statement"><h1>Заява щодо ракетної атаки на енергетику</h1>'
        f'<p class="date">{dateline}</p>{body}</div>',
        "uk",
    )


def test_dateline_in_other_languages_stays_out(content_server: ContentServer) -> None:
    for n, dateline in enumerate(DATELINES):
        texts = texts_of(fetched(content_server.set(f"/uk/zaiava{n}", statement_page(dateline))))
        assert_kept(texts, STATEMENT_UK)
        assert_out(texts, [dateline.split()[0] + " " + dateline.split()[1]])


# --- a list of cards under the article: a link to another story and its source ----------------

STORY = [
    "The central bank raised its main rate by half a point on Thursday, its third rise this year.",
    "Officials said prices for food and energy were still climbing faster than wages in most"
    " regions.",
    "Markets had expected a smaller step, and the currency gained against the dollar after"
    " the news.",
]
CARDS = [
    ("Snowstorm closes schools across three states", "The Weather Desk"),
    ("Pope visits hospital on first day back", "Transglobal Press"),
    ("These are the best-selling SUVs of 2026", "Motoring Today"),
]
# The article's own list of links, each with a sentence: kept.
OWN_LIST = [
    ("The rate decision", "was taken by seven votes to two."),
    ("The bank's forecast", "sees inflation falling next spring."),
]


def card_list_page() -> str:
    body = "".join(f"<p>{text}</p>" for text in STORY)
    own = "".join(f'<li><a href="/d{n}">{a}</a> {b}</li>' for n, (a, b) in enumerate(OWN_LIST))
    cards = "".join(
        f'<li><a href="/news/{n}">{title}</a><span>{source}</span></li>'
        for n, (title, source) in enumerate(CARDS)
    )
    return page(
        "Rates",
        f"<article><h1>Central bank raises rates again</h1>{body}<ul>{own}</ul>"
        f'<div class="caas-more"><h3>Recommended Stories</h3><ul>{cards}</ul></div></article>',
    )


def test_list_of_cards_to_other_stories_stays_out(content_server: ContentServer) -> None:
    texts = texts_of(fetched(content_server.set("/en/rates", card_list_page())))
    assert_kept(texts, STORY + [f"{a} {b}" for a, b in OWN_LIST])
    assert_out(texts, [title for title, _ in CARDS] + ["Recommended Stories"])
