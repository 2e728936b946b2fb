"""`monitor demo` through the real CLI: the bundled corpus, served on 127.0.0.1, polled by the
real pipeline with the shipped topics, leaves a digest (text on stdout, HTML and webhook JSON
on disk) with the stories that are new after the baseline, and sends nothing to the channels
of the config."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, WebhookReceiver

# New after the baseline and on one of the shipped topics: these make the digest.
EXPECTED = [
    "Second rotation of North Korean soldiers reaches Kursk region, Seoul says",
    "Satellite images show North Korean artillery shells shipped to Russia's Far East",
    "Sanktionsausschuss 1718: Expertengruppe beschreibt Schmuggel über See",
    "Kiew: Nordkoreanische Soldaten kämpfen weiter in der Region Kursk",
    "Update: The instruments of ratification were exchanged",
    "Neu: Das Multilateral Sanctions Monitoring Team berichtet",
]
# In the baseline (the first poll records, never reports) or on no topic.
ABSENT = [
    "Freight traffic resumes on the Tumen river rail bridge",
    "Pyongyang marathon",
    "Nordkorea begeht den Jahrestag",
    "Seoul expects its cherry trees",
    "Sturmtief",
    "This page follows the Treaty",
]


def run_demo(cfg: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "demo"],
        cwd=cfg.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


def plain(text: str) -> str:
    """The digest's text without its term marks and line wrapping."""
    return " ".join(text.replace("«", "").replace("»", "").split())


def printed_path(stdout: str, label: str) -> Path:
    found = re.search(rf"^{re.escape(label)}:\s+(\S+)$", stdout, re.M)
    assert found, stdout
    return Path(found.group(1))


def test_demo_leaves_a_digest_of_the_new_stories(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text((REPO / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    run = run_demo(cfg)
    assert run.returncode == 0, run.stderr

    digest = plain(run.stdout)
    for story in EXPECTED:
        assert story in digest, story
    for story in ABSENT:
        assert story not in digest, story
    assert "poll 1 (baseline)" in run.stderr

    html = printed_path(run.stdout, "digest (HTML)")
    payload = printed_path(run.stdout, "webhook payload (JSON)")
    assert html.suffix == ".html" and payload.suffix == ".json"
    page = html.read_text(encoding="utf-8")
    assert "Kiew: Nordkoreanische Soldaten kämpfen weiter in der Region Kursk" in page
    data = json.loads(payload.read_text(encoding="utf-8"))
    titles = json.dumps(data, ensure_ascii=False)
    assert "Second rotation of North Korean soldiers" in titles
    # Its own temporary state folder: nothing written next to the user's config.
    assert not html.is_relative_to(tmp_path)
    assert not (tmp_path / "state" / "digests").exists()


def test_demo_never_uses_the_configured_channels(
    tmp_path: Path, webhook_receiver: WebhookReceiver
) -> None:
    cfg = tmp_path / "config.toml"
    shipped = (REPO / "config.toml").read_text(encoding="utf-8")
    hook = (
        "\n[channels.team_hook]\n"
        f'kind = "webhook"\nurl = "{webhook_receiver.url}"\nalerts = true\n'
        'schedule = "* * * * *"\n'
    )
    # The receiver is reachable: the config lets the gate through to loopback.
    shipped = shipped.replace("allow_networks = []", 'allow_networks = ["127.0.0.1/32"]')
    cfg.write_text(shipped + hook, encoding="utf-8")
    run = run_demo(cfg)
    assert run.returncode == 0, run.stderr
    assert EXPECTED[0] in plain(run.stdout)
    assert webhook_receiver.received == []
    assert not (tmp_path / "state" / "digests").exists()
