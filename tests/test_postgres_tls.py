"""TLS to PostgreSQL, for real: a server of its own (the `pgserver` wheel's binaries) listening
on 127.0.0.1 with a certificate from a test CA, accepting host connections only over TLS with a
password. The real CLI connects with libpq's parameters in the DSN (`sslmode=verify-full`,
`sslrootcert`), as docs/scaling.md tells users to; a wrong CA, a name the certificate does not
carry and a plain connection are each refused with one line that names the database, never the
password."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ContentServer, free_port
from tests.local_config import LOOPBACK_HTTP, NO_SEEDS, source
from tests.test_end_to_end import monitor
from tests.test_upgrade_keys import DATA, NEW_ENTRY, RSS, with_items

PASSWORD = "s3cret-tls-pw"


@dataclass(frozen=True)
class TlsServer:
    port: int
    ca: Path  # the CA that signed the server's certificate (for DNS name "localhost" only)
    other_ca: Path  # a CA that signed nothing the server holds

    def url(self, host: str = "localhost", **query: str) -> str:
        params = "&".join(f"{k}={v}" for k, v in query.items())
        return f"postgresql://monitor:{PASSWORD}@{host}:{self.port}/monitor?{params}"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _ca(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
    )  # fmt: skip
    return cert, key


def _server_certificate(folder: Path, ca: tuple[Path, Path]) -> tuple[Path, Path]:
    """A certificate for "localhost" only (no IP address), signed by `ca`."""
    cert, key, csr = folder / "server.crt", folder / "server.key", folder / "server.csr"
    ext = folder / "server.ext"
    ext.write_text("subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n")
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost",
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(ext),
    )  # fmt: skip
    return cert, key


def _binaries() -> Path | None:
    """The bin folder of the distribution's PostgreSQL (Debian: /usr/lib/postgresql/N/bin),
    the newest if several; `.ci/run` installs the package."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


@pytest.fixture(scope="module")
def tls_server() -> Iterator[TlsServer]:
    # The pgserver wheel's binaries are built without OpenSSL ("SSL is not supported by this
    # build"), so this server is the distribution's.
    bin_dir = _binaries()
    if bin_dir is None or shutil.which("openssl") is None:
        # CI installs both (.ci/run): there, a missing server is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail("Debian's postgresql package or openssl is missing: see .ci/run")
        pytest.skip("needs Debian's postgresql package and openssl (.ci/run installs both)")
    folder = Path(tempfile.mkdtemp(prefix="pgtls", dir="/tmp"))
    data, certs = folder / "data", folder / "certs"
    certs.mkdir()
    # The server refuses to run as root: as root, it runs as the package's "postgres" user.
    user = "postgres" if os.geteuid() == 0 else None
    ca = _ca(certs, "test-ca")
    other_ca, _ = _ca(certs, "other-ca")
    cert, key = _server_certificate(certs, ca)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chmod(folder, 0o755)
        for path in (folder, certs, cert, key):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    os.chmod(key, 0o600)  # the server refuses a key others can read
    port = free_port()

    def pg(*args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, user=user, timeout=60)

    pg(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    (data / "pg_hba.conf").write_text(
        "local all all trust\n"
        "hostssl all all 127.0.0.1/32 scram-sha-256\n"
        "hostnossl all all 127.0.0.1/32 reject\n"
    )
    options = (
        f"-h 127.0.0.1 -p {port} -k {folder} -c ssl=on "
        f"-c ssl_cert_file={cert} -c ssl_key_file={key}"
    )
    log = folder / "server.log"
    try:
        pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-o", options, "-l", str(log), "start")
        psql = [str(bin_dir / "psql"), "-h", str(folder), "-p", str(port), "-U", "postgres"]
        pg(*psql, "-c", f"CREATE ROLE monitor LOGIN PASSWORD '{PASSWORD}'")
        pg(*psql, "-c", "CREATE DATABASE monitor OWNER monitor")
        yield TlsServer(port, ca[0], other_ca)
    finally:
        subprocess.run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True, user=user, timeout=60,
        )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def _run(tmp_path: Path, url: str, *args: str, feed: str = "") -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "config.toml"
    sources = f"{LOOPBACK_HTTP}{source(feed)}" if feed else ""
    cfg.write_text(f'{NO_SEEDS}{sources}\n[topics.troops]\nquery = "troops"\n', encoding="utf-8")
    secret = tmp_path / "db-url"
    secret.write_text(url + "\n")
    return monitor(cfg, *args, env={"MONITOR_DATABASE_URL_FILE": str(secret)})


def test_verified_tls_connection_keeps_the_state(
    tmp_path: Path, tls_server: TlsServer, content_server: ContentServer
) -> None:
    """Two polls over verified TLS: the baseline, then only the new entry is reported; the
    server refuses host connections without TLS (last test), so every write went over it."""
    url = tls_server.url(sslmode="verify-full", sslrootcert=str(tls_server.ca))
    feed = f"{content_server.base}/feed.xml"
    content_server.set("/feed.xml", (DATA / "feed-2.xml").read_bytes(), RSS)
    first = _run(tmp_path, url, "once", feed=feed)
    assert first.returncode == 0, first.stderr
    content_server.set("/feed.xml", with_items((DATA / "feed-2.xml").read_bytes(), NEW_ENTRY), RSS)
    second = _run(tmp_path, url, "once", feed=feed)
    assert second.returncode == 0, second.stderr
    # The first poll kept the feed for later; this one takes that baseline, then the news.
    assert "1 new passages" in second.stdout, second.stdout
    import psycopg

    with psycopg.connect(url) as conn:
        ssl_used = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert ssl_used.fetchone() == (True,)
        titles = [r[0] for r in conn.execute("SELECT title FROM items")]
    assert titles == ["More troops reach the port"]
    assert PASSWORD not in first.stderr + first.stdout + second.stderr + second.stdout


@pytest.mark.parametrize(
    ("host", "which_ca", "why"),
    [
        ("localhost", "other_ca", "certificate verify failed"),
        # The certificate names "localhost" only: verify-full checks the name asked for.
        ("127.0.0.1", "ca", "does not match host name"),
    ],
)
def test_a_certificate_that_does_not_verify_is_one_line(
    tmp_path: Path, tls_server: TlsServer, host: str, which_ca: str, why: str
) -> None:
    ca: Path = getattr(tls_server, which_ca)
    run = _run(tmp_path, tls_server.url(host, sslmode="verify-full", sslrootcert=str(ca)), "once")
    assert run.returncode == 4, run.stderr
    [line] = run.stderr.strip().splitlines()
    assert line.startswith(f"error: postgresql://monitor:***@{host}:{tls_server.port}/monitor")
    assert "cannot reach the database" in line and why in line, line
    assert PASSWORD not in run.stderr + run.stdout


def test_a_plain_connection_is_refused_by_this_server(
    tmp_path: Path, tls_server: TlsServer
) -> None:
    run = _run(tmp_path, tls_server.url(sslmode="disable"), "once")
    assert run.returncode == 4, run.stderr
    [line] = run.stderr.strip().splitlines()
    assert "cannot reach the database" in line and "no encryption" in line, line
