"""Packaging hygiene: the project builds without a warning from setuptools about pyproject.toml.

The build runs offline (no index, no build isolation) with this environment's setuptools (the
test extra asks for one at least as new as [build-system] requires), so it needs nothing beyond
what `make test` installed; it builds a copy of the project so that no build/ or egg-info lands
in the work tree.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.metadata import version
from pathlib import Path

from tests.conftest import REPO

# A warning class in the build's output (SetuptoolsDeprecationWarning, SetuptoolsWarning,
# UserWarning, ...); pip's own upper-case "WARNING:" lines are about its indexes, not us.
_WARNING = re.compile(r"\b[A-Za-z]*Warning\b")


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text)[:3])


def test_this_environments_setuptools_is_one_the_build_system_allows() -> None:
    requires = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["build-system"]
    (setuptools,) = [r for r in requires["requires"] if r.startswith("setuptools")]
    bound = re.fullmatch(r"setuptools>=([\d.]+)", setuptools)
    assert bound is not None, setuptools
    assert _numbers(version("setuptools")) >= _numbers(bound.group(1))


def test_the_project_builds_without_a_setuptools_warning(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, project / name)
    shutil.copytree(
        REPO / "monitor", project / "monitor", ignore=shutil.ignore_patterns("__pycache__")
    )
    run = subprocess.run(
        [
            sys.executable, "-m", "pip", "wheel", "--verbose", "--no-deps", "--no-index",
            "--no-build-isolation", "--wheel-dir", str(tmp_path / "dist"), str(project),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    (wheel,) = (tmp_path / "dist").glob("source_monitor-*.whl")
    warned = [line.strip() for line in output.splitlines() if _WARNING.search(line)]
    assert warned == [], "\n".join(warned)
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(name).decode()
        # `monitor demo` from an installed wheel needs its corpus and templates.
        packaged = set(archive.namelist())
    for data in ("corpus.toml", "templates/atom.xml.j2", "templates/rss.xml.j2"):
        assert f"monitor/demo/{data}" in packaged, data
    assert "monitor/demo/templates/page.html.j2" in packaged
    # The SPDX form reaches the metadata as a License-Expression (core metadata 2.4).
    assert "License-Expression: Apache-2.0" in metadata.splitlines()


def test_the_editable_install_builds_without_a_setuptools_warning(tmp_path: Path) -> None:
    """`make test` and developers install with `pip install -e .`: setuptools' editable build
    (the PEP 660 hook pip calls) must not warn either (a flat layout without a package root
    gets an import hook and a warning about folders that shadow the package)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, project / name)
    shutil.copytree(
        REPO / "monitor", project / "monitor", ignore=shutil.ignore_patterns("__pycache__")
    )
    hook = "import setuptools.build_meta as b; print(b.build_editable('dist'))"
    run = subprocess.run(
        [sys.executable, "-W", "default", "-c", hook],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert list((project / "dist").glob("source_monitor-*.whl")), output
    # Outside pip the warning carries no class name: setuptools frames it between "!!" lines.
    warned = [
        line.strip()
        for line in output.splitlines()
        if _WARNING.search(line) or line.strip() == "!!" or "meta path finder" in line
    ]
    assert warned == [], output
