"""As an analyst uses it: the real daemon polls a local corpus and writes its alerts and digests
(file channel); Chromium (the system package, driven by Selenium through the system
chromedriver) opens an item's "not relevant" link from the HTML alert and clicks the button; the
daemon's next cycle and digest no longer carry the item, nor a copy of its story."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ContentServer
from tests.test_daemon import Daemon, free_port, wait_for
from tests.test_end_to_end import rss
from tests.test_feedback import A_COPY, OLD, A, B, D

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="no Chromium here: `apt-get install -y chromium chromium-driver` (.ci/run does)",
)
RSS = "application/rss+xml; charset=utf-8"


def config(srv: ContentServer, port: int) -> str:
    return f"""
[http]
allow_networks = ["127.0.0.1/32"]
respect_robots = false

[seeds]
enabled = false

[poll]
tick_seconds = 1

[web]
port = {port}
public_url = "http://127.0.0.1:{port}"

[[sources]]
name = "Wire"
url = "{srv.base}/wire.xml"
kind = "feed"
interval = "1s"

[[sources]]
name = "Agency"
url = "{srv.base}/agency.xml"
kind = "feed"
interval = "1s"

[topics.grain]
name = "Grain"
query = 'grain AND ships'
urgent = true

[channels.files]
kind = "file"
send_empty = false
alerts = true
schedule = "* * * * *"
"""


def files(folder: Path) -> dict[Path, str]:
    return {p: p.read_text("utf-8") for p in folder.glob("*.*")} if folder.is_dir() else {}


def polled_twice(db: Path) -> bool:
    if not db.exists():
        return False
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT count(*) FROM sources WHERE baseline_done").fetchone()
    return bool(rows and rows[0] == 2)


def alert_html(folder: Path) -> list[str]:
    """The HTML files in the channel's folder that report story A."""
    return [t for p, t in files(folder).items() if p.suffix == ".html" and A[1] in t]


@contextmanager
def alerted(tmp_path: Path, srv: ContentServer) -> Iterator[tuple[Daemon, int, Path]]:
    """A running daemon over the local corpus, once story A's alert (urgent topic, with feedback
    links) is in the file channel's folder: (the daemon, its web port, that folder)."""
    srv.set("/wire.xml", rss(OLD), RSS)
    srv.set("/agency.xml", rss(OLD), RSS)
    port = free_port()
    cfg = tmp_path / "config.toml"
    cfg.write_text(config(srv, port), encoding="utf-8")
    state = tmp_path / "state"
    out = state / "digests"
    daemon = Daemon(cfg)
    try:
        assert wait_for(lambda: polled_twice(state / "monitor.db"), 90), daemon.text()
        srv.set("/wire.xml", rss([A, B, *OLD]), RSS)
        # The channel writes .txt, .html and .json one after another: wait for the HTML one,
        # which the browser test reads, not merely the first of the three.
        assert wait_for(lambda: bool(alert_html(out)), 90), daemon.text()
        yield daemon, port, out
    finally:
        daemon.proc.terminate()
        daemon.proc.wait(timeout=30)


def next_digest_without_a(
    srv: ContentServer, daemon: Daemon, out: Path, clicked: set[Path]
) -> str:
    """The next cycle brings a copy of story A on another outlet and a new story D: the files
    written after the click carry D and neither A nor its copy; returns the scheduled digest
    (every minute, after D's alert)."""
    srv.set("/wire.xml", rss([D, A, B, *OLD]), RSS)
    srv.set("/agency.xml", rss([A_COPY, *OLD]), RSS)

    def digest_after() -> str | None:
        for path, text in files(out).items():
            if path not in clicked and path.suffix == ".txt" and "ALERT" not in text:
                return text
        return None

    assert wait_for(lambda: digest_after() is not None, 150), daemon.text()
    after = {p: t for p, t in files(out).items() if p not in clicked}
    assert any(D[1] in t for t in after.values()), after
    for text in after.values():
        assert A[1] not in text and A_COPY[1] not in text
    return digest_after() or ""


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    yield driver
    driver.quit()


def test_not_relevant_clicked_in_a_browser_leaves_the_next_digest(  # type: ignore[no-untyped-def]
    tmp_path: Path, content_server: ContentServer, browser
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    with alerted(tmp_path, content_server) as (daemon, port, out):
        # The alert, and perhaps already the minute's digest: both carry the links.
        html = alert_html(out)[0]
        item = html.split(A[1], 1)[1]
        anchor = re.search(r'<a [^>]*class="fb-not-relevant"[^>]*>', item)
        assert anchor, item[:2000]
        link = re.search(r'href="([^"]+/fb/[^"]+)"', anchor[0])
        assert link, anchor[0]

        # The analyst opens the link: one button; clicking it records the mark.
        browser.get(link[1].replace("&amp;", "&"))
        WebDriverWait(browser, 30).until(ready.presence_of_element_located((By.ID, "confirm")))
        assert A[1] in browser.page_source
        browser.find_element(By.ID, "confirm").click()
        WebDriverWait(browser, 30).until(ready.presence_of_element_located((By.ID, "done")))

        digest = next_digest_without_a(content_server, daemon, out, set(files(out)))
        assert "suppressed by your feedback" in digest
        assert f"http://127.0.0.1:{port}/feedback" in digest


def test_inbox_search_and_not_relevant_in_a_browser_leave_the_next_digest(  # type: ignore[no-untyped-def]
    tmp_path: Path, content_server: ContentServer, browser
) -> None:
    """The analyst signs in to the inbox (basic auth, the token as password), searches for a
    word of a story reported in an alert, clicks "Not relevant" beside the hit, and the next
    digest carries neither the story nor its copy from another outlet."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    with alerted(tmp_path, content_server) as (daemon, port, out):
        token = (tmp_path / "state" / "web.token").read_text("utf-8").strip()
        browser.get(f"http://analyst:{token}@127.0.0.1:{port}/inbox")
        box = WebDriverWait(browser, 30).until(
            ready.presence_of_element_located((By.NAME, "q"))
        )
        box.send_keys("Odesa")
        browser.find_element(By.CSS_SELECTOR, "form.search button[type=submit]").click()
        WebDriverWait(browser, 30).until(lambda d: "q=Odesa" in d.current_url)
        hits = browser.find_elements(By.CSS_SELECTOR, "article.hit")
        assert len(hits) == 1, browser.page_source[:3000]
        assert A[1] in hits[0].text and B[1] not in browser.page_source
        hits[0].find_element(By.CSS_SELECTOR, "button.fb-not-relevant").click()
        # The form posts and the server sends the browser back: the old page is gone.
        WebDriverWait(browser, 30).until(ready.staleness_of(hits[0]))
        # The mark is recorded and listed on the feedback page, under the analyst's name.
        browser.get(f"http://analyst:{token}@127.0.0.1:{port}/feedback")
        WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith("/feedback"))
        assert A[1] in browser.page_source and "analyst" in browser.page_source

        next_digest_without_a(content_server, daemon, out, set(files(out)))
