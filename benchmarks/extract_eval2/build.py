# ruff: noqa: E501  (markup templates read better unbroken)
"""Build the generated extraction set: 128 DE and EN pages of eight page types, each in two
markup variants, with the main text each page holds written beside it.

    python benchmarks/extract_eval2/build.py   # rewrites pages/dev and pages/heldout

Page types (the extraction-recall issue's list): a plain article, a live blog, an article split
across several containers, agency style with one-sentence paragraphs, lists and tables inside the
article, teaser boxes inside the article, 2000s markup without semantic tags, and a Q&A interview.
Variant "a" of every type is the development half (tuned on); variant "b" is held out: other
markup for the same kinds of page, so a setting that only fits the markup we looked at shows.

The main text is what `benchmarks/extract_eval/README.md` defines: body paragraphs, sub-headings,
list items, table cells and quotes inside the article, live-blog entries with their headings,
interview questions and answers; not the headline, standfirst, byline, dates, captions, teasers,
related lists, comments, newsletter or cookie boxes, navigation or footers. The build is
deterministic (seeded), so the files are reviewable and stable.
"""

from __future__ import annotations

import html
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import texts as T

HERE = Path(__file__).resolve().parent
SEEDS_PER_VARIANT = 4  # x 8 types x 2 variants x 2 languages = 128 pages

Page = tuple[str, list[str]]  # (html, main-text blocks)


class Words:
    """The text pools of one language, drawn from by one page's random generator."""

    def __init__(self, lang: str, rng: random.Random) -> None:
        de = lang == "de"
        self.lang, self.rng = lang, rng
        self.sentences = T.DE_SENTENCES if de else T.EN_SENTENCES
        self.headings = T.DE_HEADINGS if de else T.EN_HEADINGS
        self.titles = T.DE_TITLES if de else T.EN_TITLES
        self.nav = T.DE_NAV if de else T.EN_NAV
        self.teasers = T.DE_TEASERS if de else T.EN_TEASERS
        self.cookie = T.DE_COOKIE if de else T.EN_COOKIE
        self.newsletter = T.DE_NEWSLETTER if de else T.EN_NEWSLETTER
        self.comments = T.DE_COMMENTS if de else T.EN_COMMENTS
        self.captions = T.DE_CAPTIONS if de else T.EN_CAPTIONS
        self.questions = T.DE_QUESTIONS if de else T.EN_QUESTIONS
        self.table_head = T.DE_TABLE_HEAD if de else T.EN_TABLE_HEAD
        self._unused = list(self.sentences)
        rng.shuffle(self._unused)

    def sentence(self) -> str:
        if not self._unused:
            self._unused = list(self.sentences)
            self.rng.shuffle(self._unused)
        return self._unused.pop()

    def paragraph(self, low: int = 2, high: int = 4) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))

    def title(self) -> str:
        return self.rng.choice(self.titles)

    def heading(self) -> str:
        return self.rng.choice(self.headings)


def e(text: str) -> str:
    return html.escape(text, quote=False)


def shell(w: Words, body: str, title: str, variant: str) -> str:
    """The page around an article: head, cookie layer, navigation, sidebar and footer."""
    nav = " ".join(f'<a href="/{i}">{e(n)}</a>' for i, n in enumerate(w.nav))
    most = "".join(f'<li><a href="/m{i}">{e(t)}</a></li>' for i, t in enumerate(w.teasers[:4]))
    site = "Morgenpost am Fluss" if w.lang == "de" else "The Harbour Courier"
    if variant == "a":
        top = (
            f'<div class="cookie-banner"><p>{e(w.cookie)}</p><button>OK</button></div>'
            f'<header class="site-header"><a class="logo" href="/">{site}</a>'
            f'<nav class="main-nav">{nav}</nav></header>'
        )
        side = f'<aside class="sidebar"><h3>Most read</h3><ol>{most}</ol></aside>'
        foot = f'<footer class="site-footer"><p>© 2026 {site}</p><a href="/imprint">Imprint</a></footer>'
    else:
        top = (
            f'<div id="consent"><div class="consent__text">{e(w.cookie)}</div></div>'
            f'<div id="masthead"><div class="brand">{site}</div><ul class="menu">'
            + "".join(f"<li>{a}</li>" for a in nav.split(" <a")[:1])
            + f'</ul><div class="menu2">{nav}</div></div>'
        )
        side = (
            f'<div class="rail"><div class="rail__box"><b>Trending</b><ul>{most}</ul></div></div>'
        )
        foot = f'<div id="bottom"><span>{site} · All rights reserved</span> <a href="/privacy">Privacy</a></div>'
    return (
        f'<!DOCTYPE html><html lang="{w.lang}"><head><meta charset="utf-8">'
        f"<title>{e(title)} | {site}</title></head><body>{top}{body}{side}{foot}</body></html>"
    )


def byline(w: Words) -> str:
    who = w.rng.choice(["Lena Hartmann", "Tom Ashby", "Jana Vogel", "Sam Okafor"])
    return f"{'Von' if w.lang == 'de' else 'By'} {who} · 12.11.2026, 09:{w.rng.randint(10, 59)}"


def newsletter(w: Words) -> str:
    return f'<div class="newsletter-signup"><p>{e(w.newsletter)}</p><form><input type="email"><button>Go</button></form></div>'


def teaser(w: Words, variant: str) -> str:
    t = w.rng.choice(w.teasers)
    if variant == "a":
        return f'<div class="inline-teaser"><a href="/t">{e(t)}</a></div>'
    return f'<aside class="related-inline"><p class="related-inline__label"><a href="/t">{e(t)}</a></p></aside>'


def comments(w: Words) -> str:
    items = "".join(f'<li class="comment"><p>{e(c)}</p></li>' for c in w.comments)
    return f'<section class="comments"><h2>Comments</h2><ul>{items}</ul></section>'


def figure(w: Words) -> str:
    return f'<figure><img src="/i.jpg" alt=""><figcaption>{e(w.rng.choice(w.captions))}</figcaption></figure>'


# --- the eight page types ----------------------------------------------------------------------


def article(w: Words, variant: str) -> Page:
    title, main = w.title(), []
    parts = []
    for i in range(w.rng.randint(4, 7)):
        if i == 3:
            h = w.heading()
            main.append(h)
            parts.append(f"<h2>{e(h)}</h2>")
        p = w.paragraph()
        main.append(p)
        parts.append(f"<p>{e(p)}</p>")
    if variant == "a":
        body = (
            f'<main><article><h1>{e(title)}</h1><p class="byline">{byline(w)}</p>{figure(w)}'
            f'<div class="article-body">{"".join(parts)}</div></article>{comments(w)}</main>'
        )
    else:
        body = (
            f'<div id="content"><div class="post"><div class="post-title">{e(title)}</div>'
            f'<div class="meta">{byline(w)}</div><div class="entry-content">{"".join(parts)}'
            f"</div></div>{newsletter(w)}</div>"
        )
    return shell(w, body, title, variant), main


def liveblog(w: Words, variant: str) -> Page:
    title, main, entries = w.title(), [], []
    for i in range(w.rng.randint(5, 8)):
        h = w.title() if w.rng.random() < 0.6 else None
        texts = [w.paragraph(1, 2) for _ in range(w.rng.randint(1, 2))]
        if h:
            main.append(h)
        main.extend(texts)
        time = f"{17 - i}:{w.rng.randint(10, 59)}"
        ps = "".join(f"<p>{e(t)}</p>" for t in texts)
        if variant == "a":
            head = f"<h3>{e(h)}</h3>" if h else ""
            entries.append(f'<li class="live-entry"><time>{time}</time>{head}{ps}</li>')
        else:
            head = f'<div class="tick__title"><strong>{e(h)}</strong></div>' if h else ""
            entries.append(
                f'<div class="tick"><span class="tick__ts">{time}</span>{head}'
                f'<div class="tick__body">{ps}</div><div class="share">Share · Copy link</div></div>'
            )
    label = "Live" if w.lang == "en" else "Liveblog"
    if variant == "a":
        body = (
            f'<main><h1>{e(title)}</h1><div class="live-badge">{label}</div>'
            f'<ul class="live-feed">{"".join(entries)}</ul></main>'
        )
    else:
        key = "".join(f"<li>{e(t)}</li>" for t in w.teasers[:3])
        body = (
            f'<section class="live"><div class="live__head">{e(title)}</div>'
            f'<div class="key-events"><b>Key events</b><ul>{key}</ul></div>'
            f"{''.join(entries)}</section>"
        )
    return shell(w, body, title, variant), main


def split(w: Words, variant: str) -> Page:
    title, main, chunks = w.title(), [], []
    for _ in range(3):
        ps = [w.paragraph() for _ in range(w.rng.randint(1, 3))]
        main.extend(ps)
        chunks.append("".join(f"<p>{e(p)}</p>" for p in ps))
    ad = (
        '<div class="ad-slot"><span>Anzeige</span></div>'
        if w.lang == "de"
        else '<div class="ad-slot"><span>Advertisement</span></div>'
    )
    if variant == "a":
        body = (
            f'<main><article><h1>{e(title)}</h1><p class="byline">{byline(w)}</p>'
            f'<div class="text-block">{chunks[0]}</div>{ad}<div class="text-block">{chunks[1]}</div>'
            f'{newsletter(w)}<div class="text-block">{chunks[2]}</div></article></main>'
        )
    else:
        body = (
            f'<div class="page"><h1 class="headline">{e(title)}</h1>'
            f'<section class="body-part" data-part="1">{chunks[0]}</section>{teaser(w, "b")}'
            f'<section class="body-part" data-part="2">{chunks[1]}</section>{ad}{figure(w)}'
            f'<section class="body-part" data-part="3">{chunks[2]}</section>{comments(w)}</div>'
        )
    return shell(w, body, title, variant), main


def agency(w: Words, variant: str) -> Page:
    title = w.title()
    main = [w.sentence() for _ in range(w.rng.randint(6, 10))]
    dateline = "BERLIN (dpa) –" if w.lang == "de" else "LONDON (Reuters) -"
    ps = "".join(f"<p>{e(s)}</p>" for s in main)
    if variant == "a":
        body = (
            f'<main><article><h1>{e(title)}</h1><div class="dateline">{dateline}</div>'
            f'<div class="story">{ps}</div><p class="agency-note">(dpa/Reuters)</p></article></main>'
        )
    else:
        spans = "".join(f'<div class="para"><span>{e(s)}</span></div>' for s in main)
        body = (
            f'<div class="wire"><div class="wire__hl">{e(title)}</div><div class="wire__src">{dateline}</div>'
            f'<div class="wire__text">{spans}</div><div class="wire__tags">Tags: World, Politics</div></div>'
        )
    return shell(w, body, title, variant), main


def lists_tables(w: Words, variant: str) -> Page:
    title, main = w.title(), []
    intro = w.paragraph()
    items = [w.sentence() for _ in range(w.rng.randint(3, 5))]
    rows = [
        (r, f"{w.rng.randint(10, 90)} %", f"{w.rng.randint(10, 90)} %")
        for r in T.REGIONS[: w.rng.randint(3, 5)]
    ]
    outro = w.paragraph()
    main.append(intro)
    main.extend(items)
    main.extend(w.table_head)
    for row in rows:
        main.extend(row)
    main.append(outro)
    lis = "".join(f"<li>{e(i)}</li>" for i in items)
    head = "".join(f"<th>{e(h)}</th>" for h in w.table_head)
    trs = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{trs}</tbody></table>"
    if variant == "a":
        body = (
            f'<main><article><h1>{e(title)}</h1><div class="article-body"><p>{e(intro)}</p>'
            f"<ul>{lis}</ul>{table}<p>{e(outro)}</p></div></article></main>"
        )
    else:
        body = (
            f'<div id="story"><h1>{e(title)}</h1><div class="story__body"><p>{e(intro)}</p>'
            f'<ol class="numbered">{lis}</ol><div class="table-wrap">{table}</div>'
            f"<p>{e(outro)}</p></div>{comments(w)}</div>"
        )
    return shell(w, body, title, variant), main


def teasers_inside(w: Words, variant: str) -> Page:
    title, main, parts = w.title(), [], []
    for i in range(w.rng.randint(4, 6)):
        p = w.paragraph()
        main.append(p)
        parts.append(f"<p>{e(p)}</p>")
        if i in (1, 3):
            parts.append(teaser(w, variant))
    related = "".join(f'<li><a href="/r{i}">{e(t)}</a></li>' for i, t in enumerate(w.teasers[2:5]))
    label = "Mehr zum Thema" if w.lang == "de" else "More on this story"
    if variant == "a":
        body = (
            f'<main><article><h1>{e(title)}</h1><div class="article-body">{"".join(parts)}</div>'
            f'<section class="related"><h2>{label}</h2><ul>{related}</ul></section></article></main>'
        )
    else:
        body = (
            f'<div class="content"><h1>{e(title)}</h1><div class="rte">{"".join(parts)}'
            f'<div class="box box--related"><strong>{label}</strong><ul>{related}</ul></div></div></div>'
        )
    return shell(w, body, title, variant), main


def legacy(w: Words, variant: str) -> Page:
    title = w.title()
    main = [w.paragraph() for _ in range(w.rng.randint(3, 5))]
    nav = "<br>".join(e(n) for n in w.nav[:6])
    if variant == "a":
        cells = "<br><br>".join(e(p) for p in main)
        body = (
            f'<table width="100%"><tr><td width="150" valign="top"><font size="1">{nav}</font></td>'
            f'<td valign="top"><font size="4"><b>{e(title)}</b></font><br><font size="2">{cells}'
            f'</font></td><td width="120"><font size="1">{e(w.teasers[0])}</font></td></tr></table>'
        )
    else:
        divs = "".join(f'<div class="txt">{e(p)}</div>' for p in main)
        body = (
            f'<div class="l"><div class="navlinks">{nav}</div></div><div class="c">'
            f'<div class="hl">{e(title)}</div><div class="dt">12.11.2026</div>{divs}</div>'
            f'<div class="r"><div class="ad">{e(w.teasers[1])}</div></div>'
        )
    return shell(w, body, title, variant), main


def interview(w: Words, variant: str) -> Page:
    title, main, parts = w.title(), [], []
    intro = w.paragraph()
    main.append(intro)
    parts.append(f"<p><em>{e(intro)}</em></p>")
    for q in w.rng.sample(w.questions, 4):
        a = w.paragraph()
        main.extend([q, a])
        if variant == "a":
            parts.append(f"<p><strong>{e(q)}</strong></p><p>{e(a)}</p>")
        else:
            parts.append(f'<h3 class="question">{e(q)}</h3><div class="answer"><p>{e(a)}</p></div>')
    bio = (
        "Die Gesprächspartnerin leitet das Institut seit 2019."
        if w.lang == "de"
        else "Our guest has led the institute since 2019."
    )
    if variant == "a":
        body = (
            f'<main><article><h1>{e(title)}</h1><p class="byline">{byline(w)}</p>'
            f'<div class="article-body">{"".join(parts)}</div><div class="author-bio">{e(bio)}</div></article></main>'
        )
    else:
        body = (
            f'<div class="interview"><div class="interview__title">{e(title)}</div>{figure(w)}'
            f'<div class="interview__body">{"".join(parts)}</div><div class="bio">{e(bio)}</div>'
            f"{newsletter(w)}</div>"
        )
    return shell(w, body, title, variant), main


TYPES: dict[str, Callable[[Words, str], Page]] = {
    "article": article,
    "liveblog": liveblog,
    "split": split,
    "agency": agency,
    "lists_tables": lists_tables,
    "teasers_inside": teasers_inside,
    "legacy": legacy,
    "interview": interview,
}


def build() -> int:
    count = 0
    for half, variant in (("dev", "a"), ("heldout", "b")):
        folder = HERE / "pages" / half
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for kind, make in TYPES.items():
            for lang in ("en", "de"):
                for seed in range(SEEDS_PER_VARIANT):
                    rng = random.Random(f"{kind}-{lang}-{variant}-{seed}")
                    page, main = make(Words(lang, rng), variant)
                    name = f"{lang}_{kind}_{variant}{seed}"
                    (folder / f"{name}.html").write_text(page, encoding="utf-8")
                    (folder / f"{name}.expected.txt").write_text(
                        "\n\n".join(main) + "\n", encoding="utf-8"
                    )
                    count += 1
    return count


if __name__ == "__main__":
    print(f"wrote {build()} pages")
