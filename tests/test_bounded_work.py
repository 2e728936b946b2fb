"""Work on untrusted bytes always ends: a pathological page cannot hold a cycle, a one-shot
command or the daemon's shutdown, however few sources there are. Ctrl-C and bad CLI input end
with one line."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.config import PollConfig
from monitor.daemon import CANCEL_WAIT
from monitor.fetch import Fetcher
from monitor.store import Store
from tests.conftest import REPO, ContentServer
from tests.test_daemon import Daemon, free_port, wait_for
from tests.test_end_to_end import article
from tests.test_pipeline import STORY, make, outlet_page, page_sources, poller_for

# 200,000 nested <div>s: lxml builds the tree, then extraction walks it without end.
NESTED = "<html><body>" + "<div>" * 200_000 + "Text" + "</div>" * 200_000 + "</body></html>"


def faults(reason: str) -> float:
    from monitor import metrics

    sample = metrics.REGISTRY.get_sample_value("monitor_parser_faults_total", {"reason": reason})
    return sample or 0.0


def cli(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(tmp_path / "config.toml"), *args],
        cwd=tmp_path,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_a_pathological_page_among_few_sources_is_recorded_and_the_cycle_ends(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/nested", NESTED)
    srv.set("/calm", outlet_page("Calm", STORY))
    # Two sources and one worker: before, such a cycle parsed in a thread nobody could stop.
    config = make(
        tmp_path,
        "[poll]\nworkers = 1\nparse_timeout = 3\nbaseline = false\n"
        + page_sources(srv, "/nested", "/calm"),
    )
    store = Store(config.state_dir)
    poller = poller_for(config, store)
    before = faults("timeout")
    try:
        async with Fetcher(config.http) as fetcher:
            summary = await poller.cycle(fetcher, only_due=False)
    finally:
        poller.close()
    assert summary.fetched == 1 and summary.failed == 1
    assert summary.matches_by_topic.get("troop_deployment") == 1  # the calm page still counts
    health = {h.key.rsplit("/", 1)[-1]: h for h in store.health()}
    assert health["nested"].state == "failing"
    assert "parse timed out after 3 s" in (health["nested"].last_error or "")
    assert health["calm"].state == "ok"
    assert faults("timeout") == before + 1
    store.close()


def test_once_and_extract_stop_a_pathological_page(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/nested", NESTED)
    make(tmp_path, "[poll]\nparse_timeout = 3\n" + page_sources(srv, "/nested"))
    # The first poll keeps the body unparsed; the first changed poll takes its baseline in a
    # parser process, where it is stopped, as one source's failure.
    kept = cli(tmp_path, "once")
    assert kept.returncode == 0 and "0 failed" in kept.stdout, kept.stdout + kept.stderr
    srv.set("/nested", NESTED.replace("Text", "Text, changed"))
    once = cli(tmp_path, "once")
    assert once.returncode == 0, once.stderr
    assert "1 failed" in once.stdout
    assert "failed: nested: parse timed out after 3 s" in once.stdout
    listed = json.loads(cli(tmp_path, "sources", "--json").stdout)
    assert listed[0]["state"] == "failing" and "timed out" in listed[0]["error"]

    page = tmp_path / "nested.html"
    page.write_text(NESTED)
    extract = cli(tmp_path, "extract", str(page))
    assert extract.returncode == 1
    assert extract.stderr.strip().splitlines() == [
        f"error: {page}: stopped: timed out after 3 s"
    ]


def test_match_and_the_log_level_read_bad_input_in_one_line(tmp_path: Path) -> None:
    make(tmp_path, "")
    ok = cli(tmp_path, "match", stdin=STORY)
    assert ok.returncode == 0 and ok.stdout.split() == ["troop_deployment"]

    missing = cli(tmp_path, "match", "no-such.txt")
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        "error: no-such.txt: no such file (give a text file, or - for stdin)"
    ]
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Truppenstärke".encode("latin-1"))  # not UTF-8
    bad = cli(tmp_path, "match", str(latin))
    assert bad.returncode == 2
    lines = bad.stderr.splitlines()
    assert len(lines) == 1 and "not UTF-8 text (byte 0xe4 at offset 9)" in lines[0]

    level = cli(tmp_path, "--log-level", "bogus", "check")
    assert level.returncode == 2
    assert level.stderr.splitlines() == [
        "error: --log-level 'bogus': use one of debug, info, warning, error, critical"
    ]


def test_ctrl_c_in_a_one_shot_command_exits_130_with_one_line(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/slow", outlet_page("Slow", STORY), delay=60)
    make(tmp_path, page_sources(srv, "/slow"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(tmp_path / "config.toml"), "once"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    assert wait_for(lambda: any(p == "/slow" for p, _ in srv.requests), timeout=120)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole group, parsers included
    _, err = proc.communicate(timeout=60)
    text = err.decode()
    assert proc.returncode == 130, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    assert text.strip().splitlines()[-1].startswith("interrupted; nothing half-written")


def test_sigterm_stops_the_daemon_within_its_grace_period_during_a_stuck_parse(
    tmp_path: Path, content_server: ContentServer
) -> None:
    srv = content_server
    srv.set("/nested", NESTED)
    port = free_port()
    (tmp_path / "seeds").mkdir()
    make(
        tmp_path,
        f"[poll]\nparse_timeout = 600\nshutdown_grace = 2\ntick_seconds = 1\n[web]\nport = {port}\n"
        + page_sources(srv, "/nested"),
    )
    daemon = Daemon(tmp_path / "config.toml")
    try:
        assert wait_for(lambda: any(p == "/nested" for p, _ in srv.requests), timeout=120)
        time.sleep(1.0)  # the page is now being parsed, for up to 600 s
        daemon.proc.send_signal(signal.SIGTERM)
        rc = daemon.proc.wait(timeout=60)
    finally:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()
    text = daemon.text()
    assert rc == 0, text
    # The first poll keeps the page; the daemon parses it in idle time (or a cycle, would a
    # tick come first).
    assert re.search(
        r"shutdown: cancelling the (poll cycle after 2 s \(1 sources still being fetched"
        r"|baseline settling after 2 s)",
        text,
    ), text
    assert "Traceback" not in text and "raised an exception" not in text
    assert re.search(r'"msg": "stopped"', text)
    # The gate's opt-in is logged when the daemon starts.
    opt_in = "[http] allow_networks lets sources, webhooks and email channels reach 127.0.0.1/32"
    assert opt_in in text
    with sqlite3.connect(tmp_path / "state" / "monitor.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_default_grace_period_fits_dockers_stop_timeout() -> None:
    """Docker kills a container 10 s after SIGTERM unless compose says otherwise; the grace
    period plus the cancel wait must end before that, with room to close the store."""
    compose = (REPO / "compose.yaml").read_text()
    found = re.search(r"stop_grace_period:\s*(\d+)s", compose)
    docker_stop = int(found.group(1)) if found else 10
    assert PollConfig().shutdown_grace + CANCEL_WAIT + 1 <= docker_stop


@pytest.mark.parametrize("value", ["0", "-1"])
def test_parse_timeout_must_be_positive(tmp_path: Path, value: str) -> None:
    make_text = f"[poll]\nparse_timeout = {value}\n"
    (tmp_path / "config.toml").write_text(make_text)
    out = cli(tmp_path, "check")
    assert out.returncode == 2
    assert "poll.parse_timeout" in out.stderr


def test_ctrl_c_stops_the_daemon_cleanly_with_exit_0(
    tmp_path: Path, content_server: ContentServer
) -> None:
    """`run` drains on Ctrl-C (the whole process group gets SIGINT, parser processes too)."""
    srv = content_server
    srv.set("/calm", outlet_page("Calm", STORY))
    port = free_port()
    (tmp_path / "seeds").mkdir()
    make(tmp_path, f"[poll]\ntick_seconds = 1\n[web]\nport = {port}\n" + page_sources(srv, "/calm"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(tmp_path / "config.toml"), "run"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert wait_for(lambda: any(p == "/calm" for p, _ in srv.requests), timeout=120)
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.decode()
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    assert '"msg": "stopped"' in text


async def test_an_item_longer_than_the_matcher_reads_is_matched_at_its_start_and_reported(
    tmp_path: Path, content_server: ContentServer
) -> None:
    from monitor.topics import MAX_MATCH_CHARS

    filler = "Die Lage in der Region bleibt angespannt, hieß es aus Kiew. " * 4000
    assert len(filler) > MAX_MATCH_CHARS
    srv = content_server
    # Feed entries are already cut at 100,000 characters by the feed parser; a page's
    # paragraph is not, so one giant paragraph goes to the matcher whole.
    srv.set("/head", article([STORY + " " + filler]))
    srv.set("/tail", article([filler + " " + STORY]))
    config = make(
        tmp_path,
        "[poll]\nworkers = 1\nbaseline = false\n" + page_sources(srv, "/head", "/tail"),
    )
    store = Store(config.state_dir)
    poller = poller_for(config, store)
    try:
        async with Fetcher(config.http) as fetcher:
            summary = await poller.cycle(fetcher, only_due=False)
    finally:
        poller.close()
    # The story at the start of an over-long paragraph is found; one past the cap is not.
    assert summary.matches_by_topic == {"troop_deployment": 1}
    for health in store.health():
        assert health.state == "ok"
        assert health.last_error == (
            "warning: 1 new item(s) longer than 200,000 characters: only their start was "
            "matched against the topics"
        )
    store.close()

    (tmp_path / "long.txt").write_text(filler + STORY)
    out = cli(tmp_path, "match", str(tmp_path / "long.txt"))
    assert out.returncode == 1  # the story past the cap is not read
    assert out.stderr.splitlines() == [
        f"warning: the text has {len(filler + STORY):,} characters; only the first 200,000 "
        "are matched (see 'Long texts' in the README)"
    ]


def test_a_topic_nested_beyond_reason_is_a_config_error_not_a_traceback(tmp_path: Path) -> None:
    deep = "(" * 3000 + "Truppen" + ")" * 3000
    make_text = f"[topics.deep]\nquery = '{deep}'\n"
    (tmp_path / "config.toml").write_text(make_text)
    out = cli(tmp_path, "check")
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert "topics.deep.query: the query is nested too deeply" in out.stderr
