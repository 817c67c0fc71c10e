"""A hand-built prior for version 2 scenarios, until prior-set files speak version 2.

:func:`hand_prior` judges every threshold and every term of every event with
:meth:`ParameterPrior.from_cells`, in the ``absent`` reference context: each
event's ``base`` cells first (decreasing logits, one per non-first state), then
one cell per term with just that term's causes present.
"""

from __future__ import annotations

from plausibly.models.network import Network
from plausibly.models.parameters import Cell, ParameterPrior, reference_context


def hand_prior(net: Network, sigma: float = 0.0, *, id: str = "hand",
               strengths: tuple[tuple[str, str, float, float], ...] = ()) -> ParameterPrior:
    """Every cell of ``net`` judged: fixed with ``sigma = 0`` (the exact path), else Normal.

    Base logits fall from 0.5 by 1 per state; a term's judged logit is the
    base's first one plus 1 (a cause with a higher state: plus 0.5 more per
    state), so causes raise their effects.
    """
    cells = []
    for i, x in enumerate(net.nodes):
        ref = reference_context(net, i, "absent")
        for k in range(1, net.card(i)):
            cells.append(Cell(i, k, ref, 0.5 - (k - 1), sigma, f"base[{x}>={k}]"))
        for t, term in enumerate(net.terms[i]):
            context = {**ref, **{p: lo for p, lo, _ in term}}
            lift = 1.0 + 0.5 * sum(lo - 1 for _, lo, _ in term)
            cells.append(Cell(i, 1, context, 0.5 + lift, sigma, f"given[{x}|{t}]"))
    return ParameterPrior.from_cells(id, f"hand-built ({id})", net, cells, strengths=strengths)
