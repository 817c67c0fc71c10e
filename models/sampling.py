"""Sampling: every (prior set, chain) is one task for a pool of forked workers.

one task per (prior set, chain) in a
pool of forked worker processes, one per core. Chain ``c`` is seeded by
``chain_seeds(seed)[c]`` and starts from a seeded uniform(-1, 1) jitter, as
PyMC's default NUTS initialisation does; so a chain's draws depend only on
the seed, its index and its prior set.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from concurrent import futures
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from plausibly.models.errors import Problem, SamplingError, WorkerLost
from plausibly.models.network import Network
from plausibly.models.parameters import ParameterPrior
from plausibly.models.pymc_model import compiled

if TYPE_CHECKING:
    from plausibly.models.inference import Progress

__all__ = ["chain_seeds", "sample_posterior", "sample_sets", "workers_for"]


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
    after: Callable[[int, np.ndarray], Any] | None
    tick: Callable[[int], None]


_JOB: _Job | None = None


#: iterations between progress ticks (a tick costs a lock; an iteration ~0.3 ms)
_TICK = 50


def _run_chain(task: tuple[int, int]) -> tuple[int, int, Any, Any]:
    """Sample chain ``c`` of prior set ``i``; then ``after(i, z)`` on its draws."""
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
            job.tick(done % _TICK or _TICK)

    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=UserWarning)
        pm.set_data({"mu": prior.mu, "sigma_free": prior.sigma[prior.free]})
        idata = pm.sample(draws=job.draws, tune=job.tune, chains=1, cores=1, step=step,
                          initvals={"z": start}, random_seed=job.seeds[c],
                          progressbar=False, callback=tick, compute_convergence_checks=False,
                          idata_kwargs={"log_likelihood": False})
    z = idata.posterior["z"].values[0]
    return i, c, idata, (job.after(i, z) if job.after is not None else None)


def workers_for(tasks: int) -> int:
    """Worker processes: one per core this process may use, at most one per task.

    Only on Linux: the workers are forked, and fork without exec is unsafe on
    macOS (system frameworks) and absent on Windows; there the chains run one
    after another in this process, with the same draws.
    """
    if not sys.platform.startswith("linux"):
        return 1
    return max(1, min(tasks, len(os.sched_getaffinity(0))))


def sample_sets(net: Network, priors: Sequence[ParameterPrior], *, draws: int, tune: int,
                chains: int, seed: int, after: Callable[[int, np.ndarray], Any] | None = None,
                progress: Progress | None = None,
                on_set: Callable[[int, Any, list[Any]], None] | None = None,
                meanwhile: Callable[[], None] | None = None,
                ) -> list[tuple[Any, list[Any]]]:
    """Sample several prior sets on one network: every (set, chain) is one task.

    The tasks run in a pool of forked worker processes, one per core, that
    inherit the compiled samplers: nothing is compiled or pickled per task,
    and no draw crosses a pipe until its chain is done (PyMC's own parallel
    sampler sends every draw, which cost more than the sampling here). A task
    may also run ``after(set_index, z)`` on its chain's draws ``z`` (draw,
    param), so the queries run on all cores too.

    Parameters
    ----------
    progress : callable, optional
        ``progress(done, total)``, iterations (tuning included), a few times a second.
    on_set : callable, optional
        ``on_set(set_index, idata, afters)`` in this process as soon as a set's
        chains are all back (sets in order), while later sets still sample.
    meanwhile : callable, optional
        Called once in this process right after the tasks are handed out:
        work that needs no draws, done while the workers sample.

    Returns
    -------
    list of (InferenceData, list)
        Per prior: its chains (``z`` in the posterior; sample stats) and the
        ``after`` result of each chain.
    """
    global _JOB

    if any(prior.free.size == 0 for prior in priors):
        raise SamplingError(problems=[Problem(net.name, "", "every parameter is fixed",
                                              "nothing to sample: use the exact answer")])
    for prior in priors:
        compiled(net, prior)  # compile before forking, so every worker has it
    logging.getLogger("pymc").setLevel(logging.ERROR)
    tasks = [(i, c) for i in range(len(priors)) for c in range(chains)]
    total = len(tasks) * (draws + tune)
    seeds = tuple(chain_seeds(seed, chains))

    def collect(fetch: Callable[[tuple[int, int]], Any]) -> list[tuple[Any, list[Any]]]:
        out = []
        for i in range(len(priors)):
            chained = _gather([fetch((i, c)) for c in range(chains)])
            if on_set is not None:
                on_set(i, *chained)
            out.append(chained)
        return out

    workers = workers_for(len(tasks))
    if workers == 1:
        done = [0]

        def here(n: int) -> None:
            done[0] += n
            if progress is not None:
                progress(done[0], total)

        _JOB = _Job(net, tuple(priors), draws, tune, seeds, after, here)
        try:
            if meanwhile is not None:
                meanwhile()
            return collect(_run_chain)
        finally:
            _JOB = None

    ctx = mp.get_context("fork")
    counter = ctx.Value("q", 0)

    def shared(n: int) -> None:
        with counter.get_lock():
            counter.value += n

    _JOB = _Job(net, tuple(priors), draws, tune, seeds, after, shared)
    # concurrent.futures, not multiprocessing.Pool: a worker that is killed
    # (say, out of memory) breaks the executor and every waiting future,
    # where Pool would wait for its lost task for ever
    others = set(mp.active_children())
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_one_thread)
    finished = False
    try:
        pending = {t: pool.submit(_run_chain, t) for t in tasks}
        if meanwhile is not None:
            meanwhile()

        def fetch(task: tuple[int, int]) -> Any:
            job = pending[task]
            while not job.done():
                futures.wait([job], timeout=0.1)
                if progress is not None:
                    progress(int(counter.value), total)
            try:
                return job.result()
            except BrokenProcessPool:
                raise WorkerLost(problems=[Problem(
                    net.name, "", "a sampling worker process ended abruptly (killed, "
                    "perhaps for lack of memory)", "nothing was written: run the command "
                    "again")]) from None

        out = collect(fetch)
        finished = True
        return out
    finally:
        _JOB = None
        if not finished:  # an error or Ctrl-C: stop the chains still running
            stopped = set(mp.active_children()) - others
            for worker in stopped:
                worker.terminate()
            for worker in stopped:
                worker.join(timeout=5)
        pool.shutdown(wait=finished, cancel_futures=True)


def _one_thread() -> None:
    """Workers already fill the cores: one BLAS thread each, as PyMC does."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


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
