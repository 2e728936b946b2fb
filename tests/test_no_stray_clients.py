"""Only `monitor/fetch/` may open outbound HTTP or socket connections (peers.md §1.3 #26, §6.2).

A side path that builds its own client skips the SSRF gate; changedetection.io had two such
advisories. This test reads the source (it imports nothing) and lists every place outside
`monitor/fetch/` that imports an HTTP client library or calls a socket-connecting API.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "monitor"
FETCH = PACKAGE / "fetch"

# Importing any of these (or a submodule) means talking HTTP without the gate.
CLIENT_MODULES = {
    "httpx", "httpcore", "requests", "aiohttp", "urllib3", "urllib.request", "http.client",
    "pycurl", "httplib2", "treq", "websockets", "websocket", "grequests", "niquests",
}  # fmt: skip
# aiohttp is also a server; `from aiohttp import web` (and aiohttp.web*) serves /healthz and is
# fine, while `import aiohttp` or its client names are not.
SERVER_PARTS = ("aiohttp.web",)
# module -> names in it that open a connection (as `module.name` or `from module import name`)
CONNECT_NAMES = {
    "socket": {"socket", "create_connection", "socketpair", "fromfd"},
    "asyncio": {"open_connection", "open_unix_connection"},
    "urllib": {"request"},
    "http": {"client"},
}
# Method names that connect whatever object they are called on (loop.create_connection, ...).
CONNECT_METHODS = {
    "create_connection", "create_unix_connection", "sock_connect", "connect_ex",
    "open_connection", "open_unix_connection", "urlopen", "urlretrieve",
}  # fmt: skip


# Names of client libraries that only parse, never connect: the gate judges a URL with the
# parser the fetcher will use (`from httpx import URL`).
PARSERS = {"httpx.URL", "httpx.InvalidURL"}


def _forbidden_module(name: str) -> bool:
    if name.startswith(SERVER_PARTS):
        return False
    return any(name == m or name.startswith(m + ".") for m in CLIENT_MODULES)


def stray_calls(source: str, filename: str = "<source>") -> list[str]:
    """Every outbound-connection API used in `source`, as "file:line: what"."""
    tree = ast.parse(source, filename)
    found: list[str] = []
    aliases: dict[str, str] = {}  # local name -> module it stands for

    def hit(node: ast.AST, what: str) -> None:
        found.append(f"{filename}:{getattr(node, 'lineno', 0)}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                aliases[alias.asname or top] = alias.name
                # `import aiohttp.web` binds the name `aiohttp`, client and all
                if _forbidden_module(alias.name) or _forbidden_module(top):
                    hit(node, f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                if dotted in PARSERS:
                    continue
                if _forbidden_module(dotted) or alias.name in CONNECT_NAMES.get(node.module, ()):
                    hit(node, f"from {node.module} import {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = aliases.get(node.value.id)
            if module is not None and node.attr in CONNECT_NAMES.get(module, ()):
                hit(node, f"{module}.{node.attr}")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in CONNECT_METHODS:
                hit(node, f".{func.attr}()")
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in ("__import__", "import_module") and node.args:
                arg = node.args[0]
                literal = arg.value if isinstance(arg, ast.Constant) else None
                if isinstance(literal, str) and _forbidden_module(literal):
                    hit(node, f"{name}({literal!r})")
    return found


def _sources(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


# The one exception, and why: the container's probe asks the daemon's own /healthz, at the
# address and port the config binds it to; no URL from a document or a feed ever reaches it.
OWN_SERVER_PROBES = {PACKAGE / "healthcheck.py"}


def test_only_the_fetch_package_opens_connections() -> None:
    files = [
        p for p in _sources(PACKAGE) if FETCH not in p.parents and p not in OWN_SERVER_PROBES
    ]
    assert len(files) >= 5, "the scan found too few modules to mean anything"
    stray: list[str] = []
    for path in files:
        stray += stray_calls(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    assert stray == [], "outbound connections outside monitor/fetch/:\n" + "\n".join(stray)


def test_fetch_clients_ignore_the_environment_and_redirects() -> None:
    """Every httpx client or transport, and every aiohttp client session, in monitor/fetch/ is
    built with trust_env=False, and nothing in monitor/ lets httpx follow redirects (that would
    skip the per-hop gate)."""
    built = 0
    for path in _sources(PACKAGE):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            follow = keywords.get("follow_redirects")
            assert not (isinstance(follow, ast.Constant) and follow.value is True), (
                f"{path}:{node.lineno} sets follow_redirects=True"
            )
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in ("AsyncClient", "Client", "AsyncHTTPTransport", "HTTPTransport",
                        "ClientSession"):  # fmt: skip
                built += 1
                trust = keywords.get("trust_env")
                assert isinstance(trust, ast.Constant) and trust.value is False, (
                    f"{path}:{node.lineno}: {name}(...) without trust_env=False"
                )
    assert built >= 2  # the httpx client (client.py) and the aiohttp session (transport.py)


@pytest.mark.parametrize(
    "snippet",
    [
        "import httpx\nhttpx.get('http://x/')",
        "import requests",
        "import aiohttp",
        "import aiohttp.web",
        "from aiohttp import ClientSession",
        "from aiohttp.client import request",
        "import urllib.request",
        "from urllib import request",
        "from urllib.request import urlopen",
        "import http.client as hc",
        "from http import client",
        "from httpx import AsyncClient",
        "from httpx import URL, AsyncClient",
        "import httpcore",
        "import socket\nsocket.create_connection(('10.0.0.1', 80))",
        "import socket as s\nsock = s.socket()",
        "from socket import create_connection",
        "import asyncio\nasyncio.open_connection('127.0.0.1', 6379)",
        "from asyncio import open_connection",
        "loop.create_connection(factory, '127.0.0.1', 80)",
        "await loop.sock_connect(sock, ('169.254.169.254', 80))",
        "importlib.import_module('requests')",
        "__import__('urllib.request')",
        "opener.urlopen('file:///etc/passwd')",
    ],
)
def test_scanner_catches(snippet: str) -> None:
    assert stray_calls(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        "import socket\nexcept_types = (socket.gaierror, socket.timeout)",
        "from http import HTTPStatus",
        "import urllib.parse",
        "from urllib.parse import urljoin",
        "engine.connect()",
        "import asyncio\nawait asyncio.start_server(handler, '127.0.0.1', 0)",
        "from monitor.fetch import Fetcher",
        "from aiohttp import web",
        "from aiohttp.web import Application",
        "from httpx import URL, InvalidURL",
    ],
)
def test_scanner_allows(snippet: str) -> None:
    assert stray_calls(snippet) == []
