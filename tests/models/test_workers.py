"""The worker processes' memory: large blocks that numpy frees are reused, not mapped anew."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from plausibly.models.workers import WorkerPool


def _page_faults_of_work() -> int:
    """Minor page faults of a warmed-up loop of arrays of 0.5-3.4 MB, as a query makes.

    Below 4 MB numpy asks for no huge pages, so a block that is mapped afresh
    faults in every 4 KiB page of it.
    """
    import resource

    def work() -> None:
        for k in range(60):
            a = np.ones((1 + k % 7) * 60_000)
            b = a * 2.0
            del a, b

    work()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    work()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_worker_reuses_the_large_blocks_numpy_frees():
    pool = WorkerPool(1, [(_page_faults_of_work, ())])
    try:
        in_worker = pool.first[0].result(timeout=60)
    finally:
        pool.shutdown()
    script = ("import sys; sys.path.insert(0, sys.argv[1]); "
              "from test_workers import _page_faults_of_work as f; print(f())")
    plain = int(subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)],
                               capture_output=True, text=True, check=True).stdout)
    assert plain > 5_000  # glibc's default: mapped afresh and unmapped, again and again
    assert in_worker < 500, in_worker  # the freed blocks reused, their pages already there


_IN_CLI = """
import sys
sys.path.insert(0, sys.argv[1])
from test_workers import _page_faults_of_work as f
from plausibly.cli.common import sampling_progress
with sampling_progress("1 prior set", 2, 10, 10):
    print(f())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_sampling_command_reuses_the_large_blocks_numpy_frees(tmp_path):
    """The command's own process (diagnostics, summaries) keeps them too, as its workers."""
    env = {**os.environ, "PLAUSIBLY_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", _IN_CLI, str(Path(__file__).parent)],
                          capture_output=True, text=True, check=True, env=env)
    assert int(done.stdout) < 500, done.stdout
