"""The log-likelihood of history, term by term: what ArviZ's ``log_likelihood`` group holds.

History is one joint observation, but ArviZ (``az.loo``, ``az.waic``,
``az.compare``) wants one log-likelihood value per observation and draw. The
chain rule gives terms that add up exactly to the likelihood the sampler
conditions on: in time (topological) order, each observed event contributes

    log P(its history | the history of the events observed before it)

and each reference-class row its own binomial term, log P(K = k) or
log P(K <= k). An event whose causes are all known contributes just its own
Bernoulli term (given its causes it does not depend on earlier events); an
event with unknown or soft history among its ancestors contributes the
difference of two exact contractions. Soft history (``history = 0.8``) is
virtual evidence, and its term is that of the evidence.
"""

from __future__ import annotations

import numpy as np

from plausibly.models.likelihood import log_likelihood
from plausibly.models.network import Network

__all__ = ["data_row_name", "pointwise_log_likelihood"]


def data_row_name(row: int) -> str:
    """The name of reference-class row ``row``'s term: ``data[row]`` (no event id has brackets)."""
    return f"data[{row}]"


def pointwise_log_likelihood(net: Network, a: np.ndarray, b: np.ndarray
                             ) -> dict[str, np.ndarray]:
    """Log-likelihood terms per observed event and per reference-class row, for every draw.

    Parameters
    ----------
    net : Network
        The network with its history and reference-class rows.
    a, b : numpy.ndarray
        Draws of the mechanism, shapes ``(S, N)`` or ``(S, N, T)``, and ``(S, N, K)``.

    Returns
    -------
    dict of str to numpy.ndarray
        ``{event id: (S,)}`` for every event with (hard or soft) history, in
        time order, then ``{"data[r]": (S,)}`` for every row; the values add
        up to :func:`plausibly.models.likelihood.log_likelihood` (``net``, ``a``,
        ``b``), each computed by it: an event with every cause known as a
        one-trial count, any other as the log-likelihood of the history up to
        and including it less that of the history before it (so the cost
        grows with the number of events only for the latter).
    """
    terms: dict[str, np.ndarray] = {}
    nothing: tuple[tuple[float, ...] | None, ...] = (None,) * net.size

    def with_evidence(history: tuple[tuple[float, ...] | None, ...],
                      rows: tuple[tuple[int, tuple[float, ...], int, int, bool], ...] = (),
                      ) -> np.ndarray:
        return np.asarray(log_likelihood(net.with_history(history).with_data(rows), a, b))

    def hard(h: tuple[float, ...] | None) -> int | None:
        return h.index(1.0) if h is not None and sorted(h) == [0.0, 1.0] else None

    for i, h in enumerate(net.history):
        if h is None:
            continue
        causes = {p: hard(net.history[p]) for p in net.parents[i]}
        state = hard(h)
        if net.binary and state is not None and None not in causes.values():
            # every cause known: the event's own Bernoulli term, which the
            # likelihood computes for a one-trial count with the causes so set
            config = {p: int(c) for p, c in causes.items() if c is not None}
            one = (i, tuple(float(x) for x in net.activations(i, config)), state, 1, False)
            terms[net.nodes[i]] = with_evidence(nothing, (one,))
        else:  # the chain rule: the history up to this event, less that before it
            before = tuple(x if j < i else None for j, x in enumerate(net.history))
            upto = tuple(x if j <= i else None for j, x in enumerate(net.history))
            terms[net.nodes[i]] = with_evidence(upto) - with_evidence(before)
    for r, row in enumerate(net.data):
        terms[data_row_name(r)] = with_evidence(nothing, (row,))
    return terms
