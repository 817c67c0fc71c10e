"""BlackJAX NUTS (models/nuts.py): its log density is PyTensor's, and its promises.

* the JAX log density (PyTensor's JAX backend) equals PyTensor's own, value and
  gradient, on random version 2 networks, the bundled scenario under every
  bundled prior set and the version 1 firing squad;
* chain keys are JAX's; the cache key is stable across processes and follows
  what shapes the program, not the prior's numbers;
* the program cache: written cold, read warm in a fresh process that imports
  neither PyMC nor PyTensor, built again when corrupt (read-only or not),
  optional when unwritable;
* determinism: the seed fixes the draws, whatever the number of chains or
  what runs beside a chain; BlackJAX and PyMC agree on the posterior (slow);
* the InferenceData of a set is laid out as PyMC lays out its own.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import subprocess
import sys
import warnings
from concurrent import futures
from pathlib import Path

import numpy as np
import pytest
import reference as ref
from v2_priors import hand_prior

from plausibly.models import nuts, sampling
from plausibly.models.network import Network
from plausibly.models.parameters import ParameterPrior, SingularJudgements
from plausibly.models.scenario import bundled_scenarios, load_scenario
from plausibly.priors.elicitation import bundled_prior_sets, load_prior_set
from plausibly.priors.fit import fit_prior_set

DATA = Path(__file__).parents[1] / "data"
SQUAD = str(DATA / "firing_squad.toml")
JUDGED = str(DATA / "firing_squad_priors.toml")
#: the cache tests' program: small, so a cold build is a few seconds
SHAPE = {"draws": 30, "tune": 30}  # a program's shape: one chain of 30 + 30
CHAINS = 2
SEED = 3
#: the JAX log density against PyTensor's: both are the same double-precision
#: graph, so only the order of a few sums may differ (observed: up to 2.3e-13 on
#: values of about -100, 6e-14 on gradients); 1e-9 and 1e-8 leave room for that
#: and for nothing a wrong op would do
VALUE_TOL, GRAD_TOL = 1e-9, 1e-8


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("plausibly-cache")


@pytest.fixture(autouse=True)
def _own_cache(cache, monkeypatch):
    """No program here is read from or written to the user's cache.

    (XLA's cache of machine code is set once per process, by whoever starts JAX.)
    """
    monkeypatch.setenv("PLAUSIBLY_CACHE_DIR", str(cache))


def load_squad() -> tuple[Network, ParameterPrior]:
    """The firing squad (version 1) and its judged prior set."""
    s = load_scenario(SQUAD)
    return Network.from_scenario(s), fit_prior_set(load_prior_set(JUDGED, s), s).parameter_prior(s)


@pytest.fixture(scope="module")
def squad() -> tuple[Network, ParameterPrior]:
    return load_squad()


def seeded(prior: ParameterPrior, chains: int = 2, seed: int = SEED):
    """The chain seeds and starts the Sampler gives a run with ``seed``."""
    seeds = sampling.chain_seeds(seed, chains)
    return seeds, sampling.chain_starts(seeds, prior.free.size)


def run(program: nuts.Program, prior: ParameterPrior, *, chains: int = 2,
        seed: int = SEED) -> list[np.ndarray]:
    """``(z, *STATS)`` of one prior set, as numpy arrays, one chain after another."""
    seeds, starts = seeded(prior, chains, seed)
    per_chain = [[np.asarray(a) for a in program.start(prior, seeds[c], starts[c])]
                 for c in range(chains)]
    return [np.stack(x) for x in zip(*per_chain, strict=True)]


def assert_bit_identical(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    assert len(got) == len(want) == 1 + len(nuts.STATS)
    for name, g, w in zip(("z", *nuts.STATS), got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape, name
        assert g.tobytes() == w.tobytes(), f"{name} differs: max |diff| {np.abs(g - w).max()}"


# ------------------------------------------------ the JAX log density is PyTensor's


def random_case(case: int) -> tuple[Network, ParameterPrior]:
    """A random version 2 network and a prior with some cells fixed, some free.

    States, gates, interactions, hard, soft and missing history (and, every
    other case, reference-class rows); the free cells get random means and
    widths.
    """
    rng = np.random.default_rng(9100 + case)
    while True:
        net = ref.random_network_v2(rng, int(rng.integers(3, 7)))
        if case % 2:
            net = ref.with_rows(rng, net)
        try:
            hand = hand_prior(net, 1.0)
        except SingularJudgements:  # an interaction whose context a single term shares
            continue
        break
    real = hand.sigma > 0  # every judged cell (the rest is padding)
    sigma = np.where(real & (rng.random(real.size) < 0.7), rng.uniform(0.3, 2.0, real.size), 0.0)
    sigma[hand.free[0]] = 1.0  # at least one free
    free = np.flatnonzero(sigma > 0)
    return net, dataclasses.replace(hand, mu=hand.mu + real * rng.normal(0.0, 1.0, real.size),
                                    sigma=sigma, free=free,
                                    names=tuple(hand.cells[j] for j in free))


def bundled_case(prior_set: str) -> tuple[Network, ParameterPrior]:
    (scenario,) = bundled_scenarios()
    s = load_scenario(scenario)
    return (Network.from_scenario(s),
            fit_prior_set(load_prior_set(prior_set, s), s).parameter_prior(s))


CASES = ([f"random-{k}" for k in range(10)]
         + [f"bundled-{p}" for p in sorted(bundled_prior_sets())] + ["firing-squad"])


def log_density_case(case: str) -> tuple[Network, ParameterPrior]:
    kind, _, which = case.partition("-")
    if kind == "random":
        return random_case(int(which))
    if kind == "bundled":
        return bundled_case(which)
    return load_squad()


def other_numbers(prior: ParameterPrior, rng: np.random.Generator) -> ParameterPrior:
    """The same fixed/free pattern, other means and widths."""
    return dataclasses.replace(prior, mu=prior.mu + rng.normal(0.0, 0.5, prior.mu.size),
                               sigma=prior.sigma * rng.uniform(0.5, 2.0, prior.sigma.size))


def pytensor_as_written(net: Network, prior: ParameterPrior):
    """PyTensor's ``z -> (logp, dlogp)`` of the model's graph as written: no rewrites.

    Each op runs its own (Python) implementation: the reference the JAX backend,
    which rewrites the graph and then converts every op, must reproduce.
    """
    import pytensor
    from pytensor.compile.mode import Mode

    from plausibly.models.pymc_model import build_model

    model = build_model(net, prior)
    z = model.rvs_to_values[model["z"]]
    logp = model.logp()
    return pytensor.function([z], [logp, pytensor.grad(logp, z)],
                             mode=Mode(linker="py", optimizer=None))


def pytensor_as_pymc_runs_it(net: Network, prior: ParameterPrior):
    """PyMC's own compiled ``z -> (logp, dlogp)``: rewritten and compiled to C, as its NUTS runs."""
    from plausibly.models.pymc_model import build_model

    model = build_model(net, prior)
    with warnings.catch_warnings():
        # as in pymc_model.compiled: pip's wheels have no BLAS for PyTensor to link
        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS",
                                category=UserWarning)
        return model.compile_fn([model.logp(), model.dlogp()], point_fn=False)


#: the cases also checked against PyMC's compiled function (its rewrites take
#: seconds per model; the graph as written is the reference everywhere)
PYMC_COMPILED = ("firing-squad", f"bundled-{sorted(bundled_prior_sets())[0]}")


@pytest.mark.parametrize("case", CASES)
def test_the_jax_log_density_is_pytensors(case):
    # every PyTensor op the version 2 language produces converts to JAX, with the
    # same numbers: the JAX function is built from one prior's numbers and called
    # with another's (same fixed/free pattern), so mu and sigma are its inputs
    from plausibly.models.pymc_model import jax_log_density

    jx = nuts.jax()
    assert jx.config.jax_enable_x64
    net, prior = log_density_case(case)
    rng = np.random.default_rng([len(case), prior.free.size, prior.mu.size])
    built_from = other_numbers(prior, rng)
    assert built_from.structure == prior.structure
    value_and_grad = jx.jit(jx.value_and_grad(jax_log_density(net, built_from)))
    references = [pytensor_as_written(net, prior)]
    if case in PYMC_COMPILED:
        references.append(pytensor_as_pymc_runs_it(net, prior))
    mu, sigma = jx.numpy.asarray(prior.mu), jx.numpy.asarray(prior.sigma[prior.free])
    for scale in (0.5, 1.5, 4.0):  # near the prior's centre and far out in its tails
        z = rng.normal(0.0, scale, prior.free.size)
        value, grad = value_and_grad(jx.numpy.asarray(z), mu, sigma)
        for pytensor in references:
            want_value, want_grad = pytensor(z)
            assert np.isfinite(want_value) and want_grad.shape == (prior.free.size,)
            assert float(value) == pytest.approx(float(want_value), rel=0, abs=VALUE_TOL)
            np.testing.assert_allclose(np.asarray(grad), want_grad, rtol=0, atol=GRAD_TOL)


# ------------------------------------------------------------------------ chain keys


def test_chain_keys_are_jaxs_keys():
    jx = nuts.jax()
    for seed in [0, 1, 2**31, 2**32 - 1]:
        key = nuts.chain_key(seed)
        assert key.dtype == np.uint32 and key.shape == (2,)
        np.testing.assert_array_equal(key, np.asarray(jx.random.PRNGKey(seed)))


@pytest.mark.parametrize("seed", [2**32, -1])
def test_chain_keys_refuse_what_is_not_a_32_bit_seed(seed):
    with pytest.raises(ValueError, match="not a 32-bit seed"):
        nuts.chain_key(seed)


# ----------------------------------------------------------------------- fingerprint

FINGERPRINT = """
import sys
from plausibly.models import nuts
from plausibly.models.network import Network
from plausibly.models.scenario import load_scenario
from plausibly.priors.elicitation import load_prior_set
from plausibly.priors.fit import fit_prior_set

s = load_scenario(sys.argv[1])
prior = fit_prior_set(load_prior_set(sys.argv[2], s), s).parameter_prior(s)
print(nuts.fingerprint(Network.from_scenario(s), prior, draws=30, tune=30))
"""


def test_the_fingerprint_is_the_same_in_every_process(squad):
    net, prior = squad
    here = nuts.fingerprint(net, prior, **SHAPE)
    keys = []
    for hash_seed in ("0", "4242"):  # str hashes, so set order, differ between them
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", FINGERPRINT, SQUAD, JUDGED], env=env,
                              capture_output=True, text=True, timeout=120, check=True)
        keys.append(done.stdout.strip())
    assert keys == [here, here]


def fix_one(prior: ParameterPrior) -> ParameterPrior:
    """The same prior with its first free cell fixed: another fixed/free pattern."""
    sigma = prior.sigma.copy()
    sigma[prior.free[0]] = 0.0
    return dataclasses.replace(prior, sigma=sigma, free=prior.free[1:], names=prior.names[1:])


def test_the_fingerprint_follows_the_programs_shape_not_the_priors_numbers(squad):
    net, prior = squad
    key = nuts.fingerprint(net, prior, **SHAPE)
    assert len(key) == 32
    history = list(net.history)
    history[net.index("death")] = (1.0, 0.0)  # the prisoner lived
    soft = list(net.history)
    soft[net.index("captain")] = (0.3, 1.0)  # a disputed record
    changed = [
        nuts.fingerprint(net.with_history(history), prior, **SHAPE),
        nuts.fingerprint(net.with_history(soft), prior, **SHAPE),
        nuts.fingerprint(net.with_data(((0, (), 3, 10, False),)), prior, **SHAPE),
        nuts.fingerprint(net, fix_one(prior), **SHAPE),
        nuts.fingerprint(net, prior, **{**SHAPE, "draws": 31}),
        nuts.fingerprint(net, prior, **{**SHAPE, "tune": 31}),
    ]
    assert len({key, *changed}) == 1 + len(changed)
    # mu and sigma are the program's inputs: other numbers, the same program
    numbers = dataclasses.replace(prior, id="wider", name="wider", mu=prior.mu + 0.3,
                                  sigma=prior.sigma * 1.5)
    assert numbers.structure == prior.structure
    assert nuts.fingerprint(net, numbers, **SHAPE) == key


# ----------------------------------------------------------------------------- cache


@pytest.fixture(scope="module")
def cold(squad, tmp_path_factory):
    """The squad's program built with an empty cache (its own), and its draws.

    It stays in this process's memory, so later tests that need the same
    program do not build it again.
    """
    net, prior = squad
    where = tmp_path_factory.mktemp("cold-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLAUSIBLY_CACHE_DIR", str(where))
        mp.setattr(nuts, "_PROGRAMS", {})
        program = nuts.program(net, prior, **SHAPE)
    nuts._PROGRAMS[program.key] = program
    return where, program, run(program, prior)


def test_a_cold_program_is_built_and_written(squad, cold):
    net, prior = squad
    where, program, draws = cold
    assert program.cached is False
    assert program.key == nuts.fingerprint(net, prior, **SHAPE)
    assert sorted(p.name for p in (where / "programs").iterdir()) == [f"{program.key}.jaxexport"]
    assert (program.draws, program.free, program.cells) == (30, prior.free.size, prior.mu.size)
    z = draws[0]
    assert z.shape == (2, 30, prior.free.size) and np.isfinite(z).all()
    assert not np.array_equal(z[0], z[1])  # two chains, two seeds, two starts


WARM = """
import sys
import numpy as np
from plausibly.models import nuts, sampling
from plausibly.models.network import Network
from plausibly.models.scenario import load_scenario
from plausibly.priors.elicitation import load_prior_set
from plausibly.priors.fit import fit_prior_set

scenario, judged, out, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = load_scenario(scenario)
net = Network.from_scenario(s)
prior = fit_prior_set(load_prior_set(judged, s), s).parameter_prior(s)
program = nuts.program(net, prior, draws=30, tune=30)
seeds = sampling.chain_seeds(seed, 2)
starts = sampling.chain_starts(seeds, prior.free.size)
chains = [[np.asarray(a) for a in program.start(prior, seeds[c], starts[c])] for c in range(2)]
arrays = [np.stack(x) for x in zip(*chains)]
# and the whole of a run's sampling (the Sampler, its InferenceData)
[(idata, _)] = sampling.sample_sets(net, [prior], draws=30, tune=30, chains=2, seed=seed)
np.savez(out, *arrays, idata.posterior["z"].values)
print(program.cached, "pymc" in sys.modules, "pytensor" in sys.modules)
"""


def warm_run(cache_dir: Path, out: Path) -> tuple[str, list[np.ndarray]]:
    """WARM in a fresh process with ``cache_dir``: what it printed, and its arrays."""
    env = {**os.environ, "PLAUSIBLY_CACHE_DIR": str(cache_dir)}
    done = subprocess.run([sys.executable, "-c", WARM, SQUAD, JUDGED, str(out), str(SEED)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with np.load(out) as saved:
        return done.stdout.strip(), [saved[f"arr_{k}"] for k in range(len(saved.files))]


def test_a_warm_run_reads_the_program_without_pymc_and_gives_the_same_draws(cold, tmp_path):
    where, _, draws = cold
    printed, arrays = warm_run(where, tmp_path / "warm.npz")
    assert printed == "True False False"  # cached; neither pymc nor pytensor imported
    assert_bit_identical(arrays[:-1], draws)
    # the Sampler seeds and starts its chains as `seeded` does
    np.testing.assert_array_equal(arrays[-1], draws[0])


@pytest.mark.parametrize("damage", ["garbage", "truncated", "one byte flipped"])
def test_a_corrupt_cache_entry_is_built_again(squad, cold, tmp_path, monkeypatch, damage):
    net, prior = squad
    where, program, draws = cold
    good = (where / "programs" / f"{program.key}.jaxexport").read_bytes()
    if damage == "garbage":
        bad = np.random.default_rng(5).bytes(len(good))
    elif damage == "truncated":
        bad = good[: len(good) // 2]
    else:  # JAX would load it and fail on the first call: the entry's sha256 catches it
        middle = len(good) // 2
        bad = good[:middle] + bytes([good[middle] ^ 0x10]) + good[middle + 1:]
    path = tmp_path / "cache" / "programs" / f"{program.key}.jaxexport"
    path.parent.mkdir(parents=True)
    path.write_bytes(bad)
    monkeypatch.setenv("PLAUSIBLY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(nuts, "_PROGRAMS", {})
    rebuilt = nuts.program(net, prior, **SHAPE)
    assert rebuilt.cached is False
    assert path.read_bytes() != bad

    assert nuts._deserialize(path.read_bytes()) is not None  # a whole program now
    assert_bit_identical(run(rebuilt, prior), draws)


def read_only(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """Make ``root`` read-only to this process: nothing in it is created, replaced or removed.

    (The tests may run as root, whom a chmod does not stop.)
    """

    def inside(path: object) -> bool:
        return Path(os.fsdecode(path)).resolve().is_relative_to(root.resolve())

    def guard(name: str, *which: int) -> None:
        real = getattr(os, name)

        def refused(*args, **kwargs):
            if any(inside(args[i]) for i in which):
                raise PermissionError(errno.EACCES, "read-only (test)", os.fsdecode(args[0]))
            return real(*args, **kwargs)

        monkeypatch.setattr(os, name, refused)

    for name in ("unlink", "remove", "rmdir", "mkdir"):
        guard(name, 0)
    for name in ("replace", "rename"):
        guard(name, 0, 1)
    real_open = os.open

    def opened(path, flags, *args, **kwargs):
        if flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR) and inside(path):
            raise PermissionError(errno.EACCES, "read-only (test)", os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", opened)


def test_a_corrupt_entry_in_a_read_only_cache_is_built_and_left(squad, cold, tmp_path,
                                                                monkeypatch):
    # it can be neither removed nor replaced: the run builds the program and samples
    net, prior = squad
    _, program, draws = cold
    path = tmp_path / "cache" / "programs" / f"{program.key}.jaxexport"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 1000)
    monkeypatch.setenv("PLAUSIBLY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(nuts, "_PROGRAMS", {})
    with monkeypatch.context() as m:
        read_only(m, tmp_path / "cache")
        rebuilt = nuts.program(net, prior, **SHAPE)
    assert rebuilt.cached is False
    assert list(path.parent.iterdir()) == [path] and path.read_bytes() == b"garbage" * 1000
    assert_bit_identical(run(rebuilt, prior), draws)


def test_an_unwritable_cache_still_samples(cold, tmp_path):
    # in a fresh process, so JAX too starts with the unwritable cache (no XLA cache)
    _, _, draws = cold
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    printed, arrays = warm_run(blocker / "cache", tmp_path / "out.npz")
    assert printed == "False True True"  # built, with PyMC, and not written
    assert blocker.read_text() == "not a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "out.npz"]
    assert_bit_identical(arrays[:-1], draws)


# --------------------------------------------------------------------------- determinism


def test_the_seed_fixes_the_draws(squad, cold):
    net, prior = squad
    program = nuts.program(net, prior, **SHAPE)  # from memory
    assert program is cold[1]
    again = run(program, prior)
    assert_bit_identical(again, cold[2])
    other = run(program, prior, seed=SEED + 1)
    assert not np.array_equal(other[0][0], again[0][0])


def test_a_chains_draws_do_not_depend_on_how_many_chains_there_are(squad, cold):
    net, prior = squad
    three = nuts.program(net, prior, **SHAPE)  # one program serves any number of chains
    assert three is cold[1]
    # chain_seeds(seed, 3)[:2] == chain_seeds(seed, 2): chains 0 and 1 have the same
    # keys and starts in both programs
    got = run(three, prior, chains=3)
    assert_bit_identical([a[:2] for a in got], cold[2])
    assert not np.array_equal(got[0][2], got[0][0])


def test_chains_run_at_once_in_threads_give_the_same_draws(squad, cold):
    """The sampler runs a set's chains at once, a thread each, on one device: each chain's
    draws are those it gives alone, whatever ran beside it."""
    _, prior = squad
    program = cold[1]
    seeds, starts = seeded(prior, 4)
    with futures.ThreadPoolExecutor(4) as pool:
        arrays = list(pool.map(lambda c: [np.asarray(a) for a in program.start(
            prior, seeds[c], starts[c])], range(4)))
    together = [np.stack(x) for x in zip(*arrays, strict=True)]
    assert_bit_identical([a[:2] for a in together], cold[2])  # chains 0 and 1, alone
    assert_bit_identical([a[2:] for a in together], [a[2:] for a in run(program, prior,
                                                                        chains=4)])


_LOADS = """
import io, logging, sys
from concurrent import futures
import numpy as np
sys.path[:0] = sys.argv[1:3]
import test_nuts as T
from plausibly.models import nuts
net, prior = T.load_squad()
jx = nuts.jax()
jx.config.update("jax_log_compiles", True)
log = io.StringIO()
logging.getLogger("jax").addHandler(logging.StreamHandler(log))
def compiles():
    return log.getvalue().count("Finished XLA compilation of jit(call)")
program = nuts.program(net, prior, **T.SHAPE)
before = compiles()
program.load()
loaded = compiles()
seeds, starts = T.seeded(prior)
with futures.ThreadPoolExecutor(2) as pool:
    z = list(pool.map(lambda c: np.asarray(program.start(prior, seeds[0], starts[0])[0]), (0, 1)))
print(program.cached, before, loaded, compiles(), z[0].tobytes() == z[1].tobytes())
nuts._PROGRAMS.clear()  # as in a new process: the Sampler's run compiles it
before = compiles()
from plausibly.models import sampling
sampling.sample_sets(net, [prior], **T.SHAPE, chains=2, seed=T.SEED)
print(compiles() - before)
"""


def test_a_program_is_compiled_once_before_its_chains(cold):
    """``Program.load`` compiles the program (from XLA's cache) once; chains started at
    once from two threads then compile nothing, and give the same draws. A sampler's
    run, its two chains in two threads, compiles it once too."""
    where, _, _ = cold
    here = Path(__file__).parent
    done = subprocess.run([sys.executable, "-c", _LOADS, str(here), str(here.parent)],
                          env={**os.environ, "PLAUSIBLY_CACHE_DIR": str(where)},
                          capture_output=True, text=True, timeout=300, check=True)
    assert done.stdout.split() == ["True", "0", "1", "1", "True", "1"], done.stderr


# ------------------------------------------------------------ BlackJAX and PyMC agree


@pytest.mark.slow
def test_blackjax_and_pymc_agree_on_the_posterior(squad):
    from plausibly.models._arviz import arviz

    az = arviz()
    net, prior = squad
    settings = {"draws": 1000, "tune": 1000, "chains": 2, "seed": 21}
    estimates: dict[str, list[np.ndarray]] = {"mean": [], "sd": []}
    errors: dict[str, list[np.ndarray]] = {"mean": [], "sd": []}
    for sampler in ("blackjax", "pymc"):
        [(idata, _)] = sampling.sample_sets(net, [prior], **settings, sampler=sampler)
        z = idata.posterior["z"]
        assert list(z["param"].values) == list(prior.names)
        assert not idata.sample_stats["diverging"].values.any()
        estimates["mean"].append(z.mean(("chain", "draw")).values)
        estimates["sd"].append(z.std(("chain", "draw")).values)
        for method in ("mean", "sd"):
            errors[method].append(az.mcse(idata.to_arviz(), var_names=["z"],
                                          method=method)["z"].values)
    # Each sampler's mean (and sd) estimates the same posterior mean (sd) with its
    # own Monte Carlo error, MCSE (from the chains' effective sample size),
    # independently of the other: their difference has standard deviation
    # sqrt(mcse_1^2 + mcse_2^2). Four of those is a 6e-5 two-sided chance per
    # number (about 1e-3 over all twenty), so a failure means the samplers target
    # different posteriors. Observed: at most 1.9 (means) and 2.7 (sds).
    sds = np.minimum(*estimates["sd"])
    for method in ("mean", "sd"):
        bound = 4.0 * np.hypot(*errors[method])
        # and the test has power: the bound is a small part of each posterior sd
        assert (bound < 0.25 * sds).all(), (method, bound / sds)
        difference = np.abs(estimates[method][0] - estimates[method][1])
        assert (difference < bound).all(), (method, dict(zip(prior.names, difference / bound,
                                                              strict=True)))


# ---------------------------------------------------------------------- InferenceData


def test_a_sets_inference_data_is_laid_out_as_pymcs(squad, cold):
    from plausibly.models.pymc_model import jax_log_density

    net, prior = squad
    chains, draws, size = CHAINS, SHAPE["draws"], prior.free.size
    [(idata, afters)] = sampling.sample_sets(net, [prior], **SHAPE, chains=CHAINS, seed=SEED)
    assert afters == [None, None]
    z = idata.posterior["z"]
    assert z.dims == ("chain", "draw", "param") and z.shape == (chains, draws, size)
    assert list(z["param"].values) == list(prior.names)
    assert list(z["chain"].values) == [0, 1] and list(z["draw"].values) == list(range(draws))
    np.testing.assert_array_equal(z.values, cold[2][0])  # the program's own draws
    assert idata.posterior.attrs["inference_library"] == "blackjax"

    stats = idata.sample_stats
    assert sorted(stats.data_vars) == sorted((*nuts.STATS, "reached_max_treedepth"))
    for name in (*nuts.STATS, "reached_max_treedepth"):
        assert stats[name].dims == ("chain", "draw") and stats[name].shape == (chains, draws)
    assert stats["diverging"].dtype == np.bool_
    assert np.issubdtype(stats["tree_depth"].dtype, np.integer)
    assert stats["n_steps"].dtype == np.float64  # as PyMC types it
    np.testing.assert_array_equal(stats["reached_max_treedepth"],
                                  stats["tree_depth"] >= nuts.MAX_TREE_DEPTH)
    assert ((stats["acceptance_rate"] >= 0) & (stats["acceptance_rate"] <= 1)).all()
    assert (stats["tree_depth"] <= nuts.MAX_TREE_DEPTH).all() and (stats["n_steps"] >= 1).all()
    step = stats["step_size"].values
    assert (step > 0).all() and (step == step[:, :1]).all()  # tuned once per chain

    constant = idata.constant_data
    assert constant["mu"].dims == ("cell",) and list(constant["cell"].values) == list(prior.cells)
    np.testing.assert_array_equal(constant["mu"].values, prior.mu)
    assert constant["sigma_free"].dims == ("param",)
    assert list(constant["param"].values) == list(prior.names)
    np.testing.assert_array_equal(constant["sigma_free"].values, prior.sigma[prior.free])

    # lp is the log density at the draw; energy adds the (non-negative) kinetic energy
    jx = nuts.jax()
    density = jx.jit(jx.vmap(jax_log_density(net, prior), in_axes=(0, None, None)))
    lp = np.asarray(density(jx.numpy.asarray(z.values.reshape(-1, size)),
                            jx.numpy.asarray(prior.mu),
                            jx.numpy.asarray(prior.sigma[prior.free])))
    np.testing.assert_allclose(stats["lp"].values.reshape(-1), lp, rtol=0, atol=1e-9)
    assert (stats["energy"].values + stats["lp"].values >= -1e-9).all()
