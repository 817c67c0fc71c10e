"""Graph checks on a scenario: acyclicity, time order, ancestry.

Uses the standard library's :mod:`graphlib` rather than networkx: the checks
need only a topological sort with the cycle reported, and importing networkx
alone costs a third of a second, most of the start-up budget of
``plausibly check``.
"""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["ancestors", "descendants", "find_cycle", "topological_order"]


def find_cycle(parents: Mapping[str, Iterable[str]]) -> list[str] | None:
    """Return one directed cycle as ``[a, b, ..., a]``, or ``None`` if acyclic."""
    sorter = graphlib.TopologicalSorter({k: list(v) for k, v in parents.items()})
    try:
        sorter.prepare()
    except graphlib.CycleError as err:
        # graphlib lists each node before the one that depends on it: cause-first
        return list(err.args[1])
    return None


def topological_order(parents: Mapping[str, Sequence[str]],
                      key: Mapping[str, tuple[int, str]]) -> list[str]:
    """Kahn's algorithm taking, among ready nodes, the smallest ``key`` first.

    With ``key = (year, id)`` this lists events in time order whenever the
    graph allows it, deterministically. The graph must be acyclic.
    """
    waiting = {node: len(ps) for node, ps in parents.items()}
    children: dict[str, list[str]] = {node: [] for node in parents}
    for node, ps in parents.items():
        for p in ps:
            children[p].append(node)
    ready = [(key[n], n) for n, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, node = heapq.heappop(ready)
        order.append(node)
        for child in children[node]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, (key[child], child))
    return order


def descendants(children: Mapping[str, Sequence[str]], start: Iterable[str]) -> set[str]:
    """All nodes reachable from ``start`` (the start nodes excluded unless reached)."""
    seen: set[str] = set()
    stack = [c for s in start for c in children[s]]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(children[node])
    return seen


def ancestors(parents: Mapping[str, Sequence[str]], start: Iterable[str]) -> set[str]:
    """All nodes from which ``start`` can be reached (start excluded unless reached)."""
    return descendants(parents, start)
