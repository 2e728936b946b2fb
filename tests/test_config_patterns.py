"""Regular expressions from the config run in linear time (RE2), keep their Python meaning, and
those RE2 cannot run are refused by `monitor check` in one line."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

import pytest

from monitor import wiring
from monitor.config import ConfigError
from monitor.patterns import PatternRefused, compile_pattern

MINIMAL = """
[topics.t]
query = "sanction*"

[channels.out]
kind = "file"
"""

SOURCE = """
[[sources]]
url = "https://news.example/"
kind = "page"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(path), "check"],
        capture_output=True,
        text=True,
        cwd=path.parent,
        timeout=120,
    )


def run_python(code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter; a backtracking engine would not finish in ``timeout``."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_ignore_patterns_are_compiled_by_re2() -> None:
    compiled = compile_pattern(r"(a+)+$")
    assert type(compiled).__module__.split(".")[0] == "re2"


def test_a_catastrophic_ignore_pattern_on_hostile_text_completes() -> None:
    # (a+)+$ against a run of "a" that does not end the text: Python's re tries every way of
    # splitting the run (2**n); 40 letters already take minutes. Here the run is 1 MB long.
    run = run_python(
        """
        from monitor.source_kinds import extract_document

        body = ("Kopf\\n\\n" + "a" * 1_000_000 + "!\\n\\nEnde des Textes hier.\\n").encode()
        ignore = ("(a+)+$", "Ende ")
        doc = extract_document("page", body, "https://a.example/", "text/plain", 10, ignore)
        print([len(p.text) for p in doc.passages], doc.passages[-1].text)
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[4, 1000001, 16] des Textes hier."


def test_topic_wildcards_do_not_backtrack() -> None:
    # A query's wildcards become a regex too: seven stars against a long word took minutes.
    run = run_python(
        """
        from monitor.config import TopicConfig
        from monitor.topics import compile_topics

        matcher = compile_topics({"t": TopicConfig(query="aaa*a*a*a*a*a*a*b")}, {})
        print(len(matcher.match("a" * 20_000 + " Ende", language="en")))
        print(len(matcher.match("a" * 20_000 + "b Ende", language="en")))
        """
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["0", "1"]


GERMAN = (
    "Größe\u00a0über 12. März 2024 — Werbung: ANZEIGE [x] ab_c\u2009x ٣ Zuletzt aktualisiert:"
    " 03.12.2026, 07:15 Uhr\n\nTeilen: E-Mail · Facebook ä"
)


@pytest.mark.parametrize(
    "pattern",
    [
        r"\w+",
        r"\W+",
        r"\s+",
        r"\S+",
        r"\d+",
        r"\D+",
        r"[\w.]+",
        r"[^\w\s]",
        r"[\d\s]+",
        r"[\D]+",
        r"(?i)werbung",
        r"Zuletzt aktualisiert: \d{1,2}\.\d{1,2}\.\d{4}, \d\d:\d\d Uhr",
        r"\d{1,2}\. \w+ \d{4}",
        r"Teilen:.*",
        r"(?s)Teilen:.*",
        r"(?m)^Teilen",
        r"[]x]",
        r"[^]x]+",
        r"[[:alpha:]]",
        r"ä\Z",
        r"\u00e4",
        r"\N{EM DASH}",
        r"a{,2}b",
        r"[\b]",
        r"(?P<word>\w)",
        r"\bANZEIGE\b",
        r"E-Mail|Facebook",
    ],
)
@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")  # [[:alpha:]]
def test_patterns_keep_their_python_meaning(pattern: str) -> None:
    assert compile_pattern(pattern).sub("|", GERMAN) == re.sub(pattern, "|", GERMAN)


def test_unicode_shorthands_are_pythons() -> None:
    # \d, \w, \s mean what they mean in Python for every character Python's Unicode tables
    # know (RE2 alone reads them as ASCII).
    known = "".join(
        chr(c)
        for c in range(sys.maxunicode + 1)
        if unicodedata.category(chr(c)) not in {"Cn", "Cs"}
    )
    for short in ("d", "w", "s"):
        python = set(re.findall(rf"\{short}", known))
        assert set(compile_pattern(rf"\{short}").sub("", known)) == set(known) - python, short


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        (r"(\w+) \1", "backreferences"),
        (r"(?P<x>a)(?P=x)", "backreferences"),
        (r"Anzeige(?= )", "lookahead"),
        (r"(?<!Keine )Werbung", "lookbehind"),
        (r"(?>a+)b", "atomic groups"),
        (r"a++", "possessive"),
        (r"(?x) a b", "inline flag"),
        (r"a{1001}", "above 1000"),
        (r"[\W_]", r"\W inside [...]"),
        (r"(unclosed", "missing )"),
    ],
)
def test_patterns_re2_cannot_run_are_refused(tmp_path: Path, pattern: str, why: str) -> None:
    with pytest.raises(PatternRefused, match=re.escape(why)):
        compile_pattern(pattern)
    with pytest.raises(ConfigError) as info:
        wiring.load(write(tmp_path, MINIMAL + SOURCE + f"ignore = ['ok', '{pattern}']\n"))
    [issue] = [str(i) for i in info.value.issues]
    assert issue.startswith("line 11, sources[0].ignore[1]: "), issue
    assert f"{pattern!r} (source https://news.example/) cannot be used: " in issue
    assert why in issue


def test_check_refuses_a_backreference_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + SOURCE + "ignore = ['Anzeige', '(\\w+) \\1']\n")
    run = check(path)
    assert run.returncode == 2, run.stdout
    assert run.stderr.splitlines() == [
        f"error: {path}: line 11, sources[0].ignore[1]: '(\\\\w+) \\\\1' (source "
        "https://news.example/) cannot be used: backreferences (\\1, (?P=name)) are not "
        "supported: RE2, which matches in linear time, cannot run it; remove it"
    ]


def test_check_accepts_a_catastrophic_pattern_re2_runs(tmp_path: Path) -> None:
    run = check(write(tmp_path, MINIMAL + SOURCE + "ignore = ['(a+)+$', '\\d+ Kommentare']\n"))
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # RE2 logs nothing of its own


def test_a_refused_pattern_set_from_the_environment_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_SOURCES__0__IGNORE", "['(a)\\1']")
    with pytest.raises(ConfigError) as info:
        wiring.load(write(tmp_path, MINIMAL + SOURCE))
    [issue] = [str(i) for i in info.value.issues]
    assert issue.startswith("sources[0].ignore[0]: '(a)\\\\1' (source https://news.example/)")
    assert issue.endswith("(set by $MONITOR_SOURCES__0__IGNORE)")
