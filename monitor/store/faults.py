"""State faults: tell a usable state database from one that must not be touched, and say in
one line what went wrong with the state folder and what to do about it.

A missing `monitor.db` is a new state folder. Anything else that is not a healthy database of
this program (an empty or truncated file, another file format, another application's SQLite
database, a newer schema, corrupt pages) is refused and left as it is: starting over would
silently re-baseline every source and lose what was new since the last poll. Starting over is
the operator's call, made with `monitor reset-state`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sqlite3
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

from monitor.atomicfile import write_atomic

RESET_HINT = (
    "restore it from a backup, or run `monitor reset-state` to move it aside and start over"
)
SQLITE_MAGIC = b"SQLite format 3\x00"
# Errors of the file system rather than of the program: a full disk, a read-only folder.
OS_FAULTS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
)


class StateError(RuntimeError):
    """The state folder cannot be used. `str()` is one line: the path, the problem, what to do;
    `kind` is a few words for /readyz, which must not reveal paths."""

    kind = "unusable"

    def __init__(self, path: Path | str, problem: str, advice: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}; {advice}")


class StateDamaged(StateError):
    """The database is not one this program may use: refused, never overwritten."""

    kind = "damaged"


class StateUnwritable(StateError):
    """The state cannot be written (disk full, read-only, no permission): retried later."""

    kind = "not writable"


def _free(path: Path) -> str:
    try:
        free = shutil.disk_usage(path if path.is_dir() else path.parent).free
    except OSError:
        return "unknown"
    return f"{free / 1e6:.1f} MB"


def write_fault(path: Path | str, problem: str, action: str = "write") -> StateUnwritable:
    """A write that failed for a reason outside the program: say how much room is left."""
    path = Path(path)
    return StateUnwritable(
        path,
        f"cannot {action}: {problem} ({_free(path)} free on its file system)",
        "free space or make the state folder writable for this user; "
        "a running daemon retries by itself, a command can simply be run again",
    )


def os_fault(
    exc: OSError, path: Path | str | None = None, action: str = "write"
) -> StateUnwritable | None:
    """The state fault an OSError on a state file stands for (None: not a file-system fault).
    `action` says what failed ("write", "read")."""
    if exc.errno not in OS_FAULTS:
        return None
    where = path or exc.filename or "state folder"
    reason = os.strerror(exc.errno) if exc.errno is not None else str(exc)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StateUnwritable(
            where,
            f"cannot {action}: {reason} (running as uid {os.geteuid()})",
            "make the state folder and its files readable and writable for this user, "
            "or set [state] path",
        )
    return write_fault(where, reason, action)


def sqlite_fault(exc: BaseException, path: Path) -> StateError | None:
    """The state fault an SQLite error stands for (None: a programming error, raised as is)."""
    name = getattr(exc, "sqlite_errorname", None)
    if not isinstance(name, str):
        return None
    detail = f"{exc} ({name})"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        note_damage(path)
        return StateDamaged(path, f"the database is damaged: {detail}", RESET_HINT)
    if name.startswith(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH", "SQLITE_CANTOPEN")):
        return StateUnwritable(
            path,
            f"cannot open or write the database: {detail}, running as uid {os.geteuid()}",
            "make the state folder and monitor.db writable for this user",
        )
    if name.startswith(("SQLITE_FULL", "SQLITE_IOERR")):
        return write_fault(path, detail)
    return None


def check_file(path: Path) -> bool:
    """Look at the database file before SQLite opens it (SQLite would happily start a new
    database in an empty file). True: it exists; False: a new state folder."""
    wal = Path(f"{path}-wal")
    try:
        st = path.stat()
    except FileNotFoundError:
        if wal.exists() and wal.stat().st_size > 0:
            # SQLite would replay this log onto a new, empty database: half a database.
            raise StateDamaged(
                path,
                f"the database is missing but its write-ahead log {wal.name} is there",
                f"restore {path.name} from a backup, or run `monitor reset-state` to move the "
                "log aside and start over",
            ) from None
        return False
    except OSError as exc:
        raise os_fault(exc, path, "read") or exc from None
    if not stat.S_ISREG(st.st_mode):
        raise StateDamaged(path, "not a regular file", "move it away; it must be the database")
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise os_fault(exc, path, "read") or exc from None
    size = st.st_size
    if size == 0:
        raise StateDamaged(
            path, "not a monitor database (0 bytes: damaged or truncated)", RESET_HINT
        )
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise StateDamaged(path, f"not a monitor database (not SQLite, {size} bytes)", RESET_HINT)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count in the header is valid only when its "version valid for" matches the
    # change counter (SQLite's own rule); then a shorter file has lost its end. Not while a
    # write-ahead log is there: a checkpoint cut short (kill -9) writes page 1 before the pages
    # that extend the file, and SQLite finishes it from the log; quick_check judges that case.
    wal_pending = wal.exists() and wal.stat().st_size > 0
    if header[92:96] == header[24:28] and pages and size < pages * page_size and not wal_pending:
        raise StateDamaged(
            path,
            f"the database is truncated ({size} bytes of the {pages * page_size} its header names)",
            RESET_HINT,
        )
    return True


def check_contents(path: Path) -> None:
    """Refuse corrupt pages and databases of other applications. A database without any table
    is accepted as new: a first start stopped before its first commit left nothing to lose.

    Read through a plain connection, before the store's own connection sets WAL mode and other
    pragmas: a file that is not ours must be left exactly as it was."""
    # Damage SQLite reported while running (`note_damage`) may lie where quick_check does not
    # look (an index out of step with its table): then the full check, slower, but only until
    # it finds the file sound.
    check = "integrity_check" if Path(f"{path}{DAMAGED_SUFFIX}").exists() else "quick_check"
    try:
        conn = sqlite3.connect(path)
        try:
            # One problem is enough to refuse; it is named on one line.
            problems = [r[0] for r in conn.execute(f"PRAGMA {check}(1)")]
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise sqlite_fault(exc, path) or exc from None
    if problems != ["ok"]:
        note_damage(path)
        first = problems[0].strip().splitlines()[-1]
        raise StateDamaged(path, f"the database is damaged ({check}: {first})", RESET_HINT)
    with contextlib.suppress(OSError):
        Path(f"{path}{DAMAGED_SUFFIX}").unlink(missing_ok=True)  # sound after all (a restore)
    if tables and not {"schema_version", "sources"} <= tables:
        shown = ", ".join(sorted(tables)[:5])
        raise StateDamaged(
            path,
            f"an SQLite database of another application (tables: {shown})",
            "point [state] path at this program's own folder, or move the file away",
        )


# Where a clean close leaves the database file's size and time of change (`mark_closed`).
CLOSED_SUFFIX = ".closed"
# Left beside a database SQLite found damaged (`note_damage`) until a full check finds it sound.
DAMAGED_SUFFIX = ".damaged"
# Database files SQLite found damaged in this process (`sqlite_fault`): a close does not vouch
# for them, so that the next start checks their contents instead of running on damaged pages.
_damage_seen: set[str] = set()
RECHECK_SECONDS = 24 * 3600  # the contents are checked at least this often all the same
# What tells the file a clean close left from any other: size and time of change, and also the
# inode and its time of status change, which no one can set back: a restore or a copy that
# keeps size and times (`cp -p`, rsync -a, tar) still makes a new inode or a new ctime.
_IDENTITY = ("size", "mtime_ns", "ino", "ctime_ns")


def note_damage(path: Path) -> None:
    """SQLite found the database at `path` damaged: no clean close vouches for it again, in this
    process or in another one that has it open (a daemon beside `monitor sources`), until
    `check_contents` finds it sound."""
    _damage_seen.add(str(path))
    with contextlib.suppress(OSError):
        Path(f"{path}{CLOSED_SUFFIX}").unlink(missing_ok=True)
        Path(f"{path}{DAMAGED_SUFFIX}").touch()


def contents_checked_at(path: Path) -> float | None:
    """When the contents of the database at `path` were last found sound, if it is exactly as
    this program left it then, closed cleanly, less than RECHECK_SECONDS ago; else None, and
    `check_contents` must run.

    `PRAGMA quick_check` reads the whole file: 0.7 s of every start at 250 MB. Run at every
    open, it found nothing a clean close could have caused; what damages a database (a process
    killed mid-write, a full disk, another program, a copy or a restore) changes the file's
    size or time of change, or leaves a write-ahead log behind."""
    if Path(f"{path}{DAMAGED_SUFFIX}").exists():
        return None
    try:
        mark = json.loads(Path(f"{path}{CLOSED_SUFFIX}").read_text(encoding="utf-8"))
        st = path.stat()
        wal = Path(f"{path}-wal").exists()
        closed = [mark[k] for k in _IDENTITY] == [getattr(st, f"st_{k}") for k in _IDENTITY]
        checked = float(mark["checked"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if wal or not closed or not 0 <= time.time() - checked < RECHECK_SECONDS:
        return None
    return checked


def mark_closed(path: Path, checked: float) -> None:
    """After the last connection to the database at `path` closed cleanly: note its size and
    time of change, and when its contents were last checked (`contents_checked_at`). Best
    effort; with a write-ahead log still there (another process has it open), or once
    SQLite found the file damaged in this process, nothing."""
    marker = Path(f"{path}{CLOSED_SUFFIX}")
    try:
        damaged = str(path) in _damage_seen or Path(f"{path}{DAMAGED_SUFFIX}").exists()
        if Path(f"{path}-wal").exists() or damaged:
            marker.unlink(missing_ok=True)
            return
        st = path.stat()
        blob: dict[str, float] = {k: getattr(st, f"st_{k}") for k in _IDENTITY}
        blob["checked"] = checked
        write_atomic(marker, json.dumps(blob).encode())
    except OSError:
        pass  # the next open checks the contents, as without a mark


def forget_closed(path: Path) -> None:
    """The database at `path` is open for writing: a mark of an earlier close no longer
    holds (a crash from here on must lead to a check)."""
    with contextlib.suppress(OSError):
        Path(f"{path}{CLOSED_SUFFIX}").unlink(missing_ok=True)


def move_aside(path: Path, now: datetime | None = None) -> list[Path]:
    """Rename the database and its log files to `<name>.<UTC time>.bak` (nothing is deleted);
    return the new names."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    moved = []
    for suffix in ("", "-wal", "-shm"):
        old = Path(f"{path}{suffix}")
        if old.exists():
            new = old.with_name(f"{path.name}.{stamp}.bak{suffix}")
            old.rename(new)
            moved.append(new)
    for suffix in (CLOSED_SUFFIX, DAMAGED_SUFFIX):  # notes on the old file, not the next one
        with contextlib.suppress(OSError):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return moved
