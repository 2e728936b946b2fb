"""Parser processes: a job past its deadline, over its memory cap or crashing is stopped and costs
only itself; the pool replaces the process and the next job runs normally."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from monitor import metrics
from monitor.extract.errors import ExtractError
from monitor.sandbox import JobOutOfMemory, JobTimedOut, Limits, Sandbox, WorkerDied


# Jobs: module-level, so that a parser process can import them by name.
def pid() -> int:
    return os.getpid()


def spin(seconds: float) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"


def hog(megabytes: int) -> int:
    blocks = [bytearray(1024 * 1024) for _ in range(megabytes)]
    return len(blocks)


def crash() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def fail(message: str) -> None:
    raise ExtractError(message)


def sigint_ignored() -> bool:
    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def faults(reason: str) -> float:
    return metrics.REGISTRY.get_sample_value("monitor_parser_faults_total", {"reason": reason}) or 0


@pytest.fixture
def sandbox() -> object:
    box = Sandbox(1, Limits(timeout=2.0, memory_mb=200))
    yield box
    box.close()


async def test_a_job_past_its_deadline_is_killed_and_the_next_runs_in_a_new_process(
    sandbox: Sandbox,
) -> None:
    first = await sandbox.run(pid)
    before = faults("timeout")
    with pytest.raises(JobTimedOut, match="timed out after 2 s"):
        await sandbox.run(spin, 600.0)
    assert faults("timeout") == before + 1
    second = await sandbox.run(pid)
    assert second != first
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)  # the stuck process is gone, not left running
    assert await sandbox.run(spin, 0.0) == "done"


async def test_a_job_over_its_memory_cap_fails_alone(sandbox: Sandbox) -> None:
    assert await sandbox.run(hog, 50) == 50
    with pytest.raises(JobOutOfMemory, match="more than 200 MB"):
        await sandbox.run(hog, 2000)
    assert await sandbox.run(hog, 50) == 50


async def test_a_crashing_job_costs_only_itself(sandbox: Sandbox) -> None:
    with pytest.raises(WorkerDied, match="SIGSEGV"):
        await sandbox.run(crash)
    assert await sandbox.run(spin, 0.0) == "done"


async def test_a_process_killed_between_jobs_is_replaced(sandbox: Sandbox) -> None:
    os.kill(await sandbox.run(pid), signal.SIGKILL)
    await asyncio.sleep(0.2)
    assert await sandbox.run(spin, 0.0) == "done"


async def test_the_jobs_own_errors_come_back_as_they_were(sandbox: Sandbox) -> None:
    with pytest.raises(ExtractError, match="not a feed"):
        await sandbox.run(fail, "not a feed")
    assert await sandbox.run(sigint_ignored)  # Ctrl-C is the parent's to handle


async def test_a_cancelled_job_does_not_leak_its_answer_to_the_next(sandbox: Sandbox) -> None:
    job = asyncio.ensure_future(sandbox.run(spin, 1.0))
    await asyncio.sleep(0.3)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert await sandbox.run(spin, 0.0) == "done"
    assert isinstance(await sandbox.run(pid), int)


async def test_jobs_beyond_the_pool_size_wait_their_turn() -> None:
    box = Sandbox(2, Limits(timeout=30.0))
    try:
        answers = await asyncio.gather(*(box.run(spin, 0.05) for _ in range(7)))
        pids = await asyncio.gather(*(box.run(pid) for _ in range(6)))
    finally:
        box.close()
    assert answers == ["done"] * 7
    assert 1 <= len(set(pids)) <= 2


async def test_close_stops_jobs_in_flight() -> None:
    box = Sandbox(1, Limits(timeout=600.0))
    job = asyncio.ensure_future(box.run(spin, 600.0))
    await asyncio.sleep(0.5)
    box.close()
    with pytest.raises(WorkerDied):
        await asyncio.wait_for(job, 10)


async def test_a_process_is_retired_after_its_share_of_jobs() -> None:
    box = Sandbox(1, Limits(timeout=30.0, max_jobs=3))
    try:
        pids = [await box.run(pid) for _ in range(7)]
    finally:
        box.close()
    assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] == pids[5] != pids[6]


async def test_parser_processes_match_exactly_as_the_compiled_topics_do() -> None:
    """The topics reach a parser process as their compiled state (not compiled again there):
    every labelled text gets the same topics, scores and evidence as in this process."""
    import json

    from monitor import wiring
    from monitor.topics import compile_topics
    from monitor.topics.worker import freeze_matcher, install_matcher, match_passages
    from tests.conftest import REPO

    config = wiring.load(REPO / "config.toml")
    matcher = compile_topics(config.topics, config.aliases)
    rows = [
        json.loads(line)
        for name in ("dev.jsonl", "test.jsonl")
        for line in (REPO / "benchmarks" / "topics_eval" / name).read_text().splitlines()
        if line.strip()
    ]
    texts = [(row["text"], None, row["lang"]) for row in rows]
    box = Sandbox(1, Limits(), setup=install_matcher, setup_args=(freeze_matcher(matcher),))
    try:
        answers = await box.run(match_passages, texts)
    finally:
        box.close()
    expected = [matcher.match(t, title=None, language=lang) for t, _, lang in texts]
    assert [found for _, found, _ in answers] == expected
    assert sum(1 for found in expected if found) > 50  # the comparison is not vacuous


def leave(code: int) -> None:
    raise SystemExit(code)


def flaky_setup(path: str) -> None:
    """Fails while the file holds a positive count, one failure per start."""
    from pathlib import Path

    file = Path(path)
    left = int(file.read_text())
    if left > 0:
        file.write_text(str(left - 1))
        raise RuntimeError("not today")


async def test_a_job_that_exits_comes_back_as_an_error_not_as_the_parents_exit(
    sandbox: Sandbox,
) -> None:
    with pytest.raises(RuntimeError, match="SystemExit: 3"):
        await sandbox.run(leave, 3)
    assert await sandbox.run(spin, 0.0) == "done"


async def test_jobs_queued_behind_a_failed_start_start_a_process_themselves(tmp_path) -> None:
    count = tmp_path / "failures"
    count.write_text("1")  # the first start (the pool's own, in the background) fails
    box = Sandbox(1, Limits(timeout=30.0), setup=flaky_setup, setup_args=(str(count),))
    box.start()
    try:
        # Queued while that start was under way: they must not wait for it forever.
        answers = await asyncio.wait_for(
            asyncio.gather(box.run(spin, 0.0), box.run(spin, 0.0)), 60
        )
    finally:
        box.close()
    assert answers == ["done", "done"]
    assert count.read_text() == "0"  # the failed start did happen


async def test_close_fails_queued_jobs_with_worker_died() -> None:
    box = Sandbox(1, Limits(timeout=600.0))
    running = asyncio.ensure_future(box.run(spin, 600.0))
    queued = asyncio.ensure_future(box.run(spin, 0.0))
    await asyncio.sleep(1.0)
    box.close()
    for job in (running, queued):
        with pytest.raises(WorkerDied):
            await asyncio.wait_for(job, 10)


async def test_workers_die_with_their_fork_server() -> None:
    """Killed fork server: its workers go too (they could no longer be stopped otherwise)."""
    import multiprocessing.forkserver as fs

    box = Sandbox(1, Limits(timeout=2.0))
    try:
        worker = await box.run(pid)
        server = fs._forkserver._forkserver_pid
        assert server is not None
        os.kill(server, signal.SIGKILL)
        for _ in range(50):
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            await asyncio.sleep(0.1)
        with pytest.raises(ProcessLookupError):
            os.kill(worker, 0)
    finally:
        box.close()
