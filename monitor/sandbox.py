"""Parser processes: untrusted bytes are parsed, extracted and matched where they can be stopped.

A feed nested tens of thousands of levels deep or a page of 200,000 nested `<div>`s can keep a
parser busy without end, and a thread cannot be stopped. So every such job runs in a process of
its own, one job at a time, with a deadline and a memory cap:

- a job past its deadline has its process killed (the next job gets a fresh one);
- a job that needs more memory than the cap fails with MemoryError inside the process, or the
  process dies, and in both cases only that job is lost;
- a dead or killed process is replaced on demand, so the pool heals itself.

Processes come from a fork server that has imported the parsers once (`monitor.preload`),
so a replacement starts in milliseconds; spawn where there is no fork server. Nothing is
started before the first job (or `start`): a poll cycle whose sources all answered 304 starts
no fork server and no process at all.

Jobs are plain module-level functions and picklable arguments. A `setup` function runs once in
every new process (the poller installs its compiled topics there, see `monitor.topics.worker`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import signal
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from monitor import metrics

log = logging.getLogger("monitor.sandbox")

T = TypeVar("T")

START_TIMEOUT = 60.0  # a new process must be up (fork server started, setup run) within this
_PR_SET_PDEATHSIG = 1  # prctl option, from <sys/prctl.h>
CLOSE_WAIT = 3.0  # how long closing waits for processes still starting (fits Docker's 10 s)


class SandboxError(Exception):
    """A job did not finish: it timed out, ran out of memory or its process died."""

    reason = "failed"


class JobTimedOut(SandboxError):
    reason = "timeout"


class JobOutOfMemory(SandboxError):
    reason = "memory"


class WorkerDied(SandboxError):
    reason = "crash"


@dataclass(frozen=True, slots=True)
class Limits:
    """What one job may take. `memory_mb` is added to what a fresh process already maps.
    A process is retired after `max_jobs` jobs, so that slow growth (caches, fragmentation)
    in a long-lived process cannot add up over months; a new one starts in about 0.1 s."""

    timeout: float = 30.0
    memory_mb: int = 1024
    max_jobs: int = 1000


@dataclass(slots=True, eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    jobs: int = 0


class Sandbox:
    """A pool of parser processes; `await run(fn, *args)` runs one job in one of them.

    Safe to use from one event loop at a time; `start` and `close` may be called from any
    thread. `size` processes at most; they are started by `start` (in a thread, so that the
    caller need not wait for the fork server) or on first use, and not before: the fork
    server too is started only then (see `started`).
    """

    def __init__(
        self,
        size: int,
        limits: Limits,
        setup: Callable[..., None] | None = None,
        setup_args: tuple[Any, ...] = (),
        name: str = "parser",
        fork_here: bool = False,
    ) -> None:
        self.size = max(1, size)
        self.limits = limits
        self._setup = setup
        self._setup_args = setup_args
        self._name = name
        # `fork_here`: fork this very process (see `start_here`), not the fork server. The fork
        # server is chosen (and started) when the first process is needed: `_where`.
        self._fork_here = fork_here
        self._context: Any = None
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)  # notified when a start ends
        self._starting = 0  # processes being started right now
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._count = 0  # processes alive or being started
        self._waiters: deque[asyncio.Future[_Worker | None]] = deque()
        self._closed = False
        self._ready = threading.Event()
        self._started = False  # any process asked for yet (by `start` or a job)
        self._starting_all = False  # `start` was called

    # --- life cycle ------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether any parser process (and so the fork server) was asked for yet."""
        return self._started

    def start(self) -> None:
        """Start every process in a background thread; `wait_ready` tells when they are up."""
        if self._closed:
            self._ready.set()
            return
        self._where()
        self._starting_all = True
        threading.Thread(target=self._prestart, name=f"{self._name}-start", daemon=True).start()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> bool:
        """Wait until every process is up, starting them (`start`) if no one did."""
        if not self._starting_all:
            self.start()
        return self._ready.wait(timeout)

    def start_here(self) -> None:
        """Start every process now, from the calling thread (blocking).

        For a one-shot command built with `fork_here` that runs no other thread yet: a fork of
        it already holds what the job needs (the compiled topics), where the fork server would
        first import every parser (some 1.5 s). The job still runs in a process of its own,
        with the deadline and memory cap.
        """
        self._prestart()

    def _prestart(self) -> None:
        self._starting_all = True
        try:
            while True:
                with self._lock:
                    if self._closed or self._count >= self.size:
                        return
                    self._count += 1
                try:
                    worker = self._spawn()
                except Exception as exc:
                    self._room_freed()
                    log.warning("%s process did not start: %s", self._name, exc)
                    return
                self._release(worker)
        finally:
            self._ready.set()

    def close(self) -> None:
        """Kill every process; jobs in flight fail with WorkerDied. Idempotent.

        A process still starting is waited for (briefly) and then killed: left alone, it
        would find its parent gone half-way through start-up and print a traceback.
        """
        with self._lock:
            self._closed = True
            self._settled.wait_for(lambda: self._starting == 0, timeout=CLOSE_WAIT)
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
            waiters = list(self._waiters)
            self._waiters.clear()
        for fut in waiters:
            stopped = WorkerDied("stopped: the parser processes are shut down")
            fut.get_loop().call_soon_threadsafe(_fail, fut, stopped)
        for worker in idle:
            _kill(worker)
        for worker in busy:
            # Its job is waiting on the pipe: the process's end closing wakes it (WorkerDied),
            # and the job's own clean-up closes ours.
            with contextlib.suppress(Exception):
                worker.process.kill()

    # --- jobs ------------------------------------------------------------------------------------

    async def run(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """Run `fn(*args)` in a parser process and return its result.

        Raises what `fn` raised (re-raised here), or a SandboxError: JobTimedOut after
        `timeout` (default: the limits'), JobOutOfMemory, WorkerDied. A job whose process
        died is tried once more in a new one: the process may have been killed from outside
        just before (the OOM killer, an operator), which is not the job's fault. A cancelled
        call kills its process: the job cannot be stopped any other way, and its answer
        would otherwise reach the next job.
        """
        limit = self.limits.timeout if timeout is None else timeout
        try:
            return await self._attempt(fn, args, limit)
        except WorkerDied as exc:
            if self._closed:
                raise
            log.info("%s; trying the job once more in a new process", exc)
        return await self._attempt(fn, args, limit)

    async def _attempt(self, fn: Callable[..., T], args: tuple[Any, ...], limit: float) -> T:
        loop = asyncio.get_running_loop()
        worker = await self._acquire()
        keep = False
        try:
            try:
                worker.conn.send((fn, args))
                await _readable(loop, worker.conn, limit)
                status, value = worker.conn.recv()
            except TimeoutError:
                metrics.PARSER_FAULTS.labels("timeout").inc()
                raise JobTimedOut(f"timed out after {limit:.0f} s") from None
            except (EOFError, OSError, ValueError):
                metrics.PARSER_FAULTS.labels("crash").inc()
                raise WorkerDied(_death(worker.process)) from None
            worker.jobs += 1
            keep = worker.jobs < self.limits.max_jobs
            if status == "ok":
                # The answer comes off the pipe as Any; the worker ran `job`, which returns T.
                return value  # type: ignore[no-any-return]
            if status == "memory":
                metrics.PARSER_FAULTS.labels("memory").inc()
                keep = False  # a process that hit its cap may hold fragmented memory: renew it
                raise JobOutOfMemory(f"needed more than {self.limits.memory_mb} MB of memory")
            raise value
        finally:
            if keep:
                self._release(worker)
            else:
                self._discard(worker)

    def run_sync(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """`run` for code without an event loop (the one-shot commands)."""
        return asyncio.run(self.run(fn, *args, timeout=timeout))

    # --- the pool --------------------------------------------------------------------------------

    async def _acquire(self) -> _Worker:
        """An idle process, a new one if there is room, or the next one released. A waiter
        woken with None was told that room was freed (a start failed, a process was
        discarded): it starts a process itself."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._closed:
                    raise WorkerDied("stopped: the parser processes are shut down")
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    return worker
                spawn = self._count < self.size
                if spawn:
                    self._count += 1
                    self._started = True
                else:
                    waiter: asyncio.Future[_Worker | None] = loop.create_future()
                    self._waiters.append(waiter)
            if spawn:
                try:
                    self._where()  # here, in the loop's thread: usually the main thread
                    worker = await asyncio.to_thread(self._spawn)
                except BaseException:
                    self._room_freed()
                    raise
                with self._lock:
                    if self._closed:
                        _kill(worker)
                        raise WorkerDied("stopped: the parser processes are shut down")
                    self._busy.add(worker)
                return worker
            try:
                handed = await waiter
            except asyncio.CancelledError:
                with self._lock, contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
                if waiter.done() and not waiter.cancelled():
                    if (got := waiter.result()) is not None:
                        self._release(got)  # handed over just as we were cancelled
                    else:
                        self._room_freed(counted=False)  # pass the news on
                raise
            if handed is not None:
                return handed

    def _room_freed(self, counted: bool = True) -> None:
        """A process slot is free (`counted`: one was reserved and is given back): wake the
        first waiter to start a process itself, so that no job waits on a start that failed."""
        with self._lock:
            if counted:
                self._count -= 1
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.get_loop().call_soon_threadsafe(_wake, waiter)
                    return

    def _release(self, worker: _Worker) -> None:
        """Give a worker that is between jobs to the next waiter, or back to the idle list."""
        with self._lock:
            self._busy.discard(worker)
            if self._closed:
                _kill(worker)
                return
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    self._busy.add(worker)
                    waiter.get_loop().call_soon_threadsafe(_hand_over, waiter, worker, self)
                    return
            self._idle.append(worker)

    def _discard(self, worker: _Worker) -> None:
        """Kill a worker whose job did not end cleanly; the first waiter starts its
        replacement."""
        _kill(worker)
        with self._lock:
            self._busy.discard(worker)
        self._room_freed()

    def _spawn(self) -> _Worker:
        """Start one process and wait until it has run `setup` (blocking: call off the loop)."""
        with self._lock:
            self._starting += 1
        try:
            return self._start_one()
        finally:
            with self._lock:
                self._starting -= 1
                self._settled.notify_all()

    def _where(self) -> Any:
        """The multiprocessing context processes come from, made (and the fork server
        started) on first call. Called from the caller's thread before a start is handed to
        another one, so that the fork server starts from the main thread where it can."""
        with self._lock:
            self._started = True
            if self._context is None:
                self._context = (
                    multiprocessing.get_context("fork") if self._fork_here else _context()
                )
            return self._context

    def _start_one(self) -> _Worker:
        context = self._where()
        parent, child = context.Pipe(duplex=True)
        process = context.Process(
            target=_serve,
            args=(child, self.limits.memory_mb, self._setup, self._setup_args),
            name=f"monitor-{self._name}",
            daemon=True,
        )
        try:
            process.start()
        except (OSError, EOFError) as exc:  # the fork server could not be reached
            child.close()
            parent.close()
            raise WorkerDied(f"failed: no {self._name} process could start ({exc})") from None
        child.close()
        worker = _Worker(process, parent)
        if not parent.poll(START_TIMEOUT):
            _kill(worker)
            raise WorkerDied(f"failed: no {self._name} process started in {START_TIMEOUT:.0f} s")
        try:
            status, value = parent.recv()
        except (EOFError, OSError):
            _kill(worker)
            raise WorkerDied(_death(process)) from None
        if status != "ready":
            _kill(worker)
            raise WorkerDied(f"failed: a {self._name} process could not set up: {value}")
        metrics.PARSER_STARTS.inc()
        return worker


def _wake(waiter: asyncio.Future[_Worker | None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _fail(waiter: asyncio.Future[Any], error: BaseException) -> None:
    if not waiter.done():
        waiter.set_exception(error)


def _hand_over(waiter: asyncio.Future[_Worker | None], worker: _Worker, pool: Sandbox) -> None:
    if waiter.done():  # cancelled meanwhile: the worker goes to the next one in line
        pool._release(worker)
    else:
        waiter.set_result(worker)


async def _readable(loop: asyncio.AbstractEventLoop, conn: Connection, timeout: float) -> None:
    """Wait until `conn` has an answer (or is closed), at most `timeout` seconds."""
    if conn.poll(0):
        return
    ready: asyncio.Future[None] = loop.create_future()
    fd = conn.fileno()
    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        async with asyncio.timeout(timeout):
            await ready
    finally:
        loop.remove_reader(fd)


def _kill(worker: _Worker) -> None:
    with contextlib.suppress(Exception):
        worker.conn.close()
    process = worker.process
    if process.is_alive():
        with contextlib.suppress(Exception):
            process.kill()
    # SIGKILL takes effect at once; joining reaps the process so that none is left a zombie.
    with contextlib.suppress(Exception):
        process.join(timeout=2)


def _death(process: BaseProcess) -> str:
    """How a process ended, as a predicate: "crashed (the parser process died of SIGSEGV)"."""
    with contextlib.suppress(Exception):
        process.join(timeout=1)
    code = process.exitcode
    how = f"exit code {code}"
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            how = signal.Signals(-code).name
    return f"crashed (the {process.name.removeprefix('monitor-')} process died of {how})"


def _context() -> multiprocessing.context.SpawnContext | multiprocessing.context.ForkServerContext:
    """Where parser processes come from: a fork server that has imported the parsers once.

    Forking this process (threads for DNS, the event loop) could copy a held lock into the
    child; spawning re-imports everything in every process. A fork server is a clean,
    single-threaded process that loads the parsers once (`monitor.preload`) and forks
    workers from that, so a new worker starts in milliseconds. Spawn where there is none.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["monitor.preload"])
    _start_fork_server()
    return context


def start_fork_server() -> None:
    """Start the fork server now, so that it imports the parsers while the caller does other
    work; the first process a pool asks for is then forked at once. Idempotent."""
    _context()


def _start_fork_server() -> None:
    """Start the fork server now, with SIGINT ignored from its very first instruction.

    multiprocessing's server ignores SIGINT only once its preload (the parsers: seconds on a
    loaded machine) is imported; a Ctrl-C to the process group before that printed the server's
    KeyboardInterrupt traceback. An ignored signal stays ignored across exec, and Python leaves
    it so at start-up. Only the main thread may change a handler; elsewhere the server starts
    on first use, as before. A Ctrl-C during these few milliseconds is lost."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


# --- inside a parser process ----------------------------------------------------------------------


def _serve(
    conn: Connection,
    memory_mb: int,
    setup: Callable[..., None] | None,
    setup_args: tuple[Any, ...],
) -> None:
    """What a parser process runs: one job at a time, until the pipe closes."""
    # Ctrl-C reaches the whole process group: the parent decides what stops, not each worker
    # with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    _cap_memory(memory_mb)
    # The parent gone (its end of the pipe closed) ends the process quietly.
    with contextlib.suppress(EOFError, OSError):
        _jobs(conn, setup, setup_args)


def _jobs(
    conn: Connection, setup: Callable[..., None] | None, setup_args: tuple[Any, ...]
) -> None:
    try:
        if setup is not None:
            setup(*setup_args)
    except BaseException as exc:
        conn.send(("failed", _portable(exc)))
        return
    conn.send(("ready", None))
    while True:
        try:
            fn, args = conn.recv()  # a body near the cap can fail here already
        except MemoryError:
            conn.send(("memory", None))
            continue
        try:
            answer: tuple[str, Any] = ("ok", fn(*args))
        except MemoryError:
            answer = ("memory", None)
        except Exception as exc:
            answer = ("error", _portable(exc))
        except BaseException as exc:
            # SystemExit or KeyboardInterrupt from a job would stop the parent's event loop
            # if re-raised there: it comes back as an ordinary error.
            answer = ("error", RuntimeError(f"{type(exc).__name__}: {exc}"))
        del fn, args
        try:
            conn.send(answer)
        except MemoryError:
            conn.send(("memory", None))
        except (EOFError, OSError):
            raise
        except Exception as exc:  # an answer that does not pickle
            conn.send(("error", RuntimeError(f"unpicklable result: {exc}")))


def _die_with_parent() -> None:
    """Ask the kernel to kill this process when its parent (the fork server) dies. Without it,
    a worker outlives a killed fork server, and the pool, which can no longer see it, cannot
    stop it either (Linux only; elsewhere nothing is done)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the request was made
        os._exit(1)


def _cap_memory(memory_mb: int) -> None:
    """Limit the address space to what the process maps now plus `memory_mb`.

    A fork of the fork server already maps the parsers and dictionaries; the cap is on what
    one job may add to that.
    """
    if memory_mb <= 0:
        return
    try:
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return
    limit = mapped + memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a RuntimeError with its text."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")

