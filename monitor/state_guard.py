"""The state folder as the daemon guards it: one instance at a time (the lock), and faults of
its database or files (full disk, read-only folder, damage) turned into "not ready" instead of
a crash.

A fault is noted once (one log line when it begins or changes kind, `monitor_state_fault` set)
and cleared once a probe write succeeds again; work that writes state waits meanwhile, and the
outbox keeps what it holds. A damaged database is not cured by waiting: it needs a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from monitor import metrics
from monitor.store import StateDamaged, StateError, Store
from monitor.store.faults import os_fault

log = logging.getLogger("monitor.daemon")

LOCK_NAME = "monitor.lock"


class AlreadyRunning(RuntimeError):
    pass


@contextlib.contextmanager
def state_lock(state_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on state/ so a second instance cannot corrupt the first's work."""
    path = state_dir / LOCK_NAME
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # a read-only folder: one line naming it, not a traceback
        raise os_fault(exc, path) or exc from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise AlreadyRunning(
                f"another monitor (pid {other}) is using {state_dir}; stop it first, "
                "or give this one its own [state] path"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
        except OSError as exc:
            raise os_fault(exc, path) or exc from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


class StateGuard:
    """The daemon's view of its state folder: the current fault, if any."""

    def __init__(self) -> None:
        self.fault: StateError | None = None
        self._store: Store | None = None
        self._state_dir = Path(".")

    def watch(self, store: Store, state_dir: Path) -> None:
        """The store and folder to probe (set once the store is open)."""
        self._store, self._state_dir = store, state_dir

    def note(self, exc: StateError) -> None:
        """Note a state fault: one log line when it starts or changes, not one per tick."""
        old = self.fault
        if old is None or (type(old), old.kind) != (type(exc), exc.kind):
            log.error(
                "state fault: %s (not ready; polls and deliveries wait and are retried every tick)",
                exc,
                extra={"event": "state_fault"},
            )
        self.fault = exc
        metrics.STATE_FAULT.set(1)

    def usable(self) -> bool:
        """Whether work that writes state may run: after a fault, only once a probe write
        succeeds again. A damaged database is not cured by waiting: it needs a restart."""
        fault = self.fault
        if fault is None:
            return True
        if isinstance(fault, StateDamaged) or self._store is None:
            return False
        try:
            self._store.probe_write()
        except StateError as exc:
            self.note(exc)
            return False
        except OSError as exc:
            self.note(os_fault(exc, self._state_dir) or fault)
            return False
        log.warning("state usable again (%s); ready", fault.path, extra={"event": "state_ok"})
        self.fault = None
        metrics.STATE_FAULT.set(0)
        return True

    @contextlib.contextmanager
    def catching(self) -> Iterator[None]:
        """Turn a state fault in a job into not-ready: the daemon keeps running, nothing claimed
        or marked sent in the failed transaction counts, and the next tick retries."""
        try:
            yield
        except StateError as exc:
            self.note(exc)
        except OSError as exc:  # a feed or digest file in the state folder
            fault = os_fault(exc, exc.filename or self._state_dir)
            if fault is None:
                raise
            self.note(fault)
