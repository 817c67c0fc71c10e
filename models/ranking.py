"""How sure a ranking of PODs is: each POD's rank per posterior draw, summarised.

A table ranks PODs by a posterior mean; the draws say how often each order
holds. Per draw, PODs are ranked by their score (the counterfactual, or the
route), the highest first; across draws this gives each POD

* ``p_first``: the share of draws in which it ranks first (PODs tied for
  first in a draw share that draw equally, so the shares add up to 1), and
* ``rank_hdi``: the narrowest interval of ranks that holds at least
  ``hdi_prob`` of its draws (ties take the best rank they share:
  "competition" ranking, 1, 1, 3).

Two PODs next to each other in the ranking are **not distinguishable** when
their rank intervals overlap: the draws do not settle which of them comes
first at the chosen probability. A POD is marked when it is not
distinguishable from the POD above it or the one below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from plausibly.models.results import hdis

__all__ = ["INDISTINCT_MARK", "INDISTINCT_NOTE", "RankUncertainty", "draw_ranks",
           "rank_uncertainty", "score_draws"]

#: the table's mark of a POD whose rank is not distinguishable from a neighbour's
INDISTINCT_MARK = "~"
#: the one line that says what the mark means (``{prob}``: the HDI probability)
INDISTINCT_NOTE = ("~ its {prob} rank interval overlaps a neighbour's: the draws do not "
                   "settle which of the two ranks higher")


def draw_ranks(scores: np.ndarray) -> np.ndarray:
    """Each POD's rank in each draw, 1 for the highest score; ties share the best rank.

    ``scores`` has shape ``(draws, pods)``; so has the result (integers).
    """
    x = np.asarray(scores, dtype=float)
    return 1 + (x[:, None, :] > x[:, :, None]).sum(axis=2)


def _first_shares(scores: np.ndarray) -> np.ndarray:
    """Per draw and POD: 1/k when it is one of k PODs tied for the top score, else 0."""
    x = np.asarray(scores, dtype=float)
    top = x == x.max(axis=1, keepdims=True)
    return top / top.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class RankUncertainty:
    """The rank uncertainty of some PODs (in the ranking's order, the first ranked highest).

    Attributes
    ----------
    pods : tuple of str
    p_first : numpy.ndarray
        ``(pods,)``: the probability that each ranks first; sums to 1.
    rank_hdi : numpy.ndarray
        ``(pods, 2)`` integers: each POD's narrowest rank interval holding
        ``hdi_prob`` of the draws.
    draws : int
        How many draws the figures count.
    """

    pods: tuple[str, ...]
    p_first: np.ndarray
    rank_hdi: np.ndarray
    draws: int

    @property
    def indistinct(self) -> tuple[bool, ...]:
        """Per POD: whether its rank interval overlaps that of the POD above or below it."""
        lo, hi = self.rank_hdi[:, 0], self.rank_hdi[:, 1]
        out = []
        for k in range(len(self.pods)):
            above = k > 0 and _overlap(lo[k - 1], hi[k - 1], lo[k], hi[k])
            below = k + 1 < len(self.pods) and _overlap(lo[k], hi[k], lo[k + 1], hi[k + 1])
            out.append(bool(above or below))
        return tuple(out)

    def of(self, pod: str) -> tuple[float, tuple[int, int], bool]:
        """One POD's ``p_first``, ``rank_hdi`` and whether it is indistinct."""
        k = self.pods.index(pod)
        return (float(self.p_first[k]), (int(self.rank_hdi[k, 0]), int(self.rank_hdi[k, 1])),
                self.indistinct[k])

    def to_dict(self, digits: int = 6) -> dict[str, dict[str, Any]]:
        """``{pod: {"p_first", "rank_hdi", "distinct"}}`` in the ranking's order."""
        return {p: {"p_first": round(float(self.p_first[k]), digits),
                    "rank_hdi": [int(self.rank_hdi[k, 0]), int(self.rank_hdi[k, 1])],
                    "distinct": not self.indistinct[k]}
                for k, p in enumerate(self.pods)}

    def __str__(self) -> str:
        return "; ".join(f"{p} P(first) {self.p_first[k]:.2f} rank "
                         f"[{self.rank_hdi[k, 0]}, {self.rank_hdi[k, 1]}]"
                         for k, p in enumerate(self.pods))


def _overlap(lo1: int, hi1: int, lo2: int, hi2: int) -> bool:
    return bool(lo1 <= hi2 and lo2 <= hi1)


def rank_uncertainty(pods: Sequence[str], scores: np.ndarray,
                     hdi_prob: float) -> RankUncertainty:
    """Rank the PODs in every draw and summarise (see the module docstring).

    Parameters
    ----------
    pods : sequence of str
        The PODs ranked (in scope only: never the "history" row nor PODs
        out of scope), in the order of the ranking by posterior mean.
    scores : numpy.ndarray
        ``(draws, pods)``, or ``(chain, draw, pods)``: each POD's score per
        draw (the counterfactual or the route of one outcome).
    hdi_prob : float
    """
    x = np.asarray(scores, dtype=float)
    x = x.reshape(-1, x.shape[-1])
    if x.shape[1] != len(pods):
        raise ValueError(f"{len(pods)} PODs but scores for {x.shape[1]}")
    if not pods:
        return RankUncertainty((), np.zeros(0), np.zeros((0, 2), dtype=int), x.shape[0])
    ranks = draw_ranks(x)
    hdi = np.stack(hdis(ranks.T.astype(float), hdi_prob), axis=1)
    return RankUncertainty(tuple(pods), _first_shares(x).mean(axis=0),
                           np.rint(hdi).astype(int), x.shape[0])


def score_draws(draws: Any, pods: Sequence[str], outcome: str,
                by: str = "counterfactual") -> np.ndarray:
    """Each POD's score per draw, ``(draws, pods)``, from a run's draws (an xarray Dataset).

    ``by`` is ``"counterfactual"`` or ``"route"`` (the counterfactual times
    the POD chance, draw by draw).
    """
    x = draws["plausibility"].sel(outcome=outcome, query="counterfactual", pod=list(pods))
    if by == "route":
        x = x * draws["pod_chance"].sel(pod=list(pods))
    return np.asarray(x.transpose("chain", "draw", "pod").values).reshape(-1, len(pods))
