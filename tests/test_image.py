"""The image is reproducible and honest: it installs from a current, hashed lock (the one CI
installs), probes the port the config gives, runs one init, and its README examples work."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import REPO
from tests.test_daemon import Daemon, config_text, free_port, wait_for

sys.path.insert(0, str(REPO / "scripts"))
import lock


def _pins(lock_file: Path) -> dict[str, tuple[Version, list[str]]]:
    """Package -> (pinned version, its hashes), from a `pip --require-hashes` lock file."""
    text = lock_file.read_text().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("--") else line
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)(.*)", line)
        assert m, f"{lock_file.name}: not a pinned requirement: {line[:80]}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", m.group(4))
        pins[canonicalize_name(m.group(1))] = (Version(m.group(3).split(";")[0]), hashes)
    return pins


def test_locks_are_current_with_pyproject() -> None:
    stale = lock.stale()
    assert not stale, f"{stale} stale: pyproject.toml changed; run python scripts/lock.py"


def test_locks_pin_every_requirement_with_hashes() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for name, extras in lock.LOCKS.items():
        pins = _pins(REPO / name)
        assert all(hashes for _, hashes in pins.values()), f"{name}: a pin without a hash"
        wanted = list(project["dependencies"])
        for extra in extras:
            wanted += project["optional-dependencies"][extra]
        for text in wanted:
            req = Requirement(text)
            if req.marker and not req.marker.evaluate({"sys_platform": "linux"}):
                continue
            key = canonicalize_name(req.name)
            assert key in pins, f"{name}: {req.name} is not pinned"
            assert req.specifier.contains(pins[key][0], prereleases=True), (
                f"{name}: {req.name}=={pins[key][0]} does not satisfy {req.specifier}"
            )


def test_the_image_and_ci_install_the_same_versions() -> None:
    runtime = _pins(REPO / "requirements.lock")
    test = _pins(REPO / "requirements-test.lock")
    differ = {
        n: (v, test.get(n, (None,))[0])
        for n, (v, _) in runtime.items()
        if test.get(n, (None,))[0] != v
    }
    assert not differ, f"the image and CI would run different versions: {differ}"


def test_dockerfile_and_ci_install_from_the_locks() -> None:
    docker = (REPO / "Dockerfile").read_text()
    make = (REPO / "Makefile").read_text()
    installs = re.findall(r"pip install ([^\n&]+)", docker)
    assert [i.strip() for i in installs] == ["--require-hashes -r requirements.lock", "--no-deps ."]
    assert "pip install --quiet --require-hashes -r requirements-test.lock" in make
    assert "pip install --quiet --no-deps -e ." in make


def test_base_image_is_pinned_to_an_exact_release() -> None:
    docker = (REPO / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", docker, re.M)
    assert bases and len(set(bases)) == 1, bases
    # A digest where it can be looked up; otherwise an exact patch release (see the Dockerfile).
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", bases[0]), bases[0]


def test_one_init_process() -> None:
    docker = (REPO / "Dockerfile").read_text()
    compose = (REPO / "compose.yaml").read_text()
    assert 'ENTRYPOINT ["dumb-init", "--"]' in docker
    # Docker's `init: true` would start tini in front of dumb-init: two inits.
    assert not re.search(r"^\s*init:\s*true", compose, re.M)


def test_healthcheck_probes_the_configured_port(tmp_path: Path, content_server) -> None:  # type: ignore[no-untyped-def]
    docker = (REPO / "Dockerfile").read_text()
    assert re.search(r'HEALTHCHECK .*\n?\s*CMD \["python", "-m", "monitor.healthcheck"\]', docker)
    assert "9464/healthz" not in docker
    port = free_port()
    cfg = tmp_path / "config.toml"
    (tmp_path / "seeds").mkdir()
    content_server.set("/feed.xml", "<rss version='2.0'><channel/></rss>", "application/rss+xml")
    cfg.write_text(config_text(content_server, port))
    # A proxy in the environment (set for the sources) must not carry the probe away.
    env = {**os.environ, "MONITOR_CONFIG": str(cfg), "HTTP_PROXY": "http://127.0.0.1:9"}

    def probe() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor.healthcheck"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )

    down = probe()
    assert down.returncode == 1
    assert f"127.0.0.1:{port}/healthz unreachable" in down.stderr
    daemon = Daemon(cfg)
    try:
        assert wait_for(lambda: probe().returncode == 0, timeout=60), daemon.text()
    finally:
        daemon.proc.terminate()
        daemon.proc.wait(timeout=30)


def _readme_docker_run() -> list[str]:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"```sh\n(?:[^`]*?\n)?(docker run .+?)\n```", readme, re.S)
    assert block, "README has no docker run example"
    return shlex.split(block.group(1).replace("\\\n", " "))


def test_readme_secret_example_works_as_written(tmp_path: Path) -> None:
    """Every `NAME_FILE` the example sets is a file the example mounts, and the config it names
    reads the secret from it."""
    argv = _readme_docker_run()
    env = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "-e")
    mounts = dict(reversed(argv[i + 1].split(":")[:2]) for i, a in enumerate(argv) if a == "-v")
    secret_files = {k: v for k, v in env.items() if k.endswith("_FILE")}
    assert secret_files, "the example shows no secret file"
    for var, path in secret_files.items():
        assert path in mounts, f"{var}={path} but the example mounts nothing there"
    # The config the example mounts must name the variable; the README says which lines to set.
    readme = (REPO / "README.md").read_text()
    for var in secret_files:
        assert f'password_env = "{var.removesuffix("_FILE")}"' in readme
    # And the real config loader reads it from the file (what the container would do).
    secret = tmp_path / "smtp"
    secret.write_text("s3cret\n")
    cfg = tmp_path / "config.toml"
    var = next(iter(secret_files)).removesuffix("_FILE")
    cfg.write_text(
        f"""[channels.mail]
kind = "email"
host = "smtp.example.org"
sender = "monitor@example.org"
recipients = ["a@example.org"]
username = "monitor"
password_env = "{var}"
"""
    )
    (tmp_path / "seeds").mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "check"],
        env={**os.environ, f"{var}_FILE": str(secret)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), "check"],
        env={**os.environ, f"{var}_FILE": str(tmp_path / "absent")},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "absent" in missing.stderr, missing.stderr
