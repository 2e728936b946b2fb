"""State faults, with real files and the real CLI and daemon in subprocesses: a damaged
`monitor.db` is refused with one line and exit 4, never overwritten or silently started over;
a read-only or full state folder is named in one line; the daemon reports not-ready, keeps its
outbox, retries, and is ready again once the fault clears.

Tests run as root here, for whom mode bits do not stop writes (and `chattr +i` needs a file
system that has it): a read-only folder is made with chmod, and the child drops root's
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER from its bounding set before exec, so the
bits bind it. (Running it as `nobody` fails: the interpreter lives under /root.) A full disk is
a file size limit (RLIMIT_FSIZE, for the daemon set with prlimit on its pid and lifted again):
writes past it fail with EFBIG, which SQLite reports as a disk I/O or disk-full error. Neither
needs a mount or a second file system.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import ContentServer, WebhookReceiver, free_port
from tests.test_daemon import get
from tests.test_daemon import wait_for as daemon_wait_for

FEED = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>
<item><guid>a</guid><title>Entry A</title><description>Text A</description></item>
<item><guid>b</guid><title>Entry B</title><description>Text B</description></item>
</channel></rss>"""
NEW_ITEM = "<item><guid>c</guid><title>Entry C</title><description>Text C</description></item>"


def write_config(folder: Path, srv: ContentServer, extra: str = "") -> Path:
    cfg = folder / "config.toml"
    cfg.write_text(
        f"""
[http]
allow_networks = ["127.0.0.1/32"]
[seeds]
enabled = false
[[sources]]
name = "local feed"
url = "{srv.base}/feed.xml"
kind = "feed"
[topics.t]
query = "entry"
[channels.files]
kind = "file"
send_empty = false
schedule = "0 0 1 1 *"
{extra}""",
        encoding="utf-8",
    )
    return cfg


def monitor(cfg: Path, *args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cfg.parent,
        **kw,  # type: ignore[call-overload]
    )


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(run: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The command failed with exactly one line on stderr, an error naming what it must."""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def feed(content_server: ContentServer) -> ContentServer:
    content_server.set("/feed.xml", FEED, "application/rss+xml")
    return content_server


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a real state database after one poll (checkpointed, so all in one file)."""
    srv = ContentServer()
    srv.thread.start()
    srv.set("/feed.xml", FEED, "application/rss+xml")
    work = tmp_path_factory.mktemp("made")
    try:
        run = monitor(write_config(work, srv), "once")
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()
    assert run.returncode == 0, run.stderr
    db = work / "state" / "monitor.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db.read_bytes()


def _foreign(db: Path, real: bytes) -> None:
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
        conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.org/')")
        conn.commit()


def _newer(db: Path, real: bytes) -> None:
    db.write_bytes(real)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("INSERT INTO schema_version VALUES (999, '2030-01-01 00:00:00')")
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _corrupt_pages(db: Path, real: bytes) -> None:
    # Every page after the schema keeps its length but loses its b-tree header.
    data = bytearray(real)
    page = int.from_bytes(data[16:18], "big")
    for offset in range(page * 2, len(data), page):
        data[offset : offset + 8] = b"\xff" * 8
    db.write_bytes(bytes(data))


def _wal_without_db(db: Path, real: bytes) -> None:
    Path(f"{db}-wal").write_bytes(b"\x37\x7f\x06\x82" + bytes(4092))


DAMAGE = {
    "empty": (lambda db, real: db.write_bytes(b""), "0 bytes"),
    "truncated": (lambda db, real: db.write_bytes(real[: len(real) // 2]), "truncated"),
    "garbage": (lambda db, real: db.write_bytes(os.urandom(len(real))), "not SQLite"),
    "foreign sqlite": (_foreign, "another application (tables: moz_places)"),
    "newer schema": (_newer, "schema version 999, newer than this program"),
    "corrupt pages": (_corrupt_pages, "the database is damaged"),
    "log without database": (_wal_without_db, "missing but its write-ahead log"),
}


def damaged_state(folder: Path, damage: str, real: bytes) -> tuple[Path, dict[str, str]]:
    """A state folder whose database has the given damage, and the digests of its files."""
    state = folder / "state"
    state.mkdir()
    db = state / "monitor.db"
    DAMAGE[damage][0](db, real)
    return db, {p.name: digest_of(p) for p in state.iterdir()}


def untouched(db: Path, before: dict[str, str]) -> bool:
    """The state folder's files are as they were; the lock and the note that the database was
    found damaged (`monitor.db.damaged`, empty) aside."""
    notes = {"monitor.lock", f"{db.name}.damaged"}
    files = {p.name: digest_of(p) for p in db.parent.iterdir() if p.name not in notes}
    return files == before


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_database_is_refused_never_reset(
    tmp_path: Path, feed: ContentServer, real_db: bytes, damage: str
) -> None:
    cfg = write_config(tmp_path, feed)
    db, before = damaged_state(tmp_path, damage, real_db)
    run = monitor(cfg, "once")
    assert run.returncode == 4, (run.stdout, run.stderr)
    line = one_line_error(run, str(db), DAMAGE[damage][1])
    if damage != "newer schema":
        assert "monitor reset-state" in line or "another application" in line
    # Nothing was overwritten, nothing re-baselined: no source was even fetched.
    assert untouched(db, before)
    assert feed.hits("/feed.xml") == 0


def test_every_command_that_reads_state_refuses_an_empty_database(
    tmp_path: Path, feed: ContentServer
) -> None:
    cfg = write_config(tmp_path, feed)
    db, before = damaged_state(tmp_path, "empty", b"")
    for command in (["digest"], ["digest", "--dry-run"], ["sources"], ["run"]):
        run = monitor(cfg, *command)
        assert run.returncode == 4, (command, run.stdout, run.stderr)
        one_line_error(run, f"{db}: not a monitor database (0 bytes", "monitor reset-state")
    assert untouched(db, before)
    assert db.stat().st_size == 0
    assert feed.hits("/feed.xml") == 0


def test_reset_state_is_the_explicit_way_to_start_over(
    tmp_path: Path, feed: ContentServer, real_db: bytes
) -> None:
    cfg = write_config(tmp_path, feed)
    state = tmp_path / "state"
    state.mkdir()
    (state / "monitor.db").write_bytes(b"")
    assert monitor(cfg, "once").returncode == 4

    reset = monitor(cfg, "reset-state")
    assert reset.returncode == 0, reset.stderr
    aside = [p for p in state.iterdir() if p.name.startswith("monitor.db.") and ".bak" in p.name]
    assert len(aside) == 1 and aside[0].stat().st_size == 0  # moved, not deleted
    assert "moved aside" in reset.stdout

    assert monitor(cfg, "once").returncode == 0  # a new database, every source re-baselined

    # A healthy database is not reset without --force.
    healthy = digest_of(state / "monitor.db")
    refused = monitor(cfg, "reset-state")
    assert refused.returncode == 2
    one_line_error(refused, "healthy monitor database", "--force")
    assert digest_of(state / "monitor.db") == healthy

    # Nor one written by a newer release (upgrading is the answer), unless forced.
    _newer(state / "monitor.db", real_db)
    newer = monitor(cfg, "reset-state")
    assert newer.returncode == 2
    one_line_error(newer, "written by a newer release", "--force")
    forced = monitor(cfg, "reset-state", "--force")
    assert forced.returncode == 0, forced.stderr
    assert not (state / "monitor.db").exists()


def _last_page_one(wal: bytes, page_size: int) -> bytes:
    """The newest image of page 1 in a write-ahead log (32-byte header, then frames of a
    24-byte header, whose first 4 bytes are the page number, and the page)."""
    frame = 24 + page_size
    found = b""
    for offset in range(32, len(wal) - frame + 1, frame):
        if int.from_bytes(wal[offset : offset + 4], "big") == 1:
            found = wal[offset + 24 : offset + frame]
    assert found, "page 1 is not in the log"
    return found


def test_a_database_left_by_kill_9_is_accepted(tmp_path: Path, feed: ContentServer) -> None:
    """Not a false alarm: the files as kill -9 leaves them, commits only in the write-ahead log
    and a checkpoint cut short after page 1 (which already names the grown size), are a healthy
    database; SQLite finishes the checkpoint from the log."""
    cfg = write_config(tmp_path, feed)
    assert monitor(cfg, "once").returncode == 0
    state = tmp_path / "state"
    live = tmp_path / "live"
    shutil.copytree(state, live)
    writer = sqlite3.connect(live / "monitor.db")
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")
        key = writer.execute("SELECT key FROM sources").fetchone()[0]
        writer.executemany(
            "INSERT INTO seen (source_key, fingerprint, first_seen, last_seen) "
            "VALUES (?, ?, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            [(key, f"fp{i:06d}" * 8) for i in range(3000)],
        )
        writer.execute("UPDATE sources SET state = 'failing', last_error = 'only in the log'")
        writer.commit()
        for name in ("monitor.db", "monitor.db-wal"):
            shutil.copy(live / name, state / name)
    finally:
        writer.close()
    db = state / "monitor.db"
    data = bytearray(db.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    data[:page_size] = _last_page_one((state / "monitor.db-wal").read_bytes(), page_size)
    db.write_bytes(bytes(data))
    assert int.from_bytes(data[28:32], "big") * page_size > len(data)  # header ahead of file

    run = monitor(cfg, "sources", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)[0]["error"] == "only in the log"
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM seen").fetchone()[0] >= 3000
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def closed_cleanly(folder: Path, feed: ContentServer) -> tuple[Path, Path]:
    """A config over `feed` and its state database after one `once` closed it cleanly (the
    mark of that close written): (config, database)."""
    cfg = write_config(folder, feed)
    assert monitor(cfg, "once").returncode == 0
    db = folder / "state" / "monitor.db"
    assert Path(f"{db}.closed").exists()
    return cfg, db


def test_pages_damaged_after_a_clean_close_are_refused(
    tmp_path: Path, feed: ContentServer
) -> None:
    # A clean close spares the next start the full check (below); damage done since, even
    # keeping the file's size, is still found at the next start.
    cfg, db = closed_cleanly(tmp_path, feed)
    _corrupt_pages(db, db.read_bytes())
    run = monitor(cfg, "once")
    assert run.returncode == 4, (run.stdout, run.stderr)
    one_line_error(run, str(db), "the database is damaged")


def test_the_full_check_runs_after_anything_but_a_clean_close(
    tmp_path: Path, feed: ContentServer
) -> None:
    """`PRAGMA quick_check` reads the whole file at every start (0.7 s at 250 MB): it is skipped
    when the file is exactly as a clean close left it, less than a day after the last check."""
    cfg = write_config(tmp_path, feed)
    db = tmp_path / "state" / "monitor.db"
    marker = Path(f"{db}.closed")

    def checked_after_once() -> float:
        assert monitor(cfg, "once").returncode == 0
        return float(json.loads(marker.read_text("utf-8"))["checked"])

    first = checked_after_once()
    assert checked_after_once() == first  # closed cleanly, untouched since: not checked again
    # Changed since (another program, a restore, a process killed mid-write): checked.
    os.utime(db, ns=(db.stat().st_atime_ns, db.stat().st_mtime_ns + 1_000_000))
    second = checked_after_once()
    assert second > first
    assert checked_after_once() == second
    # A write-ahead log left behind (a process killed while it had the file open): checked.
    Path(f"{db}-wal").write_bytes(b"")
    third = checked_after_once()
    assert third > second
    # A day after the last check: checked, whatever the file.
    mark = json.loads(marker.read_text("utf-8"))
    marker.write_text(json.dumps({**mark, "checked": mark["checked"] - 2 * 86400}), "utf-8")
    assert checked_after_once() > third


def _damage_unseen(db: Path, table: str = "sources") -> None:
    """Damage the first page of `table` in `db` and give the file back its size and time of
    change: damage its metadata does not show (a failing disk). Writing the file gives it a
    new ctime, which a failing disk would not: the mark of a clean close, if any, is given it
    too, so that the damage stays unseen until a page is read."""
    st = db.stat()
    with closing(sqlite3.connect(db)) as conn:
        query = "SELECT rootpage FROM sqlite_master WHERE name = ?"
        root = conn.execute(query, (table,)).fetchone()
    data = bytearray(db.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    start = (root[0] - 1) * page  # the table's first page loses its b-tree header
    data[start : start + 8] = b"\xff" * 8
    db.write_bytes(bytes(data))
    os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert db.stat().st_size == st.st_size
    marker = Path(f"{db}.closed")
    if marker.exists():
        now = db.stat()
        mark = json.loads(marker.read_text("utf-8"))
        marker.write_text(json.dumps({**mark, "ctime_ns": now.st_ctime_ns}), "utf-8")


def test_reset_state_judges_the_contents_whatever_a_clean_close_noted(
    tmp_path: Path, feed: ContentServer
) -> None:
    # `reset-state` is run because a command said the database is damaged; it must look at the
    # pages themselves, not take the mark of the last clean close for a check.
    cfg, db = closed_cleanly(tmp_path, feed)
    _damage_unseen(db)
    reset = monitor(cfg, "reset-state")
    assert reset.returncode == 0, (reset.stdout, reset.stderr)
    assert "moved aside" in reset.stdout
    assert not db.exists()


def test_damage_found_while_running_is_checked_for_at_the_next_start(
    tmp_path: Path, feed: ContentServer
) -> None:
    # Damage a clean close's mark could not see is found once a command reads the broken page:
    # that command's close must not vouch for the file again, or every later start would go on
    # (fetching, writing onto the damaged file) instead of refusing at once.
    cfg, db = closed_cleanly(tmp_path, feed)
    _damage_unseen(db, "seen")
    changed = FEED.replace("</channel>", NEW_ITEM + "</channel>")
    feed.set("/feed.xml", changed, "application/rss+xml")
    found = monitor(cfg, "once")
    assert found.returncode == 4, (found.stdout, found.stderr)
    one_line_error(found, str(db), "the database is damaged")
    hits = feed.hits("/feed.xml")
    refused = monitor(cfg, "once")
    assert refused.returncode == 4, (refused.stdout, refused.stderr)
    # Damage was noted: the full check, which names itself.
    one_line_error(refused, str(db), "the database is damaged (integrity_check")
    assert feed.hits("/feed.xml") == hits  # refused before any fetch


def test_damage_another_command_found_is_not_vouched_for_by_the_daemons_clean_close(
    tmp_path: Path, feed: ContentServer
) -> None:
    # `monitor feedback` finds a damaged page while the daemon has the file open; the daemon,
    # which never read that page, closes cleanly later. Its close must not mark the file sound:
    # the next start checks the contents and refuses before any fetch.
    port = free_port()
    cfg, db = closed_cleanly(tmp_path, feed)
    cfg.write_text(cfg.read_text() + f"[web]\nport = {port}\n", encoding="utf-8")
    daemon = DaemonProcess(cfg)
    try:
        assert wait_for(lambda: readyz(port)[0] == 200), daemon.text()
        with closing(sqlite3.connect(db)) as conn:  # every page in the file, none in the log
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _damage_unseen(db, "feedback")
        found = monitor(cfg, "feedback")
        assert found.returncode == 4, (found.stdout, found.stderr)
        one_line_error(found, str(db), "the database is damaged")
    finally:
        daemon.proc.terminate()
        daemon.proc.wait(timeout=60)
    assert daemon.proc.returncode == 0, daemon.text()
    assert not Path(f"{db}.closed").exists()
    hits = feed.hits("/feed.xml")
    refused = monitor(cfg, "once")
    assert refused.returncode == 4, (refused.stdout, refused.stderr)
    # Damage was noted: the full check, which names itself.
    one_line_error(refused, str(db), "the database is damaged (integrity_check")
    assert feed.hits("/feed.xml") == hits  # refused before any fetch
    # Moved aside, the next database starts without the old file's notes.
    assert monitor(cfg, "reset-state").returncode == 0
    assert not Path(f"{db}.damaged").exists()


def test_brand_new_state_folder_is_created(tmp_path: Path, feed: ContentServer) -> None:
    cfg = write_config(tmp_path, feed)
    run = monitor(cfg, "once")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "state" / "monitor.db").stat().st_size > 0


# --- a read-only state folder ------------------------------------------------------------------
PR_CAPBSET_DROP = 24
# Root's ways past mode bits: CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER.
ROOT_OVERRIDES = (1, 2, 3)
_libc = ctypes.CDLL(None, use_errno=True)  # loaded here: the child may only make the call


def _drop_root_overrides() -> None:
    """In the child, before exec: take the capabilities that let root write where mode bits
    forbid it out of the bounding set, so that a read-only folder is read-only for it too."""
    for cap in ROOT_OVERRIDES:
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def mode_bits_apply() -> dict[str, object]:
    """subprocess arguments under which mode bits bind the child (as root, they do not)."""
    return {"preexec_fn": _drop_root_overrides} if os.geteuid() == 0 else {}


def test_read_only_state_folder_and_file(tmp_path: Path, feed: ContentServer) -> None:
    cfg = write_config(tmp_path, feed)
    assert monitor(cfg, "once").returncode == 0
    state = tmp_path / "state"
    db = state / "monitor.db"
    before = digest_of(db)

    # The folder cannot be written: not even the lock file can be opened.
    for path in state.iterdir():
        path.chmod(0o444)
    state.chmod(0o555)
    try:
        for command in ("once", "digest", "run"):
            run = monitor(cfg, command, **mode_bits_apply())
            assert run.returncode == 4, (command, run.stdout, run.stderr)
            one_line_error(run, str(state / "monitor.lock"), "cannot write", "writable")

        # The folder is writable again but the database file is not.
        state.chmod(0o755)
        (state / "monitor.lock").unlink()
        run = monitor(cfg, "once", **mode_bits_apply())
        assert run.returncode == 4, run.stderr
        one_line_error(run, str(db), "readonly database", "writable")
        assert digest_of(db) == before

        # The database cannot even be read.
        db.chmod(0)
        run = monitor(cfg, "sources", **mode_bits_apply())
        assert run.returncode == 4, run.stderr
        one_line_error(run, str(db), "cannot read: Permission denied", "readable")
    finally:
        state.chmod(0o755)
        for path in state.iterdir():
            path.chmod(0o755 if path.is_dir() else 0o644)


# --- disk full -----------------------------------------------------------------------------------
def _file_size_limit(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))


def test_disk_full_during_once_is_one_line_and_leaves_state_whole(
    tmp_path: Path, feed: ContentServer
) -> None:
    cfg, db = closed_cleanly(tmp_path, feed)
    with closing(sqlite3.connect(db)) as conn:
        polled = conn.execute("SELECT last_polled_at FROM sources").fetchall()

    run = monitor(cfg, "once", preexec_fn=lambda: _file_size_limit(4096))
    assert run.returncode == 4, run.stdout + run.stderr
    one_line_error(run, str(tmp_path / "state"), "cannot write", "free space")

    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT last_polled_at FROM sources").fetchall() == polled


def test_a_first_start_on_a_full_disk_leaves_no_half_database(
    tmp_path: Path, feed: ContentServer
) -> None:
    """A new database is made whole or not at all: a failed first start leaves nothing the next
    start would have to refuse as damaged."""
    cfg = write_config(tmp_path, feed)
    full = monitor(cfg, "once", preexec_fn=lambda: _file_size_limit(16))
    assert full.returncode == 4, full.stdout + full.stderr
    one_line_error(full, str(tmp_path / "state" / "monitor.db"), "cannot write")
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["monitor.lock"]

    again = monitor(cfg, "once")
    assert again.returncode == 0, again.stderr
    assert "1 first poll kept unparsed" in again.stdout


class DaemonProcess:
    """`monitor run` in a subprocess; its log read through a pipe (a log file would itself
    hit the file size limit)."""

    def __init__(self, cfg: Path) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(cfg), "run"],
            cwd=cfg.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)

    def count(self, needle: str) -> int:
        return sum(needle in line for line in self.lines)


def metrics_text(port: int, state: Path) -> str:
    # Every route but the probes needs a token: the one the daemon made in the state folder.
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    request.add_header("Authorization", "Bearer " + (state / "web.token").read_text().strip())
    with urllib.request.urlopen(request, timeout=5) as r:
        return r.read().decode()


def readyz(port: int) -> tuple[int, str]:
    return get(f"http://127.0.0.1:{port}/readyz")


def wait_for(predicate, timeout: float = 30.0) -> bool:  # type: ignore[no-untyped-def]
    return daemon_wait_for(predicate, timeout)


def outbox(db: Path) -> list[tuple[str, str, int]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(
            "SELECT id, status, attempts FROM digests ORDER BY created_at"
        ).fetchall()


def test_daemon_disk_full_is_not_ready_then_recovers_with_its_outbox(
    tmp_path: Path, feed: ContentServer
) -> None:
    hook = WebhookReceiver()
    hook.thread.start()
    port = free_port()
    cfg = write_config(
        tmp_path,
        feed,
        f"""[poll]
tick_seconds = 1
[web]
port = {port}
[channels.hook]
kind = "webhook"
url = "{hook.url}"
schedule = "0 0 1 1 *"
""",
    )
    cfg.write_text(cfg.read_text().replace('kind = "feed"', 'kind = "feed"\ninterval = "1s"'))
    db = tmp_path / "state" / "monitor.db"
    # A digest in the outbox whose first delivery failed: due again 30 s later.
    hook.fail_next = 1
    queued = monitor(cfg, "digest", "--channel", "hook")
    assert queued.returncode == 1, queued.stdout + queued.stderr
    [(digest_id, status, attempts)] = outbox(db)
    assert (status, attempts) == ("pending", 1)
    due_at = time.monotonic() + 30

    daemon = DaemonProcess(cfg)
    try:
        assert wait_for(lambda: readyz(port)[0] == 200), daemon.text()
        # The disk fills up: every write past 4 KiB into any file fails.
        resource.prlimit(daemon.proc.pid, resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
        assert wait_for(lambda: readyz(port)[0] == 503), daemon.text()
        assert readyz(port)[1] == "not ready: state not writable\n"
        assert "monitor_state_fault 1.0" in metrics_text(port, db.parent)

        # The digest falls due while the disk is full: it stays in the outbox, unsent.
        while time.monotonic() < due_at + 3:
            time.sleep(0.5)
        assert daemon.proc.poll() is None, daemon.text()
        assert readyz(port)[0] == 503
        assert outbox(db) == [(digest_id, "pending", 1)]
        assert len(hook.received) == 1

        # The disk has room again: ready, and the digest goes out, under its own id.
        resource.prlimit(
            daemon.proc.pid,
            resource.RLIMIT_FSIZE,
            (resource.RLIM_INFINITY, resource.RLIM_INFINITY),
        )
        assert wait_for(lambda: readyz(port)[0] == 200), daemon.text()
        assert "monitor_state_fault 0.0" in metrics_text(port, db.parent)
        assert wait_for(lambda: outbox(db) == [(digest_id, "sent", 2)]), outbox(db)
        assert [h.get("webhook-id") for h, _ in hook.received] == [digest_id, digest_id]

        # One line when the fault began and one when it cleared; no traceback per tick.
        log = daemon.text()
        assert daemon.count("state fault:") == 1, log
        assert str(db) in next(line for line in daemon.lines if "state fault:" in line)
        assert daemon.count("state usable again") == 1, log
        assert "Traceback" not in log
    finally:
        daemon.proc.terminate()
        daemon.proc.wait(timeout=60)
        hook.httpd.shutdown()
        hook.httpd.server_close()
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_restored_copy_with_the_same_size_and_time_is_checked(
    tmp_path: Path, feed: ContentServer
) -> None:
    # A backup taken after a clean close and restored with its times kept (`cp -p`, rsync -a)
    # has the size and time of change the mark names; a bit flipped in that copy is not the
    # file the close left, and the next start must check it before fetching.
    cfg, db = closed_cleanly(tmp_path, feed)
    backup = tmp_path / "backup.db"
    shutil.copy2(db, backup)
    _damage_unseen(backup, "feedback")  # a page `once` never reads (no mark beside the copy)
    db.unlink()
    shutil.copy2(backup, db)  # the restore: contents, size and times of the backup
    hits = feed.hits("/feed.xml")
    run = monitor(cfg, "once")
    assert run.returncode == 4, (run.stdout, run.stderr)
    one_line_error(run, str(db), "the database is damaged (quick_check")
    assert feed.hits("/feed.xml") == hits  # refused before any fetch


def _index_out_of_step(db: Path) -> None:
    """Leave the index of `seen.last_seen` holding entries its rows do not have (as a torn
    write can): every page stays well formed, so `PRAGMA quick_check` finds nothing, while an
    update of `last_seen` fails with SQLITE_CORRUPT_INDEX."""
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = "
            "'CREATE INDEX ix_seen_last_seen ON seen (last_seen, fingerprint)'"
            " WHERE name = 'ix_seen_last_seen'"
        )
        conn.commit()
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok"


def test_damage_quick_check_cannot_see_is_refused_at_the_next_start(
    tmp_path: Path, feed: ContentServer
) -> None:
    # SQLite reported the file damaged while running (an index out of step with its table);
    # `quick_check` does not compare indexes with their tables, so taking it for the full
    # check let every later start fetch and fail again. With damage noted, the next start
    # runs the full check and refuses before any fetch.
    cfg, db = closed_cleanly(tmp_path, feed)
    changed = FEED.replace("</channel>", NEW_ITEM + "</channel>")
    feed.set("/feed.xml", changed, "application/rss+xml")
    assert monitor(cfg, "once").returncode == 0  # the baseline taken: fingerprints stored
    _index_out_of_step(db)
    fourth = NEW_ITEM.replace(">c<", ">d<").replace("Entry C", "Entry D").replace("Text C", "D")
    more = changed.replace("</channel>", fourth + "</channel>")
    feed.set("/feed.xml", more, "application/rss+xml")  # seen again: last_seen updated
    found = monitor(cfg, "once")
    assert found.returncode == 4, (found.stdout, found.stderr)
    one_line_error(found, str(db), "the database is damaged")
    assert Path(f"{db}.damaged").exists()
    hits = feed.hits("/feed.xml")
    refused = monitor(cfg, "once")
    assert refused.returncode == 4, (refused.stdout, refused.stderr)
    one_line_error(refused, str(db), "the database is damaged (integrity_check")
    assert feed.hits("/feed.xml") == hits  # refused before any fetch
    assert Path(f"{db}.damaged").exists()
