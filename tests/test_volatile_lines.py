"""Volatile lines learned per source: counters, tickers and weather lines that a page re-renders
on every request are not reported as new text, while figures that are news still are.

The end-to-end tests drive the real CLI (`monitor once`, `monitor digest`) over a local server
whose page changes its counters on every request."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from monitor.detect.volatile_lines import (
    FORGET_AFTER,
    LEARN_AFTER,
    MAX_SHAPES,
    LineShape,
    prune,
    sort_volatile,
)
from monitor.models import Passage
from monitor.store import Store
from monitor.volatile import line_shape
from tests.local_config import LOOPBACK_HTTP, NO_SEEDS
from tests.test_end_to_end import monitor

ARTICLE = [
    "Nordkorea hat nach Angaben aus Seoul weitere Soldaten in die russische Region Kursk "
    "verlegt, berichten Beobachter seit Wochen.",
    "Die Regierung in Seoul beobachtet die Entwicklung mit großer Sorge und berät mit Partnern "
    "über die Lage in Kursk.",
]
# A sentence of the article whose figure is news: it must be reported each time it changes.
NEWS = "Die Zahl der nordkoreanischen Soldaten in Kursk stieg nach Angaben aus Seoul auf {n}."


class CounterPage:
    """A live page that re-renders its counters (readers, entries, weather, a stock ticker)
    on every request, as news sites do; `article` is what the newsroom wrote."""

    def __init__(self) -> None:
        self.requests = 0
        self.article = list(ARTICLE)
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page.requests += 1
                body = page.render(page.requests).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/live"

    def render(self, n: int) -> str:
        entries = "".join(
            f"<div class='entry'><p>{escape(text)}</p><p>Kursk-Ticker: {1200 + 37 * n + i} "
            f"readers</p></div>"
            for i, text in enumerate(self.article)
        )
        return (
            "<!doctype html><html lang='de'><head><title>Live: Nordkorea</title></head><body>"
            "<nav><a href='/'>Start</a> <a href='/politik'>Politik</a></nav>"
            f"<main><article><h1>Live: Nordkorea in Kursk</h1>"
            f"<p>Nordkorea-Liveblog · {3 + n} Einträge</p>{entries}"
            f"<p>Wetter in Pjöngjang: {n % 7 - 2} °C</p>"
            f"<p>KOSPI {2400 + n * 13},{n % 10}{n % 7} +0,{n % 9}%</p>"
            "</article></main><footer>Impressum · Datenschutz</footer></body></html>"
        )


@pytest.fixture
def counter_page() -> Iterator[CounterPage]:
    page = CounterPage()
    thread = threading.Thread(target=page.httpd.serve_forever, daemon=True)
    thread.start()
    yield page
    page.httpd.shutdown()
    page.httpd.server_close()


def write_config(tmp: Path, url: str) -> Path:
    cfg = tmp / "config.toml"
    cfg.write_text(
        f"""
{LOOPBACK_HTTP}
{NO_SEEDS}
[[sources]]
name = "Live page"
url = "{url}"
kind = "page"

[channels.files]
kind = "file"
send_empty = false

[topics.korea]
name = "North Korea"
query = 'Nordkorea* OR Kursk* OR Pjöngjang'
""",
        encoding="utf-8",
    )
    return cfg


def poll(cfg: Path) -> str:
    done = monitor(cfg, "once")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def digest_files(cfg: Path) -> tuple[str, dict]:
    sent = monitor(cfg, "digest")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    folder = cfg.parent / "state" / "digests"
    [text] = folder.glob("*.txt")
    [data] = folder.glob("*.json")
    return text.read_text(encoding="utf-8"), json.loads(data.read_text(encoding="utf-8"))


def test_counters_changing_on_every_request_are_never_reported(
    tmp_path: Path, counter_page: CounterPage
) -> None:
    cfg = write_config(tmp_path, counter_page.url)
    assert "baseline" in poll(cfg)
    # Every poll sees other counters; none of them is new text, from the first change on.
    for _ in range(LEARN_AFTER + 1):
        assert "0 new passages" in poll(cfg)
    # The newsroom adds a sentence with a figure, then revises the figure: both are reported,
    # although the counters around them keep changing.
    counter_page.article.append(NEWS.format(n="11.000"))
    assert "1 new passages" in poll(cfg)
    counter_page.article[-1] = NEWS.format(n="12.000")
    assert "1 new passages" in poll(cfg)
    assert "0 new passages" in poll(cfg)

    text, payload = digest_files(cfg)
    for counter in ("readers", "Einträge", "°C", "KOSPI"):
        assert counter not in text
    assert "11.000" in text and "12.000" in text
    items = payload["data"]["topics"]["korea"]["items"]
    assert len(items) == 2 and payload["data"]["item_count"] == 2
    assert "11.000" in items[1]["previous"] or "11.000" in items[0]["previous"]


def test_a_short_figure_changed_once_is_reported_one_poll_later(
    tmp_path: Path, counter_page: CounterPage
) -> None:
    """A fact-box figure that changes once and then stays is an edit: held back for one poll
    (it might have been a counter), then reported; nothing is lost."""
    counter_page.article.append("Soldaten in Kursk: 11.000")
    cfg = write_config(tmp_path, counter_page.url)
    poll(cfg)
    poll(cfg)
    counter_page.article[-1] = "Soldaten in Kursk: 12.000"
    assert "0 new passages" in poll(cfg)  # held: a counter would change again
    assert "1 new passages" in poll(cfg)  # it did not: an edit, reported now
    text, _ = digest_files(cfg)
    assert "12.000" in text and "11.000" not in text and "readers" not in text


# --- the learning itself ---------------------------------------------------------------------

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def lines(*texts: str) -> list[Passage]:
    return [Passage(key=f"k{i}-{t}", text=t) for i, t in enumerate(texts)]


def test_line_shapes_cover_counters_but_never_sentences() -> None:
    assert line_shape("1,234 readers") == line_shape("987 readers") == "# readers"
    assert line_shape("· 4 entries") == "· # entries"
    assert line_shape("DAX 15.234,12 +0,45 %") == line_shape("DAX 15.300,01 -0,2 %")
    assert line_shape("Berlin 12 °C") == line_shape("Berlin -3 °C")
    # A full stop after an abbreviation does not make a sentence.
    assert line_shape("Zuletzt aktualisiert 3 Min.") == "zuletzt aktualisiert # min."
    # Figures in sentences and in long text are news: they have no shape, so never learned.
    assert line_shape("Troops rose to 12,000.") is None
    assert line_shape(NEWS.format(n="12.000")) is None
    assert line_shape("Die Lage bleibt angespannt") is None  # no figure


def test_a_shape_is_learned_after_changing_at_consecutive_polls() -> None:
    page = ["Ein Absatz mit viel Text über die Lage.", "1,234 readers"]
    after_one = sort_volatile(lines("1,240 readers"), [page[0], "1,240 readers"], page, {}, T0)
    assert after_one.report == [] and after_one.held == 1  # first change: held back
    assert after_one.shapes["# readers"].changes == 1
    after_two = sort_volatile(
        lines("1,251 readers"),
        [page[0], "1,251 readers"],
        [page[0], "1,240 readers"],
        after_one.shapes,
        T0 + timedelta(minutes=5),
    )
    assert after_two.report == [] and after_two.masked == 1
    assert after_two.shapes["# readers"].changes == LEARN_AFTER
    assert after_two.skipped == {"k0-1,251 readers"}
    # Learned: the line stays ignored when it is unchanged for a while and then changes.
    quiet = sort_volatile(
        lines("Neuer Absatz."), [page[0], "1,251 readers", "Neuer Absatz."],
        [page[0], "1,251 readers"], after_two.shapes, T0 + timedelta(hours=1),
    )  # fmt: skip
    assert [p.text for p in quiet.report] == ["Neuer Absatz."]
    assert quiet.shapes["# readers"].volatile


def test_a_line_that_changed_once_and_stayed_is_reported() -> None:
    held = sort_volatile(
        lines("Soldaten: 12.000"), ["Soldaten: 12.000"], ["Soldaten: 11.000"], {}, T0
    )
    assert held.report == [] and held.skipped
    later = sort_volatile(
        lines("Soldaten: 12.000"), ["Soldaten: 12.000"], ["Soldaten: 12.000"], held.shapes, T0
    )
    assert [p.text for p in later.report] == ["Soldaten: 12.000"]
    assert later.shapes == {}  # it was an edit: nothing learned


def test_the_learned_state_is_bounded_and_forgets() -> None:
    shapes = {
        f"shape {i} #": LineShape(LEARN_AFTER if i % 2 else 1, T0 + timedelta(minutes=i))
        for i in range(3 * MAX_SHAPES)
    }
    kept = prune(shapes, T0 + timedelta(days=1))
    assert len(kept) == MAX_SHAPES and all(v.volatile for v in kept.values())
    assert prune(shapes, T0 + FORGET_AFTER + timedelta(days=1)) == {}


def test_the_store_keeps_what_a_page_taught(tmp_path: Path) -> None:
    store = Store(tmp_path)
    try:
        assert store.volatile_lines("https://x.example/") == {}
        shapes = {"# readers": LineShape(2, T0), "dax # # %": LineShape(1, T0)}
        from monitor.models import Source

        store.sync_sources(
            [Source("https://x.example/", "https://x.example/", "page", "x", 3600, "config")]
        )
        store.save_volatile_lines("https://x.example/", shapes, T0)
        store.save_volatile_lines("https://x.example/", shapes, T0)  # replaced, not added
        assert store.volatile_lines("https://x.example/") == shapes
        # Forgotten with everything else of a source that is no longer configured.
        store.prune(T0 + timedelta(days=400), 180, active=[])
        assert store.volatile_lines("https://x.example/") == {}
    finally:
        store.close()


def test_a_counter_set_off_at_the_end_of_a_longer_line_has_a_shape() -> None:
    from monitor.volatile import line_shape

    one = line_shape("Most read on North Korea sanctions · 1,137 readers")
    assert one is not None and one == line_shape(
        "Most read on North Korea sanctions · 1,303 readers"
    )
    # The rest of the line is kept: another title is another shape, and a sentence has none.
    assert line_shape("Most read on Kursk · 1,303 readers") != one
    assert line_shape("Troops rose to 12,000 near Kursk, officials said on Monday.") is None
    assert line_shape("Report says 3,000 troops crossed · the border at dawn today") is None
