"""Config validation: every error names its key and line, and the shipped config is valid."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from monitor import wiring
from monitor.config import ConfigError, locate, parse_duration, secret_from_env
from tests.conftest import REPO

MINIMAL = """
[topics.t]
query = "sanction*"

[channels.out]
kind = "file"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def issues(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        wiring.load(write(tmp_path, text))
    return [str(i) for i in info.value.issues]


def test_shipped_config_is_valid() -> None:
    config = wiring.load(REPO / "config.toml")
    assert {"troop_deployment", "treaty_articles", "sanctions"} <= set(config.topics)
    assert any(s.kind == "feed" for s in config.sources)
    assert config.channels["daily_file"].kind == "file"
    assert config.state_dir == (REPO / "state").resolve()


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    config = wiring.load(write(tmp_path, MINIMAL))
    assert config.poll.baseline is True
    assert config.http.allow_networks == []
    assert config.http.user_agent_header.startswith("source-monitor/")


def test_unknown_key_is_named_with_its_line(tmp_path: Path) -> None:
    found = issues(tmp_path, MINIMAL + "\n[http]\ntimeout_secs = 3\n")
    assert found == [
        "line 9, http.timeout_secs: unknown key; check its spelling against the README's "
        "config reference"
    ]


def test_errors_in_array_tables_point_at_the_right_entry(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + """
[[sources]]
url = "https://example.org/feed"
kind = "feed"

[[sources]]
url = "ftp://example.org/file"
kind = "feed"
interval = "soon"
"""
    )
    found = issues(tmp_path, text)
    assert any(f.startswith("line 13, sources[1].url:") and "http" in f for f in found), found
    assert any(f.startswith("line 15, sources[1].interval:") for f in found), found


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    text = """
[poll]
tick_seconds = -1

[topics.t]
query = "x"
threshold = "high"

[channels.mail]
kind = "email"
host = "smtp.example.org"
recipients = ["not-an-address"]
"""
    found = issues(tmp_path, text)
    keys = {f.split(": ", 1)[0].split(", ", 1)[-1] for f in found}
    assert {
        "poll.tick_seconds",
        "topics.t.threshold",
        "channels.mail.recipients",
        "channels.mail.sender",
    } <= keys, found


def test_bad_enum_values_are_refused(tmp_path: Path) -> None:
    found = issues(tmp_path, MINIMAL.replace('kind = "file"', 'kind = "fax"'))
    assert found and "kind must be one of: file, email, webhook" in found[0]
    found = issues(
        tmp_path, MINIMAL + '\n[[sources]]\nurl = "https://a.example/"\nkind = "xpath"\n'
    )
    assert "sources[0].kind" in found[0]


def test_channel_must_name_known_topics(tmp_path: Path) -> None:
    found = issues(tmp_path, MINIMAL + 'topics = ["nope"]\n')
    assert "names 'nope', which is not a topic; known: t" in found[0]


def test_bad_schedule_and_timezone(tmp_path: Path) -> None:
    found = issues(tmp_path, MINIMAL + 'schedule = "every morning"\ntimezone = "Europe/Bonn"\n')
    text = "\n".join(found)
    assert "channels.out.schedule" in text and "crontab" in text
    assert "channels.out.timezone" in text and "Europe/Berlin" in text


def test_toml_syntax_error_has_line(tmp_path: Path) -> None:
    found = issues(tmp_path, MINIMAL + "\n[http\n")
    assert found[0].startswith("line 8, (syntax): not valid TOML")


def test_topic_syntax_error_names_topic_and_line(tmp_path: Path) -> None:
    found = issues(tmp_path, MINIMAL.replace('"sanction*"', '"(sanction* AND"'))
    assert found[0].startswith("line 3, topics.t.query:"), found


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        wiring.load(tmp_path / "nope.toml")
    assert "pass --config PATH or set MONITOR_CONFIG" in str(info.value)


def test_durations() -> None:
    assert parse_duration("30m") == 1800
    assert parse_duration("2d") == 172800
    assert parse_duration(90) == 90
    for bad in ("soon", "-5m", 0, True):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_locate_nested_keys() -> None:
    text = "[a]\nx = 1\n\n[b.c]\ny = 2\n\n[[d]]\nz = 1\n[[d]]\nz = 2\n"
    assert locate(text, ("a", "x")) == 2
    assert locate(text, ("b", "c", "y")) == 5
    assert locate(text, ("d", 1, "z")) == 10
    assert locate(text, ("nope",)) is None


def test_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SECRET", "s3cret")
    assert secret_from_env("MY_SECRET", "channels.x.password_env") == "s3cret"
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-file\n")
    monkeypatch.delenv("MY_SECRET")
    monkeypatch.setenv("MY_SECRET_FILE", str(secret_file))
    assert secret_from_env("MY_SECRET", "channels.x.password_env") == "from-file"
    monkeypatch.delenv("MY_SECRET_FILE")
    with pytest.raises(
        ConfigError, match=r"environment variable MY_SECRET \(or MY_SECRET_FILE\) is not set"
    ):
        secret_from_env("MY_SECRET", "channels.x.password_env")


def test_check_command_exit_codes(tmp_path: Path) -> None:
    good = write(tmp_path, MINIMAL)
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(good), "check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "OK" in run.stdout
    bad = write(tmp_path, MINIMAL + "\n[poll]\nbaseline = 3\n")
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(bad), "check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"error: {bad}: line 9, poll.baseline: Input should be a valid boolean, unable to "
        "interpret input"
    ]


def test_a_config_writable_by_others_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    path.chmod(0o666)
    with pytest.raises(ConfigError, match=r"writable by other users; run: chmod o-w"):
        wiring.load(path)
    path.chmod(0o644)
    assert wiring.load(path).topics


def test_environment_overrides_any_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_POLL__BASELINE", "false")
    monkeypatch.setenv("MONITOR_HTTP__ALLOW_NETWORKS", '["10.1.0.0/16"]')
    monkeypatch.setenv("MONITOR_CHANNELS__OUT__TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("MONITOR_WEB__HOST", "0.0.0.0")
    monkeypatch.setenv("MONITOR_WEB__TOKEN_ENV", "MY_TOKEN")
    config = wiring.load(write(tmp_path, MINIMAL))
    assert config.poll.baseline is False
    assert config.http.allow_networks == ["10.1.0.0/16"]
    assert config.channels["out"].timezone == "Europe/Berlin"
    assert (config.web.host, config.web.token_env) == ("0.0.0.0", "MY_TOKEN")
    monkeypatch.setenv("MONITOR_POLL__TICK_SECONDS", "soon")
    with pytest.raises(ConfigError, match=r"poll\.tick_seconds"):
        wiring.load(write(tmp_path, MINIMAL))


def test_every_broken_topic_is_reported(tmp_path: Path) -> None:
    text = MINIMAL + '\n[topics.u]\nquery = "a AND"\n[topics.v]\nquery = "(b OR"\n'
    found = issues(tmp_path, text)
    assert [f.split(":", 1)[0] for f in found] == [
        "line 9, topics.u.query",
        "line 11, topics.v.query",
    ]


def test_file_channel_path_stays_inside_state(tmp_path: Path) -> None:
    for bad in ("../../etc", "/tmp/x", "a/../../b"):
        found = issues(tmp_path, MINIMAL + f'path = "{bad}"\n')
        assert "must be a folder inside the state folder" in found[0], bad


def test_list_entries_and_env_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = MINIMAL + '\n[[sources]]\nurl = "https://a.example/feed"\nkind = "feed"\n'
    monkeypatch.setenv("MONITOR_SOURCES__0__INTERVAL", "2h")
    monkeypatch.setenv("MONITOR_HTTP__USER_AGENT", "2.0")
    config = wiring.load(write(tmp_path, text))
    assert config.sources[0].interval == 7200 and config.http.user_agent == "2.0"
    monkeypatch.setenv("MONITOR_SOURCES__0__INTERVAL", "soon")
    found = issues(tmp_path, text)
    assert (
        found[0].startswith("sources[0].interval:") and "$MONITOR_SOURCES__0__INTERVAL" in found[0]
    )


def test_check_names_missing_secrets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL + '[channels.hook]\nkind = "webhook"\nurl = "https://hooks.example.org/x"\n'
        'secret_env = "NO_SUCH_SECRET_VAR"\n',
    )
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(path), "check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 2
    assert "channels.hook.secret_env: environment variable NO_SUCH_SECRET_VAR" in run.stderr


def test_sources_lists_the_twelve_urls_cited_in_the_shipped_seeds(tmp_path: Path) -> None:
    import json

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(REPO / "config.toml"),
            "sources",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    cited = [s for s in json.loads(run.stdout) if s["origin"] == "seed"]
    assert len(cited) == 12 and len({s["url"] for s in cited}) == 12
    assert all(s["cited_by"] and s["cited_by"][0]["document"].endswith(".txt") for s in cited)
    assert not any("#" in s["url"] for s in cited)  # fragments dropped, duplicates merged


def test_a_cited_url_with_an_unreadable_port_is_a_refused_source(tmp_path: Path) -> None:
    # A port of digits int() cannot read ('²', a superscript) is refused like any bad port:
    # the seed document's other URLs are listed, that one as refused, never a traceback.
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "note.md").write_text(
        "See https://example.org:\u00b2/report and https://example.org/ok", encoding="utf-8"
    )
    path = write(tmp_path, MINIMAL)
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(path), "sources", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    import json

    cited = {s["url"]: s for s in json.loads(run.stdout)}
    assert set(cited) == {"https://example.org:\u00b2/report", "https://example.org/ok"}
    refused = cited["https://example.org:\u00b2/report"]
    assert refused["state"] == "refused" and "is not a port number" in refused["error"]
    assert cited["https://example.org/ok"]["state"] == "new"
