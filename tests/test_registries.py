"""The channel and source-kind registries: every kind is one module following its protocol, the
config learns the kinds from the registries, reading the config loads no sending or extracting
code, and docs/adding-a-channel.md's worked example really is one module, one registry line and
its test file."""

from __future__ import annotations

import inspect
import re
import shutil
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from monitor.channels import CHANNELS, ChannelConfig
from monitor.config import Config, ConfigError, SourceConfig, load_config
from monitor.models import Source
from monitor.source_kinds import SOURCE_KINDS
from tests.conftest import REPO

DOC = REPO / "docs" / "adding-a-channel.md"


def union_members(annotation: object) -> set[type]:
    """The models of a (possibly Annotated) union of channel models."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return set(typing.get_args(annotation))


def test_every_channel_kind_is_one_module_following_the_protocol() -> None:
    assert list(CHANNELS) == ["file", "email", "webhook"]
    for kind, module in CHANNELS.items():
        assert kind == module.KIND
        assert issubclass(module.Config, ChannelConfig)
        assert typing.get_args(module.Config.model_fields["kind"].annotation) == (kind,)
        assert inspect.iscoroutinefunction(module.send)
        assert callable(module.payload_builder)
        assert isinstance(module.PAYLOAD_ONLY, bool)


def test_the_config_builds_its_channels_from_the_registry() -> None:
    channels = Config.model_fields["channels"].annotation
    value = typing.get_args(channels)[1]  # dict[str, <union>]
    assert union_members(value) == {m.Config for m in CHANNELS.values()}


def test_the_config_names_the_registered_kinds(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[sources]]\nurl = "https://a.example/"\nkind = "blog"\n\n[channels.x]\nkind = "sms"\n'
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    lines = str(err.value).splitlines()
    assert lines == [
        f"{path}: line 3, sources[0].kind: Input should be 'feed' or 'page'",
        f"{path}: line 5, channels.x: kind must be one of: file, email, webhook",
    ]


def test_every_source_kind_is_one_module_saying_what_differs() -> None:
    assert list(SOURCE_KINDS) == ["feed", "page"]
    assert typing.get_args(SourceConfig.model_fields["kind"].annotation) == ("feed", "page")
    # The type checker's copy of the list (models.Source.kind) agrees with the registry.
    assert typing.get_args(typing.get_type_hints(Source)["kind"]) == tuple(SOURCE_KINDS)
    feed, page = SOURCE_KINDS["feed"], SOURCE_KINDS["page"]
    # What differed in if-chains before: robots.txt, snapshots and follow_links.
    assert (feed.ROBOTS, feed.SNAPSHOTS, feed.FOLLOWS_LINKS) == (False, False, True)
    assert (page.ROBOTS, page.SNAPSHOTS, page.FOLLOWS_LINKS) == (True, True, False)
    assert "application/rss+xml" in feed.ACCEPT and page.ACCEPT.startswith("text/html")


def test_each_kind_extracts_its_own_bytes() -> None:
    from monitor.source_kinds import extract_document

    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>Entry one</title><link>https://a.example/1</link>"
        b"<description>The first entry of the feed.</description></item></channel></rss>"
    )
    html = (
        b"<html><head><title>Page</title></head><body><article><p>"
        + b"A paragraph long enough to count as the main text of this page. " * 3
        + b"</p></article></body></html>"
    )
    feed = extract_document("feed", rss, "https://a.example/rss", "application/rss+xml", 50, ())
    page = extract_document("page", html, "https://a.example/p", "text/html", 50, ())
    assert (feed.kind, [p.title for p in feed.passages]) == ("feed", ["Entry one"])
    assert page.kind == "page" and page.passages
    assert all(p.link == "https://a.example/p" for p in page.passages)  # the page's own link


def test_reading_the_config_loads_no_sending_or_extracting_code() -> None:
    """The registries are imported by the config: their modules keep senders and extractors
    out of their imports, so `monitor check` and the CLI stay light."""
    code = (
        "import sys\n"
        "from monitor.config import load_config\n"
        f"load_config({str(REPO / 'config.toml')!r})\n"
        "heavy = ('aiosmtplib', 'jinja2', 'css_inline', 'feedparser', 'trafilatura',\n"
        "         'monitor.notify', 'monitor.digest', 'monitor.extract')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]", out.stdout


def doc_blocks() -> tuple[str, str]:
    """The worked example's module and test file, from the doc's text."""
    text = DOC.read_text()

    def block(marker: str) -> str:
        m = re.search(rf"<!-- {re.escape(marker)} -->\n```python\n(.*?)```", text, re.S)
        assert m, f"{DOC.name} has no code block after <!-- {marker} -->"
        return m.group(1)

    return block("file: monitor/channels/ntfy.py"), block("file: tests/test_channel_ntfy.py")


def test_the_documented_channel_is_one_module_and_its_tests(tmp_path: Path) -> None:
    """Follow docs/adding-a-channel.md in a copy of the tree: add the module, nothing else, and
    the doc's own test file passes (the config accepts the kind, deliver sends it)."""
    module, test_file = doc_blocks()
    tree = tmp_path / "tree"
    shutil.copytree(
        REPO / "monitor", tree / "monitor", ignore=shutil.ignore_patterns("__pycache__")
    )
    (tree / "tests").mkdir()
    for name in ("__init__.py", "conftest.py", "hostile_server.py"):
        shutil.copy(REPO / "tests" / name, tree / "tests" / name)
    shutil.copy(REPO / "pyproject.toml", tree / "pyproject.toml")
    (tree / "monitor" / "channels" / "ntfy.py").write_text(module)
    (tree / "tests" / "test_channel_ntfy.py").write_text(test_file)

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "tests/test_channel_ntfy.py",
        ],
        capture_output=True,
        text=True,
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": ""},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "3 passed" in run.stdout
    # And the new kind is named where a wrong kind is reported.
    check = tree / "bad.toml"
    check.write_text('[channels.x]\nkind = "sms"\n')
    check.chmod(0o644)
    out = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(check), "check"],
        capture_output=True,
        text=True,
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": ""},
    )
    assert "kind must be one of: file, email, webhook, ntfy" in out.stdout + out.stderr


def _imports(path: Path) -> set[str]:
    """The monitor modules a file imports, at its top or inside functions (imports only for
    the type checker excluded), with the packages whose __init__ each import runs."""
    import ast

    tree = ast.parse(path.read_text())
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("monitor"):
            found |= {node.module or ""} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("monitor")}
    for name in list(found):
        parts = name.split(".")
        found |= {".".join(parts[:i]) for i in range(2, len(parts))}
    return found


def test_no_import_cycle_runs_through_the_registries() -> None:
    """The config imports the registries; a sender or extractor a kind module loads when it
    runs must never lead back to them (or to the config), even through a function's import."""
    modules: dict[str, Path] = {}
    for path in (REPO / "monitor").rglob("*.py"):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {m: {t for t in _imports(p) if t in modules and t != m} for m, p in modules.items()}
    for start in ("monitor.channels", "monitor.source_kinds"):
        kind_modules = {m for m in modules if m == start or m.startswith(start + ".")}
        seen: set[str] = set()
        todo = [t for m in kind_modules for t in graph[m] if t not in kind_modules]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            assert name not in kind_modules and name != "monitor.config", (
                f"{name} is reached from {start} and imports it back"
            )
            todo.extend(graph[name] - kind_modules if name not in kind_modules else ())
            back = graph[name] & kind_modules
            assert not back, f"{start} reaches {name}, which imports {sorted(back)}"
