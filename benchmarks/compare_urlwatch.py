"""Side by side with urlwatch: cold and warm cycles over the same local corpus, in one run.

    python benchmarks/compare_urlwatch.py --sizes 1000,10000

The corpus server (`corpus_server.py`: half 20-item feeds, half article pages, 20 loopback hosts,
50 ms per request, ETags) serves both tools. Each cycle is one whole process, as a cron job or a
first start would run it: `urlwatch` (2.29, installed into its own virtualenv under /tmp, 100
worker threads through a hooks file, pages through its `html2text:re` filter) and `monitor once`
(the shipped topics, per-host concurrency raised for the benchmark's hosts). Cold: empty state.
Warm: 5% of the documents changed, same state. Printed: wall time, CPU of the process tree, and
the peak RSS of its largest process, with the ratio monitor / urlwatch.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
URLWATCH_VENV = Path("/tmp/urlwatch-2.29-venv")
HOSTS = 20


def urlwatch_bin() -> Path:
    exe = URLWATCH_VENV / "bin" / "urlwatch"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(URLWATCH_VENV)], check=True)
        pip = [str(URLWATCH_VENV / "bin" / "pip"), "install", "--quiet", "urlwatch==2.29"]
        subprocess.run(pip, check=True)
    return exe


def run_measured(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[float, float, float]:
    """(wall s, CPU s of the process tree, peak RSS MB of its largest process) of one command.

    Run through a fresh Python parent, so that RUSAGE_CHILDREN covers this command alone."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "w = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(w, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024, p.returncode)\n"
        "sys.stderr.write(p.stderr.decode(errors='replace')[-2000:] if p.returncode else '')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *argv], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    wall, cpu, rss, code = out.stdout.split()
    if code != "0":
        print(f"  {argv[0]} exited {code}: {out.stderr.strip()[-300:]}", file=sys.stderr)
    return float(wall), float(cpu), float(rss)


def bump(port: int) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/_bump?fraction=0.05", method="POST")
    urllib.request.urlopen(request).read()


def urlwatch_files(folder: Path, n: int, port: int) -> list[str]:
    jobs = []
    for doc in range(n):
        url = f"http://127.0.0.{doc % HOSTS + 1}:{port}/doc/{doc}"
        jobs.append(f"url: {url}\nfilter:\n  - html2text: re\n")
    (folder / "urls.yaml").write_text("---\n".join(jobs))
    (folder / "hooks.py").write_text("import urlwatch.worker\nurlwatch.worker.MAX_WORKERS = 100\n")
    (folder / "urlwatch.yaml").write_text(
        "display:\n  new: true\n  error: true\n  unchanged: false\n"
        "report:\n  text:\n    details: true\n    footer: false\n    line_length: 75\n"
        "  stdout:\n    enabled: true\n    color: false\n"
        "  html:\n    diff: unified\n  markdown:\n    details: true\n    footer: false\n"
        "    minimal: false\n"
    )
    return [
        str(urlwatch_bin()), "--urls", str(folder / "urls.yaml"),
        "--config", str(folder / "urlwatch.yaml"), "--hooks", str(folder / "hooks.py"),
        "--cache", str(folder / "cache.db"),
    ]  # fmt: skip


def monitor_files(folder: Path, n: int, port: int) -> list[str]:
    lines = [
        "[http]", 'allow_networks = ["127.0.0.0/8"]', "respect_robots = false",
        "concurrency = 200", "per_host_concurrency = 50", "[seeds]", "enabled = false",
        "[web]", "enabled = false",
    ]  # fmt: skip
    for doc in range(n):
        kind = "feed" if doc % 2 == 0 else "page"
        url = f"http://127.0.0.{doc % HOSTS + 1}:{port}/doc/{doc}"
        lines += ["[[sources]]", f'url = "{url}"', f'kind = "{kind}"']
    topics = (REPO / "config.toml").read_text(encoding="utf-8")
    cfg = folder / "config.toml"
    cfg.write_text("\n".join(lines) + "\n" + topics[topics.index("[aliases]") :], encoding="utf-8")
    return [str(Path(sys.executable).parent / "monitor"), "--config", str(cfg), "once"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--port", type=int, default=18090)
    args = ap.parse_args()
    urlwatch_bin()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        server = subprocess.Popen(
            [sys.executable, str(REPO / "benchmarks" / "corpus_server.py"), "--docs", str(n),
             "--hosts", str(HOSTS), "--port", str(args.port), "--latency", "0.05"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None and server.stdout.readline().strip() == "ready"
            with tempfile.TemporaryDirectory() as tmp:
                folders = {name: Path(tmp) / name for name in ("urlwatch", "monitor")}
                for folder in folders.values():
                    folder.mkdir()
                commands = {
                    "urlwatch": urlwatch_files(folders["urlwatch"], n, args.port),
                    "monitor": monitor_files(folders["monitor"], n, args.port),
                }
                figures: dict[str, list[tuple[float, float, float]]] = {k: [] for k in commands}
                for phase in ("cold", "warm"):
                    for name, argv in commands.items():
                        figures[name].append(run_measured(argv, folders[name]))
                    if phase == "cold":
                        # The same 5% change is seen by both: each warm run follows one bump.
                        bump(args.port)
                        time.sleep(0.2)
                rows.append((n, figures))
        finally:
            server.terminate()
            server.wait()
    print(f"\n{'N':>6} {'tool':9} {'cold wall':>10} {'cold CPU':>9} {'warm wall':>10} "
          f"{'warm CPU':>9} {'peak RSS':>9}")  # fmt: skip
    for n, figures in rows:
        for name in ("urlwatch", "monitor"):
            (cw, cc, cr), (ww, wc, wr) = figures[name]
            print(f"{n:6d} {name:9} {cw:9.1f}s {cc:8.1f}s {ww:9.1f}s {wc:8.1f}s "
                  f"{max(cr, wr):7.0f}MB")  # fmt: skip
        (ucw, _, ucr), (uww, _, uwr) = figures["urlwatch"]
        (mcw, _, mcr), (mww, _, mwr) = figures["monitor"]
        print(f"{'':6} {'ratio':9} {mcw / ucw:9.2f}x {'':9} {mww / uww:9.2f}x {'':9} "
              f"{max(mcr, mwr) / max(ucr, uwr):7.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
