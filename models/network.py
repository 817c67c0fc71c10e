"""A scenario as integer indices: the structure every exact query and the likelihood share.

Every event ``i`` has ``card(i)`` ordered states (2 for a yes/no event: no < yes).
Its causes (``parents[i]``) act in two ways:

* **gates** (``requires`` edges): while a gate's cause is below its ``at_least``
  state, the event is at its first state with certainty;
* **terms**: the linear predictor of the ordered logit,
  ``logit P(X >= s_k | c) = a_k + sum_t b_t * active_t(c)``. A term is a tuple
  of conditions ``(parent, low, high)``, active when every named parent's state
  lies in ``[low, high]``: one term ``((j, s, s),)`` per non-first state ``s`` of
  an influencing cause ``j`` (for a yes/no cause that is just ``c_j``, version
  1's ``b_j c_j``), and one term per interaction, each cause at least its state.

A version 1 network (yes/no events, every edge an influence) is built with the
first six arguments alone, exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plausibly.models.scenario import Scenario

__all__ = ["BATCH", "YES_NO", "Condition", "Network", "Term"]


BATCH = 0  # einsum index of the draw axis
YES_NO = ("no", "yes")

#: ``(parent event index, lowest state, highest state)``: true when the parent's
#: state lies in the range
Condition = tuple[int, int, int]
#: a term of the linear predictor: active when all its conditions hold
Term = tuple[Condition, ...]

#: a history entry: ``None`` (unknown), or weights over the event's states
#: (one-hot when known for certain; a likelihood vector for a disputed record)
Record = tuple[float, ...] | None


def _record(h: Any, card: int) -> Record:
    """Normalise a history entry: a version 1 float P(yes), or weights over states."""
    if h is None:
        return None
    if isinstance(h, (int, float)) and not isinstance(h, bool):
        if card != 2:
            raise ValueError(f"a probability as history needs a yes/no event, not {card} states")
        return (1.0 - float(h), float(h))
    weights = tuple(float(w) for w in h)
    if len(weights) != card:
        raise ValueError(f"history weights {weights} do not match {card} states")
    return weights


@dataclass(frozen=True)
class Network:
    """A scenario's structure as integer indices, in topological order.

    Parameters
    ----------
    nodes : tuple of str
        Event ids in topological order; index ``i`` below refers to this order.
    parents : tuple of tuple of int
        ``parents[i]``: every cause of event ``i`` (influences and gates).
    history : tuple
        What happened, per event: ``None`` (unknown), a version 1 probability of
        "yes" (1.0/0.0 for a known yes/no event), or weights over the states.
        Stored as weights (see :attr:`records`).
    outcome : int
        Index of the headline outcome event.
    name : str
        The scenario id, for messages.
    data : tuple
        Reference-class rows ``(event, term activations, successes, trials,
        at_most)``: binomial evidence on ``P(event = yes | terms)`` inside the
        event's gates; P(K = k), or P(K <= k) when ``at_most``.
    states : tuple of tuple of str, optional
        State names per event; yes/no for every event by default.
    terms : tuple of tuple of Term, optional
        The linear predictor's terms per event; by default one per parent
        (version 1: every parent a yes/no influence).
    gates : tuple of tuple of (int, int), optional
        ``(parent, at_least)`` per event; none by default.
    outcomes : tuple of (int, int), optional
        ``(event, at_least state)`` per outcome, the headline first; by default
        ``((outcome, 1),)``: the outcome event is "yes".
    """

    nodes: tuple[str, ...]
    parents: tuple[tuple[int, ...], ...]
    history: tuple[Any, ...]
    outcome: int
    name: str = "scenario"
    data: tuple[tuple[int, tuple[float, ...], int, int, bool], ...] = ()
    states: tuple[tuple[str, ...], ...] = ()
    terms: tuple[tuple[Term, ...], ...] = ()
    gates: tuple[tuple[tuple[int, int], ...], ...] = ()
    outcomes: tuple[tuple[int, int], ...] = ()
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.nodes)
        if not self.states:
            object.__setattr__(self, "states", (YES_NO,) * n)
        if not self.terms:
            object.__setattr__(self, "terms", tuple(
                tuple(((p, 1, 1),) for p in ps) for ps in self.parents))
        if not self.gates:
            object.__setattr__(self, "gates", ((),) * n)
        if not self.outcomes:
            object.__setattr__(self, "outcomes", ((self.outcome, 1),))
        object.__setattr__(self, "history", tuple(
            _record(h, len(s)) for h, s in zip(self.history, self.states, strict=True)))
        self._index.update({name: i for i, name in enumerate(self.nodes)})

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Network:
        """Index a validated scenario (nodes in its time order)."""
        index = {n: i for i, n in enumerate(scenario.order)}
        states = tuple(scenario.node(x).states for x in scenario.order)
        pos = {x: {s: k for k, s in enumerate(st)} for x, st in zip(scenario.order, states,
                                                                     strict=True)}
        terms: list[tuple[Term, ...]] = []
        for x in scenario.order:
            own: list[Term] = []
            for c in scenario.influences[x]:
                top = len(pos[c]) - 1
                own.extend(((index[c], s, s),) for s in range(1, top + 1))
            for inter in scenario.interactions_of(x):
                own.append(tuple((index[c], pos[c][s], len(pos[c]) - 1)
                                 for c, s in inter.causes.items()))
            terms.append(tuple(own))
        gates = tuple(tuple((index[c], pos[c][s]) for c, s in scenario.gates[x])
                      for x in scenario.order)
        outcomes = tuple((index[o.event], pos[o.event][o.at_least]) for o in scenario.outcomes)
        net = cls(
            nodes=scenario.order,
            parents=tuple(tuple(index[p] for p in scenario.parents[x]) for x in scenario.order),
            history=tuple(scenario.node(x).record for x in scenario.order),
            outcome=outcomes[0][0],
            name=scenario.id,
            states=states,
            terms=tuple(terms),
            gates=gates,
            outcomes=outcomes,
        )
        rows = []
        for r in scenario.data:
            i = index[r.node]
            config = {index[c]: (pos[c][v] if isinstance(v, str) else int(v))
                      for c, v in r.given.items()}
            rows.append((i, tuple(float(x) for x in net.activations(i, config)),
                         r.successes, r.trials, r.at_most))
        return net.with_data(tuple(rows))

    # ------------------------------------------------------------------ shape

    @property
    def size(self) -> int:
        """Number of events."""
        return len(self.nodes)

    def card(self, i: int) -> int:
        """Number of states of event ``i``."""
        return len(self.states[i])

    @property
    def cards(self) -> tuple[int, ...]:
        """Number of states of every event."""
        return tuple(len(s) for s in self.states)

    @property
    def max_parents(self) -> int:
        """Largest number of terms (at least 1): the width of ``b``'s last axis."""
        return max([len(t) for t in self.terms] + [1])

    @property
    def max_thresholds(self) -> int:
        """Largest number of thresholds (states - 1): the width of ``a``'s last axis."""
        return max(self.cards) - 1 if self.nodes else 1

    @property
    def binary(self) -> bool:
        """Whether this is a version 1 network: yes/no events, plain influences."""
        return (all(c == 2 for c in self.cards) and not any(self.gates)
                and all(t == tuple(((p, 1, 1),) for p in ps)
                        for t, ps in zip(self.terms, self.parents, strict=True)))

    def index(self, node: str | int) -> int:
        """Position of a node given by id or index."""
        return node if isinstance(node, int) else self._index[node]

    def state_index(self, node: str | int, state: str | int) -> int:
        """Position of a state of an event, given by name or index."""
        i = self.index(node)
        return state if isinstance(state, int) else self.states[i].index(state)

    def outcome_name(self, k: int) -> str:
        """``EVENT`` for a yes/no outcome, ``EVENT>=STATE`` otherwise (as in the outputs)."""
        event, least = self.outcomes[k]
        if self.card(event) == 2 and least == 1 and self.states[event] == YES_NO:
            return self.nodes[event]
        return f"{self.nodes[event]}>={self.states[event][least]}"

    # ------------------------------------------------------------- mechanism

    def activations(self, i: int, config: Mapping[int, int]) -> list[int]:
        """Which of event ``i``'s terms are active for parent states ``config``."""
        return [int(all(lo <= config[p] <= hi for p, lo, hi in term)) for term in self.terms[i]]

    def gate_open(self, i: int, config: Mapping[int, int]) -> bool:
        """Whether every gate of event ``i`` is open for parent states ``config``."""
        return all(config[p] >= least for p, least in self.gates[i])

    def downstream(self, sources: Sequence[int]) -> set[int]:
        """Events an intervention on ``sources`` can change, the sources included."""
        reach = set(sources)
        for i in range(self.size):  # topological order: one pass suffices
            if any(p in reach for p in self.parents[i]):
                reach.add(i)
        return reach

    def do_weights(self, node: str | int, value: Any) -> Any:
        """A POD's setting of one event as weights over its states.

        ``value`` is a probability of "yes" (a yes/no event; 1.0/0.0 or
        true/false for a hard setting), a state name, a mapping of state names
        to weights, or weights over the states (a sequence, or an array of
        shape ``(S, states)`` for a strength drawn per posterior draw).
        Weights that are not given are 0; they must sum to 1.
        """
        import numpy as np

        i = self.index(node)
        m = self.card(i)
        if isinstance(value, str):
            w = np.zeros(m)
            w[self.state_index(i, value)] = 1.0
            return w
        if isinstance(value, Mapping):
            w = np.zeros(m)
            for s, v in value.items():
                w[self.state_index(i, s)] = float(v)
            return w
        if isinstance(value, (bool, int, float, np.floating)) and np.ndim(value) == 0:
            if m != 2:
                raise ValueError(f"a probability as a POD needs a yes/no event; "
                                 f"'{self.nodes[i]}' has {m} states")
            p = float(value)
            return np.array([1.0 - p, p])
        w = np.asarray(value, dtype=float)
        if w.shape[-1] != m:
            raise ValueError(f"POD weights of shape {w.shape} for '{self.nodes[i]}' "
                             f"with {m} states")
        return w

    # ------------------------------------------------------------ variations

    def with_history(self, history: Sequence[Any]) -> Network:
        """The same structure with other evidence (a new object)."""
        return Network(self.nodes, self.parents, tuple(history), self.outcome, self.name,
                       self.data, self.states, self.terms, self.gates, self.outcomes)

    def with_data(self, data: tuple[tuple[int, tuple[float, ...], int, int, bool], ...]
                  ) -> Network:
        """The same structure and history with other reference-class rows."""
        return Network(self.nodes, self.parents, self.history, self.outcome, self.name,
                       data, self.states, self.terms, self.gates, self.outcomes)
