"""Hostile config input (deep nesting, NUL, inf/nan, FIFOs, header injection, loose permissions)
gets one line naming the file and key, exit code 2: never a traceback, never a hang."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import wiring
from monitor.config import ConfigError, secret_from_env

MINIMAL = """
[topics.t]
query = "sanction*"

[channels.out]
kind = "file"
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    return path


def issues(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        wiring.load(path)
    return [str(i) for i in info.value.issues]


def check(
    path: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`monitor check` in a subprocess; ``timeout`` turns a hang into a failed test."""
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(path), "check"],
        capture_output=True,
        text=True,
        cwd=path.parent,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def one_error(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 2, (run.stdout, run.stderr)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    return lines[0]


# --- nesting ------------------------------------------------------------------------------------

TOO_DEEP = "arrays or tables nested too deeply to read"


def test_arrays_nested_100000_deep(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    line = one_error(check(path))
    assert line.startswith(f"error: {path}: line 7, (syntax): {TOO_DEEP}"), line
    assert "remove the extra nesting" in line


def test_inline_tables_nested_deep(tmp_path: Path) -> None:
    nested = "{a = " * 5000 + "1" + "}" * 5000
    path = write(tmp_path, MINIMAL + f"\n[aliases]\nx = {nested}\n")
    assert issues(path) == [
        f"line 9, (syntax): {TOO_DEEP}; no setting needs more than two "
        "levels of [ ] or { }: remove the extra nesting"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "[aliases.{key}]\n",
        "[aliases]\n{key} = 1\n",
        "[aliases]\nx = {{{key} = 1}}\n",
    ],
    ids=["table header", "key line", "inline table"],
)
def test_dotted_keys_of_100000_parts(tmp_path: Path, text: str) -> None:
    # tomllib's time grows with the square (or more) of a key's parts: minutes to hours here.
    key = ".".join(['"a"', "b"] * 50_000)
    path = write(tmp_path, MINIMAL + "\n" + text.format(key=key))
    line = one_error(check(path))
    assert ", (syntax): a dotted key of more than 64 parts" in line, line


def test_deep_nesting_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    # MONITOR_ALIASES__A is applied first: the error still names the config file.
    env = {"MONITOR_ALIASES__A": '["a"]', "MONITOR_ALIASES__X": "[" * 100_000}
    line = one_error(check(path, env))
    assert line.startswith(f"error: {path}: aliases.x: {TOO_DEEP}"), line
    assert line.endswith("(set by $MONITOR_ALIASES__X)")
    line = one_error(check(path, {"MONITOR_ALIASES__X": "{" + ".".join("a" * 200) + " = 1}"}))
    assert "a dotted key of more than 64 parts" in line and "$MONITOR_ALIASES__X" in line


# --- NUL, control characters --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[state]\npath = "state\\u0000x"\n', "line 9, state.path"),
        ('[seeds]\npath = "\\u0000"\n', "line 9, seeds.path"),
        ('path = "digests\\u0000/x"\n', "line 7, channels.out.path"),
    ],
)
def test_nul_in_a_path(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, MINIMAL + "\n" + text if text.startswith("[") else MINIMAL + text)
    assert issues(path) == [f"{key}: contains a NUL character; remove it"]


def test_nul_in_a_secret_name_is_one_line_from_check(tmp_path: Path) -> None:
    # os.environ.get("A\0B") raises: check used to end in a traceback.
    text = MINIMAL + '[web]\nhost = "0.0.0.0"\ntoken_env = "TOKEN\\u0000X"\n'
    path = write(tmp_path, text)
    assert one_error(check(path)) == (
        f"error: {path}: line 9, web.token_env: contains a NUL character; remove it"
    )


def test_nul_in_a_key_is_shown_escaped(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '\n[http]\n"a\\u0000b" = 1\n')
    line = one_error(check(path))
    assert line == f"error: {path}: line 8, http.a\\x00b: contains a NUL character; remove it"


@pytest.mark.parametrize("folder", ["state\\nx", "a\\tb", "\\u0085"])
def test_control_characters_in_a_state_folder(tmp_path: Path, folder: str) -> None:
    path = write(tmp_path, MINIMAL + f'\n[state]\npath = "{folder}"\n')
    [issue] = issues(path)
    assert issue.startswith("line 9, state.path: ") and "not a usable folder name" in issue


# --- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "+nan"])
@pytest.mark.parametrize(
    ("table", "key"),
    [
        ("http", "per_host_delay"),
        ("http", "connect_timeout"),
        ("http", "max_body_bytes"),
        ("topics.t", "threshold"),
        ("channels.out", "min_score"),
        ("web", "port"),
        ("state", "retention_days"),
    ],
)
def test_inf_and_nan_in_numbers(tmp_path: Path, table: str, key: str, value: str) -> None:
    text = MINIMAL.replace(f"[{table}]\n", f"[{table}]\n{key} = {value}\n")
    if f"{key} = " not in text:
        text += f"\n[{table}]\n{key} = {value}\n"
    [issue] = issues(write(tmp_path, text))
    assert issue.endswith(f"{table}.{key}: must be a finite number (inf and nan are not allowed)")
    assert issue.startswith("line ")


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", '"9999999999999999999999d"'])
@pytest.mark.parametrize(
    "key", ["poll.tick_seconds", "poll.grace_period", "seeds.interval", "sources[0].interval"]
)
def test_inf_nan_and_huge_durations(tmp_path: Path, key: str, value: str) -> None:
    if key.startswith("sources"):
        text = (
            MINIMAL
            + f'\n[[sources]]\nurl = "https://a.example/"\nkind = "feed"\ninterval = {value}\n'
        )
    else:
        table, name = key.split(".")
        text = MINIMAL + f"\n[{table}]\n{name} = {value}\n"
    [issue] = issues(write(tmp_path, text))
    assert f", {key}: " in issue and issue.startswith("line ")
    assert "expected a duration such as 30m" in issue or "at most 36500d" in issue


def test_durations_that_overflow_dates_are_refused(tmp_path: Path) -> None:
    # now - timedelta(seconds=grace_period) raised OverflowError in the daemon.
    path = write(
        tmp_path, MINIMAL + "give_up_after = 99999999999999\n[state]\nretention_days = 10000000\n"
    )
    assert issues(path) == [
        "line 9, state.retention_days: Input should be less than or equal to 36500",
        "line 7, channels.out.give_up_after: a duration must be at most 36500d",
    ]


def test_inf_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    line = one_error(check(path, {"MONITOR_HTTP__PER_HOST_DELAY": "inf"}))
    assert line == (
        f"error: {path}: http.per_host_delay: must be a finite number (inf and nan are not "
        "allowed) (set by $MONITOR_HTTP__PER_HOST_DELAY)"
    )
    line = one_error(check(path, {"MONITOR_POLL__TICK_SECONDS": "nan"}))
    assert (
        "poll.tick_seconds: expected a duration" in line and "$MONITOR_POLL__TICK_SECONDS" in line
    )


# --- the file itself ----------------------------------------------------------------------------


def test_a_fifo_as_the_config_file(tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    line = one_error(check(fifo, timeout=30))  # used to wait for a writer for ever
    assert line == (
        f"error: {fifo}: (file): is not a regular file; give the path of the config file itself"
    )


def test_a_directory_as_the_config_file(tmp_path: Path) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()
    assert one_error(check(folder)) == (
        f"error: {folder}: (file): is a directory; give the path of the config file itself"
    )


def test_a_device_as_the_config_file(tmp_path: Path) -> None:
    assert issues(Path("/dev/zero")) == [
        "(file): is not a regular file; give the path of the config file itself"
    ]


def test_a_fifo_as_a_secret_file(tmp_path: Path) -> None:
    fifo = tmp_path / "token"
    os.mkfifo(fifo)
    path = write(tmp_path, MINIMAL + '[web]\nhost = "0.0.0.0"\ntoken_env = "WEB_TOKEN"\n')
    line = one_error(check(path, {"WEB_TOKEN_FILE": str(fifo)}, timeout=30))
    assert line == (
        f"error: web.token_env: WEB_TOKEN_FILE names {fifo}, which is not a "
        "regular file; give the path of the secret file itself"
    )


def test_config_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(MINIMAL.encode() + b"\n# caf\xe9\n")
    at = len(MINIMAL.encode()) + len(b"\n# caf")
    assert issues(path) == [f"(file): is not UTF-8 text (invalid continuation byte at byte {at})"]


# --- header injection ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["user_agent", "contact"])
@pytest.mark.parametrize(
    "value",
    ["monitor\\r\\nX-Injected: 1", "monitor\\nX: 1", "a\\tb", "a\\u0000b", "Überwachung/1.0"],
)
def test_control_characters_in_http_headers(tmp_path: Path, key: str, value: str) -> None:
    path = write(tmp_path, MINIMAL + f'\n[http]\n{key} = "{value}"\n')
    line = one_error(check(path))
    assert line.startswith(f"error: {path}: line 9, http.{key}: "), line


def test_crlf_in_the_user_agent_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    line = one_error(check(path, {"MONITOR_HTTP__USER_AGENT": "monitor\r\nX-Injected: 1"}))
    assert line == (
        f"error: {path}: http.user_agent: 'monitor\\r\\nX-Injected: 1' must be printable ASCII, "
        "without control characters such as CR, LF or tab (it is sent in an HTTP header); write "
        "a domain in punycode (set by $MONITOR_HTTP__USER_AGENT)"
    )


def test_nul_from_the_environment_in_toml_values(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    env = {"MONITOR_CHANNELS__OUT": '{kind = "file", path = "d\\u0000"}'}
    assert one_error(check(path, env)) == (
        f"error: {path}: channels.out.path: contains a NUL character; remove it "
        "(set by $MONITOR_CHANNELS__OUT)"
    )


def test_a_plain_ascii_user_agent_is_sent_as_before(tmp_path: Path) -> None:
    path = write(
        tmp_path, MINIMAL + '\n[http]\nuser_agent = "mon/1 (x; y)"\ncontact = "ops@a.example"\n'
    )
    assert wiring.load(path).http.user_agent_header == "mon/1 (x; y) (+ops@a.example)"


# --- permissions --------------------------------------------------------------------------------


def test_a_world_writable_secret_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = write(tmp_path, "s3cret\n", "secret")
    secret.chmod(0o646)
    monkeypatch.setenv("MY_SECRET_FILE", str(secret))
    with pytest.raises(ConfigError, match=r"writable by other users; run: chmod o-w"):
        secret_from_env("MY_SECRET", "channels.x.password_env")


def test_a_group_writable_config_is_named_in_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    path.chmod(0o664)
    run = check(path)
    assert run.returncode == 0, run.stderr
    [warning] = run.stderr.splitlines()
    assert f"config file {path} is writable by its group; run: chmod g-w {path}" in warning
    assert '"level": "warning"' in warning


def test_a_group_writable_secret_file_is_named_in_a_warning(tmp_path: Path) -> None:
    secret = write(tmp_path, "token\n", "token")
    secret.chmod(0o660)
    path = write(tmp_path, MINIMAL + '[web]\nhost = "0.0.0.0"\ntoken_env = "WEB_TOKEN"\n')
    run = check(path, {"WEB_TOKEN_FILE": str(secret)})
    assert run.returncode == 0, run.stderr
    [warning] = run.stderr.splitlines()
    assert f"secret file {secret} is writable by its group; run: chmod g-w {secret}" in warning


def test_the_group_warning_is_logged_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, MINIMAL)
    path.chmod(0o620)
    secret = write(tmp_path, "s3cret", "secret")
    secret.chmod(0o660)
    monkeypatch.setenv("MY_SECRET_FILE", str(secret))
    with caplog.at_level(logging.WARNING, logger="monitor.config"):
        for _ in range(3):
            wiring.load(path)
            assert secret_from_env("MY_SECRET", "channels.x.password_env") == "s3cret"
    assert [r.getMessage() for r in caplog.records] == [
        f"config file {path} is writable by its group; run: chmod g-w {path}",
        f"secret file {secret} is writable by its group; run: chmod g-w {secret}",
    ]


def test_a_url_whose_normal_form_is_too_long_is_one_line(tmp_path: Path) -> None:
    # Percent-encoding triples a non-ASCII path: under the length limit as written, over it
    # once normalised. Normalising must be idempotent (`load_sources` normalises the config's
    # normal form again, and marks it `known_normal` when it is its own), so the limit holds
    # for the normal form too: the config refuses it, where `check` and `once` crashed.
    url = "https://news.example.org/" + "é" * 3000
    source = f'\n[[sources]]\nname = "long"\nkind = "page"\nurl = "{url}"\n'
    path = write(tmp_path, MINIMAL + source)
    line = one_error(check(path))
    assert "sources[0].url" in line and "longer than 8192 characters" in line
