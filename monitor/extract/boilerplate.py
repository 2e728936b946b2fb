"""Our own boilerplate rules for the blocks trafilatura's recall pass adds (issue 15).

trafilatura's precision mode drops real text on many page types (a paragraph after an empty
drop-cap span, headings that link to themselves, short <div> paragraphs holding a link, boxes
with a border); its default mode keeps them, with some noise precision mode kept out. The
precision output is kept as it is; a block only the default run finds is added unless one of
these rules calls it boilerplate. Each rule names a kind of noise the default run was measured
to let in on the dev pages (benchmarks/extract_probes/README.md has the figures).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from lxml import etree

from monitor.extract.blocks import Block
from monitor.extract.text import canonical
from monitor.patterns import screened_search
from monitor.volatile import canonical_only_volatile

# A pointer to another story ("Also read", "Lesen Sie auch") in the languages of our sets and
# their neighbours: a line naming the reader's next click, not the article's text.
_POINTER = r"""
    also\ read | read\ also | see\ also | lesen\ sie\ auch | lies\ auch | auch\ interessant
    | mehr\ zum\ thema | (?:à\ )?lire\ (?:aussi|également) | voir\ aussi
    | le[ea]\ también | leer\ también | ver\ también | te\ puede\ interesar
    | lleg(?:iu|eix)\ també | vegeu\ també | leggi\ anche | vedi\ anche
    | leia\ (?:também|mais) | veja\ também | lees\ ook | zie\ ook | les\ også | læs\ også
    | se\ også | läs\ (?:också|även) | se\ även | lue\ myös | katso\ myös
    | czytaj\ (?:też|także|również) | zobacz\ (?:też|także|również) | čtěte\ (?:také|též)
    | přečtěte\ si\ (?:také|též) | čítajte\ aj | prečítajte\ si\ aj | cite(?:ș|ş|s)te\ (?:ș|ş|s)i
    | vezi\ (?:ș|ş|s)i | читайте\ (?:також|также|тоже) | дивіться\ також | смотрите\ также
    | διαβάστε\ επίσης | ayrıca\ okuyun
"""
# A reader's error report prompt ("Found a mistake? Select it and press Ctrl+Enter"), a
# reading time ("Lesezeit: 4 Min.", "5 min read") and a support appeal in other languages.
_APPEAL = r"""
    \b(?:підтримайте\ нас | поддержите\ нас | wesprzyj\ nas | soutenez-nous | apóyanos
    | sostienici | steun\ ons | støtt\ oss | stöd\ oss | podpořte\ nás | sprijin(?:ă|a)-ne)\b
"""
_CTRL_ENTER = r"\bctrl\s*\+\s*enter\b"
_READING_TIME = r"""
    \b(?:lesezeit | reading\ time | lesetid | läs(?:nings)?tid | leestijd | czas\ czytania
    | temps\ de\ lecture | tiempo\ de\ lectura | tempo\ di\ lettura | lukuaika
    | час\ читання | время\ чтения)\b:?\s*\d | \b\d+\s*min(?:\.|utes?)?\ read\b
"""
# A publisher's disclaimer ("The views expressed in this paper are the authors' own", "Die
# Beiträge geben die Auffassung der Autorin wieder", "n'engagent que leur auteur", a press
# release's "forward-looking statements", "Not an official record") and a newsletter's sponsor
# line ("A word from our sponsor", "This issue is supported by ...", "Start a free trial"):
# notes on the text, never the text (every set's labels leave them out).
_DISCLAIMER = r"""
    \bviews\ expressed\b | \bdo(?:es)?\ not\ necessarily\ (?:reflect|represent)\b
    | \bgeben?\b[^.]{0,60}\b(?:auffassung|meinung|ansicht)(?:en)?\b[^.]{0,40}\bwieder\b
    | \bn['’]engagent\ que\b | \bno\ reflejan?\ necesariamente\b
    | \bforward-looking\ statements?\b | \bnot\ an\ official\ (?:legal\ )?(?:record|edition)\b
    | \b(?:a\ word\ from\ )?our\ sponsors?\b | \bstart\ (?:a|your)\ free\ trial\b
    | \btry\ it\ free\b | \bthis\ (?:issue|newsletter|edition|e-?mail|episode)\ is
    \ (?:supported|sponsored|brought\ to\ you)\ by\b
"""

# Phrases that mark a short block as the page's furniture rather than its text: consent and
# cookie notices, newsletter and subscription boxes, paywalls, appeals for money, citation and
# copyright notes, app prompts, "read more" pointers, share/print bars, press-office contacts,
# comment forms and author boxes. Matched
# only in blocks under PHRASE_BLOCK_MAX_CHARS: an article paragraph may quote any of them.
_PHRASES = re.compile(
    r"""
    \bcookies?\b | \bconsent\b | \bcookie-einstellung | \bdatenschutzeinstellung
    | \bnewsletter | \bsubscribe\b | \bsubscription\b | \bsign\ up\b | \babonnier | \babo\b
    | \bper\ e-?mail\b | \bby\ e-?mail\b | \binbox\b | \bpostfach\b
    # A consent notice in French ("... utilisent des traceurs pour mesurer l'audience et
    # personnaliser la publicité. Vous pouvez ... paramétrer vos choix").
    | \bparamétrer\ vos\ choix\b | \bmesurer\ l['’]audience\b | \bpersonnaliser\ la\ publicité\b
    | \bjetzt\ (?:anmelden|testen|abonnieren|lesen|registrieren) | \bweiterlesen\ mit\b
    | \bfree\ trial\b | \bkostenlose[sn]?\ kontingent | \bfür\ 0,\d\d\ €
    | \bplus-(?:artikel|angebot)
    | \bsupport\ (?:our|independent)\ (?:journalism|reporting)\b | \bfunded\ by\ readers\b
    | \bdonate\b | \bspenden\ sie\b | \bjetzt\ spenden\b | \bunterstützen\ sie\ (?:uns|unsere)
    | \bmit\ ihrer\ (?:hilfe|unterstützung|spende)\b | \bwith\ your\ (?:help|support)\b
    | \bwerbefrei\b | \bad-free\b
    | \bzitiervorschlag\b | \bzitierweise\b | \bsuggested\ citation\b | \bcite\ as\b
    | \bcopyright\b | \burheberrecht | \bquellenangabe\b
    | \bdownload\ (?:the|our)\ app\b | \bin\ der\ app\b | \bview\ and\ join\b
    | \bread\ more\b | \bmehr\ zum\ thema\b | \bauch\ interessant\b | \bmehr\ lesen\b
    | \blesen\ sie\ (?:auch|mehr)\b | \bsee\ also\b | \balso\ read\b | \blire\ aussi\b
    | \bopens?\ (?:in\ )?(?:a\ )?new\ (?:tab|window)\b
    | \böffnet\ (?:sich\ )?in\ (?:einem\ )?neuen\ (?:tab|fenster)\b
    | \bshare\ (?:on|this)\b | \bteilen\ auf\b | \bprint\ this\b | \bdiesen\ artikel\ teilen
    | \btel(?:efon)?\.?\s*[+\d(] | \bphone:?\s*[+\d(]
    | \bleave\ a\ (?:reply|comment)\b | \bschreibe\ einen\ kommentar\b
    | \bkommentar\ (?:abschicken|schreiben)\b | \bpflichtfelder\b | \brequired\ fields\b
    | \ball\ rights\ reserved\b | \balle\ rechte\ vorbehalten\b | ©
    | \balready\ a\ (?:subscriber|member)\b | \b(?:bereits|schon)\ abonnent
    | \b(?:log|sign)\ in\ to\ (?:comment|reply)\b | \bum\ zu\ kommentieren\b
    | \bis\ this\ page\ (?:useful|helpful)\b | \bwas\ this\ (?:page|article)\ helpful\b
    | \bwar\ diese\ seite\ hilfreich\b
    | \b(?:kontakt|contact):\s*@
    | \bthis\ e-?mail\b | \bthese\ e-?mails\b | \bmailing\ address\b | \bunsubscribe\b
    | \bcc\ by(?:-(?:sa|nc|nd))+\b | \bcc\ by\ \d\.\d\b | \bcc0\b
    # The same classes in other languages: a support appeal, a paywall, a cookie notice.
    | \bregister\ now\b | """
    + _APPEAL
    + r"""
    | """
    + _DISCLAIMER
    + r"""
    | \babonn(?:ent(?:er|en)?|ement|é|és|ee|ees|ati)\b | \bsuscript(?:or|ores|ora|oras)\b
    | \bsubscriptor(?:s|es)?\b | \bprenumerator | \bпередплат | \bподписчик
    | \binformasjonskapsl | \binformationskaps | \bevästei | \bciasteczk
    | \b(?:"""
    + _POINTER
    + r""")\b | """
    + _CTRL_ENTER
    + r""" | """
    + _READING_TIME
    + r"""
    """,
    re.IGNORECASE | re.VERBOSE,
)
PHRASE_BLOCK_MAX_CHARS = 300
_phrases = screened_search(_PHRASES)

# A page's or post's date line ("By the desk · Last updated 15 January", "Date modified:",
# "Zuletzt geändert von ... am ...", "by A. Author — published Aug 12, 2024"): at the start of
# a short block or of one of its parts, as an article may well say that a list was last
# updated in 2019. "Published"/"veröffentlicht" only with a date right after it: a short
# sentence may say what was published.
_DATE_LINES = re.compile(
    r"""
    (?:^|[·|•—–]\s*)
    (?:last\ (?:updated|modified|edited) | date\ modified
    | zuletzt\ (?:aktualisiert|geändert|bearbeitet) | aktualisiert\ am)\b
    | (?:^|[·|•—–]\s*)
    (?:(?:first\ )?(?:published|posted) (?:\ on)? :? \s+ (?:\w{3,9}\.?\ )?
    | (?:veröffentlicht|erschienen|erstellt) (?:\ am)? :? \s+) \d
    """,
    re.IGNORECASE | re.VERBOSE,
)
DATE_LINE_MAX_CHARS = 120

# The page's footer lines that precision mode keeps too (copyright, press contact, citation
# note, paywall prompt, imprint and licence lines, a disclaimer): dropped from its blocks as
# well. A narrower class than _PHRASES,
# on shorter blocks, as these are text trafilatura chose as the article's.
_FOOTER_LINES = re.compile(
    r"""
    © | \bcopyright\b | \ball\ rights\ reserved\b | \balle\ rechte\ vorbehalten\b
    | \bzitiervorschlag\b | \bsuggested\ citation\b | \bcite\ as\b | \bweiterlesen\ mit\b
    | \balready\ a\ subscriber\b | \b(?:bereits|schon)\ abonnent
    | \breceiving\ this\ e-?mail\b | \bthese\ e-?mails\b | \bunsubscribe\b
    | \bjederzeit\ kündbar\b | \bcancel\ (?:at\ )?any\ ?time\b
    | \bherausgeber: | \bv\.\ ?i\.\ ?s\.\ ?d\.\ ?p\b | \bpublished\ by:
    | \blizenz:\ *cc\b | \blicen[cs]ed?:?\ (?:under\ )?(?:a\ )?(?:cc\b|creative\ commons)
    # A Creative Commons licence's code reads the same in every language.
    | \bcc\ by(?:-(?:sa|nc|nd))+\b | \bcc\ by\ \d\.\d\b | \bcc0\b
    | \bgewähr\ für\ die\ (?:richtigkeit|vollständigkeit)\b | \bohne\ gewähr\b
    | \bkeine\ (?:gewähr|haftung)\ für\b | \baccepts?\ no\ (?:liability|responsibility)\b
    | """
    + _CTRL_ENTER
    + r""" | """
    + _READING_TIME
    + r""" | """
    + _APPEAL
    + r""" | """
    + _DISCLAIMER
    + r"""
    """,
    re.IGNORECASE | re.VERBOSE,
)
FOOTER_LINE_MAX_CHARS = 160
# Both long alternations are screened by RE2 (see `screened_search`): a tenth of them
# the time on the blocks of hand-written pages, the same answers.
_footer_lines = screened_search(_FOOTER_LINES)
# Lines that label what is around the text rather than say anything: a pointer to another
# story ("ALSO READ: ..."), a table's or figure's caption ("Table 1. ..."), a source or photo
# credit ("Source: ...", "Quelle: ..."), a citation box's heading ("Cite this report").
_LABEL_LINES = re.compile(
    r"""
    ^(?:read\ more | related | """
    + _POINTER
    + r""")\s*:
    | ^(?:table | tabelle | figure | fig\. | abbildung | abb\. | chart | grafik)\ \d+[.:]
    | ^(?:sources? | quellen? | photo | foto | bild | image | credits?)\s*:\s
    | ^(?:cite\ this\ (?:report|article|page|paper|study|publication) | how\ to\ cite
    | so\ zitieren\ sie)
    # A disclaimer's heading, with its lines (see FOOTER_SECTION_MAX_BLOCKS).
    | ^(?:disclaimer | haftungsausschluss | forward-looking\ statements | avertissement
    | aviso\ legal | exención\ de\ responsabilidad | esclusione\ di\ responsabilità)\s*:?$
    """,
    re.IGNORECASE | re.VERBOSE,
)
# A footer heading's own lines (a citation under "Cite this report") go with it: a few short
# lines. Not a long text under a heading that names the press office ("Kommentar der
# Pressestelle der Botschaft zu ..."): the statement itself, which was dropped as the
# heading's section (extract_eval16: recall 0.06 on such a page).
FOOTER_SECTION_MAX_BLOCKS = 2
FOOTER_SECTION_MAX_CHARS = 400


def _footer_sized(section: Sequence[Block | None]) -> bool:
    return len(section) <= FOOTER_SECTION_MAX_BLOCKS and all(
        block is not None and len(block[1]) <= FOOTER_SECTION_MAX_CHARS for block in section
    )


def _footer_line(text: str) -> bool:
    return len(text) <= FOOTER_LINE_MAX_CHARS and bool(
        _footer_lines(text) or _LABEL_LINES.search(text) or _press_contact(text)
    )


# A press office's contact line ("Press office: +49 30 ...", "Pressekontakt", "Media
# enquiries") is furniture; a report's sentence that names one ("Customs held 40 rail cars,
# the agency's press office said.") is text: a short news paragraph was dropped with it.
_PRESS_TERMS = re.compile(
    r"\bpress(?:e)?kontakt\b|\bpressestelle\b|\b(?:media|press)\ (?:contact|enquiries)\b"
    r"|\bpress\ office\b",
    re.IGNORECASE,
)
REPORTED_MIN_WORDS = 8
_REPORTED_END = re.compile(r"[.!?\"“”»«]$")


def _press_contact(text: str) -> bool:
    """Whether a line is a press office's contact, not a sentence that mentions one."""
    found = _PRESS_TERMS.search(text)
    if found is None:
        return False
    return not (
        found.start() > 0
        and len(text.split()) >= REPORTED_MIN_WORDS
        and _REPORTED_END.search(text) is not None
    )


def without_footer_lines(blocks: Sequence[Block]) -> list[Block]:
    """``blocks`` without the page's footer lines (see _FOOTER_LINES, _LABEL_LINES), and the
    lines of a short section headed by one (a citation box)."""
    out: list[Block] = []
    section = 0  # lines left of a footer heading's section
    for i, (kind, text) in enumerate(blocks):
        if kind == "head":
            section = 0
            if _footer_line(text):
                rest = blocks[i + 1 : i + 2 + FOOTER_SECTION_MAX_BLOCKS]
                size = next((n for n, (k, _) in enumerate(rest) if k == "head"), len(rest))
                if _footer_sized(rest[:size]):
                    section = size
                continue
        elif section:
            section -= 1
            continue
        elif _footer_line(text):
            continue
        out.append((kind, text))
    return out


# A record's or statement's header and footer lines around the text: "PRESS STATEMENT No.
# 118/2025", "Valmera, 19 June 2025", "Volume 58 Number 41", "Case number | HCC/2024/0087",
# "Stand: 30.11.2026", a press office's phone line. A few words around a figure, no sentence;
# only before the article's first paragraph (a label/value row of a table too) or after its
# last (a paragraph: a data table's last rows are its text). A line that starts in lower case
# goes on a title ("of 24 February 2025"); two words ("Article 1") label a section.
EDGE_LINE_MAX_CHARS = 100
EDGE_LINE_MIN_TOKENS = 3
EDGE_LINE_MAX_WORDS = 3  # words without a figure ("PRESS", "STATEMENT", "No.")
CONTACT_LINE_MAX_WORDS = 16
PARAGRAPH_MIN_WORDS = 6
_SEPARATOR_TOKENS = frozenset("|·•–—-/,:")
_CONTACT = re.compile(
    r"\b(?:tel|phone|telefon|fax)\b\.?:?\s*[+\d(]|\S@\S+\.[a-z]{2,}", re.IGNORECASE
)
# What makes a record's line: a date, or a number of a series ("No. 118/2025", "Volume 58",
# "[2025] HCC 214"). A figure alone is the text's ("Soldaten in Kursk: 11.000": a fact box).
_MONTHS = (
    r"jan|feb|mär|mar|apr|ma[iy]|jun|jul|aug|sep|o[ck]t|nov|de[cz]|januar|februar|märz|march"
    r"|april|juni|june|juli|july|august|september|oktober|october|november|dezember|december"
)
# Month names of the other languages of our sets ("12 грудня 2024", "9 de febrero de 2025",
# "3. května 2025"): only between a day and a year, as some stems are words too.
_OTHER_MONTHS = (
    r"січ|лют|берез|квіт|трав|черв|лип|серп|верес|жовт|листоп|груд"
    r"|янв|фев|март|апр|ма[йя]|июн|июл|авг|сент|окт|ноя|дек"
    r"|stycz|lut|marc|kwie|maj|czerw|lip|sierp|wrze|paźdz|listop|grud"
    r"|janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc"
    r"|ener|febr|marzo|abril|mayo|juni|juli|agost|set|dic|genn|magg|giugn|lugl|ott"
    r"|fev|març|abr|maio|out|dez|maart|mei|okt|des|marts|ian|iun|iul|noi"
    r"|led|únor|břez|dub|květ|červ|srp|září|říj|pros"
)
_RECORD_MARK = re.compile(
    rf"""
    \b\d{{1,2}}\.\ ?\d{{1,2}}\.\ ?\d{{2,4}}\b | \b\d{{4}}-\d{{2}}-\d{{2}}\b
    | \b\d{{1,2}}\.?\ (?:de\ )?(?:{_OTHER_MONTHS})\w*\.?,?\ (?:de\ )?\d{{4}}\b
    | \b\d{{1,2}}\.?\ (?:{_MONTHS})\w*\.?\ \d{{4}}\b | \b(?:{_MONTHS})\w*\.?\ \d{{1,2}},?\ \d{{4}}\b
    | \b(?:{_MONTHS})\w*\ \d{{4}}\b
    | \b(?:no|nr|number|nummer|vol|volume|band|heft|issue|ausgabe|az|drucksache)\.?:?\ ?\d
    | \b\d+/\d{{2,4}}\b | \[\d{{4}}\]
    """,
    re.IGNORECASE | re.VERBOSE,
)
_AS_OF = re.compile(r"^(?:stand|as\ of)\b:?\s*\d", re.IGNORECASE)


def _paragraph(kind: str, text: str) -> bool:
    # Blocks hold single spaces: counting them is cheaper than splitting a long paragraph.
    return (
        kind in {"p", "quote"}
        and text.count(" ", 0, 200) >= PARAGRAPH_MIN_WORDS - 1
        and bool(_SENTENCE_END.search(text))
    )


def _edge_line(kind: str, text: str) -> bool:
    if len(text) > EDGE_LINE_MAX_CHARS:
        return False
    if _AS_OF.search(text):
        return True
    words = text.split()
    if _CONTACT.search(text):
        return len(words) <= CONTACT_LINE_MAX_WORDS
    if kind == "row":
        cells = text.split(" | ")
        if len(cells) != 2 or any(c.isdigit() for c in cells[0]):
            return False  # a data row, not a label and its value
        words = cells[1].split()
    if len(text.split()) < EDGE_LINE_MIN_TOKENS or (
        not text[0].isupper() and not text[0].isdigit()
    ):
        return False
    if text.endswith((".", "!", "?", ":")) and not text.endswith(" No."):
        return False  # a sentence, or a label over what follows
    if not _RECORD_MARK.search(text):
        return False  # a figure of the text's own ("Soldaten in Kursk: 11.000")
    plain = [w for w in words if w not in _SEPARATOR_TOKENS and not any(c.isdigit() for c in w)]
    return len(plain) <= EDGE_LINE_MAX_WORDS


def without_edge_lines(blocks: Sequence[Block]) -> list[Block]:
    """``blocks`` without the record header and footer lines around the text (see above)."""
    n = len(blocks)
    first = next((i for i in range(n) if _paragraph(*blocks[i])), None)
    if first is None:
        return list(blocks)
    last = next(i for i in range(n - 1, first - 1, -1) if _paragraph(*blocks[i]))
    if first == 0 and last == n - 1:
        return list(blocks)
    return [
        (kind, text)
        for i, (kind, text) in enumerate(blocks)
        if not (
            (i < first and kind in {"p", "row"} and _edge_line(kind, text))
            or (i > last and kind == "p" and _edge_line(kind, text))
        )
    ]


# A kicker, a "Live" badge, a date line ("Published 3 March 2026") or a wire dateline ("LONDON
# (Reuters) -"), or a timeline's date: a few words that end no sentence (see `added_blocks`).
FRAGMENT_MAX_WORDS = 4
_SENTENCE_END = re.compile(r"[.!?:;\"“”»«…)]$")

# A menu flattened into one line ("Home | News | Archive"): a few short parts between separators.
_SEPARATORS = re.compile(r"\s[|·•»›/]\s")
NAV_MIN_PARTS = 3
NAV_PART_MAX_WORDS = 3


def _navigation_run(text: str) -> bool:
    parts = _SEPARATORS.split(text)
    # Figures mark a data table's row ("North | 73 % | 19 %"), which joins its cells alike.
    return len(parts) >= NAV_MIN_PARTS and all(
        len(part.split()) <= NAV_PART_MAX_WORDS
        and not _SENTENCE_END.search(part)
        and not any(c.isdigit() for c in part)
        for part in parts
    )


# An added block holding a kept paragraph is a dump of the page (the default run's last
# resort takes the whole page as one paragraph when its main pass comes up short).
DUMP_MIN_CHARS = 40
# An added block made mostly of kept sentences repeats the text: a quote of an earlier post
# under its "X wrote:" line, a pull quote.
REPEAT_SHARE = 0.5
_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def _repeats(text: str, kept_sentences: Sequence[str]) -> bool:
    covered = sum(len(sentence) for sentence in kept_sentences if sentence in text)
    return covered >= REPEAT_SHARE * len(text)


# Shorter, an <h1> is more likely a site's name or a section's ("News") than a headline.
HEADLINE_MIN_CHARS = 20


def _headline_line(text: str, headline: str) -> bool:
    """The page's headline, alone or with a kicker or date beside it (a header's line)."""
    if len(headline) < HEADLINE_MIN_CHARS or headline not in text:
        return False
    return len(text.replace(headline, " ").split()) <= FRAGMENT_MAX_WORDS


def added_blocks(
    precision: Sequence[Block],
    recall: Sequence[Block | None],
    source_of: Callable[[str], etree._Element | None] = lambda _text: None,
    headline: str = "",
    title: str = "",
) -> list[Block]:
    """The precision blocks, in order, with the recall pass's other blocks merged in where they
    stand, minus the ones our rules call boilerplate.

    Added headings and fragments (a few words ending no sentence) are labels: they wait for
    the block under them. A heading stands over any kept block; a fragment only over a block
    the recall pass added too (a timeline's date and title over its entry), as one standing
    over the precision text is the article's header (a kicker, a "Live" badge, a dateline).
    ``recall`` holds None where its run found a block that was dropped (a run of links).
    ``source_of`` finds the page's element of an added block's text, whose ancestors tell a
    header or a box. ``headline``: the page's <h1>, which is not main text wherever it stands.
    """
    kept = {text for _, text in precision}
    long_kept = [text for text in kept if len(text) >= DUMP_MIN_CHARS]
    sentences = [
        sentence
        for text in long_kept
        for sentence in _SENTENCES.split(text)
        if len(sentence) >= DUMP_MIN_CHARS
    ]
    index: dict[str, list[int]] = {}  # a text's places among the precision blocks
    for i, (_, text) in enumerate(precision):
        index.setdefault(text, []).append(i)
    merged: list[Block] = []
    position = 0  # next precision block not yet emitted
    labels: list[tuple[Block, bool]] = []  # added labels waiting, and whether each is a heading
    section = 0  # added blocks left under a footer heading ("Cite this report"), as in precision
    # A heading that stands over several of the added blocks is each post's repeated title (a
    # forum thread's "Re: <the thread's title>"), not a section of the text.
    heads = Counter(b[1] for b in recall if b is not None and b[0] == "head")
    for i, block in enumerate(recall):
        if block is None:
            labels.clear()
            continue
        kind, text = block
        places = index.get(text)
        if places is not None:
            # The same text may stand twice (a repeated line): its next place not yet emitted.
            at = next((i for i in places if i >= position), -1)
            if at >= 0:
                merged.extend(precision[position:at])
                merged.extend(_over_kept(labels))
                merged.append(precision[at])
                position = at + 1
            labels.clear()
            section = 0
            continue
        if kind == "head":
            section = _footer_section(recall[i + 1 : i + 2 + FOOTER_SECTION_MAX_BLOCKS], text)
            if heads[text] > 1:
                labels.clear()
                continue
        elif section:
            section -= 1
            continue
        if (
            boilerplate(kind, text, long_kept)
            or _headline_line(text, headline)
            or text == title  # the page's <title>, which a default run's fallback reads
            or _repeats(text, sentences)
            or in_furniture(el := source_of(text))
            or byline_box(el)
            or caption(el)
            or teaser_snippet(el)
            or call_to_action(el)
            or card_list_item(el)
        ):
            labels.clear()
            continue
        if kind == "head" or fragment(kind, text):
            labels.append((block, kind == "head"))
            continue
        merged.extend(_dated(label for label, _ in labels))
        labels.clear()
        merged.append(block)
    merged.extend(precision[position:])
    return merged


# Short lines that wait over a kept block were each a label (a kicker, a dateline) and went;
# a run of several is a list of short entries written as <div>s (a recipe's ingredients,
# "250 ml Milch": recall 0.85 on a de recipe page, extract_eval19), and stands with the
# headings. (Kept only past the text's start, as an article's header stands above its first
# kept block, it changed no page of the labelled sets: no such bound.)
LIST_RUN_MIN = 3


def _over_kept(labels: list[tuple[Block, bool]]) -> list[Block]:
    """The waiting labels that stand over a kept block: the headings, and the runs of
    LIST_RUN_MIN short lines or more."""
    out: list[Block] = []
    run: list[Block] = []
    for label, heading in [*labels, (("head", ""), True)]:
        if not heading:
            run.append(label)
            continue
        if len(run) >= LIST_RUN_MIN:
            out.extend(run)
        run = []
        if label[1]:
            out.append(label)
    return out


def _footer_section(after: Sequence[Block | None], heading: str) -> int:
    """How many blocks of ``after`` stand in a footer heading's short section (see
    `without_footer_lines`): 0 if ``heading`` is none or its section is longer."""
    if not _footer_line(heading):
        return 0
    size = next((n for n, b in enumerate(after) if b is None or b[0] == "head"), len(after))
    return size if _footer_sized(after[:size]) else 0


def _dated(labels: Iterable[Block]) -> list[Block]:
    """Labels over an added block, a date alone joined to the label after it (a timeline's
    "13 September 2023" over its entry's title): alone, it is a line that only ever looks
    volatile, and is dropped."""
    out: list[Block] = []
    date: str | None = None
    for kind, text in labels:
        if date is not None:
            text = f"{date}: {text}"
            date = None
        elif kind != "head" and canonical_only_volatile(canonical(text)):
            date = text
            continue
        out.append((kind, text))
    if date is not None:
        out.append(("p", date))
    return out


def fragment(kind: str, text: str) -> bool:
    """A few words that end no sentence (headings are not judged so)."""
    return (
        kind != "head"
        and len(text.split()) <= FRAGMENT_MAX_WORDS
        and not _SENTENCE_END.search(text)
    )


def boilerplate(kind: str, text: str, long_kept: Sequence[str]) -> bool:
    """Whether a block only the recall pass found is the page's furniture."""
    if any(k in text for k in long_kept):
        return True  # a dump of the page around the article
    if len(text) <= PHRASE_BLOCK_MAX_CHARS and (_phrases(text) or _press_contact(text)):
        return True
    if len(text) <= DATE_LINE_MAX_CHARS and _DATE_LINES.search(text):
        return True
    # The footer and label lines precision mode's blocks lose: a table's or figure's caption
    # ("Table 1: ..."), a source line, a disclaimer.
    # A table row is cells joined by " | ", not a menu's run of items.
    return _footer_line(text) or (kind != "row" and _navigation_run(text))


# Where an added block stands tells what it is: precision mode drops every <header> (a
# standfirst, kicker or byline over the article) and boxes whose class says so; the recall
# pass keeps them. Not "widget": it names a kind of component, not what it holds (a messaging
# app's embedded post, "chan_widget_message_text"; a page builder's text block,
# "elementor-widget-text-editor"); a sidebar's widgets stand in its <aside> or "sidebar" box.
FURNITURE_TAGS = frozenset({"header", "footer", "nav", "aside", "form"})
# A <form> is a box for the reader to fill in (a search, a newsletter sign-up, a comment box)
# only where it shows a control: one with none shown is a wrapper around text (a forum's post,
# kept in a form for editing in place: "usertext"), as is one that holds most of the page's text
# (a whole page in ASP.NET's "aspnetForm"), which trafilatura reads as the page's too.
_FORM_CONTROLS = ("input", "textarea", "select", "button")
_NOT_DISPLAYED = re.compile(r"display\s*:\s*none", re.IGNORECASE)


def _shown(control: etree._Element) -> bool:
    if control.get("type", "").lower() == "hidden" or control.get("hidden") is not None:
        return False
    return not _NOT_DISPLAYED.search(control.get("style") or "")


def furniture_tag(el: etree._Element) -> bool:
    """Whether an element is furniture by its tag (`FURNITURE_TAGS`), and not the page's text
    held in one (see `_holds_the_page`)."""
    tag = el.tag
    if tag not in FURNITURE_TAGS:
        return False
    if tag == "form" and not any(_shown(control) for control in el.iter(_FORM_CONTROLS)):
        return False
    return not _holds_the_page(el)


# A header, footer, nav or aside that holds most of the page's text is no box beside the text:
# a <header> whose last <div> is never closed takes the rest of the page in the parser's tree
# (libxml2 does not close the div at </header>, as a browser does: a Hungarian decree's
# sections lost whole, recall 0.21, extract_eval23), and a form may wrap the whole page
# (ASP.NET's "aspnetForm"). Measured against the page's text, counted once per page.
class _PageText:
    root: etree._Element | None = None
    chars = 0


def _holds_the_page(el: etree._Element) -> bool:
    if next(el.iter("p", "div"), None) is None:
        return False  # a menu's links, a heading: nothing that could be the page's text
    root = el.getroottree().getroot()
    if _PageText.root is not root:
        _PageText.root, _PageText.chars = root, len(root.text_content())
    return 2 * len(el.text_content()) > _PageText.chars


_FURNITURE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:header|footer|masthead|byline|meta|dek|standfirst|kicker|subline|summary"
    r"|description|desc|rubrik|dachzeile|contact|kontakt|newsletter|promo|paywall|related"
    # Not Read the Docs' "wy-nav-content" and "wy-grid-for-nav", which hold a docs page's text.
    r"|share|social|comments?|author|bio|breadcrumbs?|(?<!for-)nav(?!-content)|navigation|menu"
    r"|sidebar"
    r"|ad|ads|advert|anzeige|cookie|consent|banner|footnote|caption|credit"
    r"|kommentare?|signature|feedback"
    # A footer in the site's own language (Portuguese, French, Spanish, German, Polish, Dutch).
    r"|rodape|pied-de-page|pie-de-pagina|piepagina|fusszeile|stopka|voettekst"
    # Footnotes (a report's "Notes"), a call to action ("Have batteries to recycle? Book a
    # collection"), a donation prompt, a forum post's user title ("Well-known member").
    r"|footnotes|fussnoten|cta|donate|donation|spenden|support-prompt"
    r"|user-?(?:title|info|extras|details|stats))(?:$|[\s_-])"
    # A forum post's user box ("postprofile", "profile-rank"), not a post that "has-profile".
    r"|(?:^|\s)(?:post|user)?profile(?:$|[\s_-])",
    re.IGNORECASE,
)


# A class written in camelCase names its parts by their capitals ("ipsSignature",
# "cAuthorPane", "postSignature"): each part is read as a class word. Not a post's own class
# words (a forum's posts are "ipsComment", "commentContent": the thread's text).
_CAMEL_PART = re.compile(r"(?<=[a-z])(?=[A-Z])")
_POST_WORDS = re.compile(r"^(?:comments?|kommentare?|feedback)$", re.IGNORECASE)


def _furniture_compound(marks: str) -> bool:
    split = _CAMEL_PART.sub("-", marks)
    if split == marks:
        return False
    return any(
        not _POST_WORDS.match(found.group(0).strip(" _-"))
        for found in _FURNITURE_CLASS.finditer(split)
    )


_MEDIA = ("img", "picture", "video", "iframe", "svg")


def caption(el: etree._Element | None) -> bool:
    """Whether an element is an image's caption or credit: the only text of a box that holds
    the image (a page builder's image widget writes it in a <span> or <div>, not <figcaption>,
    which trafilatura leaves out itself). The text must stand in an element of its own beside
    the image: a post's line with an emoji <img> in it is no caption, nor is a paragraph
    after an image in the article's column, which holds the article's other text too."""
    if el is None:
        return False
    text = " ".join(el.text_content().split())
    # The block's own element, not a wrapper of the whole image box that has the same text.
    while (inner := next((c for c in el if _same_text(c, text)), None)) is not None:
        el = inner
    for box in (el, el.getparent()):
        if box is None or " ".join(box.text_content().split()) != text:
            continue
        if (box.text or "").strip() or any((child.tail or "").strip() for child in box):
            continue
        if any(
            isinstance(child.tag, str)
            and next(child.iter(_MEDIA), None) is not None
            and not child.text_content().strip()
            for child in box
        ):
            return True
    return False


def teaser_snippet(el: etree._Element | None) -> bool:
    """Whether an element is a teaser's snippet: the first lines of another story, cut off
    ("…"), right under its linked title (an aggregator's source cards, a box of related
    stories). A speech under its speaker's linked name, or a paragraph after a link, is whole."""
    if el is None:
        return False
    if not cut_off(" ".join(el.text_content().split())):
        return False
    title = el.getprevious()
    while title is not None and not isinstance(title.tag, str):
        title = title.getprevious()
    if title is None or (el.getparent() is not None and (title.tail or "").strip()):
        return False
    title_text = " ".join(title.text_content().split())
    link = title if title.tag == "a" else next(title.iter("a"), None)
    return (
        bool(title_text)
        and link is not None
        and (" ".join(link.text_content().split()) == title_text)
    )


# A list of cards: each item one link to another story with its source or date beside it
# ("Pope visits hospital on first day back" + "Transglobal Press"), a "Recommended" box under
# the article. Every item of the list must look so: a list of the article's own is not.
CARD_NOTE_MAX_WORDS = 4
CARD_LIST_MIN_ITEMS = 2


def _card(item: etree._Element) -> bool:
    links = list(item.iter("a"))
    if len(links) != 1:
        return False
    label = " ".join(links[0].text_content().split())
    text = " ".join(item.text_content().split())
    if not label or not text.startswith(label):
        return False
    note = text[len(label) :].strip()
    return 0 < len(note.split()) <= CARD_NOTE_MAX_WORDS and not _SENTENCE_END.search(note)


def card_list_item(el: etree._Element | None) -> bool:
    """Whether an element is an item of a list of cards (see above)."""
    if el is None or el.tag != "li":
        return False
    parent = el.getparent()
    if parent is None:
        return False
    items = [child for child in parent if child.tag == "li"]
    return len(items) >= CARD_LIST_MIN_ITEMS and all(_card(item) for item in items)


# A call to action: a short box's prompt that ends in a link of its own after a whole sentence
# ("Du singst gern? Wir proben dienstags. Hier mehr erfahren", "Registration is open. Register
# now", "La academia te regala la primera clase. Reserva aquí"): an invitation to click in any
# language, found by its shape. A link that is an address ("https://...") is a post's source.
CTA_MAX_CHARS = 250
CTA_LINK_MAX_WORDS = 5
_CTA_LEAD_END = re.compile(r"[.!?]$")
_REFERENCE_MARK = re.compile(r"\[?\d{1,3}[)\]]?|[*†‡]")


# A page builder's call-to-action record (Tilda, Elementor, Wix) holds its title, its prompt
# and its button as siblings: the prompt's block, holding no link of its own, is judged by
# its box ("Unterstützen Sie uns / Schon zehn Euro im Monat helfen uns. / Spenden").
def call_to_action(el: etree._Element | None) -> bool:
    """Whether an element is a call to action (one or two sentences, then one short link), or
    a linkless part of one."""
    if el is None:
        return False
    if _cta_box(el):
        return True
    box = el.getparent()
    return box is not None and next(el.iter("a"), None) is None and _cta_box(box)


def _cta_box(el: etree._Element) -> bool:
    text = " ".join(el.text_content().split())
    if not text or len(text) > CTA_MAX_CHARS:
        return False
    links = list(el.iter("a"))
    if len(links) != 1:
        return False
    label = " ".join(links[0].text_content().split())
    if (
        not label
        or _REFERENCE_MARK.fullmatch(label)  # a footnote's mark ends a sentence, not a prompt
        or not text.endswith(label)
        or len(label.split()) > CTA_LINK_MAX_WORDS
        or "/" in label
        or "www." in label
    ):
        return False
    lead = text[: -len(label)].rstrip()
    return bool(_CTA_LEAD_END.search(lead))


_CUT_OFF = re.compile(r"(?:…|\.\.\.)$")


def cut_off(text: str) -> bool:
    """Whether a text ends cut off ("…"), as a teaser's snippet does."""
    return bool(_CUT_OFF.search(text))


def _same_text(el: etree._Element, text: str) -> bool:
    return isinstance(el.tag, str) and " ".join(el.text_content().split()) == text


def furniture_class(marks: str) -> bool:
    """Whether an element's class and id words say furniture (see `in_furniture`)."""
    return bool(_FURNITURE_CLASS.search(marks)) or _furniture_compound(marks)


def furniture_box(el: etree._Element) -> bool:
    """Whether every block the recall pass could find in `el` is refused as furniture
    (`in_furniture`): `el` is furniture by its tag or class, and holds no article of its own."""
    if el.tag in FURNITURE_TAGS and _holds_the_page(el):
        return False
    if not furniture_tag(el):
        marks = " ".join(filter(None, (el.get("class"), el.get("id"))))
        if not marks or not _FURNITURE_CLASS.search(marks):
            return False
        if _PAYWALL_WORD.search(marks) and not _furniture_marks(marks, paywalled=True):
            # A paywall's box that holds the text it hides is not furniture whole.
            hidden = (" ".join(filter(None, (d.get("class"), d.get("id")))) for d in el.iter())
            if any(_PAYWALLED.search(m) for m in hidden):
                return False
    return next(el.iter("article", "main", "body"), None) is None


# What may stand between a byline's parts: "16:42 · Desislava Manolova", "by X, 4 May".
_BYLINE_GLUE = re.compile(r"[\s·•|,–—/:-]*(?:by|von|par|por|di|door|av|af)?[\s·•|,–—/:-]*", re.I)


def byline_box(el: etree._Element | None) -> bool:
    """Whether an element is a byline made of parts: its text all in a <time> or in children
    whose class says author, byline or meta (a live entry's head, "<time>16:42</time><span
    class="author">..."), at least one of them so classed. A timeline's date over its entry's
    title is no byline (the title's class says nothing of the kind)."""
    if el is None or not len(el):
        return False
    if not _BYLINE_GLUE.fullmatch(el.text or ""):
        return False
    classed = False
    for child in el:
        if not isinstance(child.tag, str) or not _BYLINE_GLUE.fullmatch(child.tail or ""):
            return False
        if child.tag == "time":
            continue
        marks = " ".join(filter(None, (child.get("class"), child.get("id"))))
        if not marks or not _FURNITURE_CLASS.search(marks):
            return False
        classed = True
    return classed


# A paywall's gate ("Subscribe to read on") is furniture, but the article's text it hides
# stands in a box named for that ("cmp-paywall__content", "paywall-content", "paywalled"),
# often inside the paywall's own box: the rest of a story refused as the paywall's (an AEM
# daily, extract_eval24: recall 0.47; labels count the hidden text as the article's).
_PAYWALLED = re.compile(r"paywall[_-]+(?:content|body|article)|paywalled", re.IGNORECASE)
_PAYWALL_WORD = re.compile(r"\S*paywall\S*", re.IGNORECASE)


def _furniture_marks(marks: str, paywalled: bool) -> bool:
    if paywalled:
        marks = _PAYWALL_WORD.sub(" ", marks)
    return bool(_FURNITURE_CLASS.search(marks)) or _furniture_compound(marks)


def in_furniture(el: etree._Element | None) -> bool:
    paywalled = False  # inside the text a paywall hides
    while el is not None:
        tag = el.tag
        if isinstance(tag, str) and tag in {"article", "main", "body"}:
            return False
        if tag in FURNITURE_TAGS:
            if _holds_the_page(el):  # the page's text, whatever its class says
                el = el.getparent()
                continue
            if furniture_tag(el):
                return True
        marks = " ".join(filter(None, (el.get("class"), el.get("id"))))
        if marks:
            paywalled = paywalled or bool(_PAYWALLED.search(marks))
            if _furniture_marks(marks, paywalled):
                return True
        el = el.getparent()
    return False
