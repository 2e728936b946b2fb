"""Make docs/digest-example.png: a real digest, rendered end to end and shown in headless Chromium.

Serves two RSS feeds (German and English, built from benchmarks/topics_eval/dev.jsonl) and one
broken feed on 127.0.0.1, writes a temporary config with the watch topics of config.toml, and runs
the real CLI: `once` (the baseline), new entries appear, `once` again, then `digest`. The HTML
digest the file channel wrote is screenshotted with Chromium and trimmed with Pillow.

    python scripts/screenshot_digest.py [--out docs/digest-example.png] [--keep]

Nothing leaves the machine: the config allows only 127.0.0.1 and disables the seed documents.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops

REPO = Path(__file__).resolve().parent.parent
DEV_SET = REPO / "benchmarks" / "topics_eval" / "dev.jsonl"
CONFIG = REPO / "config.toml"
OUT = REPO / "docs" / "digest-example.png"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

WIDTH = 900
MAX_HEIGHT = 2600  # px; the picture shows the layout, it need not hold every item
MAX_BYTES = 400_000
# Per feed: how many new items of each topic, and of texts that match nothing.
NEW_PER_TOPIC = {"troop_deployment": 2, "treaty_articles": 1, "sanctions": 1}
NEW_UNRELATED = 2
BASELINE_ITEMS = 3


# --- feeds -----------------------------------------------------------------------------------


def load_texts() -> list[dict[str, Any]]:
    with DEV_SET.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def title_of(text: str, limit: int = 95) -> str:
    """A headline from the text: its first sentence, cut at a word if it is long."""
    # A sentence ends at . ! ? before a capital, but not after a digit ("im 16. Paket").
    first = re.split(r"(?<=[^\d\s][.!?])\s+(?=[A-ZÄÖÜ])", text, maxsplit=1)[0].rstrip(".")
    if len(first) <= limit:
        return first
    return first[: limit - 1].rsplit(" ", 1)[0] + " …"


def pick(rows: list[dict[str, Any]], lang: str) -> tuple[list[dict], list[dict]]:
    """(baseline items, new items) for one language; single-label texts read best in a picture."""
    pool = [r for r in rows if r["lang"] == lang]
    unrelated = [r for r in pool if not r["labels"]]
    new: list[dict] = []
    for topic, count in NEW_PER_TOPIC.items():
        new += [r for r in pool if r["labels"] == [topic]][:count]
    new += unrelated[BASELINE_ITEMS : BASELINE_ITEMS + NEW_UNRELATED]
    return unrelated[:BASELINE_ITEMS], new


def rss(title: str, base: str, rows: list[dict[str, Any]], now: datetime) -> bytes:
    """An RSS 2.0 document, built with ElementTree so every text is escaped by the library."""
    root = ET.Element("rss", version="2.0")
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "link").text = base + "/"
    ET.SubElement(channel, "description").text = f"{title} (example feed)"
    for age, row in enumerate(rows):
        item = ET.SubElement(channel, "item")
        ET.SubElement(item, "title").text = title_of(row["text"])
        ET.SubElement(item, "link").text = f"{base}/{row['lang']}/{row['id']}.html"
        ET.SubElement(item, "guid", isPermaLink="false").text = row["id"]
        ET.SubElement(item, "description").text = row["text"]
        published = now - timedelta(minutes=17 * age + 5)
        ET.SubElement(item, "pubDate").text = format_datetime(published)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


class FeedServer:
    """Serves whatever is in `routes` on 127.0.0.1; anything else is a 404."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, kind, body = routes.get(self.path, (404, "text/plain", b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- config ----------------------------------------------------------------------------------


def topics_part(config_text: str) -> str:
    """The [aliases] table and every [topics.*] table of config.toml, verbatim."""
    keep = False
    lines = []
    for line in config_text.splitlines():
        header = re.match(r"\s*\[\[?\s*([A-Za-z0-9_.\"-]+)", line)
        if header:
            name = header.group(1)
            keep = name == "aliases" or name.startswith("topics.")
        if keep:
            lines.append(line)
    return "\n".join(lines) + "\n"


def write_config(folder: Path, base: str) -> Path:
    state = folder / "state"
    text = f"""\
[http]
user_agent = "source-monitor-screenshot/1"
allow_networks = ["127.0.0.1/32"]

[poll]
baseline = true
grace_period = "1s"
workers = 1

[seeds]
enabled = false

[state]
path = {json.dumps(str(state))}

[web]
enabled = false

[[sources]]
name = "Tagesschau – Ausland (example)"
url = "{base}/de/feed.xml"
kind = "feed"

[[sources]]
name = "World News (example)"
url = "{base}/en/feed.xml"
kind = "feed"

[[sources]]
name = "Yonhap – North Korea (example)"
url = "{base}/down/feed.xml"
kind = "feed"

[channels.example]
kind = "file"
path = "digests"
timezone = "Europe/Berlin"
language = "en"

{topics_part(CONFIG.read_text(encoding="utf-8"))}"""
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cli(config: Path, *args: str) -> str:
    """Run `python -m monitor --config CONFIG ARGS` and return its output; raise if it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--log-level", "WARNING", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = (done.stdout + done.stderr).strip()
    print(f"$ monitor {' '.join(args)}\n{output}\n")
    if done.returncode != 0:
        raise SystemExit(f"monitor {' '.join(args)} failed with exit code {done.returncode}")
    return output


# --- picture ---------------------------------------------------------------------------------


def screenshot(html: Path, out: Path, scratch: Path) -> None:
    raw = scratch / "raw.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--user-data-dir={scratch / 'chromium-profile'}",
            f"--window-size={WIDTH},{MAX_HEIGHT + 400}",
            f"--screenshot={raw}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with Image.open(raw) as shot:
        image = shot.convert("RGB")
    # Cut the empty page background below the digest, then keep at most MAX_HEIGHT pixels.
    background = Image.new("RGB", image.size, image.getpixel((2, image.height - 2)))
    box = ImageChops.difference(image, background).getbbox()
    bottom = min(box[3] + 24 if box else image.height, MAX_HEIGHT, image.height)
    image = image.crop((0, 0, image.width, bottom))
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out, optimize=True)
    if out.stat().st_size > MAX_BYTES:
        # A 256-colour palette keeps text sharp and the file small.
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print(f"wrote {out} ({image.width}x{image.height}, {out.stat().st_size // 1024} KB)")


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"PNG to write (default {OUT})")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    rows = load_texts()
    now = datetime.now(UTC)
    scratch = Path(tempfile.mkdtemp(prefix="digest-screenshot-"))
    try:
        with FeedServer() as server:
            feeds = {"de": "Tagesschau – Ausland (example)", "en": "World News (example)"}
            picked = {lang: pick(rows, lang) for lang in feeds}
            robots = (200, "text/plain", b"User-agent: *\nAllow: /\n")
            server.routes["/robots.txt"] = robots
            server.routes["/down/feed.xml"] = (503, "text/plain", b"maintenance")

            def publish(step: int) -> None:
                for lang, title in feeds.items():
                    old, new = picked[lang]
                    items = old if step == 0 else [*new, *old]
                    body = rss(title, server.base, items, now)
                    server.routes[f"/{lang}/feed.xml"] = (200, "application/rss+xml", body)

            config = write_config(scratch, server.base)
            publish(0)
            cli(config, "once")  # the baseline: what is there already is not reported
            publish(1)
            time.sleep(1.5)  # the broken feed must be failing for longer than grace_period
            cli(config, "once")
            cli(config, "digest")

        pages = sorted((scratch / "state" / "digests").glob("*.html"))
        if not pages:
            raise SystemExit("the file channel wrote no HTML digest")
        screenshot(pages[-1], args.out, scratch)
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
