"""The DNS threads: results and errors come back, jobs beyond the pool wait their turn, and a
lookup that never returns cannot hold the process's exit (as a ThreadPoolExecutor's would)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from monitor.fetch.threads import DaemonThreadPool
from tests.conftest import REPO


def test_answers_and_errors_come_back() -> None:
    pool = DaemonThreadPool(2, "t")
    try:
        assert pool.submit(sum, [1, 2, 3]).result(timeout=10) == 6
        with pytest.raises(ZeroDivisionError):
            pool.submit(lambda: 1 / 0).result(timeout=10)
    finally:
        pool.shutdown()


def test_at_most_max_workers_threads_run_at_once() -> None:
    pool = DaemonThreadPool(3, "t")
    lock = threading.Lock()
    running, peak = 0, 0

    def job() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    try:
        for future in [pool.submit(job) for _ in range(12)]:
            future.result(timeout=30)
    finally:
        pool.shutdown()
    assert 1 <= peak <= 3


def test_after_shutdown_no_new_lookups_and_waiting_ones_are_cancelled() -> None:
    pool = DaemonThreadPool(1, "t")
    gate = threading.Event()
    first = pool.submit(gate.wait, 30)
    queued = pool.submit(sum, [1])
    pool.shutdown(cancel_futures=True)
    assert queued.cancelled()
    gate.set()
    assert first.result(timeout=10) is True
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(sum, [1])


@pytest.mark.parametrize(
    ("pool", "holds_exit"),
    [
        ("DaemonThreadPool(2, 'dns')", False),
        ("concurrent.futures.ThreadPoolExecutor(2)", True),  # the contrast: what it replaced
    ],
)
def test_a_lookup_that_never_returns_does_not_hold_the_exit(pool: str, holds_exit: bool) -> None:
    code = (
        "import concurrent.futures, time\n"
        "from monitor.fetch.threads import DaemonThreadPool\n"
        f"pool = {pool}\n"
        "pool.submit(time.sleep, 120)\n"
        "time.sleep(0.2)\n"
        "pool.shutdown(wait=False, cancel_futures=True)\n"
        "print('leaving')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE)
    try:
        proc.wait(timeout=10)
        exited = True
    except subprocess.TimeoutExpired:
        exited = False
    finally:
        proc.kill()
        proc.wait()
    assert exited is not holds_exit
