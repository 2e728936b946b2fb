"""Parse and match CPU per document, old code against new, with identical outputs asserted.

A differential harness: the package as committed at ``--old`` (default ``main``) is unpacked
with ``git archive`` into a temporary folder, and each tree runs the same work in a subprocess
of its own (two packages named ``monitor`` cannot share one interpreter):

- every page of ``benchmarks/extract_eval*/`` and ``--pages`` corpus pages
  (``corpus_server.page``, half with an update paragraph), every feed of ``tests/data/`` and
  ``--feeds`` corpus feeds (``corpus_server.feed``), through ``extract_document`` exactly as a
  poll does, once as a full poll and once as a baseline (``record_only``);
- of each document: its passages (keys, texts, titles, contexts, languages, dates), the
  snapshot bytes the store keeps (``encode_snapshot``), each passage's story sketch
  (``similar.signature``), the topics each passage matches with the shipped ``config.toml``
  (``match_passages``), and for pages an edited copy explained against the snapshot
  (``previous_versions``, ``text_changes``) and every paragraph's ``line_shape``.

The parent asserts that both trees give the same outputs, byte for byte (exit status 1 and the
first difference otherwise), then prints milliseconds per document for each stage, old and new
side by side. Each stage is timed in CPU time (``time.process_time``) as the best of ``--rounds``
passes; both workers stay up and take turns stage by stage, so that they meet the same load
(other work on the machine only ever makes a pass slower).

The "ours" rows time our own code alone, on inputs prepared outside the timing: decoding a page
(``charset.decode``), finding its stories and turning its blocks into passages (``PageStories``,
``pages._passages``: normalising, masking, language, fingerprints). trafilatura's and
htmldate's share is in "page, whole extraction" only.

    python benchmarks/bench_parse.py [--old main] [--pages 100] [--feeds 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"

# (stage, what it times); the order of the printed table.
STAGES = (
    ("page_extract", "page, whole extraction (trafilatura incl.)"),
    ("page_ours", "page, ours: decode + stories + passages"),
    ("paragraphs", "  of which canonical + language + key"),
    ("feed_extract", "feed, whole extraction"),
    ("match", "match (per passage)"),
    ("signature", "story sketch (per passage)"),
    ("snapshot", "snapshot encode (per page)"),
    ("edits", "edit explained against snapshot (per page)"),
)


# --------------------------------------------------------------------------------------------
# The documents (built in each worker from this checkout's files, so both trees get the same)
# --------------------------------------------------------------------------------------------


def documents(pages: int, feeds: int) -> list[tuple[str, str, bytes, str]]:
    """(kind, url, body, content type) of every document of the run."""
    sys.path.insert(0, str(BENCH))
    from corpus_server import feed, page

    docs: list[tuple[str, str, bytes, str]] = []
    for path in sorted(BENCH.glob("extract_eval*/**/*.html")):
        docs.append(
            ("page", f"https://eval.example.org/{path.stem}", path.read_bytes(), "text/html")
        )
    for path in sorted((REPO / "tests/data/extract").glob("*.html")):
        docs.append(
            ("page", f"https://tests.example.org/{path.stem}", path.read_bytes(), "text/html")
        )
    for i in range(pages):
        # Odd documents are pages in the corpus; half of them carry an update paragraph.
        docs.append(
            (
                "page",
                f"https://news.example.org/doc/{2 * i + 1}",
                page(2 * i + 1, i % 2),
                "text/html",
            )
        )
    feed_paths = [*sorted((REPO / "tests/data/extract").glob("*.xml"))]
    feed_paths += sorted((REPO / "tests/data/state-v0.1.0").glob("*.xml"))
    for path in feed_paths:
        if "billion" in path.name or "hostile" in path.name:
            continue  # refused by design: nothing to compare but the error
        docs.append(
            (
                "feed",
                f"https://tests.example.org/{path.name}",
                path.read_bytes(),
                "application/rss+xml",
            )
        )
    for i in range(feeds):
        docs.append(
            (
                "feed",
                f"https://news.example.org/{2 * i}.xml",
                feed(2 * i, i % 3),
                "application/rss+xml",
            )
        )
    return docs


def _edited(text: str, n: int) -> str:
    """A plausible edit of a paragraph: a figure changed, a word added, a time updated."""
    words = text.split()
    if n % 3 == 0:
        return f"{text} Stand: 14:3{n % 10} Uhr."
    if n % 3 == 1 and len(words) > 3:
        words.insert(len(words) // 2, f"{1000 + n:,}")
        return " ".join(words)
    return text.replace(" the ", " no ", 1).replace(" die ", " keine ", 1) + " (updated)"


# --------------------------------------------------------------------------------------------
# Worker: one tree, every stage, outputs and timings
# --------------------------------------------------------------------------------------------


def worker(tree: str, out: str, pages: int, feeds: int) -> None:
    """Compute every output into `out`, then time stages as the parent asks on stdin (one
    stage name a line; the answer is its CPU ms per document on stdout)."""
    sys.path.insert(0, tree)
    import monitor

    if not Path(monitor.__file__).resolve().is_relative_to(Path(tree).resolve()):
        raise SystemExit(f"imported {monitor.__file__}, not the tree {tree}")
    import logging

    logging.disable(logging.WARNING)
    from dataclasses import asdict

    from monitor import wiring
    from monitor.detect.baseline import encode_snapshot
    from monitor.detect.edits import page_snapshot, previous_versions, text_changes
    from monitor.extract import pages as pages_mod
    from monitor.extract.charset import decode, html_meta_charset
    from monitor.extract.main_text import main_text_blocks
    from monitor.extract.page_meta import (
        document_language,
        html_title,
        page_metadata,
        trafilatura_tree,
    )
    from monitor.extract.similar import signature, to_bytes
    from monitor.extract.stories import PageStories
    from monitor.models import Passage
    from monitor.source_kinds import extract_document
    from monitor.topics import compile_topics
    from monitor.topics.worker import freeze_matcher, install_matcher, match_passages
    from monitor.volatile import line_shape

    config = wiring.load(REPO / "config.toml")
    install_matcher(freeze_matcher(compile_topics(config.topics, config.aliases)))

    docs = documents(pages, feeds)
    extracted: list[Any] = []
    outputs: dict[str, list[Any]] = {
        name: [] for name in ("doc", "baseline", "snapshot", "signature", "match", "edits", "shape")
    }
    for kind, url, body, ctype in docs:
        doc = extract_document(kind, body, url, ctype, 100, ())
        base = extract_document(kind, body, url, ctype, 100, (), True)
        extracted.append(doc)
        outputs["doc"].append(asdict(doc))
        outputs["baseline"].append(asdict(base))
        outputs["snapshot"].append(encode_snapshot(page_snapshot(doc.passages)))
        sigs = [signature(f"{p.title or ''}\n{p.text}") for p in doc.passages]
        outputs["signature"].append([to_bytes(s) if s is not None else None for s in sigs])
        outputs["match"].append(_plain(_match(match_passages, doc.passages)))
        outputs["shape"].append([line_shape(p.text) for p in doc.passages])
        if kind == "page":
            outputs["edits"].append(
                _plain(
                    _edits(doc.passages, page_snapshot, previous_versions, text_changes, Passage)
                )
            )

    page_docs = [
        (d, body, ctype)
        for d, (kind, _, body, ctype) in zip(extracted, docs, strict=True)
        if kind == "page"
    ]
    page_inputs = [(k, u, b, c) for k, u, b, c in docs if k == "page"]
    feed_inputs = [(k, u, b, c) for k, u, b, c in docs if k == "feed"]

    # Our part of a page, on inputs prepared here: the parsed tree and trafilatura's blocks.
    prepared = []
    for _kind, url, body, _ctype in page_inputs:
        html = decode(body, [("HTTP header", None), ("meta tag", html_meta_charset(body))]).text
        tree = trafilatura_tree(html)
        blocks = main_text_blocks(tree, html, url) if tree is not None else None
        if tree is None or not blocks:
            continue
        meta = page_metadata(tree, url)
        title = meta.title or html_title(tree)
        prepared.append((body, tree, blocks, url, title, document_language(tree, blocks)))

    def page_extract() -> None:
        for kind, url, body, ctype in page_inputs:
            extract_document(kind, body, url, ctype, 100, ())

    def page_ours() -> None:
        for body, tree, blocks, url, title, language in prepared:
            decode(body, [("HTTP header", "text/html"), ("meta tag", html_meta_charset(body))])
            stories = PageStories(tree, None)
            pages_mod._passages(
                blocks,
                url,
                title,
                language,
                (),
                stories=stories,
                sections_in_context=not stories.several,
            )

    from monitor.extract.text import canonical_and_language, canonical_fingerprint
    from monitor.volatile import canonical_only_volatile

    paragraphs = [text for _b, _t, blocks, *_rest in prepared for _kind, text in blocks]

    def paragraph_keys() -> None:
        # What `_passages` asks of text.py and volatile.py for each paragraph.
        for text in paragraphs:
            canon = canonical_and_language(text)[0]
            if not canonical_only_volatile(canon):
                canonical_fingerprint(canon)

    def feed_extract() -> None:
        for kind, url, body, ctype in feed_inputs:
            extract_document(kind, body, url, ctype, 100, ())

    def match() -> None:
        for doc in extracted:
            _match(match_passages, doc.passages)

    def signatures() -> None:
        for doc in extracted:
            for p in doc.passages:
                signature(f"{p.title or ''}\n{p.text}")

    def snapshots() -> None:
        for doc, _body, _ctype in page_docs:
            encode_snapshot(page_snapshot(doc.passages))

    def edits() -> None:
        for doc, _body, _ctype in page_docs:
            _edits(doc.passages, page_snapshot, previous_versions, text_changes, Passage)

    passages = sum(len(doc.passages) for doc in extracted)
    counts = {
        "page_extract": len(page_inputs),
        "page_ours": len(prepared),
        "paragraphs": len(prepared),
        "feed_extract": len(feed_inputs),
        "match": passages,
        "signature": passages,
        "snapshot": len(page_docs),
        "edits": len(page_docs),
    }
    fns = {
        "page_extract": page_extract,
        "page_ours": page_ours,
        "paragraphs": paragraph_keys,
        "feed_extract": feed_extract,
        "match": match,
        "signature": signatures,
        "snapshot": snapshots,
        "edits": edits,
    }
    Path(out).write_bytes(pickle.dumps({"counts": counts, "outputs": outputs}))
    for fn in fns.values():
        fn()  # warm-up: lazy imports, compiled patterns, dictionaries
    print("ready", flush=True)
    for line in sys.stdin:
        stage = line.strip()
        # CPU time of this process: what the issue counts, and far less disturbed than the
        # wall clock when other processes share the cores.
        started = time.process_time()
        fns[stage]()
        ms = (time.process_time() - started) * 1000 / max(counts[stage], 1)
        print(ms, flush=True)


def _plain(value: Any) -> Any:
    """Dataclasses as dicts, so that the parent compares values, not classes of two trees."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _match(match_passages: Callable[..., Any], passages: list[Any]) -> Any:
    # As the poller sends them (`Poller._match`).
    return match_passages(
        [(p.text, p.matched_title, p.language, bool(p.context) and not p.entry) for p in passages]
    )


def _edits(
    passages: list[Any],
    page_snapshot: Callable[..., list[str]],
    previous_versions: Callable[..., list[str | None]],
    text_changes: Callable[..., list[Any]],
    passage_type: type,
) -> list[Any]:
    """A page polled again with one paragraph in ten edited: what each edit replaced, and the
    runs of words that changed."""
    snapshot = page_snapshot(passages)
    current = [_edited(t, i) if i % 10 == 2 else t for i, t in enumerate(snapshot)]
    fresh = [passage_type(key=str(i), text=t) for i, t in enumerate(current) if i % 10 == 2]
    found = previous_versions(fresh, current, snapshot)
    return [(old, text_changes(old, p.text)) for p, old in zip(fresh, found, strict=True) if old]


# --------------------------------------------------------------------------------------------
# Parent: unpack the old tree, run both, compare, print
# --------------------------------------------------------------------------------------------


def _first_difference(old: Any, new: Any, where: str = "") -> str | None:
    if type(old) is not type(new):
        return f"{where}: {type(old).__name__} vs {type(new).__name__}"
    if isinstance(old, dict):
        for key in sorted(set(old) | set(new), key=str):
            if key not in old or key not in new:
                return f"{where}.{key}: missing on one side"
            if found := _first_difference(old[key], new[key], f"{where}.{key}"):
                return found
        return None
    if isinstance(old, list | tuple):
        if len(old) != len(new):
            return f"{where}: {len(old)} vs {len(new)} items"
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            if found := _first_difference(a, b, f"{where}[{i}]"):
                return found
        return None
    if old != new:
        return f"{where}: {old!r:.300} vs {new!r:.300}"
    return None


def _start(tree: Path, args: argparse.Namespace, out: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, __file__, "--worker", str(tree), "--out", str(out)]
    cmd += ["--pages", str(args.pages), "--feeds", str(args.feeds)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.Popen(
        cmd, env=env, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def _ask(proc: subprocess.Popen[str], line: str) -> str:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    answer = proc.stdout.readline().strip()
    if not answer:
        raise SystemExit(f"worker stopped (exit status {proc.wait()})")
    return answer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", default="main", help="git ref of the old code (default: main)")
    ap.add_argument("--new", default=str(REPO), help="tree of the new code (default: this one)")
    ap.add_argument("--pages", type=int, default=100, help="corpus pages (besides eval pages)")
    ap.add_argument("--feeds", type=int, default=100, help="corpus feeds (besides test feeds)")
    ap.add_argument("--rounds", type=int, default=5, help="timed passes per stage (best kept)")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.out, args.pages, args.feeds)
        return

    with tempfile.TemporaryDirectory(prefix="bench_parse_") as tmp:
        old_tree = Path(tmp) / "old"
        old_tree.mkdir()
        archive = subprocess.run(
            ["git", "archive", args.old, "monitor"], cwd=REPO, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        trees = {"old": old_tree, "new": Path(args.new)}
        procs = {
            side: _start(tree, args, Path(tmp) / f"{side}.pickle") for side, tree in trees.items()
        }
        try:
            for side, proc in procs.items():
                assert proc.stdout is not None
                if proc.stdout.readline().strip() != "ready":
                    raise SystemExit(f"the {side} worker failed (exit status {proc.wait()})")
            results = {
                side: pickle.loads((Path(tmp) / f"{side}.pickle").read_bytes()) for side in trees
            }
            # The trees take turns stage by stage, so that both meet the same load; the best
            # pass of each counts (other work on the machine only ever makes a pass slower).
            best: dict[str, dict[str, float]] = {"old": {}, "new": {}}
            for _ in range(args.rounds):
                for stage, _label in STAGES:
                    for side, proc in procs.items():
                        ms = float(_ask(proc, stage))
                        best[side][stage] = min(ms, best[side].get(stage, float("inf")))
        finally:
            for proc in procs.values():
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait()

    counts = results["new"]["counts"]
    failed = False
    for name in results["old"]["outputs"]:
        diff = _first_difference(
            results["old"]["outputs"][name], results["new"]["outputs"][name], name
        )
        n = len(results["new"]["outputs"][name])
        print(
            f"{'IDENTICAL' if diff is None else 'DIFFERENT'}  {name} ({n} documents)"
            + (f"\n    first difference: {diff}" if diff else "")
        )
        failed = failed or diff is not None
    print(f"\n{'stage':<48} {'docs':>5} {'old ms':>8} {'new ms':>8} {'change':>7}")
    for stage, label in STAGES:
        old, new = best["old"][stage], best["new"][stage]
        print(f"{label:<48} {counts[stage]:>5} {old:>8.3f} {new:>8.3f} {(new - old) / old:>+7.0%}")
    # Our parse CPU per document of the run (pages and feeds as many as there are of each).
    parse = ("page_ours", "feed_extract", "snapshot", "edits")
    docs = counts["page_extract"] + counts["feed_extract"]
    totals = {side: sum(best[side][s] * counts[s] for s in parse) / docs for side in best}
    change = (totals["new"] - totals["old"]) / totals["old"]
    label = "ours: parse stages above, per document"
    print(f"{label:<48} {docs:>5} {totals['old']:>8.3f} {totals['new']:>8.3f} {change:>+7.0%}")
    if args.json:
        Path(args.json).write_text(json.dumps({"best": best, "counts": counts}, indent=1))
    if failed:
        raise SystemExit("outputs differ between the old and the new code")


if __name__ == "__main__":
    main()
