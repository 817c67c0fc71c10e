"""A scenario as integer indices: the structure every exact query and the likelihood share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from plausibly.models.scenario import Scenario

__all__ = ["BATCH", "Network"]


BATCH = 0  # einsum index of the draw axis


@dataclass(frozen=True)
class Network:
    """A scenario's structure as integer indices, in topological order.

    Parameters
    ----------
    nodes : tuple of str
        Event ids in topological order; index ``i`` below refers to this order.
    parents : tuple of tuple of int
        ``parents[i]`` are the indices of the causes of event ``i``, in the
        order of the columns of ``b[:, i, :]``.
    history : tuple
        What happened: 1.0/0.0, a probability (virtual evidence) or ``None``.
    outcome : int
        Index of the outcome event.
    name : str
        The scenario id, for messages.
    data : tuple
        Reference-class rows ``(event, parent values, successes, trials,
        at_most)``: binomial evidence on ``P(event | parents)``, P(K = k), or
        P(K <= k) when ``at_most`` (the count is only an upper bound).
    """

    nodes: tuple[str, ...]
    parents: tuple[tuple[int, ...], ...]
    history: tuple[float | None, ...]
    outcome: int
    name: str = "scenario"
    data: tuple[tuple[int, tuple[float, ...], int, int, bool], ...] = ()
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({n: i for i, n in enumerate(self.nodes)})

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Network:
        """Index a validated scenario (nodes in its time order)."""
        index = {n: i for i, n in enumerate(scenario.order)}
        return cls(
            nodes=scenario.order,
            parents=tuple(tuple(index[p] for p in scenario.parents[n]) for n in scenario.order),
            history=tuple(n.history for n in scenario.nodes),
            outcome=index[scenario.outcome],
            name=scenario.id,
            data=tuple(
                (index[r.node], tuple(float(r.given[p]) for p in scenario.parents[r.node]),
                 r.successes, r.trials, r.at_most)
                for r in scenario.data),
        )

    @property
    def size(self) -> int:
        """Number of events."""
        return len(self.nodes)

    @property
    def max_parents(self) -> int:
        """Largest in-degree (at least 1, the width of ``b``'s last axis)."""
        return max([len(p) for p in self.parents] + [1])

    def index(self, node: str | int) -> int:
        """Position of a node given by id or index."""
        return node if isinstance(node, int) else self._index[node]

    def downstream(self, sources: Sequence[int]) -> set[int]:
        """Events an intervention on ``sources`` can change, the sources included."""
        reach = set(sources)
        for i in range(self.size):  # topological order: one pass suffices
            if any(p in reach for p in self.parents[i]):
                reach.add(i)
        return reach

    def with_history(self, history: Sequence[float | None]) -> Network:
        """The same structure with other evidence (a new object)."""
        return Network(self.nodes, self.parents, tuple(history), self.outcome, self.name,
                       self.data)
