"""Sampling: every (prior set, chain) is one task for a pool of forked workers.

The pool has one worker process per core (:class:`Sampler`). Chain ``c`` is seeded by
``chain_seeds(seed)[c]`` and starts from a seeded uniform(-1, 1) jitter, as
PyMC's default NUTS initialisation does; so a chain's draws depend only on
the seed, its index and its prior set.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

from plausibly.models.errors import Interrupted, Problem, SamplingError, WorkerLost
from plausibly.models.network import Network
from plausibly.models.parameters import ParameterPrior
from plausibly.models.pymc_model import compiled

__all__ = ["Progress", "Sampler", "chain_seeds", "sample_posterior", "sample_sets", "workers_for"]

#: ``progress(done, total)``: sampling iterations done so far, of all
Progress = Callable[[int, int], None]


def chain_seeds(seed: int, chains: int) -> list[int]:
    """One seed per chain, spawned from the run's seed (``numpy.random.SeedSequence``).

    Chain ``c`` of a run depends on ``(seed, c)`` and its prior set only: not
    on which worker ran it, in what order, or what else was sampled.
    """
    return [int(child.generate_state(1)[0])
            for child in np.random.SeedSequence(seed).spawn(chains)]


@dataclass(frozen=True)
class _Job:
    """Everything a worker needs; set before forking, so nothing is pickled."""

    net: Network
    priors: tuple[ParameterPrior, ...]
    draws: int
    tune: int
    seeds: tuple[int, ...]
    after: Callable[[int, int, np.ndarray], Any] | None
    tick: Callable[[int], None]


_JOB: _Job | None = None


#: iterations between progress ticks (a tick costs a lock; an iteration ~0.3 ms)
_TICK = 50


def _run_chain(task: tuple[int, int]) -> tuple[int, int, Any, Any]:
    """Sample chain ``c`` of prior set ``i``; then ``after(i, c, z)`` on its draws."""
    from plausibly.models._arviz import arviz

    arviz()  # PyMC imports arviz: first here, without its FutureWarning
    import pymc as pm

    i, c = task
    job = _JOB
    assert job is not None, "_run_chain runs inside sample_sets"
    prior = job.priors[i]
    model, step, fresh = compiled(job.net, prior)
    step.sampling_state = fresh  # no state carried over from an earlier task
    # PyMC's own NUTS init jitters the start uniformly in (-1, 1) around the
    # initial point; passing our step skips that, so do it here, seeded
    start = np.random.default_rng(job.seeds[c]).uniform(-1.0, 1.0, prior.free.size)
    total = job.draws + job.tune

    def tick(trace: Any, draw: Any) -> None:
        done = draw.draw_idx + 1
        if done % _TICK == 0 or done == total:
            try:
                job.tick(done % _TICK or _TICK)
            except KeyboardInterrupt:  # from the progress callback: PyMC would swallow it
                raise Interrupted(signal.SIGINT) from None

    with model, warnings.catch_warnings(), _ctrl_c_not_swallowed():
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=UserWarning)
        pm.set_data({"mu": prior.mu, "sigma_free": prior.sigma[prior.free]})
        idata = pm.sample(draws=job.draws, tune=job.tune, chains=1, cores=1, step=step,
                          initvals={"z": start}, random_seed=job.seeds[c],
                          progressbar=False, callback=tick, compute_convergence_checks=False,
                          idata_kwargs={"log_likelihood": False})
    if idata.posterior.sizes.get("draw", 0) != job.draws:
        # PyMC ends a chain early on KeyboardInterrupt and returns what it has
        raise Interrupted(signal.SIGINT, f"interrupted: chain {c} of prior set {prior.id} "
                          "was cut short (Ctrl-C); nothing is written")
    z = idata.posterior["z"].values[0]
    return i, c, idata, (job.after(i, c, z) if job.after is not None else None)


@contextlib.contextmanager
def _ctrl_c_not_swallowed() -> Iterator[None]:
    """While sampling in this process's main thread, Ctrl-C raises :class:`Interrupted`.

    PyMC catches KeyboardInterrupt and returns the chain so far as if it were
    whole; it lets Interrupted through. (A forked worker leaves SIGINT to its
    default action instead, see :func:`_start_worker`.)
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def workers_for(tasks: int) -> int:
    """Worker processes: one per core this process may use, at most one per task.

    Only on Linux: the workers are forked, and fork without exec is unsafe on
    macOS (system frameworks) and absent on Windows; there the chains run one
    after another in this process, with the same draws.
    """
    if not sys.platform.startswith("linux"):
        return 1
    return max(1, min(tasks, len(os.sched_getaffinity(0))))


class Sampler:
    """The worker pool as a context manager: prior sets in, each set's chains out.

    Every (set, chain) is one task. On entering, the samplers are compiled
    (once per process, before forking, so every worker inherits them) and the
    tasks are handed to a pool of forked worker processes, one per core;
    nothing is compiled or pickled per task, and no draw crosses a pipe until
    its chain is done (PyMC's own parallel sampler sends every draw, which
    cost more than the sampling here). A task may also run ``after(set_index,
    chain, z)`` on its chain's draws ``z`` (draw, param), so the queries run on all
    cores too. :meth:`sets` then yields each set as soon as its chains are all
    back, in order, while later sets still sample: the caller's own work
    between entering and iterating runs while the workers sample.

    On leaving, PyMC's logger gets back its level, and after an error,
    Ctrl-C or SIGTERM every worker still running is stopped at once. The
    workers die with this process however it ends, SIGKILL included
    (:func:`_start_worker`; on Linux the kernel sends them SIGKILL when the
    thread that entered the sampler ends). A worker that gets Ctrl-C (SIGINT)
    stops the whole run: :class:`Interrupted`, never a short chain; one killed
    any other way is :class:`WorkerLost`.

    Parameters
    ----------
    progress : callable, optional
        ``progress(done, total)``, iterations (tuning included), a few times a
        second, from :meth:`sets`.
    """

    def __init__(self, net: Network, priors: Sequence[ParameterPrior], *, draws: int, tune: int,
                 chains: int, seed: int, after: Callable[[int, int, np.ndarray], Any] | None = None,
                 progress: Progress | None = None) -> None:
        if any(prior.free.size == 0 for prior in priors):
            raise SamplingError(problems=[Problem(net.name, "", "every parameter is fixed",
                                                  "nothing to sample: use the exact answer")])
        self.net, self.priors, self.chains = net, tuple(priors), chains
        self.progress = progress
        self.tasks = [(i, c) for i in range(len(self.priors)) for c in range(chains)]
        self.total = len(self.tasks) * (draws + tune)
        self._job_args = (draws, tune, tuple(chain_seeds(seed, chains)), after)
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[tuple[int, int], futures.Future[Any]] = {}
        self._counter: Any = None
        self._done = 0
        self._workers: list[Any] = []
        self._level = logging.NOTSET
        self._finished = False

    def __enter__(self) -> Sampler:
        global _JOB

        for prior in self.priors:
            compiled(self.net, prior)  # compile before forking, so every worker has it
        logger = logging.getLogger("pymc")
        self._level = logger.level
        logger.setLevel(logging.ERROR)  # PyMC's per-chain chatter; restored on exit
        draws, tune, seeds, after = self._job_args
        workers = workers_for(len(self.tasks))
        if workers == 1:
            _JOB = _Job(self.net, self.priors, draws, tune, seeds, after, self._here)
            return self
        ctx = mp.get_context("fork")
        counter = self._counter = ctx.Value("q", 0)

        def shared(n: int) -> None:
            with counter.get_lock():
                counter.value += n

        _JOB = _Job(self.net, self.priors, draws, tune, seeds, after, shared)
        # concurrent.futures, not multiprocessing.Pool: a worker that is killed
        # (say, out of memory) breaks the executor and every waiting future,
        # where Pool would wait for its lost task for ever
        others = set(mp.active_children())
        try:
            # the workers are forked (all of them, at the first submit) with Ctrl-C and
            # SIGTERM blocked, so that neither reaches one before it has set its own
            # handling; here they are delivered as soon as the forks are done
            with _signals_blocked():
                self._pool = ProcessPoolExecutor(workers, mp_context=ctx,
                                                 initializer=_start_worker,
                                                 initargs=(os.getpid(),))
                self._pending = {t: self._pool.submit(_run_chain, t) for t in self.tasks}
                self._workers = list(set(mp.active_children()) - others)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        global _JOB

        _JOB = None
        logging.getLogger("pymc").setLevel(self._level)
        if self._pool is None:
            return
        if not self._finished:  # an error, Ctrl-C or SIGTERM: stop the chains still running
            self._stop()
            return
        self._pool.shutdown(wait=True)

    def _stop(self) -> None:
        """Kill every worker at once (they hold nothing worth saving) and drop the pool."""
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError):
                worker.kill()
        deadline = time.monotonic() + 5.0
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                worker.join(timeout=5)
            # a join that could not run (or timed out) must not leave a worker still dying
            while worker.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
        if self._pool is not None:
            # the executor's own thread notices the dead workers and closes its
            # pipes; wait (bounded) until it has, else it may still be closing them
            # at interpreter exit, when CPython 3.11 wakes it without its lock and
            # prints "Bad file descriptor" after our message (concurrent.futures
            # process.py, _python_exit)
            manager = getattr(self._pool, "_executor_manager_thread", None)
            self._pool.shutdown(wait=False, cancel_futures=True)
            if manager is not None:
                manager.join(timeout=5.0)

    def sets(self) -> Iterator[tuple[int, Any, list[Any]]]:
        """Yield ``(set_index, idata, afters)`` per set, in order, as its chains come back.

        ``idata`` joins the set's chains (``z`` in the posterior; sample stats);
        ``afters`` holds each chain's ``after`` result.
        """
        for i in range(len(self.priors)):
            yield (i, *_gather([self._fetch((i, c)) for c in range(self.chains)]))
        self._finished = True

    def _here(self, n: int) -> None:
        self._done += n
        if self.progress is not None:
            self.progress(self._done, self.total)

    def _fetch(self, task: tuple[int, int]) -> Any:
        if self._pool is None:  # one process: run the chain now
            return _run_chain(task)
        job = self._pending[task]
        while not job.done():
            futures.wait([job], timeout=0.1)
            if self.progress is not None:
                self.progress(int(self._counter.value), self.total)
        try:
            return job.result()
        except BrokenProcessPool:
            if self._interrupted_worker():
                raise Interrupted(signal.SIGINT, "interrupted: a sampling worker got Ctrl-C "
                                  "(SIGINT); every worker is stopped and nothing is "
                                  "written") from None
            raise WorkerLost(problems=[Problem(
                self.net.name, "", "a sampling worker process ended abruptly (killed, "
                "perhaps for lack of memory)", "nothing was written: run the command "
                "again")]) from None

    def _interrupted_worker(self) -> bool:
        """Whether a worker was ended by SIGINT (its default action, see :func:`_start_worker`).

        The executor ends the others with SIGTERM, never SIGINT. The dead
        worker may not have been reaped yet when the pool reports it broken:
        wait a moment for its exit status.
        """
        deadline = time.monotonic() + 2.0
        while True:
            codes = [w.exitcode for w in self._workers]
            if -signal.SIGINT in codes:
                return True
            if None not in codes or time.monotonic() > deadline:
                return False
            time.sleep(0.02)


def sample_sets(net: Network, priors: Sequence[ParameterPrior], *, draws: int, tune: int,
                chains: int, seed: int, after: Callable[[int, int, np.ndarray], Any] | None = None,
                progress: Progress | None = None) -> list[tuple[Any, list[Any]]]:
    """Sample several prior sets on one network (see :class:`Sampler`).

    Returns
    -------
    list of (InferenceData, list)
        Per prior set: its chains and the ``after`` result of each chain.
    """
    with Sampler(net, priors, draws=draws, tune=tune, chains=chains, seed=seed, after=after,
                 progress=progress) as sampler:
        return [(idata, afters) for _, idata, afters in sampler.sets()]


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Block Ctrl-C and SIGTERM in this thread for the block (delivered when it ends)."""
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


def _start_worker(parent: int) -> None:
    """Set up a forked worker: die with the parent, default signal actions, one BLAS thread.

    Ctrl-C and SIGTERM get their default actions (the parent's Python
    handlers would make a worker raise inside PyMC, which swallows a
    KeyboardInterrupt and returns a short chain): a worker they reach ends at
    once, and the parent sees how. They were blocked across the fork, and
    are unblocked only now.
    """
    _die_with(parent)
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # workers already fill the cores: one BLAS thread each, as PyMC does


def _gather(parts: list[tuple[int, int, Any, Any]]) -> tuple[Any, list[Any]]:
    """One InferenceData from single-chain ones, chains numbered 0..C-1 in order."""
    import xarray as xr

    from plausibly.models._arviz import arviz

    az = arviz()
    first = parts[0][2]
    groups = {}
    for group in first.groups():
        if "chain" in first[group].dims:
            joined = xr.concat([p[2][group] for p in parts], dim="chain", combine_attrs="override")
            groups[group] = joined.assign_coords(chain=np.arange(len(parts)))
        else:
            groups[group] = first[group]
    groups["posterior"].attrs["sampling_time"] = sum(
        float(p[2].posterior.attrs.get("sampling_time", 0.0)) for p in parts)
    return az.InferenceData(**groups), [p[3] for p in parts]


def sample_posterior(net: Network, prior: ParameterPrior, *, draws: int, tune: int,
                     chains: int, seed: int, progress: Progress | None = None,
                     ) -> Any:
    """Sample one prior set (see :func:`sample_sets`); InferenceData with ``z``."""
    return sample_sets(net, [prior], draws=draws, tune=tune, chains=chains, seed=seed,
                       progress=progress)[0][0]
