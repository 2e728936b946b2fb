"""Loading a config whose URLs and schedules were judged before does not import their checkers
again (`monitor.config_memo`), and still reports a value it has not accepted before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CONFIG = """
[seeds]
path = "seeds"

[[sources]]
name = "Example feed"
kind = "feed"
url = "https://news.example.org/World/feed.xml"

[channels.out]
kind = "file"
schedule = "0 7 * * mon-fri"

[topics.kursk]
query = "Kursk AND (troop* OR Soldat)"
"""

# A fresh process loads the config (as every command does) and says what it imported.
LOAD = """
import json, sys
from monitor.config import ConfigError
from monitor.wiring import load
try:
    config = load(sys.argv[1])
    result = {"url": config.sources[0].url}
except ConfigError as exc:
    result = {"issues": [str(i) for i in exc.issues]}
result["imported"] = [m for m in ("httpx", "apscheduler", "monitor.gate") if m in sys.modules]
print(json.dumps(result))
"""


def load_in_new_process(cfg: Path, before: str = "") -> dict[str, object]:
    env = {**os.environ, "MONITOR_CACHE_DIR": str(cfg.parent / "cache")}
    run = subprocess.run(
        [sys.executable, "-c", before + LOAD, str(cfg)], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr
    result: dict[str, object] = json.loads(run.stdout)
    return result


def write(folder: Path, text: str = CONFIG) -> Path:
    cfg = folder / "config.toml"
    cfg.write_text(text, encoding="utf-8")
    (folder / "seeds").mkdir(exist_ok=True)
    return cfg


def test_values_judged_before_are_not_judged_again(tmp_path: Path) -> None:
    cfg = write(tmp_path)
    first = load_in_new_process(cfg)
    assert first["imported"] == ["httpx", "apscheduler", "monitor.gate"]
    again = load_in_new_process(cfg)
    assert again["imported"] == []
    assert again["url"] == first["url"] == "https://news.example.org/World/feed.xml"


def test_a_value_not_accepted_before_is_still_judged_and_reported(tmp_path: Path) -> None:
    cfg = write(tmp_path)
    load_in_new_process(cfg)
    write(tmp_path, CONFIG.replace("https://news.example.org", "ftp://news.example.org"))
    bad_url = load_in_new_process(cfg)
    assert any("sources[0].url" in i and "ftp" in i for i in bad_url["issues"]), bad_url  # type: ignore[attr-defined]
    write(tmp_path, CONFIG.replace("0 7 * * mon-fri", "0 7 * * funday"))
    bad_cron = load_in_new_process(cfg)
    assert any("not a crontab expression" in i for i in bad_cron["issues"]), bad_cron  # type: ignore[attr-defined]
    # Refused values are never kept: judged (and refused) again next time.
    assert load_in_new_process(cfg) == bad_cron


def test_a_damaged_memo_is_ignored(tmp_path: Path) -> None:
    cfg = write(tmp_path)
    load_in_new_process(cfg)
    [memo] = (tmp_path / "cache").glob("validated-*.json")
    data = memo.read_bytes()
    memo.write_bytes(data.replace(b"news.example.org", b"evil.example.org"))  # HMAC now wrong
    again = load_in_new_process(cfg)
    assert "httpx" in again["imported"]  # type: ignore[operator]
    assert again["url"] == "https://news.example.org/World/feed.xml"


def test_a_memo_of_another_python_release_is_not_read(tmp_path: Path) -> None:
    # The gate also asks the standard library's URL parser (urllib), whose reading of hosts
    # has changed between patch releases; a URL the memo holds skips the gate at fetch time
    # (`monitor.gate.known_normal`), so another interpreter judges every value again.
    cfg = write(tmp_path)
    load_in_new_process(cfg)
    assert load_in_new_process(cfg)["imported"] == []
    other = "import sys; sys.version = sys.version.replace('.', '.9', 1)\n"
    assert "httpx" in load_in_new_process(cfg, before=other)["imported"]  # type: ignore[operator]


RELOAD_AFTER_SEND = """
import sys
from monitor.wiring import load
config = load(sys.argv[1])
print(config.channels["hook"].target())  # what a delivery posts to
load(sys.argv[1])  # the daemon's reload: the values judged since are kept
"""


def test_a_webhook_url_from_the_environment_is_never_kept(tmp_path: Path) -> None:
    # `url_env` keeps a webhook's URL, whose path is often its secret token, out of files; the
    # memo of judged values must not write it to the cache folder.
    secret = "https://hooks.example.org/services/T0/B0/s3cr3t-t0ken"
    cfg = write(tmp_path, CONFIG + '[channels.hook]\nkind = "webhook"\nurl_env = "HOOK_URL"\n')
    env = {**os.environ, "MONITOR_CACHE_DIR": str(tmp_path / "cache"), "HOOK_URL": secret}
    run = subprocess.run(
        [sys.executable, "-c", RELOAD_AFTER_SEND, str(cfg)], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == secret
    cached = [p for p in (tmp_path / "cache").iterdir() if p.is_file()]
    assert any(p.name.startswith("validated-") for p in cached)
    assert not any(b"s3cr3t" in p.read_bytes() for p in cached)
