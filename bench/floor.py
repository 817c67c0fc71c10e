"""Benchmark: what a warm ``compare`` would take with a sampler that costs nothing.

Run from the repository root::

    uv run --frozen python bench/floor.py [--rounds 3]

Issue #15 asks BlackJAX's warm ``compare`` to take at most 0.4x PyMC's, and
its ESS per second to be at least 5x. Both ratios share everything but the
sampler: reading the inputs, the evidence of each prior set, every chain's
exact POD queries, the diagnostics, the pools, the summaries and the JSON.
This bench measures that shared floor directly. First one warm ``compare``
with BlackJAX records every chain's draws and sample statistics (what
``nuts.Program.start`` returns, keyed by prior set and chain seed). Then, in
``--rounds`` interleaved rounds, three fresh processes each:

* **replay**: ``compare`` with ``nuts.program`` replaced by a stand-in whose
  chains return the recorded arrays at once: no JAX imported, no program
  loaded, no chain sampled; everything else runs as it does. Its JSON must
  equal the recorded run's, byte for byte (checked): the same work, minus
  the sampler.
* **blackjax** and **pymc**: ``compare`` as a user runs it, warm caches.

The ratio replay / PyMC bounds what any sampler can reach in wall time, and,
at BlackJAX's ESS per draw (PyMC's is about the same), in ESS per second.
Every command is ``compare --format json --allow-unconverged`` on the
bundled scenario and prior sets, with the defaults.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import load, machine

COMPARE = ["compare", "--format", "json", "--allow-unconverged"]
TARGET = 0.4


def child(mode: str, store: str, args: list[str]) -> None:
    """In a fresh process: run the CLI with the sampler's chains recorded or replayed."""
    from plausibly.models import nuts, sampling

    if mode == "record":
        saved: dict[tuple[str, int], tuple[object, ...]] = {}
        real = nuts.Program.start

        def start(self: nuts.Program, prior, seed, begin):
            out = real(self, prior, seed, begin)
            saved[(prior.id, seed)] = out
            return out

        nuts.Program.start = start
        import atexit

        atexit.register(lambda: Path(store).write_bytes(pickle.dumps(saved)))
    else:
        recorded = pickle.loads(Path(store).read_bytes())

        class Replay:
            key = "replay"

            def load(self) -> None:
                pass

            def start(self, prior, seed, begin):
                return recorded[(prior.id, seed)]

        sampling.nuts.program = lambda net, prior, *, draws, tune: Replay()
    from plausibly.cli.main import main

    sys.argv = ["plausibly", *args]
    main()


def run(cmd: list[str]) -> tuple[float, bytes]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 3):
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr.decode()[-3000:]}")
    return wall, done.stdout


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    print(machine())
    print("load average at start: " + load())
    me = [sys.executable, str(Path(__file__).resolve()), "--child"]
    with tempfile.TemporaryDirectory(prefix="plausibly-floor-") as tmp:
        store = os.path.join(tmp, "draws.pkl")
        _, recorded = run([*me, "record", store, *COMPARE])
        arms = {"replay": [*me, "replay", store, *COMPARE],
                "blackjax": [sys.executable, "-m", "plausibly.cli", *COMPARE,
                             "--sampler", "blackjax"],
                "pymc": [sys.executable, "-m", "plausibly.cli", *COMPARE, "--sampler", "pymc"]}
        walls: dict[str, list[float]] = {a: [] for a in arms}
        for r in range(opts.rounds):
            order = list(arms) if r % 2 == 0 else list(arms)[::-1]
            for arm in order:
                wall, out = run(arms[arm])
                if arm == "replay" and out != recorded:
                    sys.exit("the replayed run's JSON differs from the recorded run's")
                walls[arm].append(wall)
                print(f"round {r + 1}: {arm:<9}{wall:6.1f} s   load {os.getloadavg()[0]:.1f}",
                      flush=True)
    med = {a: statistics.median(w) for a, w in walls.items()}
    print("\nwarm compare, wall seconds (min, median):")
    for a, w in walls.items():
        print(f"  {a:<9}{min(w):6.1f} {med[a]:6.1f}")
    floor = med["replay"] / med["pymc"]
    print(f"\nreplay / pymc (the floor of any sampler): {floor:.2f}x (median; min "
          f"{min(walls['replay']) / min(walls['pymc']):.2f}x); target <= {TARGET}x")
    print(f"blackjax / pymc: {med['blackjax'] / med['pymc']:.2f}x; the sampler's own share "
          f"of BlackJAX's time: {1 - med['replay'] / med['blackjax']:.0%}")
    print(f"ESS per second, at BlackJAX's ESS per draw: at most {1 / floor:.1f}x PyMC's for "
          f"any sampler (target >= 5x)")
    print("load average at end: " + load())
    return 0


if __name__ == "__main__":
    sys.exit(main())
