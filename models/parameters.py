"""What a prior set hands the engine: a Normal prior on every logit, as one flat vector.

Parameters are non-centred: every free logit is ``mu + sigma * z`` with
``z ~ Normal(0, 1)``; fixed ones (judged as lone numbers, and the padding of
events with fewer causes than the widest) stay at ``mu``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["ParameterPrior", "cell_names"]


def cell_names(order: Sequence[str], parents: Mapping[str, Sequence[str]], width: int
               ) -> list[str]:
    """A name for every position of the flat vector ``[a (N), g (N*K)]``, in order.

    ``a[x]`` for event ``x`` with none of its causes, ``g[x|c]`` with cause
    ``c`` alone, and ``pad[x|j]`` for slot ``j`` past ``x``'s causes.
    """
    names = [f"a[{x}]" for x in order]
    names += [f"g[{x}|{parents[x][j]}]" if j < len(parents[x]) else f"pad[{x}|{j}]"
              for x in order for j in range(width)]
    return names


@dataclass(frozen=True)
class ParameterPrior:
    """Where each logit lives in the flat vector ``[a (N), g (N*K)]``, and its prior.

    ``a[x]`` is the log-odds of event ``x`` with none of its causes and
    ``g[x|c]`` with cause ``c`` alone; ``free`` indexes the positions that are
    sampled, all others are fixed at ``mu``.
    """

    id: str  # the prior set's id (or a pool's)
    name: str  # its human-readable name
    n: int
    width: int
    mu: np.ndarray  # (N + N*K,)
    sigma: np.ndarray  # (N + N*K,), 0 where fixed
    mask: np.ndarray  # (N, K), 1 for a real cause
    free: np.ndarray  # int positions of sampled logits
    names: tuple[str, ...]  # a name per free position, e.g. "a[x]" / "g[x|c]"

    @classmethod
    def from_logits(cls, id: str, name: str, order: tuple[str, ...],
                    parents: Mapping[str, tuple[str, ...]], *, mu_a: np.ndarray,
                    sd_a: np.ndarray, mu_g: np.ndarray, sd_g: np.ndarray,
                    mask: np.ndarray) -> ParameterPrior:
        """Lay out Normal priors given in network order.

        ``mu_a, sd_a`` have shape ``(N,)``; ``mu_g, sd_g, mask`` shape
        ``(N, width)``, ``mask`` marking real causes (padding gets sd 0).
        """
        n, width = mu_g.shape
        mu = np.concatenate([mu_a, mu_g.ravel()])
        sigma = np.concatenate([sd_a, (sd_g * mask).ravel()])
        free = np.flatnonzero(sigma > 0)
        names = cell_names(order, parents, width)
        return cls(id, name, n, width, mu, sigma, mask, free, tuple(names[i] for i in free))

    def to_ab(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map standardised draws ``z`` (S, n_free) to ``a`` (S, N) and ``b`` (S, N, K)."""
        z = np.atleast_2d(z)
        flat = np.broadcast_to(self.mu, (z.shape[0], self.mu.size)).copy()
        flat[:, self.free] += self.sigma[self.free] * z
        a = flat[:, : self.n]
        g = flat[:, self.n:].reshape(-1, self.n, self.width)
        return a, (g - a[:, :, None]) * self.mask
