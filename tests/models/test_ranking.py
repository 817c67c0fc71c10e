"""Rank uncertainty against a direct count on small synthetic draws."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from plausibly.models.ranking import draw_ranks, rank_uncertainty


def _direct(scores: np.ndarray) -> tuple[np.ndarray, list[list[int]]]:
    """P(first) and each POD's ranks by plain loops: ties share the top equally."""
    n, p = scores.shape
    first = np.zeros(p)
    ranks: list[list[int]] = [[] for _ in range(p)]
    for s in range(n):
        top = [k for k in range(p) if scores[s, k] == scores[s].max()]
        for k in top:
            first[k] += 1.0 / len(top)
        for k in range(p):
            ranks[k].append(1 + sum(scores[s, j] > scores[s, k] for j in range(p)))
    return first / n, ranks


@pytest.mark.parametrize("seed", range(6))
def test_rank_probabilities_match_a_direct_count(seed):
    rng = np.random.default_rng(seed)
    pods = [f"p{k}" for k in range(2 + seed % 3)]
    scores = rng.beta(2, 5, (2, 40, len(pods)))
    scores[0, :5, :] = 0.3  # some draws with every POD tied
    u = rank_uncertainty(pods, scores, 0.94)
    first, ranks = _direct(scores.reshape(-1, len(pods)))
    np.testing.assert_allclose(u.p_first, first, atol=1e-12)
    assert u.p_first.sum() == pytest.approx(1.0, abs=1e-12)
    for k in range(len(pods)):
        lo, hi = u.rank_hdi[k]
        r = np.array(ranks[k])
        inside = np.mean((r >= lo) & (r <= hi))
        assert inside >= 0.94 - 1e-12
        # the narrowest such interval of integer ranks
        for a, b in itertools.product(range(1, len(pods) + 1), repeat=2):
            if b - a < hi - lo:
                assert np.mean((r >= a) & (r <= b)) < 0.94


def test_ranks_per_draw_share_the_best_rank_on_ties():
    x = np.array([[0.2, 0.5, 0.5, 0.1]])
    assert draw_ranks(x).tolist() == [[3, 1, 1, 4]]


def test_neighbours_whose_rank_intervals_overlap_are_marked():
    scores = np.array([[0.9, 0.5, 0.49], [0.9, 0.49, 0.5]] * 10)
    u = rank_uncertainty(["a", "b", "c"], scores, 0.94)
    assert u.indistinct == (False, True, True)
    assert u.of("a") == (1.0, (1, 1), False)
    assert u.to_dict()["b"]["rank_hdi"] == [2, 3]


def test_one_draw_gives_a_certain_ranking():
    u = rank_uncertainty(["a", "b"], np.array([[0.1, 0.7]]), 0.94)
    assert u.p_first.tolist() == [0.0, 1.0] and u.rank_hdi.tolist() == [[2, 2], [1, 1]]
