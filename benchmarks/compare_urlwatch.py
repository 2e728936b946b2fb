"""Side by side with urlwatch: cold and warm cycles over the same local corpus, in one run.

    python benchmarks/compare_urlwatch.py --sizes 1000,10000

The corpus server (`corpus_server.py`: half 20-item feeds, half article pages, 20 loopback hosts,
50 ms per request, ETags) serves both tools. Each cycle is one whole process, as a cron job or a
first start would run it: `urlwatch` (2.29, installed into its own virtualenv under /tmp, 100
worker threads through a hooks file, pages through its `html2text:re` filter) and `monitor once`
(the shipped topics, per-host concurrency raised for the benchmark's hosts). Cold: empty state.
Warm: 5% of the documents changed, same state. Printed: wall time, CPU of the whole process tree
(parser processes and the fork server included), peak RSS of the main process and peak RSS
summed over the tree, with the ratio monitor / urlwatch. `--before DIR` adds a row for `monitor`
run from another source tree (same venv, same corpus server, same run). `--repeat N` runs each
tool's warm cycle N times from the state its cold cycle left and prints the median (by wall).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from corpus_server import serving

REPO = Path(__file__).resolve().parent.parent
URLWATCH_VENV = Path("/tmp/urlwatch-2.29-venv")
HOSTS = 20
Figures = tuple[float, float, float, float]  # wall, CPU, main RSS, tree RSS (see run_measured)


def urlwatch_bin() -> Path:
    exe = URLWATCH_VENV / "bin" / "urlwatch"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(URLWATCH_VENV)], check=True)
        pip = [str(URLWATCH_VENV / "bin" / "pip"), "install", "--quiet", "urlwatch==2.29"]
        subprocess.run(pip, check=True)
    return exe


# Runs in a fresh Python parent: it makes itself the "subreaper" of the command's processes, so
# that every descendant (parser processes are children of a fork server, which a `monitor once`
# leaves to exit on its own) is re-parented to it and reaped, and RUSAGE_CHILDREN then holds
# the CPU of the whole tree. Memory is sampled from /proc every 50 ms: the peak RSS of the
# main process, and the peak of the sum of RSS over every process of the tree (shared pages
# counted in each process, so the sum errs high).
_PROBE = r"""
import ctypes, os, resource, subprocess, sys, threading, time
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
PAGE = os.sysconf("SC_PAGE_SIZE")

def rss(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0

def tree(root):
    found, todo = [], [root]
    while todo:  # each thread's children file lists the processes it started
        pid = todo.pop()
        found.append(pid)
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass
    return found

peak = {"main": 0, "tree": 0}
done = threading.Event()

def sample(pid):
    while not done.is_set():
        peak["main"] = max(peak["main"], rss(pid))
        # Descendants of the command, and orphans re-parented to this probe.
        total = sum(rss(p) for p in tree(os.getpid()) if p != os.getpid())
        peak["tree"] = max(peak["tree"], total)
        done.wait(0.05)

t = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
watcher = threading.Thread(target=sample, args=(p.pid,), daemon=True)
watcher.start()
err = []
reader = threading.Thread(target=lambda: err.append(p.stderr.read()), daemon=True)
reader.start()  # the command's log can fill a pipe: read it while waiting
p.wait()
w = time.perf_counter() - t  # the command's own end; processes it left are still reaped below
deadline = time.monotonic() + 10
while True:  # reap what the command left behind (a fork server on its way out)
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid == 0:
        if time.monotonic() > deadline:
            break
        time.sleep(0.01)
done.set()
watcher.join()
reader.join(10)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(w, u.ru_utime + u.ru_stime, peak["main"] / 2**20, peak["tree"] / 2**20, p.returncode)
sys.stderr.write(b"".join(err).decode(errors="replace")[-2000:] if p.returncode else "")
"""


def run_measured(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Figures:
    """(wall s, CPU s of the whole process tree, peak RSS MB of the main process, peak RSS MB
    summed over the tree) of one command (see `_PROBE`)."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    wall, cpu, main_rss, tree_rss, code = out.stdout.split()
    if code != "0":
        print(f"  {argv[0]} exited {code}: {out.stderr.strip()[-300:]}", file=sys.stderr)
    return float(wall), float(cpu), float(main_rss), float(tree_rss)


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
    # Another version of the monitor measured in the same run, with the same venv: a source
    # tree (e.g. `git archive BASE monitor | tar -x -C /tmp/before`) put first on its PYTHONPATH.
    ap.add_argument("--before", default="", help="also run `monitor` from this source tree")
    # A noisy machine: the warm cycle run this many times from the same state (each tool's
    # folder put back as the cold cycle left it), the median printed.
    ap.add_argument("--repeat", type=int, default=1, help="warm cycles per tool (median shown)")
    args = ap.parse_args()
    urlwatch_bin()
    tools = ["urlwatch", *(["before"] if args.before else []), "monitor"]
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        with serving(n, HOSTS, args.port), tempfile.TemporaryDirectory() as tmp:
            folders = {name: Path(tmp) / name for name in tools}
            for folder in folders.values():
                folder.mkdir()
            commands = {"urlwatch": urlwatch_files(folders["urlwatch"], n, args.port)}
            for name in tools[1:]:
                commands[name] = monitor_files(folders[name], n, args.port)
            figures: dict[str, list[Figures]] = {k: [] for k in commands}
            envs: dict[str, dict[str, str]] = {"urlwatch": {}}
            for name in tools[1:]:
                # Each tree keeps its own compiled-topics cache, as an installation does,
                # filled once by `monitor check` (the topics compile once per config, not
                # per state): a shared cache would be evicted by the other tree's runs.
                envs[name] = {"MONITOR_CACHE_DIR": str(folders[name] / "cache")}
                if name == "before":
                    envs[name]["PYTHONPATH"] = args.before
                subprocess.run(
                    [*commands[name][:-1], "check"], cwd=folders[name], check=True,
                    env={**os.environ, **envs[name]}, capture_output=True,
                )  # fmt: skip
            for name, argv in commands.items():
                figures[name].append(run_measured(argv, folders[name], envs[name]))
            # The same 5% change is seen by every tool and every repetition: one bump, and
            # each warm run starts from the state its cold run left.
            bump(args.port)
            time.sleep(0.2)
            for name in commands:
                shutil.copytree(folders[name], Path(tmp) / f"{name}.cold", symlinks=True)
            warm: dict[str, list[Figures]] = {name: [] for name in commands}
            for round_ in range(max(1, args.repeat)):
                for name, argv in commands.items():
                    if round_:
                        shutil.rmtree(folders[name])
                        shutil.copytree(Path(tmp) / f"{name}.cold", folders[name], symlinks=True)
                    warm[name].append(run_measured(argv, folders[name], envs[name]))
            for name, runs in warm.items():
                runs.sort(key=lambda f: f[0])
                figures[name].append(runs[len(runs) // 2])  # the median by wall time
                if len(runs) > 1:
                    walls = ", ".join(f"{f[0]:.1f}" for f in runs)
                    print(f"  {n} {name} warm walls: {walls} s", file=sys.stderr)
            rows.append((n, figures))
    print(f"\n{'N':>6} {'tool':9} {'cold wall':>10} {'cold CPU':>9} {'warm wall':>10} "
          f"{'warm CPU':>9} {'main RSS':>9} {'tree RSS':>9}")  # fmt: skip
    for n, figures in rows:
        for name in tools:
            (cw, cc, cm, ct), (ww, wc, wm, wt) = figures[name]
            print(f"{n:6d} {name:9} {cw:9.1f}s {cc:8.1f}s {ww:9.1f}s {wc:8.1f}s "
                  f"{max(cm, wm):7.0f}MB {max(ct, wt):7.0f}MB")  # fmt: skip
        u = figures["urlwatch"]
        for name in tools[1:]:  # each monitor row against urlwatch
            m = figures[name]
            ratio = [m[phase][i] / u[phase][i] for phase in (0, 1) for i in (0, 1)]
            mem = [max(m[0][i], m[1][i]) / max(u[0][i], u[1][i]) for i in (2, 3)]
            print(f"{'':6} {name[:3] + '/uw':9} {ratio[0]:9.2f}x {ratio[1]:8.2f}x "
                  f"{ratio[2]:9.2f}x {ratio[3]:8.2f}x {mem[0]:7.2f}x {mem[1]:7.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
