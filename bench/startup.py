"""Benchmark: start-up time of the light commands, and what they import.

Run from the repository root::

    .venv/bin/python bench/startup.py [--repeat 5]

Each command runs as a fresh subprocess through the console script next to
this interpreter (``.venv/bin/plausibly``), output discarded; the best of
``--repeat`` runs is reported against the target (under 0.5 s), beside a bare
``python -c pass`` from the same interpreter.

Two settings are timed. "as configured" inherits the environment; where
``PYTHONDONTWRITEBYTECODE`` is set and the venv holds no ``.pyc`` files (as on
the machines here, whose venvs are installed without compiling bytecode),
every start compiles typer, pydantic, rich ... from source. "with bytecode"
unsets it and points ``PYTHONPYCACHEPREFIX`` at a temporary directory (the
venv is not touched), which is what an ordinary ``pip install`` gives a user.

Then each command runs once more under ``python -X importtime`` to confirm that
pymc, pytensor and arviz are not imported, and to show where the import time goes.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.5
HEAVY = ("pymc", "pytensor", "arviz")
ALSO_NOTED = ("numpy", "scipy", "matplotlib", "xarray", "pandas", "opt_einsum")


def console_script() -> list[str]:
    """How to start ``plausibly``: the console script, else the same entry point via -c."""
    script = Path(sys.executable).parent / "plausibly"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from plausibly.cli.app import main; "
            "sys.argv[0] = 'plausibly'; sys.exit(main())"]


COMMANDS: list[tuple[str, list[str]]] = [
    ("plausibly --help", ["--help"]),
    ("plausibly check", ["check"]),
    ("plausibly show", ["show"]),
    ("plausibly graph (DOT to stdout)", ["graph"]),
]


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0, proc.returncode


def bytecode_env(cache: str) -> dict[str, str]:
    """The environment with bytecode caching on, into ``cache`` (not into the venv)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


def time_all(base: list[str], repeat: int, env: dict[str, str] | None
             ) -> list[tuple[str, float, float, int, bool | None]]:
    """Rows (label, best, median, worst exit code, target met) for the bare run and COMMANDS."""
    bare = [sys.executable, "-c", "pass"]
    run(bare, env)
    t_bare = [run(bare, env)[0] for _ in range(repeat)]
    rows: list[tuple[str, float, float, int, bool | None]] = [
        ("python -c pass (baseline)", min(t_bare), statistics.median(t_bare), 0, None)]
    for label, extra in COMMANDS:
        run(base + extra, env)  # warm-up (and, with bytecode, fills the cache)
        runs = [run(base + extra, env) for _ in range(repeat)]
        times = [t for t, _ in runs]
        rows.append((label, min(times), statistics.median(times), max(c for _, c in runs),
                     min(times) < TARGET_S))
    return rows


def print_rows(title: str, rows: list[tuple[str, float, float, int, bool | None]]) -> None:
    best_bare = rows[0][1]
    w = max(len(r[0]) for r in rows)
    print(title)
    print(f"{'what':<{w}}  {'best s':>7}  {'median s':>8}  {'x bare':>6}  {'exit':>4}  "
          f"target < {TARGET_S:g} s (best)")
    print("-" * (w + 57))
    for label, best, med, code, ok in rows:
        verdict = "" if ok is None else ("MET" if ok else "MISSED")
        print(f"{label:<{w}}  {best:7.3f}  {med:8.3f}  {best / best_bare:6.1f}  {code:>4}  "
              f"{verdict}")
    print()


def imports(argv: list[str]) -> tuple[set[str], list[tuple[int, str]]]:
    """Top-level packages a command imports, and the slowest top-level imports (us)."""
    if argv[0] == sys.executable:
        cmd = [sys.executable, "-X", "importtime", *argv[1:]]
    else:  # the console script is a Python file: run it under this interpreter
        cmd = [sys.executable, "-X", "importtime", *argv]
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: set[str] = set()
    top: list[tuple[int, str]] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        seen.add(name.strip().split(".")[0])
        if not name[1:].startswith(" "):  # not nested in another import
            top.append((int(cumulative), name.strip()))
    return seen, sorted(top, reverse=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per command (default 5)")
    args = ap.parse_args(argv)

    base = console_script()
    print("== plausibly start-up ==")
    print(f"machine   {platform.system()} {platform.release()}, cpus={os.cpu_count()}, "
          f"python {platform.python_version()} ({sys.executable})")
    print(f"date      {time.strftime('%Y-%m-%d %H:%M %Z')}, load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"command   {' '.join(base)} ...; best (and median) of {args.repeat} runs, "
          "one untimed warm-up each")
    print()

    pyc = sum(1 for _ in Path(sys.prefix).rglob("*.pyc"))
    flag = os.environ.get("PYTHONDONTWRITEBYTECODE", "(unset)")
    print(f"bytecode  PYTHONDONTWRITEBYTECODE={flag}, .pyc files in {sys.prefix}: {pyc}")
    print()

    rows = time_all(base, args.repeat, None)
    print_rows("as configured (inherited environment)", rows)
    with tempfile.TemporaryDirectory(prefix="plausibly-bench-pyc-") as cache:
        rows_pyc = time_all(base, args.repeat, bytecode_env(cache))
    print_rows("with bytecode (PYTHONPYCACHEPREFIX=<temp dir>, as after a normal pip install)",
               rows_pyc)

    clean = True
    print(f"imports (python -X importtime, one run each, as configured): {', '.join(HEAVY)} "
          "must be absent")
    for label, extra in COMMANDS:
        seen, top = imports(base + extra)
        heavy = [m for m in HEAVY if m in seen]
        noted = [m for m in ALSO_NOTED if m in seen]
        clean = clean and not heavy
        print(f"  {label}: {'IMPORTS ' + ', '.join(heavy) if heavy else 'none of them'}"
              f" (also imported: {', '.join(noted) or 'none of ' + ', '.join(ALSO_NOTED)})")
        print("    slowest top-level imports: "
              + ", ".join(f"{name} {us / 1e3:.0f} ms" for us, name in top[:4]))
    bad_exit = any(code != 0 for _, _, _, code, ok in rows + rows_pyc if ok is not None)
    if bad_exit:
        print("\nwarning: a command exited non-zero (see the exit column); its time may "
              "not be representative")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
