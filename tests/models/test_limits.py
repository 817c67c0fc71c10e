"""Limits: a 60-event scenario runs; a too-dense one fails fast with a clear message."""

from __future__ import annotations

import time

import numpy as np
import pytest

from plausibly.models import queries as C
from plausibly.models.errors import ContractionTooLarge
from plausibly.models.network import Network


def chain_of_windows(n: int, width: int, in_degree: int, seed: int = 0) -> Network:
    """Each event caused by up to ``in_degree`` of the ``width`` events before it."""
    rng = np.random.default_rng(seed)
    parents = []
    for i in range(n):
        pool = list(range(max(0, i - width), i))
        k = min(in_degree, len(pool))
        parents.append(tuple(sorted(rng.choice(pool, size=k, replace=False).tolist())))
    history = tuple(float(rng.random() < 0.5) for _ in range(n))
    return Network(tuple(f"e{i}" for i in range(n)), tuple(parents), history, n - 1,
                   name=f"chain{n}")


def test_sixty_events_with_bounded_in_degree_run():
    net = chain_of_windows(60, width=4, in_degree=3)
    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, (200, 60))
    b = rng.normal(0, 1.5, (200, 60, net.max_parents))
    start = time.perf_counter()
    do = {"e5": 0.0}
    for q in (C.interventional(net, a, b, do), C.counterfactual(net, a, b, do)):
        assert q.shape == (200,) and np.all((q >= 0) & (q <= 1))
    assert time.perf_counter() - start < 60  # generous: a hang, not a timing test


def test_too_dense_fails_fast_with_a_clear_message():
    # every event caused by the 30 before it, half the history unknown: the
    # twin network's treewidth is ~30, i.e. tables of 2^30+ entries per draw
    n = 40
    parents = tuple(tuple(range(max(0, i - 30), i)) for i in range(n))
    net = Network(tuple(f"e{i}" for i in range(n)), parents,
                  tuple(None if i % 2 else 1.0 for i in range(n)), n - 1, name="dense40")
    a = np.zeros((2, n))
    b = np.zeros((2, n, 30))
    start = time.perf_counter()
    with pytest.raises(ContractionTooLarge) as err:
        C.counterfactual(net, a, b, {"e0": 0.0})
    assert time.perf_counter() - start < 60
    text = str(err.value)
    assert text.startswith("dense40: an exact query needs ")
    assert text.endswith("GiB)\n    fix: give events fewer causes, or split densely connected "
                         "events, so that the graph has a smaller treewidth")
