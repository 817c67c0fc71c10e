"""The worker pool: the same draws however the chains are spread; hooks; errors."""

from __future__ import annotations

import dataclasses
import io
import logging
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

from plausibly.models import sampling, workers
from plausibly.models.inference import estimate, estimate_many
from plausibly.models.network import Network
from plausibly.models.scenario import load_scenario
from plausibly.models.settings import Settings
from plausibly.priors.elicitation import load_prior_set, parse_prior_set
from plausibly.priors.fit import fit_prior_set

DATA = Path(__file__).parents[1] / "data"
SQUAD = str(DATA / "firing_squad.toml")
JUDGED = str(DATA / "firing_squad_priors.toml")
SMALL = {"draws": 60, "tune": 60, "chains": 2, "seed": 11}
#: every robustness promise is kept by both samplers
BOTH = pytest.mark.parametrize("sampler", ["blackjax", "pymc"])


@pytest.fixture(scope="module")
def squad():
    s = load_scenario(SQUAD)
    judged = fit_prior_set(load_prior_set(JUDGED, s), s)
    return s, Network.from_scenario(s), judged


def other_set(s, judged):
    """The judged set with every prior a little wider: a second, different layout."""
    wider = judged.parameter_prior(s)
    return dataclasses.replace(wider, id="wider", mu=wider.mu + 0.3, sigma=wider.sigma * 1.5)


def test_workers_only_where_fork_is_safe(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert sampling.workers_for(10) == 1
    monkeypatch.setattr(sys, "platform", "linux")
    assert sampling.workers_for(1) == 1


def test_chain_seeds_are_fixed_by_the_seed():
    assert sampling.chain_seeds(5, 3) == sampling.chain_seeds(5, 3)
    assert sampling.chain_seeds(5, 3)[:2] == sampling.chain_seeds(5, 2)
    assert len(set(sampling.chain_seeds(5, 4))) == 4
    assert sampling.chain_seeds(5, 1) != sampling.chain_seeds(6, 1)


@pytest.mark.slow
@BOTH
def test_draws_do_not_depend_on_workers_or_order(squad, monkeypatch, sampler):
    s, net, judged = squad
    first, second = judged.parameter_prior(s), other_set(s, judged)
    assert sampling.workers_for(4) == min(4, len(os.sched_getaffinity(0)))
    pooled = sampling.sample_sets(net, [first, second], **SMALL, sampler=sampler)
    monkeypatch.setattr(sampling, "workers_for", lambda tasks: 1)  # in this process
    alone = sampling.sample_sets(net, [second, first], **SMALL, sampler=sampler)
    for (mine, _), (theirs, _) in zip(pooled, alone[::-1], strict=True):
        np.testing.assert_array_equal(mine.posterior["z"].values, theirs.posterior["z"].values)
        assert list(mine.posterior["chain"].values) == [0, 1]
    z = pooled[0][0].posterior["z"].values
    assert not np.array_equal(z[0], z[1])  # two chains, two seeds, two starts


@pytest.mark.slow
def test_a_set_gives_the_same_numbers_alone_or_with_others(squad):
    s, _, judged = squad
    with open(JUDGED, "rb") as fh:
        data = tomllib.load(fh)
    data["id"] = "sceptic"
    data["nodes"]["captain"]["given"]["court_order"] = [0.3, 0.6, 0.9]
    wide = fit_prior_set(parse_prior_set(data, s), s)
    settings = Settings(**SMALL)
    together = estimate_many(s, [judged.parameter_prior(s), wide.parameter_prior(s)],
                             settings=settings)
    alone = estimate(s, judged.parameter_prior(s), settings=settings)
    assert together[0].draws.equals(alone.draws)
    assert together[0].diagnostics == alone.diagnostics
    assert not together[1].draws.equals(alone.draws)


@pytest.mark.slow
@BOTH
def test_progress_meanwhile_and_on_set(squad, sampler):
    s, net, judged = squad
    layouts = [judged.parameter_prior(s), other_set(s, judged)]
    calls: list[object] = []
    seen: list[tuple[int, int]] = []
    logging.getLogger("pymc").setLevel(logging.INFO)
    with sampling.Sampler(net, layouts, **SMALL, progress=lambda d, t: seen.append((d, t)),
                          sampler=sampler,
                          after=lambda i, c, z: z.shape) as sampler:
        calls.append("meanwhile")
        calls.extend(i for i, _, _ in sampler.sets())
    assert calls == ["meanwhile", 0, 1]
    # PyMC's logger is quiet while sampling only: a notebook keeps its warnings afterwards
    assert logging.getLogger("pymc").level == logging.INFO
    total = 2 * 2 * (SMALL["draws"] + SMALL["tune"])
    done = [d for d, t in seen]
    assert all(t == total for _, t in seen) and done == sorted(done) and done[-1] <= total


@pytest.mark.slow
def test_progress_shows_a_set_that_ended_before_it_was_asked_for(squad):
    # a BlackJAX chain counts when it ends: one that ended while this process was
    # busy elsewhere was never shown, and a Ctrl-C given at that progress never
    # came (CI, stop 18: test_ctrl_c_in_this_process_is_never_a_short_chain)
    s, net, judged = squad
    seen: list[int] = []
    with sampling.Sampler(net, [judged.parameter_prior(s)], **SMALL,
                          progress=lambda d, t: seen.append(d)) as running:
        deadline = time.monotonic() + 120
        while 0 not in running._sampled and time.monotonic() < deadline:
            time.sleep(0.01)
        assert 0 in running._sampled and seen == []
        list(running.sets())
    assert seen == [running.total]


@pytest.mark.slow
@BOTH
def test_after_runs_on_each_chain(squad, sampler):
    s, net, judged = squad
    layout = judged.parameter_prior(s)
    [(idata, afters)] = sampling.sample_sets(net, [layout], **SMALL, sampler=sampler,
                                               after=lambda i, c, z: (i, z.sum()))
    z = idata.posterior["z"].values
    assert afters == [(0, pytest.approx(z[0].sum())), (0, pytest.approx(z[1].sum()))]


def failing(i: int, c: int, z: np.ndarray) -> None:
    raise ValueError(f"no answer for set {i}")


@pytest.mark.slow
@BOTH
def test_a_worker_error_reaches_the_caller_and_no_worker_is_left(squad, sampler):
    s, net, judged = squad
    with pytest.raises(ValueError, match="no answer for set 0"):
        sampling.sample_sets(net, [judged.parameter_prior(s)], **SMALL, after=failing,
                             sampler=sampler)
    # the workers are stopped at once; the executor's own thread may still be
    # reaping one, so allow it a moment before calling any of them left over
    deadline = time.monotonic() + 5
    while mp.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mp.active_children() == []
    assert sampling._JOB is None


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch):
    from plausibly.cli.common import sampling_progress

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with sampling_progress("ideology", 2, 100, 50) as update:
        assert update is None
    assert sys.stderr.getvalue() == ""

    monkeypatch.setattr(sys, "stderr", Terminal())
    with sampling_progress("ideology", 2, 100, 50) as update:
        assert update is not None
        update(150, 300)
        shown = sys.stderr.getvalue()
    assert "sampling ideology (2 chains)" in shown and "150/300" in shown
    assert "iterations" in shown


def dying(i: int, c: int, z: np.ndarray) -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would


@pytest.mark.slow
@BOTH
def test_a_killed_worker_is_an_error_not_a_hang(squad, sampler):
    from plausibly.models.errors import WorkerLost

    s, net, judged = squad
    with pytest.raises(WorkerLost) as caught:
        sampling.sample_sets(net, [judged.parameter_prior(s)], **SMALL, after=dying,
                             sampler=sampler)
    assert caught.value.exit_code == 1
    assert "ended abruptly" in str(caught.value.problems[0])
    assert executor_threads() == []


# --------------------------------------------------- workers die with the run (#11, 2 and 15)

ORPHAN = """
import ctypes, os, sys, time
from plausibly.models.workers import _start_worker

def no_libc(*args, **kwargs):
    raise OSError("no prctl here")

if sys.argv[1] == "watchdog":  # as where prctl is missing
    ctypes.CDLL = no_libc
parent = os.getpid()
child = os.fork()
if child == 0:
    _start_worker(parent)
    time.sleep(120)
    os._exit(0)
print(child, flush=True)
time.sleep(120)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has ended


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
@pytest.mark.parametrize("how", ["prctl", "watchdog"])
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_worker_dies_with_its_parent(stop, how):
    import subprocess

    with subprocess.Popen([sys.executable, "-c", ORPHAN, how], stdout=subprocess.PIPE,
                          text=True) as proc:
        worker = int(proc.stdout.readline())
        try:
            time.sleep(0.5)  # the worker is set up
            assert _running(worker)
            proc.send_signal(stop)
            proc.wait(timeout=30)
            deadline = time.monotonic() + 10
            while _running(worker) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not _running(worker)
        finally:
            if _running(worker):
                os.kill(worker, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
def test_a_worker_whose_parent_is_already_gone_exits_at_once():
    # the parent may die between the fork and prctl: then the worker has another parent
    ctx = mp.get_context("fork")
    worker = ctx.Process(target=workers._start_worker, args=(os.getpid() + 1_000_000,))
    worker.start()
    worker.join(timeout=30)
    assert worker.exitcode == 1


def executor_threads() -> list[threading.Thread]:
    """The process pool's own threads still running in this process."""
    return [t for t in threading.enumerate() if type(t).__name__ == "_ExecutorManagerThread"]


def _workers(sampler: sampling.Sampler) -> list[mp.process.BaseProcess]:
    deadline = time.monotonic() + 60
    while (sampler._counter.value == 0 if sampler.sampler == "pymc" else not sampler._pending) \
            and time.monotonic() < deadline:
        time.sleep(0.05)  # until the chains are well under way
    assert sampler._pool is not None
    return list(sampler._pool.workers)


@pytest.mark.slow
@BOTH
def test_ctrl_c_to_one_worker_interrupts_the_run_even_with_one_chain_per_set(squad, sampler):
    from plausibly.models.errors import Interrupted

    s, net, judged = squad
    layouts = [judged.parameter_prior(s), other_set(s, judged)]
    settings = {**SMALL, "chains": 1, "draws": 20_000}

    def slow(i: int, c: int, z: np.ndarray) -> float:
        """A chain's work that is still running when the Ctrl-C comes: BlackJAX's two
        chains run at once, a thread each, and would otherwise both be answered by
        then (the few draws of a worker's warm-up are answered at once)."""
        if len(z) > 4:
            time.sleep(3)
        return float(z.sum())

    with pytest.raises(Interrupted) as caught:  # not a short chain, used silently
        with sampling.Sampler(net, layouts, **settings, sampler=sampler,
                              after=slow) as running:
            workers = _workers(running)
            assert len(workers) == 2
            os.kill(workers[1].pid, signal.SIGINT)
            list(running.sets())
    assert caught.value.exit_code == 130
    assert "a sampling worker got Ctrl-C" in str(caught.value)
    assert all(not w.is_alive() for w in workers) and mp.active_children() == []
    # nor the pool's thread, which at interpreter exit raced with CPython's own
    # clean-up and printed "Bad file descriptor" after the message (CI, stop 16)
    assert executor_threads() == []


def _interrupt(how: str, at: int):
    def progress(done: int, total: int) -> None:
        if done >= at:
            if how == "signal":
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
                time.sleep(0.5)
            else:
                raise KeyboardInterrupt

    return progress


@pytest.mark.slow
@pytest.mark.parametrize("how", ["signal", "raised"])
@pytest.mark.parametrize("at", [50, 100], ids=["tuning", "drawing"])  # of 60 + 60
@BOTH
def test_ctrl_c_in_this_process_is_never_a_short_chain(squad, monkeypatch, how, at, sampler):
    from plausibly.models.errors import Interrupted

    s, net, judged = squad
    monkeypatch.setattr(sampling, "workers_for", lambda tasks: 1)  # chains in this process
    with pytest.raises(Interrupted) as caught:
        sampling.sample_sets(net, [judged.parameter_prior(s)], **{**SMALL, "chains": 1},
                             progress=_interrupt(how, at), sampler=sampler)
    assert caught.value.exit_code == 130
    assert sampling._JOB is None


@pytest.mark.slow
@BOTH
def test_ctrl_c_here_stops_the_workers_and_the_pools_thread(squad, sampler):
    # Ctrl-C in this process while the workers sample: the workers are killed and
    # the pool's own thread has ended before the error leaves the sampler (CI,
    # stop 16: still closing its pipes at interpreter exit, it printed a traceback)
    s, net, judged = squad
    layouts = [judged.parameter_prior(s), other_set(s, judged)]
    from plausibly.models.errors import Interrupted

    with pytest.raises((KeyboardInterrupt, Interrupted)):  # both exit 130 from the CLI
        sampling.sample_sets(net, layouts, **{**SMALL, "chains": 1, "draws": 20_000},
                             progress=_interrupt("raised", 200), sampler=sampler,
                             after=lambda i, c, z: z.sum())
    assert mp.active_children() == []
    assert executor_threads() == []
