"""Binary bodies behind a text label (an image, an archive, random bytes served as text/html or
as a feed) are a clear error for their source, never a garbage item. Real server, real store."""

from __future__ import annotations

import gzip
import io
import random
import sqlite3
import zipfile
from pathlib import Path

import pytest

from monitor.extract.charset import binary_kind
from monitor.extract.errors import ExtractError
from monitor.extract.feeds import parse_feed
from monitor.extract.pages import extract_page
from monitor.store import Store
from tests.conftest import ContentServer
from tests.test_pipeline import cycle, make

RANDOM = random.Random(12).randbytes(6000)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(1).randbytes(3000)


def zipped() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("report.txt", "Ein Bericht. " * 400)
    return out.getvalue()


BINARIES = {
    "png": (PNG, "binary data (PNG image)"),
    "zip": (zipped(), "binary data (ZIP archive)"),
    "random": (RANDOM, "binary data"),
    "gzip": (
        gzip.compress(b"<html><body><p>Hallo</p></body></html>" * 50),
        "binary data (gzip data)",
    ),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + RANDOM[:2000], "binary data (JPEG image)"),
}
PAGE = (
    "<!doctype html><html lang='de'><head><title>Lage</title></head><body><main><article>"
    "<p>Die Lage an der Grenze bleibt angespannt, berichten Beobachter aus der Region.</p>"
    "</article></main></body></html>"
)


def seen_rows(tmp_path: Path, key: str) -> int:
    with sqlite3.connect(tmp_path / "state" / "monitor.db") as db:
        return db.execute("SELECT count(*) FROM seen WHERE source_key = ?", (key,)).fetchone()[0]


@pytest.mark.parametrize("name", sorted(BINARIES))
async def test_binary_served_as_html_page_is_a_source_error(
    tmp_path: Path, content_server: ContentServer, name: str
) -> None:
    body, what = BINARIES[name]
    bad = content_server.set("/bad", body, "text/html; charset=utf-8")
    good = content_server.set("/good", PAGE)
    config = make(
        tmp_path,
        f'[poll]\nbaseline = false\n[[sources]]\nurl = "{bad}"\nkind = "page"\n'
        f'[[sources]]\nurl = "{good}"\nkind = "page"\n',
    )
    store = Store(tmp_path / "state")
    try:
        poller = await cycle(config, store)
        health = {h.key: h for h in store.health()}
    finally:
        store.close()
    assert health[bad].state == "failing"
    assert health[bad].last_error == f"{bad}: served {what} as text/html"
    assert seen_rows(tmp_path, bad) == 0  # no garbage passage recorded, none reported
    assert health[good].state == "ok" and seen_rows(tmp_path, good) == 1
    assert poller.last.failed == 1 and poller.last.new_passages == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("png", "application/rss+xml"), ("random", "text/xml"), ("zip", "text/html")],
)
async def test_binary_served_as_feed_is_a_source_error(
    tmp_path: Path, content_server: ContentServer, name: str, content_type: str
) -> None:
    body, what = BINARIES[name]
    url = content_server.set("/feed.xml", body, content_type)
    config = make(tmp_path, f'[[sources]]\nurl = "{url}"\nkind = "feed"\n')
    store = Store(tmp_path / "state")
    try:
        await cycle(config, store)
        [health] = store.health([url])
    finally:
        store.close()
    assert health.state == "failing"
    assert health.last_error == f"{url}: served {what} as {content_type}"
    assert seen_rows(tmp_path, url) == 0


def test_pdf_behind_a_feed_label_is_named() -> None:
    with pytest.raises(ExtractError) as caught:
        parse_feed(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "https://x.example/f", "text/xml")
    assert str(caught.value) == (
        "https://x.example/f: served binary data (PDF document) as text/xml"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Grüße aus Köln und eine Liste: a\tb\fc\r\n",
        "Привет мир, как дела? Всё хорошо.",
        "中文内容测试，新闻报道。",
        "A feed with one stray NUL\x00 in a long text. " * 20,
    ],
)
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be", "utf-32-le"])
def test_text_in_any_encoding_is_not_binary(text: str, encoding: str) -> None:
    assert binary_kind(text.encode(encoding)) is None


def test_page_in_utf16_without_bom_still_extracts() -> None:
    body = PAGE.encode("utf-16-le")
    doc = extract_page(body, "https://x.example/p", "text/html; charset=utf-16le")
    assert "angespannt" in doc.passages[0].text
