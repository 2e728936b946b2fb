"""Write the lock files: every package pinned to one version, each with its sha256 hashes.

    python scripts/lock.py          # rewrite requirements.lock and requirements-test.lock
    python scripts/lock.py --check  # exit 1 if pyproject.toml's requirements changed since

`requirements.lock` is what the Docker image installs (`pip install --require-hashes`), and
`requirements-test.lock` what `make test` and CI install (with the test and docs extras), so
both run the same versions. The
resolver is uv (`pip install uv`): it resolves for every platform at once (`--universal`), so
one lock serves an x86_64 CI machine and an arm64 image alike.

Each file's first line records a hash of the requirements it was made from (dependencies, extras,
Python version); `tests/test_lock.py` recomputes it, so a changed pyproject.toml with a stale
lock fails the tests with "run python scripts/lock.py".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCKS = {"requirements.lock": [], "requirements-test.lock": ["test", "docs"]}
HEADER = "# inputs-sha256: "


def inputs_hash(extras: list[str], pyproject: Path = REPO / "pyproject.toml") -> str:
    """A hash of what a lock is resolved from: the requirement strings and the Python range."""
    project = tomllib.loads(pyproject.read_text())["project"]
    inputs = {
        "requires-python": project["requires-python"],
        "dependencies": sorted(project["dependencies"]),
        "extras": {e: sorted(project["optional-dependencies"][e]) for e in extras},
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def recorded_hash(lock: Path) -> str | None:
    first = lock.read_text().partition("\n")[0] if lock.exists() else ""
    return first.removeprefix(HEADER) if first.startswith(HEADER) else None


def stale() -> list[str]:
    return [
        name for name, extras in LOCKS.items() if recorded_hash(REPO / name) != inputs_hash(extras)
    ]


def write(name: str, extras: list[str]) -> None:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    command = [uv, "pip", "compile", "pyproject.toml", "--universal", "--generate-hashes"]
    command += ["--python-version", "3.11", "--no-header", "--quiet"]
    for extra in extras:
        command += ["--extra", extra]
    body = subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True).stdout
    header = (
        f"{HEADER}{inputs_hash(extras)}\n"
        f"# Made by `python scripts/lock.py` from pyproject.toml{' + ' if extras else ''}"
        f"{', '.join(extras)}; do not edit.\n"
    )
    (REPO / name).write_text(header + body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale lock files")
    args = parser.parse_args()
    if args.check:
        out = stale()
        for name in out:
            print(f"{name} is stale: pyproject.toml changed; run python scripts/lock.py")
        return 1 if out else 0
    for name, extras in LOCKS.items():
        write(name, extras)
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
