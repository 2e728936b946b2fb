"""A local corpus for benchmarks: feeds and article pages with ETags and a set latency.

Serves on several loopback addresses (127.0.0.1 … 127.0.0.H) so per-host politeness limits behave
as they would across many sites. `POST /_bump?fraction=0.05` changes that share of documents.
Run alone: python benchmarks/corpus_server.py --docs 1000 --hosts 20 --port 18080
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import random
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from aiohttp import web

_VOCABULARY = (
    "Pjöngjang Moskau Truppen Soldaten Kursk Region Regierung Bericht Analyse Vertrag "
    "Sanktionen Lieferungen Munition Grenze Front Angriff Verteidigung Sicherheit Partner "
    "Allianz Europa troops soldiers deployment treaty sanctions region report analysis "
    "border front attack defence security partner alliance government minister statement "
    "intelligence estimate the and of to in for with on by from that this which were was has "
    "have said"
)
WORDS = _VOCABULARY.split()


def sentence(rng: random.Random, n: int = 18) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def page(doc: int, gen: int) -> bytes:
    rng = random.Random(doc * 7919)
    paras = [" ".join(sentence(rng) for _ in range(4)) for _ in range(85)]
    if gen:
        paras.insert(
            3, f"Update {gen}: " + " ".join(sentence(random.Random(gen * doc)) for _ in range(3))
        )
    nav = "".join(f"<li><a href='/section/{i}'>Section {i}</a></li>" for i in range(40))
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (
        f"<!doctype html><html lang='de'><head><title>Article {doc}</title></head><body>"
        f"<header><nav><ul>{nav}</ul></nav></header><main><article><h1>Article {doc}</h1>"
        f"{body}</article></main><footer>Impressum Datenschutz Kontakt</footer></body></html>"
    ).encode()


def feed(doc: int, gen: int) -> bytes:
    items = []
    for i in range(20):
        n = i + gen  # a bump shifts the window: one new entry per generation
        rng = random.Random(doc * 104729 + n)
        items.append(
            f"<item><guid>d{doc}-e{n}</guid><title>{sentence(rng, 8)}</title>"
            f"<link>https://news.example.org/{doc}/{n}</link>"
            f"<description>{sentence(rng)} {sentence(rng)}</description>"
            f"<pubDate>Fri, 20 Nov 2026 08:00:00 +0000</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {doc}</title><link>https://news.example.org/</link>{''.join(items)}"
        "</channel></rss>"
    ).encode()


class Corpus:
    def __init__(self, docs: int, latency: float) -> None:
        self.docs = docs
        self.latency = latency
        self.gen = [0] * docs
        self.cache: dict[tuple[int, int], tuple[bytes, str]] = {}
        self.requests = 0
        self.not_modified = 0

    def body(self, doc: int) -> tuple[bytes, str]:
        key = (doc, self.gen[doc])
        if key not in self.cache:
            data = feed(doc, key[1]) if doc % 2 == 0 else page(doc, key[1])
            self.cache[key] = (data, '"' + hashlib.sha1(data).hexdigest()[:16] + '"')
        return self.cache[key]

    async def serve(self, request: web.Request) -> web.Response:
        self.requests += 1
        await asyncio.sleep(self.latency)
        doc = int(request.match_info["doc"])
        if not 0 <= doc < self.docs:
            raise web.HTTPNotFound()
        data, etag = self.body(doc)
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        ctype = "application/rss+xml" if doc % 2 == 0 else "text/html"
        return web.Response(
            body=data, headers={"ETag": etag, "Content-Type": f"{ctype}; charset=utf-8"}
        )

    async def bump(self, request: web.Request) -> web.Response:
        fraction = float(request.query.get("fraction", "0.05"))
        rng = random.Random(sum(self.gen) + 1)
        for doc in rng.sample(range(self.docs), int(self.docs * fraction)):
            self.gen[doc] += 1
        return web.json_response({"bumped": int(self.docs * fraction)})

    async def stats(self, _request: web.Request) -> web.Response:
        use = resource.getrusage(resource.RUSAGE_SELF)
        return web.json_response(
            {
                "requests": self.requests,
                "not_modified": self.not_modified,
                "cpu": use.ru_utime + use.ru_stime,  # so the poller's figures can leave it out
            }
        )


async def start(docs: int, hosts: int, port: int, latency: float) -> web.AppRunner:
    corpus = Corpus(docs, latency)
    # Made before "ready": serving should cost the server little, so that a cycle's CPU
    # figures are the poller's, not the corpus generator's (changed documents are made later).
    for doc in range(docs):
        corpus.body(doc)
    app = web.Application()
    app.router.add_get("/doc/{doc}", corpus.serve)
    app.router.add_post("/_bump", corpus.bump)
    app.router.add_get("/_stats", corpus.stats)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    for h in range(1, hosts + 1):
        await web.TCPSite(runner, f"127.0.0.{h}", port, backlog=4096).start()
    return runner


@contextlib.contextmanager
def serving(
    docs: int, hosts: int, port: int, latency: float = 0.05
) -> Iterator[subprocess.Popen[str]]:
    """This server in a process of its own for the benchmarks, from "ready" until the block
    ends (the process is yielded: a benchmark measuring a process tree leaves it out)."""
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__)), "--docs", str(docs), "--hosts", str(hosts),
         "--port", str(port), "--latency", str(latency)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield server
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=20)
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--latency", type=float, default=0.05)
    args = ap.parse_args()

    async def run() -> None:
        await start(args.docs, args.hosts, args.port, args.latency)
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


if __name__ == "__main__":
    main()
