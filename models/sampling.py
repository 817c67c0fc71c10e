"""Sampling: every prior set's chains, on every core, with each chain's queries.

:class:`Sampler` runs BlackJAX's NUTS (:mod:`plausibly.models.nuts`, the
default) or PyMC's, and hands each chain's draws to a pool of forked workers
(:mod:`plausibly.models.workers`) for the work that follows. Chain ``c`` is
seeded by ``chain_seeds(seed)[c]`` and starts from a seeded uniform(-1, 1)
jitter (:func:`chain_starts`), as PyMC's default NUTS initialisation does;
so a chain's draws depend only on the seed, its index, its prior set and
the sampler.
"""

from __future__ import annotations

import collections
import functools
import logging
import multiprocessing as mp
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from plausibly.models import nuts, pymc_chain
from plausibly.models.errors import (
    Interrupted,
    Problem,
    SamplingError,
    WorkerLost,
    raise_if_stopped,
)
from plausibly.models.network import Network
from plausibly.models.parameters import ParameterPrior
from plausibly.models.pymc_model import compiled
from plausibly.models.settings import SAMPLER, SAMPLERS, cores
from plausibly.models.workers import WorkerPool, signals_blocked, workers_for

__all__ = ["SAMPLERS", "Progress", "Sampler", "chain_seeds", "chain_starts", "sample_posterior",
           "sample_sets", "workers_for"]

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
    alongside: tuple[Callable[[], Any], ...] = ()


_JOB: _Job | None = None


#: chains started ahead per thread (one running, one waiting)
_AHEAD = 2

#: draws a worker answers, and throws away, to plan its queries before the first chain
_WARM_DRAWS = 4

def _run_chain(task: tuple[int, int]) -> tuple[int, int, Any, Any]:
    """PyMC: sample chain ``c`` of prior set ``i``; then ``after(i, c, z)`` on its draws."""
    i, c = task
    job = _JOB
    assert job is not None, "_run_chain runs inside sample_sets"
    prior = job.priors[i]
    start = chain_starts([job.seeds[c]], prior.free.size)[0]
    idata = pymc_chain.sample_chain(job.net, prior, draws=job.draws, tune=job.tune,
                                    seed=job.seeds[c], start=start, tick=job.tick)
    if idata.posterior.sizes.get("draw", 0) != job.draws:
        # PyMC ends a chain early on KeyboardInterrupt and returns what it has
        raise Interrupted(signal.SIGINT, f"interrupted: chain {c} of prior set {prior.id} "
                          "was cut short (Ctrl-C); nothing is written")
    z = idata.posterior["z"].values[0]
    return i, c, idata, (job.after(i, c, z) if job.after is not None else None)


class Sampler:
    """Prior sets in, each set's chains out, as a context manager; every core busy.

    With ``sampler="blackjax"`` (the default), every chain is one call of the
    model's compiled JAX program (:mod:`plausibly.models.nuts`), the chains
    spread over the cores; with ``"pymc"``, every (set, chain) is one task of
    PyMC's NUTS in a pool of forked worker processes, one per core. A task may also run
    ``after(set_index, chain, z)`` on its chain's draws ``z`` (draw, param),
    in the worker pool, so the queries run on all cores too: for BlackJAX,
    the workers are forked on entering, before JAX starts its threads, and
    get each chain's draws as it is sampled. Nothing is compiled or pickled
    per task but the draws. :meth:`sets` then yields each set as soon as its
    chains are all back, in order, while later sets still sample: the
    caller's own work between entering and iterating runs meanwhile.

    On leaving, PyMC's logger gets back its level, and after an error,
    Ctrl-C or SIGTERM every worker still running is stopped at once. The
    workers die with this process however it ends, SIGKILL included
    (:class:`~plausibly.models.workers.WorkerPool`). A worker that gets
    Ctrl-C (SIGINT) stops the whole run: :class:`Interrupted`, never a short
    chain; one killed any other way is :class:`WorkerLost`.

    Parameters
    ----------
    progress : callable, optional
        ``progress(done, total)``, iterations (tuning included), a few times a
        second, from :meth:`sets`. With BlackJAX a chain's iterations count
        when it is sampled and its ``after`` is done.
    sampler : {"blackjax", "pymc"}
    alongside : sequence of callables
        Jobs that need no draws (say, the evidence of each prior set):
        their results come from :meth:`alongside`.
    """

    def __init__(self, net: Network, priors: Sequence[ParameterPrior], *, draws: int, tune: int,
                 chains: int, seed: int, after: Callable[[int, int, np.ndarray], Any] | None = None,
                 progress: Progress | None = None, sampler: str = SAMPLER,
                 alongside: Sequence[Callable[[], Any]] = ()) -> None:
        if any(prior.free.size == 0 for prior in priors):
            raise SamplingError(problems=[Problem(net.name, "", "every parameter is fixed",
                                                  "nothing to sample: use the exact answer")])
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler {sampler!r} is not one of {', '.join(SAMPLERS)}")
        self.net, self.priors, self.chains = net, tuple(priors), chains
        self.progress, self.sampler = progress, sampler
        self.tasks = [(i, c) for i in range(len(self.priors)) for c in range(chains)]
        self.per_chain = draws + tune
        self.total = len(self.tasks) * self.per_chain
        self._job_args = (draws, tune, tuple(chain_seeds(seed, chains)), after)
        self._pool: WorkerPool | None = None
        self._pending: dict[tuple[int, int], futures.Future[Any]] = {}
        self._counter: Any = None
        self._done = 0
        self._level = logging.NOTSET
        self._finished = False
        # BlackJAX: each chain's draws to come, in the order they were started
        self._running: list[tuple[tuple[int, int], futures.Future[tuple[np.ndarray, ...]]]] = []
        self._queue: collections.deque[tuple[tuple[int, int], Callable[[], Any]]] = \
            collections.deque()
        self._chain_pool: futures.ThreadPoolExecutor | None = None
        self._sampled: dict[int, tuple[np.ndarray, dict[str, np.ndarray], float]] = {}
        self._answered: dict[tuple[int, int], Any] = {}
        self._started = 0.0
        self._feeder: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._fed_error: list[BaseException] = []
        self._alongside = tuple(alongside)
        self._side: list[futures.Future[Any]] = []

    def __enter__(self) -> Sampler:
        global _JOB

        draws, tune, seeds, after = self._job_args
        if self.sampler == "pymc":
            for prior in self.priors:
                compiled(self.net, prior)  # compile before forking, so every worker has it
        logger = logging.getLogger("pymc")
        self._level = logger.level
        logger.setLevel(logging.ERROR)  # PyMC's per-chain chatter; restored on exit
        jax = self.sampler == "blackjax"
        workers = workers_for(len(self.tasks)) if (after is not None or not jax) else 1
        if workers == 1:
            _JOB = _Job(self.net, self.priors, draws, tune, seeds, after, self._here,
                        self._alongside)
        else:
            ctx = mp.get_context("fork")
            counter = self._counter = ctx.Value("q", 0)

            def shared(n: int) -> None:
                with counter.get_lock():
                    counter.value += n

            _JOB = _Job(self.net, self.priors, draws, tune, seeds, after, shared,
                        self._alongside)
        try:
            if workers > 1:
                # BlackJAX: fork the query workers now, before JAX starts its threads
                first: list[tuple[Callable[..., Any], tuple[Any, ...]]] = (
                    ([(_run_alongside, (k,)) for k in range(len(self._alongside))]
                     or [(_nothing, ())]) if jax
                    else [(_run_chain, (t,)) for t in self.tasks])
                with warnings.catch_warnings():
                    # JAX warns at any fork once it is running (a test process, a
                    # notebook): the workers never call into JAX, only numpy
                    warnings.filterwarnings("ignore", message="os.fork()",
                                            category=RuntimeWarning)
                    self._pool = WorkerPool(workers, first, warm=self._warm(after))
                if not jax:
                    self._pending = dict(zip(self.tasks, self._pool.first, strict=True))
                elif self._alongside:
                    self._side = list(self._pool.first)
            if jax:
                # importing JAX and loading compiled code run Python inside native calls
                # and garbage-collector callbacks, where a Ctrl-C's exception is dropped
                # or (seen once in 8 tries) crashes the process: the signals wait until
                # the chains are started (a second or two), and JAX's threads, started
                # meanwhile, never take them
                with signals_blocked():
                    self._dispatch(draws, tune, seeds)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _warm(self, after: Callable[[int, int, np.ndarray], Any] | None
              ) -> Callable[[], object] | None:
        """``after`` on a few draws at ``z = 0``: each worker plans its queries while JAX starts."""
        if after is None or self.sampler != "blackjax":
            return None
        size = self.priors[0].free.size
        return functools.partial(after, 0, 0, np.zeros((_WARM_DRAWS, size)))

    def _dispatch(self, draws: int, tune: int, seeds: tuple[int, ...]) -> None:
        """Start the first chains, a thread per core; the feeder starts the rest.

        At most :data:`_AHEAD` chains are started per thread, so that a stop
        (Ctrl-C) waits for the few running chains only: JAX cannot cancel one
        that has begun, and one not begun is cancelled.
        """
        self._started = time.perf_counter()
        loaded: set[str] = set()
        for i, prior in enumerate(self.priors):
            program = nuts.program(self.net, prior, draws=draws, tune=tune)
            if program.key not in loaded:  # once, before its chains
                program.load()
                loaded.add(program.key)
            starts = chain_starts(seeds, prior.free.size)
            self._queue.extend(((i, c), functools.partial(program.start, prior, seeds[c],
                                                          starts[c]))
                               for c in range(self.chains))
        threads = min(cores(), len(self.tasks))
        self._chain_pool = futures.ThreadPoolExecutor(threads, thread_name_prefix="plausibly-chain")
        for _ in range(min(len(self._queue), _AHEAD * threads)):
            self._start_next()
        self._feeder = threading.Thread(target=self._feed, name="plausibly-feeder", daemon=True)
        self._feeder.start()

    def _start_next(self) -> None:
        """Start the next chain waiting, in the next free thread."""
        task, start = self._queue.popleft()
        assert self._chain_pool is not None
        self._running.append((task, self._chain_pool.submit(start)))

    def __exit__(self, *exc: object) -> None:
        global _JOB

        _JOB = None
        logging.getLogger("pymc").setLevel(self._level)
        if self._feeder is not None:
            with self._lock:
                self._stopping.set()  # no chain is handed on from now
            self._feeder.join()
        if self._chain_pool is not None:  # the chains not begun are dropped
            self._chain_pool.shutdown(wait=False, cancel_futures=True)
        if self._pool is None:
            return
        if not self._finished:  # an error, Ctrl-C or SIGTERM: stop the chains still running
            self._pool.stop()
            return
        self._pool.shutdown()

    def sets(self) -> Iterator[tuple[int, Any, list[Any]]]:
        """Yield ``(set_index, idata, afters)`` per set, in order, as its chains come back.

        ``idata`` joins the set's chains (``z`` in the posterior; sample stats);
        ``afters`` holds each chain's ``after`` result.
        """
        for i in range(len(self.priors)):
            if self.sampler == "pymc":
                yield (i, *pymc_chain.gather([self._fetch((i, c)) for c in range(self.chains)]))
                continue
            try:
                self._wait(functools.partial(self._has, i))
                z, stats, seconds = self._sampled[i]
                answers = [self._answer((i, c)) for c in range(self.chains)]
            except KeyboardInterrupt:  # as PyMC's path says it: never a short run
                raise Interrupted(signal.SIGINT) from None
            yield i, nuts.groups(self.priors[i], z, stats, seconds, self._job_args[1]), answers
        self._finished = True

    def _here(self, n: int) -> None:
        self._done += n
        if self.progress is not None:
            self.progress(self._done, self.total)

    def _wait(self, done: Callable[[], bool]) -> None:
        """Poll until ``done()``, showing progress (a feeder thread hands chains on).

        Progress is shown at least once, even when ``done()`` already holds: a
        BlackJAX chain counts only when it ends, and one that ended while JAX
        was loading would otherwise never be shown (nor a Ctrl-C given there
        seen before the results are used).
        """
        while True:
            finished = done()  # before counting, so the count shown includes it
            if self.progress is not None:
                self.progress(self._iterations_done(), self.total)
            if finished:
                return
            raise_if_stopped()  # a Ctrl-C or SIGTERM whose exception Python dropped
            if self._fed_error:
                if isinstance(self._fed_error[0], BrokenProcessPool):
                    self._broken()
                raise self._fed_error[0]
            with self._lock:
                running = [f for f in self._pending.values() if not f.done()]
            if running:
                futures.wait(running, timeout=0.05, return_when=futures.FIRST_COMPLETED)
            else:
                time.sleep(0.02)

    def alongside(self) -> list[Any]:
        """The results of the ``alongside`` jobs, in order.

        With BlackJAX and worker processes, they ran in the workers first,
        while this process started JAX and compiled; otherwise they run here
        now, while the chains sample.
        """
        if not self._side:
            return [job() for job in self._alongside]
        out = []
        for job in self._side:
            self._wait(job.done)
            try:
                out.append(job.result())
            except BrokenProcessPool:
                self._broken()
        return out

    def _has(self, i: int) -> bool:
        """BlackJAX: whether set ``i`` is sampled and its chains handed on."""
        return i in self._sampled and (self._pool is None or self._job_args[3] is None
                                       or all((i, c) in self._pending
                                              for c in range(self.chains)))

    def _iterations_done(self) -> int:
        """Iterations done so far, tuning included.

        PyMC's workers count theirs as they go; a BlackJAX chain's count when
        it is sampled and answered (``after``).
        """
        if self.sampler == "pymc":
            return int(self._counter.value)
        if self._job_args[3] is None:
            chains = len(self._sampled) * self.chains
        elif self._pool is None:
            chains = len(self._answered)
        else:
            with self._lock:
                chains = sum(f.done() for f in self._pending.values())
        return chains * self.per_chain

    def _feed(self) -> None:
        """A thread: as each chain's program ends, take its draws and hand it to the workers.

        Runs while the caller's own work (the ``alongside`` jobs, a set's
        diagnostics) keeps the main thread, so no worker waits for it.
        """
        after = self._job_args[3]
        taken: dict[tuple[int, int], tuple[np.ndarray, ...]] = {}
        try:
            n = 0
            while n < len(self._running):  # the list grows as the feeder starts chains
                (i, c), drawn = self._running[n]
                n += 1
                while not drawn.done():
                    if self._stopping.wait(0.01):
                        return
                if self._queue and not self._stopping.is_set():
                    self._start_next()  # a thread is free
                taken[(i, c)] = drawn.result()
                if after is not None and self._pool is not None:
                    with self._lock:
                        if self._stopping.is_set():
                            return
                        self._pending[(i, c)] = self._pool.submit(_run_after, i, c,
                                                                  taken[(i, c)][0])
                if c == self.chains - 1:  # the set is whole
                    z, *stats = (np.stack(x) for x in zip(*(taken.pop((i, k))
                                                            for k in range(self.chains)),
                                                          strict=True))
                    self._sampled[i] = (z, dict(zip(nuts.STATS, stats, strict=True)),
                                        time.perf_counter() - self._started)
        except BaseException as err:  # a failed program or a broken pool: the caller raises it
            self._fed_error.append(err)

    def _answer(self, task: tuple[int, int]) -> Any:
        """BlackJAX: chain ``task``'s ``after`` result, here or from its worker."""
        i, c = task
        after = self._job_args[3]
        if after is None:
            return None
        if self._pool is None:
            if task not in self._answered:
                self._answered[task] = after(i, c, self._sampled[i][0][c])
                self._here(self.per_chain)
            return self._answered[task]
        return self._result(task)

    def _fetch(self, task: tuple[int, int]) -> Any:
        """PyMC: chain ``task``, sampled here now or by its worker."""
        if self._pool is None:  # one process: run the chain now
            return _run_chain(task)
        return self._result(task)

    def _result(self, task: tuple[int, int]) -> Any:
        assert self._pool is not None
        job = self._pending[task]
        self._wait(job.done)
        try:
            return job.result()
        except BrokenProcessPool:
            self._broken()

    def _broken(self) -> NoReturn:
        """A worker died: Ctrl-C (:class:`Interrupted`) or killed (:class:`WorkerLost`)."""
        assert self._pool is not None
        if self._pool.interrupted():
            raise Interrupted(signal.SIGINT, "interrupted: a sampling worker got Ctrl-C "
                              "(SIGINT); every worker is stopped and nothing is "
                              "written") from None
        raise WorkerLost(problems=[Problem(
            self.net.name, "", "a sampling worker process ended abruptly (killed, "
            "perhaps for lack of memory)", "nothing was written: run the command "
            "again")]) from None


def chain_starts(seeds: Sequence[int], size: int) -> np.ndarray:
    """Each chain's start, ``(chain, size)``: uniform(-1, 1) seeded by the chain's seed.

    As PyMC's default NUTS initialisation jitters around the initial point
    (``z = 0``).
    """
    return np.stack([np.random.default_rng(s).uniform(-1.0, 1.0, size) for s in seeds])


def _nothing() -> None:
    """A first task: makes the pool fork every worker now."""


def _run_alongside(k: int) -> Any:
    """In a worker: the ``k``-th job run alongside the sampling."""
    assert _JOB is not None, "_run_alongside runs inside a Sampler"
    return _JOB.alongside[k]()


def _run_after(i: int, c: int, z: np.ndarray) -> Any:
    """In a worker: ``after(i, c, z)`` on chain ``c`` of prior set ``i``."""
    job = _JOB
    assert job is not None and job.after is not None, "_run_after runs inside a Sampler"
    return job.after(i, c, z)


def sample_sets(net: Network, priors: Sequence[ParameterPrior], *, draws: int, tune: int,
                chains: int, seed: int, after: Callable[[int, int, np.ndarray], Any] | None = None,
                progress: Progress | None = None,
                sampler: str = SAMPLER) -> list[tuple[Any, list[Any]]]:
    """Sample several prior sets on one network (see :class:`Sampler`).

    Returns
    -------
    list of (Groups, list)
        Per prior set: its chains (:class:`~plausibly.models.results.Groups`,
        ArviZ's layout) and the ``after`` result of each chain.
    """
    with Sampler(net, priors, draws=draws, tune=tune, chains=chains, seed=seed, after=after,
                 progress=progress, sampler=sampler) as sampler_:
        return [(idata, afters) for _, idata, afters in sampler_.sets()]


def sample_posterior(net: Network, prior: ParameterPrior, *, draws: int, tune: int,
                     chains: int, seed: int, progress: Progress | None = None,
                     sampler: str = SAMPLER) -> Any:
    """Sample one prior set (see :func:`sample_sets`); its groups, ``z`` in the posterior."""
    return sample_sets(net, [prior], draws=draws, tune=tune, chains=chains, seed=seed,
                       progress=progress, sampler=sampler)[0][0]
