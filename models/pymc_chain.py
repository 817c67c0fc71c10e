"""PyMC's own NUTS, one chain at a time: the reference the BlackJAX sampler is checked against.

Used by :class:`plausibly.models.sampling.Sampler` with ``sampler="pymc"``,
in its worker processes (or in this one).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from plausibly.models._arviz import arviz
from plausibly.models.errors import Interrupted
from plausibly.models.network import Network
from plausibly.models.parameters import ParameterPrior
from plausibly.models.pymc_model import compiled
from plausibly.models.results import Groups

__all__ = ["gather", "sample_chain"]


#: iterations between progress ticks (a tick costs a lock; an iteration ~0.3 ms)
_TICK = 50


def sample_chain(net: Network, prior: ParameterPrior, *, draws: int, tune: int, seed: int,
                 start: np.ndarray, tick: Callable[[int], None]) -> Any:
    """One chain of PyMC's NUTS from ``start``; its InferenceData (ended early on Ctrl-C).

    ``tick(n)`` is called every :data:`_TICK` iterations with how many
    were done since the last call. PyMC's own NUTS init jitters the start
    uniformly in (-1, 1) around the initial point; passing our step skips
    that, so the caller does it, seeded (``sampling.chain_starts``).
    """
    arviz()  # PyMC imports arviz: first here, without its FutureWarning
    import pymc as pm

    model, step, fresh = compiled(net, prior)
    step.sampling_state = fresh  # no state carried over from an earlier task
    total = draws + tune

    def ticks(trace: Any, draw: Any) -> None:
        done = draw.draw_idx + 1
        if done % _TICK == 0 or done == total:
            try:
                tick(done % _TICK or _TICK)
            except KeyboardInterrupt:  # from the progress callback: PyMC would swallow it
                raise Interrupted(signal.SIGINT) from None

    with model, warnings.catch_warnings(), _ctrl_c_not_swallowed():
        warnings.simplefilter("ignore", category=FutureWarning)
        warnings.simplefilter("ignore", category=UserWarning)
        pm.set_data({"mu": prior.mu, "sigma_free": prior.sigma[prior.free]})
        return pm.sample(draws=draws, tune=tune, chains=1, cores=1, step=step,
                         initvals={"z": start}, random_seed=seed,
                         progressbar=False, callback=ticks, compute_convergence_checks=False,
                         idata_kwargs={"log_likelihood": False})


@contextlib.contextmanager
def _ctrl_c_not_swallowed() -> Iterator[None]:
    """While sampling in this process's main thread, Ctrl-C raises :class:`Interrupted`.

    PyMC catches KeyboardInterrupt and returns the chain so far as if it were
    whole; it lets Interrupted through. (A forked worker leaves SIGINT to its
    default action instead, see :func:`plausibly.models.workers._start_worker`.)
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


def gather(parts: list[tuple[int, int, Any, Any]]) -> tuple[Any, list[Any]]:
    """One set's groups from its single-chain InferenceData, chains numbered 0..C-1 in order.

    ``parts`` holds ``(set, chain, idata, after)`` per chain, in chain order.
    """
    import xarray as xr

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
    return Groups(**groups), [p[3] for p in parts]
