"""Wall time of the commands a person types, on the shipped config: `check`, `sources`,
`match` (a short text on stdin), `once`, and `demo`. Each runs as a new process
(`python -m monitor`), in a scratch copy of config.toml and seeds/ whose state and cache
folders start empty for each command: its first run pays for compiling the topics, the others
find them in the cache (`monitor.topic_cache`). Reported: wall and CPU seconds (user + system,
parser processes included) of the first run and the medians of the rest. On a shared machine
the wall time follows the load; the CPU time much less.

    python benchmarks/bench_cli.py                    # this checkout
    python benchmarks/bench_cli.py --code /tmp/old    # another tree (e.g. `git archive REV`)
    python benchmarks/bench_cli.py --runs 5 --skip once

`sources+db` is `sources` with a state database to read the health from (made before its runs,
not timed), as on any machine where the daemon has run: it loads the store (SQLAlchemy), which
the others do not.

`once` polls the real sources: on a machine without internet access every source fails after
its connect timeout, so its time is mostly waiting (reported all the same).

Python compiles a module from source when it finds no bytecode for it; with
PYTHONDONTWRITEBYTECODE=1 in the environment (and an editable install) that is every module of
monitor/ at every run. `--bytecode` gives the runs a bytecode cache in the scratch folder (the
first run writes it), as an installed program has; without it the environment decides, and the
header says which.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEXT = "Nordkoreanische Soldaten kämpfen in der Region Kursk; North Korean troops sent to Russia.\n"
COMMANDS: dict[str, list[str]] = {
    "check": ["check"],
    "sources": ["sources"],
    "sources+db": ["sources"],
    "match": ["match", "-"],
    "once": ["once"],
    "demo": ["demo"],
}


def environment(code: Path, folder: Path, bytecode: bool) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(code), "MONITOR_CACHE_DIR": str(folder / "cache")}
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def make_state(code: Path, folder: Path, bytecode: bool) -> None:
    """A state database (empty of sources) in the scratch folder, made by the store itself."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from monitor.store import Store; "
            "Store(Path(sys.argv[1])).close()",
            str(folder / "state"),
        ],
        check=True,
        env=environment(code, folder, bytecode),
        timeout=600,
    )


def timed(
    code: Path, folder: Path, args: list[str], bytecode: bool = False
) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, the command and its parser processes) and
    the exit code of one run."""
    env = environment(code, folder, bytecode)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(folder / "config.toml"), *args],
        cwd=folder,
        input=TEXT if args[0] == "match" else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, run.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, default=REPO, help="tree holding monitor/")
    parser.add_argument("--runs", type=int, default=4, help="runs per command (first + rest)")
    parser.add_argument("--skip", nargs="*", default=[], help="commands to leave out")
    parser.add_argument(
        "--bytecode", action="store_true", help="give the runs a bytecode cache (see above)"
    )
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        folder = Path(tmp)
        shutil.copy(REPO / "config.toml", folder / "config.toml")
        shutil.copytree(REPO / "seeds", folder / "seeds")
        print(f"code: {opts.code}  ({opts.runs} runs each; first = empty state and cache)")
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        written = opts.bytecode or not os.environ.get("PYTHONDONTWRITEBYTECODE")
        print(f"bytecode cache: {'yes' if written else 'no (PYTHONDONTWRITEBYTECODE is set)'}")
        print(f"{'command':<9} {'first wall/cpu':>16} {'median wall/cpu of rest':>24}  exit codes")
        for name, args in COMMANDS.items():
            if name in opts.skip:
                continue
            shutil.rmtree(folder / "state", ignore_errors=True)
            shutil.rmtree(folder / "cache", ignore_errors=True)
            if name == "sources+db":
                make_state(opts.code.resolve(), folder, opts.bytecode)
            walls, cpus, codes = [], [], []
            for _ in range(opts.runs):
                wall, cpu, code = timed(opts.code.resolve(), folder, args, opts.bytecode)
                walls.append(wall)
                cpus.append(cpu)
                codes.append(code)
            first = f"{walls[0]:.2f}/{cpus[0]:.2f}s"
            rest = (
                f"{statistics.median(walls[1:]):.2f}/{statistics.median(cpus[1:]):.2f}s"
                if len(walls) > 1
                else "-"
            )
            print(f"{name:<9} {first:>16} {rest:>24}  {sorted(set(codes))}")


if __name__ == "__main__":
    main()
