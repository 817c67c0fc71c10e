"""Forked worker processes that die with their parent and stop at once.

A :class:`WorkerPool` is a ``concurrent.futures`` process pool, not
``multiprocessing.Pool``: a worker that is killed (say, out of memory) breaks
the executor and every waiting future, where ``Pool`` would wait for its lost
task for ever. Workers are forked on Linux only (:func:`workers_for`), all of
them at the first submit, with Ctrl-C and SIGTERM blocked until each has set
its own handling (:func:`_start_worker`). And :func:`in_blocks`: numpy work
over blocks of columns, a thread per core, the same numbers for any count.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from plausibly.models.settings import cores

__all__ = ["WorkerPool", "in_blocks", "keep_freed_memory", "signals_blocked", "workers_for"]

_T = TypeVar("_T")


def workers_for(tasks: int) -> int:
    """Worker processes: one per core this process may use, at most one per task.

    Only on Linux: the workers are forked, and fork without exec is unsafe on
    macOS (system frameworks) and absent on Windows; there the chains run one
    after another in this process, with the same draws.
    """
    if not sys.platform.startswith("linux"):
        return 1
    return max(1, min(tasks, cores()))


def in_blocks(fn: Callable[[slice], _T], width: int, size: int,
              threads: int | None = None) -> list[_T]:
    """``fn`` of each block of ``size`` of ``width`` columns, in order, in up to ``threads``.

    For numpy work that lets go of Python's lock (sorts, sums, FFTs); one
    thread per core by default. The blocks, not the threads, decide what
    each call computes, so the results do not depend on how many threads
    there are. No columns still make one (empty) block.
    """
    blocks = [slice(k, k + size) for k in range(0, max(width, 1), size)]
    n = min(cores() if threads is None else threads, len(blocks))
    if n < 2:
        return [fn(b) for b in blocks]
    with futures.ThreadPoolExecutor(n) as pool:
        return list(pool.map(fn, blocks))


class WorkerPool:
    """``workers`` forked processes, forked at once with the ``first`` tasks submitted.

    Everything a task needs should be set (in module globals) before this is
    made, so that the fork carries it and nothing is pickled but the task's
    arguments and result. ``warm()``, if given, runs in each worker as it
    starts, before its first task (say, to plan the work its tasks share).
    """

    def __init__(self, workers: int, first: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
                 warm: Callable[[], object] | None = None) -> None:
        ctx = mp.get_context("fork")
        others = set(mp.active_children())
        # the workers are forked (all of them, at the first submit) with Ctrl-C and
        # SIGTERM blocked, so that neither reaches one before it has set its own
        # handling; here they are delivered as soon as the forks are done
        with signals_blocked():
            self.executor = ProcessPoolExecutor(workers, mp_context=ctx,
                                                initializer=_start_worker,
                                                initargs=(os.getpid(), warm))
            self.first = [self.executor.submit(fn, *args) for fn, args in first]
            self.workers = list(set(mp.active_children()) - others)

    def submit(self, fn: Callable[..., Any], *args: Any) -> futures.Future[Any]:
        """Run ``fn(*args)`` in a worker."""
        return self.executor.submit(fn, *args)

    def shutdown(self) -> None:
        """Wait for the workers to finish and end."""
        self.executor.shutdown(wait=True)

    def stop(self) -> None:
        """Kill every worker at once (they hold nothing worth saving) and drop the pool."""
        for worker in self.workers:
            with contextlib.suppress(OSError, ValueError):
                worker.kill()
        deadline = time.monotonic() + 5.0
        for worker in self.workers:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                worker.join(timeout=5)
            # a join that could not run (or timed out) must not leave a worker still dying
            while worker.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
        # the executor's own thread notices the dead workers and closes its
        # pipes; wait (bounded) until it has, else it may still be closing them
        # at interpreter exit, when CPython 3.11 wakes it without its lock and
        # prints "Bad file descriptor" after our message (concurrent.futures
        # process.py, _python_exit)
        manager = getattr(self.executor, "_executor_manager_thread", None)
        self.executor.shutdown(wait=False, cancel_futures=True)
        if manager is not None:
            manager.join(timeout=5.0)

    def interrupted(self) -> bool:
        """Whether a worker was ended by SIGINT (its default action, see :func:`_start_worker`).

        The executor ends the others with SIGTERM, never SIGINT. The dead
        worker may not have been reaped yet when the pool reports it broken:
        wait a moment for its exit status.
        """
        deadline = time.monotonic() + 2.0
        while True:
            codes = [w.exitcode for w in self.workers]
            if -signal.SIGINT in codes:
                return True
            if None not in codes or time.monotonic() > deadline:
                return False
            time.sleep(0.02)


@contextlib.contextmanager
def signals_blocked() -> Iterator[None]:
    """Block Ctrl-C and SIGTERM in this thread for the block (delivered when it ends).

    Threads started inside the block inherit the mask, so they never take
    either signal: it always reaches the main thread.
    """
    stops = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


#: prctl(2) option: the signal the kernel sends this process when its parent thread ends
_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Make this worker die with ``parent``, the process that forked it.

    On Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the
    worker when the thread that forked it ends, however it ends (SIGKILL
    too). The parent may have died before that call; then the worker was
    already handed to another process and exits now. Where prctl is missing,
    a watchdog thread checks once a second that the parent is still there.
    """
    armed = False
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL),
                               ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:
        os._exit(1)
    if not armed:
        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, name="plausibly-parent-watchdog", daemon=True).start()


#: glibc's mallopt parameters, and the sizes set (bytes)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_ABOVE, _TRIM_ABOVE = 256 << 20, 512 << 20


def keep_freed_memory() -> bool:
    """Let this process reuse the large blocks numpy frees; True where that could be set.

    glibc's malloc maps every block above its threshold (at most 32 MiB)
    afresh and unmaps it when freed, so each of the tens of MiB tables a
    query builds costs thousands of page faults, the kernel zeroing each
    page: 20-25% of a worker's time on the bundled scenario. Raised to 256
    MiB (and the heap trimmed only above 512 MiB free), the blocks are
    reused. The numbers are the same; only where memory comes from changes.
    A C library without ``mallopt`` (not glibc) is left as it is.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_ABOVE) and mallopt(_M_TRIM_THRESHOLD,
                                                                       _TRIM_ABOVE))


def _start_worker(parent: int, warm: Callable[[], object] | None = None) -> None:
    """Set up a forked worker: die with the parent, default signal actions, one BLAS thread.

    Large freed blocks are kept for reuse (:func:`keep_freed_memory`).

    Ctrl-C and SIGTERM get their default actions (the parent's Python
    handlers would make a worker raise inside PyMC, which swallows a
    KeyboardInterrupt and returns a short chain; or inside a query, which
    would report it as that query's error): a worker they reach ends at
    once, and the parent sees how. They were blocked across the fork, and
    are unblocked only now.
    """
    _die_with(parent)
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # workers already fill the cores: one BLAS thread each, as PyMC does
    keep_freed_memory()
    if warm is not None:
        with contextlib.suppress(Exception):  # a task that fails fails again, and says so
            warm()

