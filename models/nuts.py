"""BlackJAX NUTS on the model's own JAX log density: one compiled program per model.

PyMC stays the one place that defines the model
(:func:`plausibly.models.pymc_model.jax_log_density`); this module only runs
it. One XLA program samples one chain, and takes the prior set's numbers as
inputs: every chain of every prior set is one call of the same compiled
program, so a chain's draws depend only on its key, its start and its prior
set (never on what else runs, as they would under ``vmap``), and the chains
spread over the cores one by one. Each chain tunes with Stan's window
adaptation (step size by dual averaging towards the acceptance PyMC targets,
a diagonal mass matrix), then keeps ``draws`` NUTS transitions.

The program is exported (:mod:`jax.export`) into a per-user cache, keyed by
:func:`fingerprint`: the model's structure, the chain shape and the versions
of everything that shapes it. XLA's own persistent compilation cache keeps
the machine code beside it. A warm run reads both and imports neither PyMC
nor PyTensor. Cold and warm runs call the same deserialised program, so they
give the same numbers.

The chains of a run run at once on one XLA CPU device, one thread per core
(:func:`~plausibly.models.settings.cores`): a program runs in the thread
that calls it (``jax_cpu_enable_async_dispatch`` off), without Python's
lock, and one device runs programs from several threads at once. So the machine code is
compiled (or read from the cache) once, not once per device, and a chain's
draws do not depend on the thread that ran it or on what ran beside it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from dataclasses import dataclass, fields, is_dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from plausibly.models.errors import OutputError
from plausibly.models.network import Network
from plausibly.models.outputs import write_atomic
from plausibly.models.parameters import ParameterPrior
from plausibly.models.results import Groups

__all__ = ["STATS", "Program", "cache_dir", "chain_key", "fingerprint", "groups", "jax",
           "program"]

#: PyMC's NUTS defaults: the acceptance the step size is tuned towards, and the tree depth
TARGET_ACCEPT = 0.8
MAX_TREE_DEPTH = 10
#: per-draw sample statistics, named as PyMC names them in ``sample_stats``
STATS = ("diverging", "lp", "energy", "acceptance_rate", "n_steps", "tree_depth", "step_size")
#: the packages whose versions shape the exported program or its machine code
_SHAPERS = ("jax", "jaxlib", "blackjax", "pymc", "pytensor", "numpy")
#: this package's own files that shape the model's graph
_SOURCES = ("pymc_model.py", "likelihood.py", "parameters.py", "factors.py", "network.py",
            "nuts.py")


def cache_dir() -> Path:
    """The per-user cache: ``$PLAUSIBLY_CACHE_DIR``, else ``$XDG_CACHE_HOME/plausibly``.

    ``~/.cache/plausibly`` when neither is set. It holds exported sampler
    programs (``programs/``) and XLA's compiled machine code (``xla/``);
    deleting it costs one cold run, nothing else.
    """
    if env := os.environ.get("PLAUSIBLY_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "plausibly"


_JAX: Any = None


def jax() -> Any:
    """``jax``, imported once and configured for the sampler.

    Double precision (as PyTensor's model), the CPU only (a device's own
    arithmetic would change the numbers), each program run in the thread
    that calls it (see the module's notes), and XLA's compilation cache in
    :func:`cache_dir`. The settings that JAX reads when it starts its CPU
    client keep their values if something else started JAX before.
    """
    global _JAX
    if _JAX is not None:
        return _JAX
    import jax as jx

    jx.config.update("jax_enable_x64", True)
    jx.config.update("jax_platforms", "cpu")
    jx.config.update("jax_cpu_enable_async_dispatch", False)
    xla = cache_dir() / "xla"
    try:
        xla.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # no cache: every run compiles, with the same numbers
    else:
        jx.config.update("jax_compilation_cache_dir", str(xla))
        jx.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jx.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    # its CPU client starts now: PyMC's JAX module, imported for a cold build, would
    # otherwise make it start 100 devices (it sets XLA_FLAGS when imported)
    jx.devices()
    _JAX = jx
    return jx


@functools.cache
def _versions() -> tuple[str, ...]:
    out = [sys.version]
    for name in _SHAPERS:
        try:
            out.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} missing")
    here = Path(__file__).parent
    out += [hashlib.sha256((here / f).read_bytes()).hexdigest() for f in _SOURCES]
    return tuple(out)


def _canonical(obj: Any) -> Any:
    """A form of ``obj`` whose ``repr`` is the same in every process (no set order, no salt)."""
    if isinstance(obj, np.ndarray):
        return ("array", str(obj.dtype), obj.shape, hashlib.sha256(
            np.ascontiguousarray(obj).tobytes()).hexdigest())
    if is_dataclass(obj) and not isinstance(obj, type):
        return (type(obj).__name__,
                tuple((f.name, _canonical(getattr(obj, f.name))) for f in fields(obj)))
    if isinstance(obj, dict):
        return ("dict", tuple(sorted((repr(_canonical(k)), _canonical(v))
                                     for k, v in obj.items())))
    if isinstance(obj, set | frozenset):
        return ("set", tuple(sorted(repr(_canonical(v)) for v in obj)))
    if isinstance(obj, list | tuple):
        return tuple(_canonical(v) for v in obj)
    if isinstance(obj, float):
        return float.hex(obj)
    if obj is None or isinstance(obj, bool | int | str):
        return obj
    return (type(obj).__name__, repr(obj))


def fingerprint(net: Network, prior: ParameterPrior, *, draws: int, tune: int) -> str:
    """The key of a compiled program: what its graph and machine code depend on.

    The network (history, mechanism, data rows), the prior's fixed/free
    pattern (not its numbers, which are inputs), the chain's length, and the
    versions of Python, JAX, BlackJAX, PyMC, PyTensor, numpy and of this
    package's model-building sources.
    """
    parts = [_canonical(net), _canonical(prior.structure), (draws, tune),
             _versions(), TARGET_ACCEPT, MAX_TREE_DEPTH]
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()[:32]


def chain_key(seed: int) -> np.ndarray:
    """JAX's threefry key ``jax.random.PRNGKey(seed)`` of a 32-bit seed, as ``(2,)`` uint32."""
    if not 0 <= seed < 2**32:
        raise ValueError(f"chain seed {seed} is not a 32-bit seed")
    return np.array([0, seed], dtype=np.uint32)


def _sampler(log_density: Any, *, draws: int, tune: int) -> Any:
    """``chain(key, start, mu, sigma)``: one chain, tuned then drawn."""
    import blackjax

    jx = jax()
    lax, random = jx.lax, jx.random
    # jitted, the density is traced once, not at each of its seven places in the
    # sampler: the same program (the draws are the same to the bit), 1.5 s less to build
    traced_once = jx.jit(log_density)

    def chain(key: Any, start: Any, mu: Any, sigma: Any) -> Any:
        def density(z: Any) -> Any:
            return traced_once(z, mu, sigma)

        warmup = blackjax.window_adaptation(blackjax.nuts, density,
                                            target_acceptance_rate=TARGET_ACCEPT,
                                            max_num_doublings=MAX_TREE_DEPTH)
        tune_key, draw_key = random.split(key)
        (state, params), _ = warmup.run(tune_key, start, num_steps=tune)
        kernel = blackjax.nuts(density, **params).step  # params carry the tree depth
        step_size = params["step_size"]

        def one(state: Any, key: Any) -> Any:
            state, info = kernel(key, state)
            return state, (state.position, info.is_divergent, state.logdensity, info.energy,
                           info.acceptance_rate, info.num_integration_steps,
                           info.num_trajectory_expansions,
                           jx.numpy.full((), step_size, dtype=start.dtype))

        _, kept = lax.scan(one, state, random.split(draw_key, draws))
        return kept

    return chain


def _signature(free: int, cells: int) -> tuple[tuple[tuple[int, ...], Any], ...]:
    """The program's inputs, each as ``(shape, dtype)``.

    The chain's key, its start, the prior's ``mu`` per cell and ``sigma`` per
    free parameter: the order in which :meth:`Program.start` passes them.
    """
    return ((2,), np.uint32), ((free,), np.float64), ((cells,), np.float64), \
        ((free,), np.float64)


@dataclass
class Program:
    """One model's compiled sampler, ready to run any prior set with its fixed/free pattern."""

    key: str
    draws: int
    free: int
    cells: int
    call: Any
    cached: bool  # read from the cache (else built and exported in this process)

    def load(self) -> None:
        """Compile the program (from XLA's cache when warm: about 0.6 s) before its chains.

        So a program that cannot be loaded fails before any chain starts, and
        the chains' threads find it ready (JAX compiles it once either way).
        """
        jx = jax()
        self.call.lower(*(jx.numpy.zeros(shape, dtype)
                          for shape, dtype in _signature(self.free, self.cells))).compile()

    def start(self, prior: ParameterPrior, seed: int, start: np.ndarray
              ) -> tuple[np.ndarray, ...]:
        """Run one chain, in this thread: ``(z (draw, param), *STATS (draw,))``."""
        args = (chain_key(seed), start, prior.mu, prior.sigma[prior.free])
        return tuple(np.asarray(a) for a in self.call(*(np.asarray(x) for x in args)))


_PROGRAMS: dict[str, Program] = {}


def program(net: Network, prior: ParameterPrior, *, draws: int, tune: int) -> Program:
    """The compiled sampler of ``net`` under ``prior``'s fixed/free pattern.

    From this process's memory, else from the cache, else built with PyMC and
    exported (then written to the cache; a cache that cannot be written only
    costs the next run the build).
    """
    key = fingerprint(net, prior, draws=draws, tune=tune)
    if key in _PROGRAMS:
        return _PROGRAMS[key]
    jx = jax()
    from jax import export

    path = cache_dir() / "programs" / f"{key}.jaxexport"
    exported = _deserialize(_read(path))
    cached = exported is not None
    if exported is None:
        from plausibly.models.pymc_model import jax_log_density

        run = _sampler(jax_log_density(net, prior), draws=draws, tune=tune)
        specs = tuple(jx.ShapeDtypeStruct(shape, dtype)
                      for shape, dtype in _signature(prior.free.size, prior.mu.size))
        blob = bytes(export.export(jx.jit(run))(*specs).serialize())
        _write(path, hashlib.sha256(blob).digest() + blob)  # replaces an unreadable entry
        exported = export.deserialize(bytearray(blob))  # as a warm run will call it
    made = Program(key, draws, prior.free.size, prior.mu.size, jx.jit(exported.call), cached)
    _PROGRAMS[key] = made
    return made


def _deserialize(entry: bytes | None) -> Any:
    """The exported program in a cache entry; None if there is none or it is unreadable.

    An entry is the sha256 of the serialised program, then the program: a
    truncated or corrupted entry (which JAX might load, then fail to run) is
    built anew and replaced, never deleted first (in a cache that cannot be
    written it stays, and costs each run the build, as a missing one would).
    """
    if entry is None or len(entry) < 32:
        return None
    digest, blob = entry[:32], entry[32:]
    if hashlib.sha256(blob).digest() != digest:
        return None
    from jax import export

    try:
        return export.deserialize(bytearray(blob))
    except Exception:  # written by another version of JAX, say
        return None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _write(path: Path, blob: bytes) -> None:
    """Write atomically (:func:`~plausibly.models.outputs.write_atomic`), replacing any entry.

    A concurrent run reads a whole program or none; a cache that cannot be
    written costs the next run the build, and no partial file is left.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, blob, force=True)
    except (OSError, OutputError):
        pass


def groups(prior: ParameterPrior, z: np.ndarray, stats: dict[str, np.ndarray],
           seconds: float, tune: int) -> Groups:
    """One prior set's ArviZ groups, laid out as PyMC lays out its own.

    ``posterior`` (``z``: chain, draw, param), ``sample_stats`` (one variable
    per :data:`STATS`) and ``constant_data`` (the prior
    set's ``mu`` per cell and ``sigma_free`` per param), with ArviZ's
    attributes (``created_at``, ``tuning_steps``, ...); plain xarray, so
    that ArviZ is imported only by whoever wants its ``InferenceData``.
    """
    import datetime

    import xarray as xr

    chains, draws = z.shape[:2]
    base = {"chain": np.arange(chains), "draw": np.arange(draws)}
    made = {"created_at": datetime.datetime.now(datetime.UTC).isoformat(),
            "arviz_version": version("arviz"), "inference_library": "blackjax",
            "inference_library_version": version("blackjax")}
    attrs = {**made, "sampling_time": seconds, "tuning_steps": tune}
    stats = {**stats, "n_steps": stats["n_steps"].astype(float),  # as PyMC types them
             "reached_max_treedepth": stats["tree_depth"] >= MAX_TREE_DEPTH}
    posterior = xr.Dataset({"z": (("chain", "draw", "param"), z)},
                           coords={**base, "param": list(prior.names)}, attrs=attrs)
    sample_stats = xr.Dataset({k: (("chain", "draw"), v) for k, v in stats.items()},
                              coords=base, attrs=attrs)
    constant = xr.Dataset({"mu": (("cell",), prior.mu),
                           "sigma_free": (("param",), prior.sigma[prior.free])},
                          coords={"cell": list(prior.cells), "param": list(prior.names)},
                          attrs=made)
    return Groups(posterior=posterior, sample_stats=sample_stats, constant_data=constant)
