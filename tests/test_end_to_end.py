"""The whole pipeline through the real CLI: local feeds and pages, poll, change, poll, digest,
delivered by a real SMTP server, a real webhook receiver and the file channel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from xml.sax.saxutils import escape

from tests.conftest import REPO, ContentServer, SmtpSink, WebhookReceiver
from tests.local_config import LOOPBACK_HTTP, delivery_channels, source

SECRET_ENV = "TEST_MONITOR_WEBHOOK_SECRET"


def rss(entries: list[tuple[str, str, str]]) -> str:
    items = "".join(
        f"<item><guid>{escape(guid)}</guid><title>{escape(title)}</title>"
        f"<link>https://news.example.org/{escape(guid)}</link>"
        f"<description>{escape(text)}</description>"
        f"<pubDate>Fri, 20 Nov 2026 08:00:00 +0000</pubDate></item>"
        for guid, title, text in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Test wire</title><link>https://news.example.org/</link>{items}</channel></rss>"
    )


def article(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        "<!doctype html><html lang='de'><head><title>Lagebericht Korea</title></head><body>"
        "<nav><a href='/'>Start</a> <a href='/politik'>Politik</a> <a href='/sport'>Sport</a></nav>"
        f"<main><article><h1>Lagebericht Korea</h1>{body}</article></main>"
        "<footer>Impressum · Datenschutz · Kontakt</footer></body></html>"
    )


OLD_ENTRIES = [
    (
        "old-1",
        "North Korean troops arrive in Russia's Far East",
        "South Korea's intelligence service says 1,500 North Korean special forces soldiers were "
        "shipped to Vladivostok for training before deployment against Ukraine.",
    ),
    ("old-2", "Football: Bayern beat Dortmund", "A late goal decided the match in Munich."),
]
NEW_RELEVANT = (
    "new-1",
    "Pentagon: 10,000 North Korean soldiers now in Kursk",
    "The Pentagon said about 10,000 North Korean troops have moved into Russia's Kursk region "
    "and are expected to join combat against Ukrainian forces in the coming weeks.",
)
NEW_IRRELEVANT = (
    "new-2",
    "Russian troops advance near Pokrovsk",
    "Russian forces pushed forward near Pokrovsk, the Ukrainian general staff said; no foreign "
    "units were mentioned.",
)
OLD_PARAGRAPHS = [
    "Die Lage an der Grenze bleibt angespannt, berichten Beobachter aus der Region seit Wochen.",
    "Die Regierung in Seoul beobachtet die Entwicklung mit großer Sorge und berät mit Partnern.",
]
NEW_PARAGRAPH = (
    "Pjöngjang beruft sich für die Entsendung ausdrücklich auf Artikel 4 des Vertrags über "
    "umfassende strategische Partnerschaft mit Russland, der militärischen Beistand "
    "„unverzüglich mit allen Mitteln“ vorsieht."
)


def shipped_topics() -> str:
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    return text[text.index("[aliases]") :]


def write_config(tmp: Path, srv: ContentServer, smtp: SmtpSink, hook: WebhookReceiver) -> Path:
    (tmp / "seeds").mkdir()
    (tmp / "seeds" / "brief.md").write_text(
        "# Lage\n\nDer Lagebericht ([Quelle](" + srv.base + "/lage#abschnitt)) beschreibt die "
        "Stimmung in Seoul. Siehe auch javascript:alert(1) und file:///etc/passwd.\n",
        encoding="utf-8",
    )
    cfg = tmp / "config.toml"
    cfg.write_text(
        f"""
{LOOPBACK_HTTP}
[poll]
tick_seconds = 5

{source(f"{srv.base}/feed.xml", "Test wire")}
{delivery_channels(smtp.port, hook.url, SECRET_ENV)}
{shipped_topics()}
""",
        encoding="utf-8",
    )
    return cfg


def monitor(
    cfg: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
        cwd=cfg.parent,
    )


def bodies(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return text, html


def test_poll_change_poll_digest(
    tmp_path: Path,
    content_server: ContentServer,
    smtp_server: SmtpSink,
    webhook_receiver: WebhookReceiver,
) -> None:
    srv = content_server
    srv.set("/feed.xml", rss(OLD_ENTRIES), "application/rss+xml; charset=utf-8")
    srv.set("/lage", article(OLD_PARAGRAPHS))
    cfg = write_config(tmp_path, srv, smtp_server, webhook_receiver)
    env = {SECRET_ENV: webhook_receiver.secret or ""}

    missing = monitor(cfg, "check")  # the webhook's signing secret is not in the environment
    assert missing.returncode == 2 and SECRET_ENV in missing.stderr
    checked = monitor(cfg, "check", env=env)
    assert checked.returncode == 0, checked.stderr
    assert "OK" in checked.stdout

    listed = json.loads(monitor(cfg, "sources", "--json").stdout)
    by_url = {s["url"]: s for s in listed}
    page = by_url[srv.base + "/lage"]  # the fragment is dropped
    assert page["origin"] == "seed" and page["cited_by"][0]["document"] == "brief.md"
    assert "Lagebericht" in page["cited_by"][0]["context"]
    assert not any(u.startswith(("javascript:", "file:")) for u in by_url)

    first = monitor(cfg, "once")
    assert first.returncode == 0, first.stderr
    assert "baseline" in first.stdout

    srv.set(
        "/feed.xml",
        rss([NEW_RELEVANT, NEW_IRRELEVANT, *OLD_ENTRIES]),
        "application/rss+xml; charset=utf-8",
    )
    srv.set("/lage", article([*OLD_PARAGRAPHS, NEW_PARAGRAPH]))
    second = monitor(cfg, "once")
    assert second.returncode == 0, second.stderr
    assert "troop_deployment" in second.stdout and "treaty_articles" in second.stdout

    sent = monitor(cfg, "digest", env=env)
    assert sent.returncode == 0, sent.stdout + sent.stderr

    # Email: exactly the new relevant items, nothing old, nothing irrelevant.
    [mail] = smtp_server.wait(1)
    text, html = bodies(mail)
    for part in (text, html):
        assert "10,000 North Korean soldiers now in Kursk" in part
        assert "Artikel 4" in part
        assert "Far East" not in part  # there before the first poll: the baseline
        assert "Bayern" not in part and "Pokrovsk" not in part
    assert "brief.md" in text  # the page is cited by the analysts' brief

    # Webhook: one signed delivery (the receiver verified it) with the same items.
    assert len(webhook_receiver.accepted) == 1
    payload = json.dumps(webhook_receiver.accepted[0], ensure_ascii=False)
    assert "Kursk" in payload and "Pokrovsk" not in payload and "Far East" not in payload

    # File channel: the digest written under state/.
    written = list((tmp_path / "state" / "digests").glob("*.txt"))
    assert len(written) == 1 and "Kursk" in written[0].read_text(encoding="utf-8")

    # Nothing is sent twice: a second digest run finds no unclaimed matches.
    again = monitor(cfg, "digest", env=env)
    assert again.returncode == 0, again.stderr
    assert len(smtp_server.messages) == 1 and len(webhook_receiver.accepted) == 1
    assert len(list((tmp_path / "state" / "digests").glob("*.txt"))) == 1

    # A third poll of unchanged sources costs conditional requests and finds nothing new.
    third = monitor(cfg, "once")
    assert "0 new passages" in third.stdout
    assert srv.requests[-1][1].get("If-None-Match")
