"""What a prior set hands the engine: judged logits, their prior, their map to (a, b).

Experts judge probabilities, each in a context: "P(X >= s) with its causes as
they actually were" or "... had C been otherwise" (``anchor = "history"``),
or "... with no cause present" / "... with C alone" (``anchor = "absent"``,
version 1). On the logit scale each judgement is linear in the mechanism's
parameters,

    logit P(X >= s_k | c) = a_k + sum_t b_t active_t(c),

so an event's judgements, one per parameter, form a square linear system;
its inverse maps judged logits to ``(a, b)``. The prior is Normal and
independent on the judged logits (non-centred: ``mu + sigma * z`` with
``z ~ Normal(0, 1)``; fixed judgements have sigma 0), hence a correlated
Gaussian on ``(a, b)``. The thresholds of an event with states are then sorted
(``a_1 > a_2 > ...``): the prior on them is that of the order statistics,
which differs from the judged one only where judgements overlap.

Both the judged and the natural parameters are laid out as one flat vector
``[a (N*T), b (N*K)]``: ``T`` thresholds and ``K`` terms per event, padded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from plausibly.models.network import Network

__all__ = ["Cell", "ParameterPrior", "SingularJudgements", "cell_names", "reference_context"]


def cell_names(order: Sequence[str], parents: Mapping[str, Sequence[str]], width: int
               ) -> list[str]:
    """Version 1's name for every position of the flat vector ``[a (N), g (N*K)]``.

    ``a[x]`` for event ``x`` with none of its causes, ``g[x|c]`` with cause
    ``c`` alone, and ``pad[x|j]`` for slot ``j`` past ``x``'s causes.
    """
    names = [f"a[{x}]" for x in order]
    names += [f"g[{x}|{parents[x][j]}]" if j < len(parents[x]) else f"pad[{x}|{j}]"
              for x in order for j in range(width)]
    return names


def _descending(values: list[Any], xp: Any) -> list[Any]:
    """``values`` sorted high to low by a network of maxima and minima.

    Odd-even transposition: ``n`` rounds of compare-exchange sort any ``n``
    values. The same numbers as a sort, and each output's gradient is that of
    the input it took, as a sort's; but PyTensor compiles maxima and minima
    into the model's C code, while its sort (and its gradient's argsort) runs
    in Python on every gradient: twelve of them made the bundled model's
    gradient three times slower.
    """
    v = list(values)
    for r in range(len(v)):
        for k in range(r % 2, len(v) - 1, 2):
            v[k], v[k + 1] = xp.maximum(v[k], v[k + 1]), xp.minimum(v[k], v[k + 1])
    return v


@dataclass(frozen=True)
class Cell:
    """One judged logit: ``logit P(event >= state | context) ~ Normal(mu, sigma)``.

    ``context`` gives the state of each of the event's influencing causes (a
    cause it does not name is at its first state); gates play no part (every
    judgement is made inside the gates). ``sigma = 0`` fixes the value.
    """

    event: int
    state: int
    context: Mapping[int, int]
    mu: float
    sigma: float
    name: str


class SingularJudgements(ValueError):
    """An event's judgements do not determine its parameters (their contexts repeat)."""

    def __init__(self, event: int, names: Sequence[str]) -> None:
        self.event = event
        self.names = tuple(names)
        super().__init__(f"event {event}: the judgements {', '.join(names)} do not determine "
                         "its parameters")


def reference_context(net: Network, event: int, anchor: str) -> dict[int, int]:
    """The context of a ``base`` judgement: causes at their first states, or as they were.

    ``"absent"``: every cause at its first state; ``"history"``: as it actually was.

    Raises
    ------
    ValueError
        For ``"history"``, naming a cause whose history is not known for certain.
    """
    context: dict[int, int] = {}
    judged = {p for term in net.terms[event] for p, _, _ in term}  # gates play no part
    for p in net.parents[event]:
        if anchor == "absent" or p not in judged:
            context[p] = 0
            continue
        record = net.history[p]
        if record is None or sorted(record)[-1] != 1.0 or sum(record) != 1.0:
            raise ValueError(f"the history of '{net.nodes[p]}' is not known for certain")
        context[p] = record.index(1.0)
    return context


@dataclass(frozen=True)
class ParameterPrior:
    """The judged logits' Normal prior, laid out flat, and their map to ``(a, b)``.

    ``mix`` holds the map as triplets ``(natural position, judged position,
    coefficient)``: ``natural[t] = sum coef * judged[s]``. ``ordered`` lists
    the events whose thresholds are sorted, with their number of thresholds.
    ``strengths`` are a prior set's judged strengths of soft PODs: ``(pod,
    event, mu, sigma)`` of the logit of P(event = yes), drawn per posterior
    draw (history does not inform them).
    """

    id: str  # the prior set's id (or a pool's)
    name: str  # its human-readable name
    n: int
    width: int  # K: terms per event (padded)
    mu: np.ndarray  # (N*T + N*K,)
    sigma: np.ndarray  # (N*T + N*K,), 0 where fixed
    free: np.ndarray  # int positions of sampled logits
    names: tuple[str, ...]  # a name per free position, e.g. "a[x]" / "g[x|c]"
    mix: tuple[np.ndarray, np.ndarray, np.ndarray]
    thresholds: int = 1  # T: thresholds per event (padded)
    cells: tuple[str, ...] = ()  # a name per position
    ordered: tuple[tuple[int, int], ...] = ()
    strengths: tuple[tuple[str, str, float, float], ...] = ()

    @property
    def mask(self) -> np.ndarray:
        """``(N, K)``: 1 where a term is real (version 1: a real cause)."""
        tgt = self.mix[0]
        used = np.zeros(self.n * self.thresholds + self.n * self.width)
        used[tgt] = 1.0
        return used[self.n * self.thresholds:].reshape(self.n, self.width)

    # ------------------------------------------------------------------ build

    @classmethod
    def from_logits(cls, id: str, name: str, order: tuple[str, ...],
                    parents: Mapping[str, tuple[str, ...]], *, mu_a: np.ndarray,
                    sd_a: np.ndarray, mu_g: np.ndarray, sd_g: np.ndarray,
                    mask: np.ndarray) -> ParameterPrior:
        """Version 1: ``a[x]`` judged with no cause, ``g[x|c]`` with ``c`` alone.

        ``mu_a, sd_a`` have shape ``(N,)``; ``mu_g, sd_g, mask`` shape
        ``(N, width)``, ``mask`` marking real causes (padding gets sd 0).
        The map is ``a = a``, ``b = g - a``.
        """
        n, width = mu_g.shape
        mu = np.concatenate([mu_a, mu_g.ravel()])
        sigma = np.concatenate([sd_a, (sd_g * mask).ravel()])
        free = np.flatnonzero(sigma > 0)
        names = cell_names(order, parents, width)
        tgt, src, coef = list(range(n)), list(range(n)), [1.0] * n
        for i, j in zip(*np.nonzero(mask), strict=True):
            slot = n + i * width + j
            tgt += [slot, slot]
            src += [slot, int(i)]
            coef += [1.0, -1.0]
        mix = (np.array(tgt), np.array(src), np.array(coef))
        return cls(id, name, n, width, mu, sigma, free, tuple(names[i] for i in free), mix,
                   1, tuple(names))

    @classmethod
    def from_cells(cls, id: str, name: str, net: Network, cells: Sequence[Cell], *,
                   strengths: Sequence[tuple[str, str, float, float]] = ()
                   ) -> ParameterPrior:
        """Lay out judged cells and solve each event's system for the map to ``(a, b)``.

        Each event needs ``states - 1`` cells first (they fill its threshold
        slots; usually its ``base`` judgements) and then one per term, in any
        contexts that determine the parameters.

        Raises
        ------
        SingularJudgements
            For the first event whose judgements do not determine its parameters.
        ValueError
            When an event has the wrong number of cells.
        """
        n, t_max, k_max = net.size, net.max_thresholds, net.max_parents
        size = n * t_max + n * k_max
        mu, sigma = np.zeros(size), np.zeros(size)
        names = [f"pad[{x}>={k + 1}]" for x in net.nodes for k in range(t_max)]
        names += [f"pad[{x}|{j}]" for x in net.nodes for j in range(k_max)]
        by_event: dict[int, list[Cell]] = {i: [] for i in range(n)}
        for c in cells:
            by_event[c.event].append(c)
        tgt: list[int] = []
        src: list[int] = []
        coef: list[float] = []
        ordered = []
        for i in range(n):
            m1, k = net.card(i) - 1, len(net.terms[i])
            own = by_event[i]
            if len(own) != m1 + k:
                raise ValueError(f"'{net.nodes[i]}' needs {m1 + k} judgements "
                                 f"({m1} thresholds, {k} terms), got {len(own)}")
            slots = [i * t_max + s for s in range(m1)] + [n * t_max + i * k_max + s
                                                         for s in range(k)]
            rows = np.zeros((m1 + k, m1 + k))
            for r, c in enumerate(own):
                rows[r, c.state - 1] = 1.0
                config = {p: c.context.get(p, 0) for p in net.parents[i]}
                rows[r, m1:] = net.activations(i, config)
                mu[slots[r]], sigma[slots[r]], names[slots[r]] = c.mu, c.sigma, c.name
            if m1 + k and np.linalg.matrix_rank(rows) < m1 + k:
                raise SingularJudgements(i, [c.name for c in own])
            inverse = np.linalg.inv(rows) if m1 + k else rows
            whole = np.round(inverse)
            inverse = np.where(np.abs(inverse - whole) < 1e-9, whole, inverse)
            for r, c_ in zip(*np.nonzero(inverse), strict=True):
                tgt.append(slots[r])
                src.append(slots[c_])
                coef.append(float(inverse[r, c_]))
            if m1 > 1:
                ordered.append((i, m1))
        free = np.flatnonzero(sigma > 0)
        mix = (np.array(tgt, dtype=int), np.array(src, dtype=int), np.array(coef))
        return cls(id, name, n, k_max, mu, sigma, free, tuple(names[j] for j in free), mix,
                   t_max, tuple(names), tuple(ordered), tuple(strengths))

    # ------------------------------------------------------------------- map

    def natural(self, flat: Any, xp: Any = np) -> tuple[Any, Any]:
        """Judged logits -> ``(a, b)``.

        ``flat`` has shape ``(S, P)`` in numpy, giving ``a (S, N, T)`` and
        ``b (S, N, K)``; or ``(P,)`` in PyTensor, giving ``a (N, T)``, ``b (N, K)``.
        """
        tgt, src, coef = self.mix
        n_a = self.n * self.thresholds
        if xp is np:
            flat = np.atleast_2d(flat)
            matrix = np.zeros((flat.shape[1], flat.shape[1]))
            np.add.at(matrix, (src, tgt), coef)
            out = flat @ matrix
            a = out[:, :n_a].reshape(-1, self.n, self.thresholds)
            for i, m1 in self.ordered:
                a[:, i, :m1] = -np.sort(-a[:, i, :m1], axis=-1)
            return a, out[:, n_a:].reshape(-1, self.n, self.width)
        out = xp.zeros_like(flat)
        out = xp.inc_subtensor(out[tgt], flat[src] * coef)
        a = out[:n_a].reshape((self.n, self.thresholds))
        for i, m1 in self.ordered:
            a = xp.set_subtensor(a[i, :m1], xp.stack(_descending([a[i, k] for k in range(m1)],
                                                                 xp)))
        return a, out[n_a:].reshape((self.n, self.width))

    def to_ab(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map standardised draws ``z`` (S, n_free) to ``a`` and ``b``.

        ``a`` is ``(S, N)`` when every event is yes/no (version 1's shape),
        else ``(S, N, T)``; ``b`` is ``(S, N, K)``.
        """
        z = np.atleast_2d(z)
        flat = np.broadcast_to(self.mu, (z.shape[0], self.mu.size)).copy()
        flat[:, self.free] += self.sigma[self.free] * z
        a, b = self.natural(flat)
        return (a[:, :, 0] if self.thresholds == 1 else a), b

    def strength_draws(self, draws: int, seed: Any) -> dict[str, dict[str, np.ndarray]]:
        """Each judged soft-POD strength, P(yes) drawn per posterior draw: pod -> event -> (S,)."""
        rng = np.random.default_rng(seed)
        out: dict[str, dict[str, np.ndarray]] = {}
        for pod, event, m, s in self.strengths:
            logit = m + s * rng.standard_normal(draws)
            out.setdefault(pod, {})[event] = 1.0 / (1.0 + np.exp(-logit))
        return out

    @property
    def structure(self) -> tuple[Any, ...]:
        """What a compiled model depends on besides the numbers in ``mu`` and ``sigma``."""
        return (self.width, self.thresholds, tuple(self.free.tolist()),
                tuple(self.mix[0].tolist()), tuple(self.mix[1].tolist()),
                tuple(self.mix[2].tolist()), self.ordered)
