"""The library internals monitor/adapters/ relies on are still there and still behave as the
adapters assume. Each test here fails when a release of the library changes under its adapter
(the version bounds in pyproject.toml keep such a release from arriving unseen)."""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import json
import marshal
import re
import subprocess
import sys
import tomllib
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web
from lxml import etree

from monitor.adapters import feedparser_internals as fp
from monitor.adapters import luqum_ply as lq
from monitor.adapters import simplemma_internals as sm
from monitor.adapters import trafilatura_internals as tf
from monitor.fetch import aiohttp_internals as aio
from tests.conftest import REPO

# --- aiohttp -------------------------------------------------------------------------------


@pytest.fixture
async def server_url() -> AsyncIterator[str]:
    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


async def test_aiohttp_connector_builds_protocols_with_its_factory() -> None:
    plain = aiohttp.TCPConnector()
    try:
        assert isinstance(plain._factory, functools.partial)
        assert plain._factory.func is aio.ResponseHandler
    finally:
        await plain.close()
    bounded = aio.BoundedConnector(max_idle=1, max_header_bytes=1000, too_large=OverflowError)
    try:
        protocol = bounded._factory()
        assert isinstance(protocol, aio.CountingHandler)
        assert isinstance(protocol, aio.ResponseHandler)
    finally:
        await bounded.close()


def test_aiohttp_internals_have_the_signatures_the_adapter_overrides() -> None:
    release = inspect.signature(aiohttp.TCPConnector._release).parameters
    assert list(release)[:3] == ["self", "key", "protocol"]
    assert release["should_close"].kind is inspect.Parameter.KEYWORD_ONLY
    handler = aio.ResponseHandler
    assert list(inspect.signature(handler.__init__).parameters) == ["self", "loop"]
    for name in ("set_response_params", "data_received", "set_exception"):
        assert callable(getattr(handler, name)), name
    assert issubclass(aio.LineTooLong, Exception)


async def test_aiohttp_idle_queues_hold_protocol_and_time(server_url: str) -> None:
    connector = aio.BoundedConnector(
        max_idle=4, max_header_bytes=64 * 1024, too_large=OverflowError
    )
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.get(server_url) as response:
            assert await response.text() == "hello"
        queues = connector._conns
        assert isinstance(queues, dict) and len(queues) == 1
        (queue,) = queues.values()
        assert isinstance(queue, deque) and len(queue) == 1
        protocol, since = queue[0]
        assert isinstance(protocol, aio.CountingHandler)
        assert isinstance(since, float)
        assert connector.idle_connections == 1


# --- feedparser ----------------------------------------------------------------------------


def test_feedparser_value_pipeline() -> None:
    when = fp.parse_date("Tue, 10 Jun 2003 04:00:00 GMT")
    assert tuple(when[:6]) == (2003, 6, 10, 4, 0, 0)
    assert fp.sanitize_html("<p onclick='x'>a<script>b</script></p>", "utf-8", "text/html") == (
        "<p>a</p>"
    )
    assert fp.urljoin("http://a.example/b/", "c") == "http://a.example/b/c"
    assert fp.make_safe_absolute_uri("http://a.example/", "javascript:alert(1)") == ""
    resolved = fp.resolve_relative_uris(
        '<a href="x">y</a>', "http://a.example/b/", "utf-8", "text/html"
    )
    assert 'href="http://a.example/b/x"' in resolved
    assert "\x80".translate(fp.CP1252) == "€"
    assert fp.NAMESPACES["http://purl.org/dc/elements/1.1/"] == "dc"
    assert fp.looks_like_html("<b>x</b>") and not fp.looks_like_html("a < b")
    assert fp.has_handler("title") and fp.has_handler("guid") and not fp.has_handler("nonsense")


# --- simplemma -----------------------------------------------------------------------------


def test_simplemma_low_memory_store_is_read_off_its_stream() -> None:
    from simplemma.strategies.dictionaries import LOW_MEMORY_DICTIONARY_FACTORY

    for language in ("de", "en"):
        mapping = LOW_MEMORY_DICTIONARY_FACTORY.get_dictionary(language)
        # The fast read applies (not the slower public fallback)...
        assert sm.stream_parts(mapping) is not None, language
        # ...and gives the pairs the public mapping holds.
        checked = 0
        for form, lemma in sm.dictionary_pairs(mapping):
            if checked % 997 == 0:
                assert mapping[form.decode()] == lemma.decode(), (language, form)
            checked += 1
            if checked > 20_000:
                break
        assert checked > 20_000


def test_a_packed_simplemma_dictionary_answers_as_the_built_one() -> None:
    from simplemma.strategies.dictionaries import LOW_MEMORY_DICTIONARY_FACTORY

    for language in ("de", "en"):
        built = LOW_MEMORY_DICTIONARY_FACTORY.get_dictionary(language)
        packed = sm.pack_dictionary(built)
        assert packed is not None, language  # the layout is still the one packed
        loaded = sm.unpack_dictionary(packed)
        assert loaded is not None and len(loaded) == len(built)
        forms = [form.decode() for form, _ in sm.dictionary_pairs(built)]
        # Every block's first and last form, forms around them, and words it does not hold.
        probes = forms[::997] + forms[31::32][:3000] + forms[32::32][:3000]
        probes += [f + "x" for f in forms[::4999]] + ["", "\uffff", "a", "Soldaten", "troops"]
        for word in probes:
            assert loaded.get(word) == built.get(word), (language, word)
        assert list(sm.dictionary_pairs(loaded))[::4999] == list(sm.dictionary_pairs(built))[::4999]
    assert sm.unpack_dictionary(b"not marshal") is None
    assert sm.unpack_dictionary(marshal.dumps(("other", 1))) is None


RULES_SCRIPT = """
import json, sys
{first}
from simplemma.strategies.defaultrules import RULE_FUNCTIONS
loaded = sorted(n.rsplit(".", 1)[1] for n, m in sys.modules.items()
                if n.startswith("simplemma.strategies.defaultrules.") and hasattr(m, "__file__"))
words = ["kaupungeissa", "ciudadanos", "hablando", "rozhodnutiami", "книгами", "Häuserchen",
         "running", "vaikuttaneiden", "cidadezinhas", "studenterna", "beslissingen", "acasele"]
out = {{lang: [fn(w) for w in words] for lang, fn in sorted(RULE_FUNCTIONS.items())}}
print(json.dumps({{"loaded": loaded, "lemmas": out}}))
"""


def rules_run(first: str) -> dict[str, Any]:
    script = RULES_SCRIPT.format(first=first)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    return cast(dict[str, Any], json.loads(run.stdout))


def test_simplemma_loads_the_rules_of_other_languages_only_when_used() -> None:
    # A fresh process each: the rule modules are put off only before simplemma is imported.
    plain = rules_run("import simplemma")
    ours = rules_run("import monitor.topics.dictionaries")
    assert len(plain["loaded"]) > 10  # simplemma alone loads every language's rules
    assert ours["loaded"] == ["de", "en"]
    assert ours["lemmas"] == plain["lemmas"]  # the same rules once they are called


# --- luqum and PLY -------------------------------------------------------------------------


def test_luqum_parses_text_and_token_streams() -> None:
    from luqum import tree
    from luqum.exceptions import ParseError

    assert isinstance(lq.parse_text("a AND b"), tree.AndOperation)
    lexer = lq.new_lexer()
    lexer.input("a b")
    toks, spans = [], []
    while (tok := lexer.token()) is not None:
        toks.append(tok)
        spans.append((tok.lexpos, lexer.lexpos))  # a token's start and end, as query.py reads
    assert [t.type for t in toks] == ["TERM", "TERM"]
    assert spans == [(0, 1), (2, 3)]
    stream = [
        lq.make_token("TERM", "_near_5", 0),
        lq.make_token("COLUMN", ":", 0),
        lq.make_token("LPAREN", "(", 0),
        *toks,
        lq.make_token("RPAREN", ")", 3),
    ]
    parsed = lq.parse_tokens(stream)
    assert isinstance(parsed, tree.SearchField) and parsed.name == "_near_5"
    with pytest.raises(ParseError):
        lq.parse_text("a AND")
    assert {"TERM", "PHRASE", "LPAREN"} <= lq.expected_tokens()


# --- trafilatura ---------------------------------------------------------------------------


def test_trafilatura_is_the_release_the_fast_run_was_checked_against() -> None:
    release = tuple(int(p) for p in importlib.metadata.version("trafilatura").split(".")[:2])
    assert release == tf.CHECKED_RELEASE


def test_trafilatura_internals() -> None:
    options = tf.Extractor(output_format="txt", fast=True)
    assert isinstance(options.min_extracted_size, int) and options.min_extracted_size > 0
    options.url = options.source = "https://example.org/"
    assert isinstance(tf.SANITIZED_XPATH, str)
    etree.XPath(tf.SANITIZED_XPATH)
    assert {"body", "html"} == tf.FRAME_TAGS
    unlikely, maybe = tf.unlikely_patterns()
    assert unlikely.search("comment") and unlikely.search("footer")
    assert maybe.search("article") and not unlikely.search("story")
    for name in ("examine_meta", "extract_meta_json", "extract_title", "extract_author"):
        assert callable(getattr(tf.metadata, name)), name
    for name in ("extract_url", "extract_sitename"):
        assert callable(getattr(tf.metadata, name)), name
    assert tf.metadata.META_URL.match("https://example.org/a")[1] == "example.org"
    from trafilatura import load_html

    tree = load_html("<html><head><title>T</title></head><body><p>x</p></body></html>")
    found = tf.metadata.examine_meta(tree)
    for name in ("title", "author", "sitename", "url", "clean_and_trim"):
        assert hasattr(found, name), name


# --- all adapters --------------------------------------------------------------------------

# Adapter modules (in monitor/adapters/ but for aiohttp's, which is in monitor/fetch/, the one
# package that may hold an HTTP client) -> the distribution whose private parts each wraps.
_WRAPPED = {
    "feedparser_internals": "feedparser",
    "simplemma_internals": "simplemma",
    "luqum_ply": "luqum",
    "trafilatura_internals": "trafilatura",
}


def test_each_wrapped_library_has_an_upper_bound() -> None:
    requirements = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    adapters = {p.stem for p in (REPO / "monitor" / "adapters").glob("*.py")} - {"__init__"}
    assert adapters == set(_WRAPPED)
    for dist in [*_WRAPPED.values(), "aiohttp", "ply"]:
        (spec,) = [r for r in requirements if re.match(rf"{dist}\b", r)]
        assert "<" in spec, spec


def test_private_library_parts_are_used_only_in_adapters() -> None:
    """No module outside monitor/adapters/ imports a library's private name or one of the
    library modules the adapters wrap."""
    import ast

    wrapped_modules = (
        "aiohttp.client_proto", "aiohttp.http_exceptions", "feedparser.", "luqum.parser",
        "luqum.head_tail", "ply", "simplemma.strategies.dictionaries.frontcode",
        "trafilatura.external", "trafilatura.readability_lxml", "trafilatura.settings",
        "trafilatura.metadata",
    )  # fmt: skip
    bad = []
    for path in sorted((REPO / "monitor").rglob("*.py")):
        if path.parent.name == "adapters" or path.name == "aiohttp_internals.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                module = node.module
                if module.startswith("monitor") or module == "__future__":
                    continue
                names = [f"{module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                private = any(part.startswith("_") for part in name.split("."))
                if private or name.startswith(wrapped_modules):
                    bad.append(f"{path.relative_to(REPO)}:{node.lineno}: {name}")
    assert not bad, "\n".join(bad)
