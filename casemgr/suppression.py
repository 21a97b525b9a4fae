"""Small cells (SPEC §6, NCES 2011-603): which figures about groups of students may be
published, so that no figure about fewer than the district's minimum n students can be
read or worked out from what is published.

The figures of one measure in one school year form a cube: the total, each breakdown
(school, grade, gender, ...) and each breakdown crossed with the school. Every page,
chart and file of that measure and year publishes a part of the same protected cube, so
that nothing combined across them recovers a hidden figure. Each cell has a group size
`n` (the denominator) and, for a rate, the number `k` of the group's students it counts.

- Primary suppression: a group of 1 to minimum n - 1 students is hidden (n, k and the
  rate). An empty group is shown as empty: it tells nothing about a student.
- Top and bottom coding: a rate of a shown group near 0% or 100% is shown as "≤ b%" or
  "≥ (100 - b)%" with its count hidden, where b is the smallest of 1, 2, 5, 10, 20 and
  50% that is at least one student of the group (groups of 10-19 students: 10%, 20-49:
  5%, 50-99: 2%, 100 or more: 1%), so that the range always holds at least two possible
  counts: "0% of 12 students" and "100% of 12 students" are disclosures, "≤ 10%" is not.
- Complementary suppression: a school-by-breakdown table with its margins (the school
  totals, the breakdown's totals and the grand total) is a bipartite graph: rows and
  columns (and one extra node for the margins of each side) are the nodes, each cell an
  edge, and every node's cells sum to its margin. A hidden value can move only round a
  cycle of hidden cells, each of which has room to move the opposite way within what a
  reader knows of it (a hidden group holds at least one student and at least as many as
  its numerator; a numerator lies between 0 and the group's size, or within its coded
  range). Wherever a hidden value has no such cycle, the smallest shown cell that gives
  it one is hidden too; this is repeated for the group sizes and for the numerators
  (hidden where the rate is hidden or coded) in every table until each hidden value can
  move.

The same decisions serve the page, the chart, the CSV and the workbook.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

Key = tuple[tuple[str, Hashable], ...]
STAR = "*"
CODING_STEPS = (1, 2, 5, 10, 20, 50)  # percent


@dataclass(frozen=True)
class Cell:
    n: int
    k: int | None = None  # None for a count of students alone


@dataclass(frozen=True)
class Figure:
    """What may be published of a cell: all of it, the group size with a coded rate, or
    nothing (`suppressed`)."""

    n: int | None
    k: int | None = None
    coded: str | None = None  # "at_most" or "at_least"
    bound: int | None = None  # the coded rate's bound, in percent

    @property
    def suppressed(self) -> bool:
        return self.n is None

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.k, self.n) if self.k is not None and self.n else None


def coding_bound(n: int) -> int:
    """The coding step for a group of n students: the smallest step of at least 1/n."""
    return next((step for step in CODING_STEPS if step * n >= 100), CODING_STEPS[-1])


def coded(cell: Cell) -> str | None:
    if cell.k is None or cell.n == 0:
        return None
    bound = coding_bound(cell.n)
    if 100 * cell.k <= bound * cell.n:
        return "at_most"
    if 100 * (cell.n - cell.k) <= bound * cell.n:
        return "at_least"
    return None


def k_bounds(cell: Cell) -> tuple[int, int]:
    """What a reader knows of a coded numerator: the counts the coded range allows."""
    bound = coding_bound(cell.n)
    if coded(cell) == "at_most":
        return 0, bound * cell.n // 100
    return cell.n - bound * cell.n // 100, cell.n


def protect(cells: Mapping[Key, Cell], minimum_n: int, outer: str = "school") -> dict[Key, Figure]:
    """The figures that may be published of a cube: `cells` maps () to the total,
    ((dim, value),) to a breakdown's cell, and ((outer, o), (dim, value)) to a cell of the
    breakdown crossed with the outer dimension (the school)."""
    cells = {_normal(key, outer): cell for key, cell in cells.items()}
    hidden = {key for key, cell in cells.items() if 0 < cell.n < minimum_n}
    tables = _tables(cells, outer)
    while True:
        hidden_k = hidden | {key for key, cell in cells.items() if coded(cell)}
        more = set()
        for table in tables:
            more |= table.complement(cells, hidden, layer="n")
            if more:
                break
            more |= table.complement(cells, hidden_k, layer="k")
            if more:
                break
        if not more:
            break
        hidden |= more
    return {key: _figure(cell, key in hidden) for key, cell in cells.items()}


def _figure(cell: Cell, hidden: bool) -> Figure:
    if hidden:
        return Figure(n=None)
    how = coded(cell)
    if how:
        return Figure(n=cell.n, coded=how, bound=coding_bound(cell.n) if how == "at_most" else 100 - coding_bound(cell.n))
    return Figure(n=cell.n, k=cell.k)


def _normal(key: Iterable[tuple[str, Hashable]], outer: str) -> Key:
    return tuple(sorted(key, key=lambda pair: (pair[0] != outer, pair[0])))


def _tables(cells: Mapping[Key, Cell], outer: str) -> list[_Table]:
    dims = sorted({dim for key in cells for dim, _ in key if dim != outer})
    return [_Table(outer, dim, cells) for dim in dims]


class _Table:
    """One breakdown crossed with the outer dimension, with its margins, as a bipartite
    graph: row nodes (outer values and STAR), column nodes (breakdown values and STAR),
    one edge per cell."""

    def __init__(self, outer: str, dim: str, cells: Mapping[Key, Cell]):
        self.edges: dict[Key, tuple[tuple[str, Hashable], tuple[str, Hashable]]] = {}
        self.rooms: dict[tuple[Key, str], tuple[bool, bool]] = {}  # what each cell's value may do
        rows = {v for key in cells for d, v in key if d == outer}
        columns = {v for key in cells for d, v in key if d == dim}
        for r in rows:
            self._add(cells, ((outer, r),), ("r", r), ("c", STAR))
            for c in columns:
                self._add(cells, ((outer, r), (dim, c)), ("r", r), ("c", c))
        for c in columns:
            self._add(cells, ((dim, c),), ("r", STAR), ("c", c))
        self._add(cells, (), ("r", STAR), ("c", STAR))

    def _add(self, cells, key, u, v):
        if key in cells:
            self.edges[key] = (u, v)

    def complement(self, cells: Mapping[Key, Cell], hidden: set[Key], layer: str) -> set[Key]:
        """Cells to hide so that no hidden figure of this table can be worked out from
        the shown ones; empty when none is needed."""
        mine = [key for key in self.edges if key in hidden and (layer == "n" or cells[key].k is not None)]
        arcs, back = defaultdict(set), defaultdict(set)
        for key in mine:
            self._arcs_of(cells, key, layer, arcs, back, add=True)
        added: set[Key] = set()
        checked = 0
        while checked < len(mine):
            key = mine[checked]
            checked += 1
            self._arcs_of(cells, key, layer, arcs, back, add=False)  # the others' arcs
            if self._pinned(cells, key, arcs, layer):
                more = self._freeing(cells, key, arcs, back, hidden | added, layer)
                if more:
                    added |= more
                    for other in sorted(more, key=repr):  # checked in turn: hiding more frees, never pins
                        mine.append(other)
                        self._arcs_of(cells, other, layer, arcs, back, add=True)
                    checked -= 1  # and this one again, in case the cell only widened the search
            self._arcs_of(cells, key, layer, arcs, back, add=True)
        return added

    def _pinned(self, cells, key: Key, arcs: dict, layer: str) -> bool:
        """Whether a hidden value can move neither up nor down, given the arcs of the other
        hidden cells: moving it means moving the others round a cycle of hidden cells,
        each within what a reader knows of it.

        With y = x for the inner cells and the grand total and y = -x for the margins,
        every node's y sum to zero, so a move is a cycle: a cell whose y may rise is an
        arc row -> column, one whose y may fall an arc column -> row, and the cell (u, v)
        can rise when v reaches u, fall when u reaches v."""
        u, v = self.edges[key]
        up, down = self._room(cells, key, layer)
        return not (up and u in self._reach(arcs, v) or down and v in self._reach(arcs, u))

    def _arcs_of(self, cells, key: Key, layer: str, arcs: dict, back: dict, add: bool) -> None:
        """Adds (or takes away) a hidden cell's arcs, and the same arcs reversed. A table
        has one cell per row and column, so an arc is one cell's."""
        u, v = self.edges[key]
        up, down = self._room(cells, key, layer)
        for condition, a, b in ((up, u, v), (down, v, u)):
            if condition:
                if add:
                    arcs[a].add(b)
                    back[b].add(a)
                else:
                    arcs[a].discard(b)
                    back[b].discard(a)

    def _room(self, cells, key: Key, layer: str) -> tuple[bool, bool]:
        """Whether the cell's y may rise and may fall by one student."""
        known = self.rooms.get((key, layer))
        if known is not None:
            return known
        cell = cells[key]
        if layer == "n":
            low, high, value = max(1, cell.k or 0), None, cell.n
        else:
            (low, high), value = (k_bounds(cell) if coded(cell) else (0, cell.n)), cell.k
        x_up, x_down = high is None or value < high, value > low
        inner = len(key) != 1  # an inner cell or the grand total
        room = self.rooms[(key, layer)] = (x_up, x_down) if inner else (x_down, x_up)
        return room

    def _freeing(self, cells, key: Key, arcs: dict, back: dict, all_hidden: set[Key], layer: str) -> set[Key]:
        """The smallest shown cell whose hiding lets the pinned cell move; else the
        smallest shown cell next to it, to widen the search on the next round.

        The pinned cell (u, v) has no path v -> u (to rise) nor u -> v (to fall), so a
        cell (a, b) frees it when its one new arc completes one: a -> b with v reaching a
        and b reaching u, say. Four reaches answer that for every candidate at once."""
        shown = sorted((k for k in self.edges if k not in all_hidden and cells[k].n > 0),
                       key=lambda k: (cells[k].n, repr(k)))
        u, v = self.edges[key]
        up, down = self._room(cells, key, layer)
        from_v, from_u = self._reach(arcs, v), self._reach(arcs, u)
        to_u, to_v = self._reach(back, u), self._reach(back, v)

        def completes(a, b) -> bool:  # the arc a -> b closes a cycle through the pinned cell
            return (up and a in from_v and b in to_u) or (down and a in from_u and b in to_v)

        for candidate in shown:
            a, b = self.edges[candidate]
            c_up, c_down = self._room(cells, candidate, layer)
            if (c_up and completes(a, b)) or (c_down and completes(b, a)):
                return {candidate}
        ends = set(self.edges[key])
        touching = [k for k in shown if set(self.edges[k]) & ends]
        return set((touching or shown)[:1])

    @staticmethod
    def _reach(adjacent, start) -> set:
        seen, todo = {start}, [start]
        while todo:
            for nxt in adjacent[todo.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen


