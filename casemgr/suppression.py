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
- Complementary suppression: a breakdown crossed with the school, with its margins (the
  school totals, the breakdown's totals and the grand total), is a bipartite graph: the
  schools and the breakdown's values (and one extra node for the margins of each side)
  are the nodes, each cell an edge, and every node's cells sum to its margin. A hidden
  value can move only round a cycle of hidden cells, each of which has room to move the
  opposite way within what a reader knows of it (a hidden group holds at least one
  student and at least as many as any measure counts of it; a numerator lies between 0
  and the group's size, or within its coded range, and within what the measures nested
  in it or around it allow).
  Every crossed table has the same school totals and grand total: a move of those must
  be made in every table at once. So a hidden cell of one table must move round a cycle
  of that table's own hidden cells, or on a move of two hidden shared margins (two
  schools, or a school and the total) that every table can complete with its own hidden
  cells. Wherever a hidden value cannot move, the shown cells that let it move at the
  least cost (the smallest groups) are hidden too, until every hidden value can move.
- One protection for all that is published of a period: the measures about the same
  students (the same denominator) share their group sizes, so their sizes are protected
  once, together; each measure's numerators are protected with what the others tell of
  them. A period protected again (the district changed its minimum n) hides at least
  what it hid before, so that the two together show no more than the first.

The same decisions serve the page, the chart, the CSV and the workbook.
"""
from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

Key = tuple[tuple[str, Hashable], ...]
Node = tuple[str, Hashable]
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


def protect(cells: Mapping[Key, Cell], minimum_n: int, outer: str = "school",
            hidden_before: Iterable[Key] = ()) -> dict[Key, Figure]:
    """The figures that may be published of one measure's cube: `cells` maps () to the
    total, ((dim, value),) to a breakdown's cell, and ((outer, o), (dim, value)) to a cell
    of the breakdown crossed with the outer dimension (the school)."""
    return protect_all({None: cells}, minimum_n, outer, hidden_before={None: hidden_before})[None]


def protect_all(cubes: Mapping[Hashable, Mapping[Key, Cell]], minimum_n: int, outer: str = "school",
                family: Mapping[Hashable, Hashable] | None = None,
                nested: Iterable[tuple[Hashable, Hashable]] = (),
                exclusive: Iterable[tuple[Hashable, ...]] = (),
                hidden_before: Mapping[Hashable, Iterable[Key]] | None = None) -> dict[Hashable, dict[Key, Figure]]:
    """The figures that may be published of several measures' cubes of one period, all
    with the same keys, protected together: measures of the same `family` count the same
    students in each group; each (a, b) of `nested` says a's students are among b's, each
    tuple of `exclusive` that its measures count no student twice. `hidden_before` holds
    the keys each measure hid when the period was protected before."""
    cubes = {m: dict(sorted(((_normal(key, outer), cell) for key, cell in cells.items()), key=lambda kc: repr(kc[0])))
             for m, cells in cubes.items()}
    family = {m: (family or {}).get(m, m) for m in cubes}
    before = hidden_before or {}
    hidden = {m: {key for key, cell in cells.items() if 0 < cell.n < minimum_n}
              | {key for key in (_normal(k, outer) for k in before.get(m, ())) if cells.get(key, Cell(0)).n > 0}
              for m, cells in cubes.items()}
    layers = _layers(cubes, family, tuple(nested), tuple(exclusive), outer)
    changed = True
    while changed:
        changed = False
        for layer in layers:
            more = layer.complement(hidden)
            for m in layer.members:
                if not more <= hidden[m]:
                    hidden[m] |= more
                    changed = True
    return {m: {key: _figure(cell, key in hidden[m]) for key, cell in cells.items()} for m, cells in cubes.items()}


def _figure(cell: Cell, hidden: bool) -> Figure:
    if hidden:
        return Figure(n=None)
    how = coded(cell)
    if how:
        return Figure(n=cell.n, coded=how, bound=coding_bound(cell.n) if how == "at_most" else 100 - coding_bound(cell.n))
    return Figure(n=cell.n, k=cell.k)


def _normal(key: Iterable[tuple[str, Hashable]], outer: str) -> Key:
    return tuple(sorted(key, key=lambda pair: (pair[0] != outer, pair[0])))


_SIZES = object()  # the bounds of a layer of group sizes

# what a reader knows bounds one value of a measure in each group: {key: (value, (low,
# high) when the cell is hidden, (low, high) when its rate is shown coded)}; high None: none
Bounds = dict[Key, tuple[int, tuple[int, int | None], tuple[int, int | None]]]


def _layers(cubes: dict, family: dict, nested: tuple, exclusive: tuple, outer: str) -> list[_Layer]:
    """The group sizes of each family of measures; each measure's numerators, bounded by
    what the measures nested in it or around it and those it shares no student with
    count; and for each nested pair, their numerators moved together (the students of
    the outer measure not in the inner one stay as they are)."""
    def counts(m) -> bool:
        return any(cell.k is not None for cell in cubes[m].values())

    layers: list[_Layer] = []
    families: dict[Hashable, list] = defaultdict(list)
    for m in cubes:
        families[family[m]].append(m)
    for members in families.values():
        sizes = cubes[members[0]]
        counting = [m for m in members if counts(m)]
        together = [group for group in exclusive if set(group) <= set(counting)]
        # a group holds at least one student, and at least all that any measure counts of it
        fewest = {key: max([1, *(cubes[m][key].k for m in counting),
                            *(sum(cubes[m][key].k for m in group) for group in together)]) for key in sizes}
        bounds = {key: (cell.n, (fewest[key], None), (fewest[key], None)) for key, cell in sizes.items()}
        layers.append(_Layer("n", members, {_SIZES: bounds}, sizes, outer))

    def numerators(m, apart=()) -> Bounds:
        around = [b for a, b in nested if a == m and b in cubes and b not in apart]
        within = [a for a, b in nested if b == m and a in cubes and a not in apart]
        beside = [[o for o in group if o != m] for group in exclusive if m in group and set(group) <= cubes.keys()]
        bounds = {}
        for key, cell in cubes[m].items():
            low = max([0, *(cubes[a][key].k for a in within)])
            high = min([cell.n, *(cubes[b][key].k for b in around),
                        *(cell.n - sum(cubes[o][key].k for o in others) for others in beside)])
            code_low, code_high = k_bounds(cell) if coded(cell) else (low, high)
            bounds[key] = (cell.k, (low, high), (max(low, code_low), min(high, code_high)))
        return bounds

    own = {}
    for m, cells in cubes.items():
        if counts(m):
            own[m] = _Layer("k", [m], {m: numerators(m)}, cells, outer, {m: _coded(cells)})
            layers.append(own[m])
    for a, b in nested:
        if a in own and b in own:
            layers.append(_Layer("k", [a, b], {a: numerators(a, apart=(b,)), b: numerators(b, apart=(a,))},
                                 cubes[b], outer, {a: _coded(cubes[a]), b: _coded(cubes[b])},
                                 stuck_in=[own[a], own[b]]))
    return layers


def _coded(cells: Mapping[Key, Cell]) -> set[Key]:
    return {key for key, cell in cells.items() if coded(cell)}


class _Layer:
    """One layer of values of a period's cubes (the group sizes of a family of measures,
    one measure's numerators, or two nested measures' numerators moved together): a graph
    per breakdown crossed with the outer dimension, and the margins they all share.

    In a crossed table the row nodes are the outer values and STAR, the column nodes the
    breakdown's values and STAR, and each cell an edge: (o, v) from row o to column v, the
    breakdown's total of v from row STAR to column v, the outer total of o from row o to
    column STAR, the grand total from row STAR to column STAR. With y = x for the inner
    cells and the grand total and y = -x for the margins, every node's y sum to zero, so a
    move is a cycle: a cell whose y may rise is an arc row -> column, one whose y may fall
    an arc column -> row. The edges at column STAR (the outer totals and the grand total)
    are the same cells in every table: the graphs leave them out, and a move of them is a
    pair, one rising (u_p -> STAR) and one falling (STAR -> u_q), that every table
    completes with a path u_q -> ... -> u_p of its own hidden cells.

    A layer of two nested measures looks only at the cells their own layers cannot move
    at all (`stuck_in`): an inner count as large as the outer one, say."""

    def __init__(self, part: str, members: list, bounds: dict[Hashable, Bounds], sizes: Mapping[Key, Cell],
                 outer: str, coded_keys: dict[Hashable, set[Key]] | None = None, stuck_in: list[_Layer] = ()):
        self.part, self.members, self.bounds = part, members, bounds
        self.coded, self.stuck_in = coded_keys or {}, stuck_in
        self.weight = {key: cell.n for key, cell in sizes.items()}  # the smallest groups are hidden first
        self.shared: dict[Key, Node] = {}  # the margins at column STAR, by their row node
        for key in sizes:
            if key == ():
                self.shared[key] = ("r", STAR)
            elif len(key) == 1 and key[0][0] == outer:
                self.shared[key] = ("r", key[0][1])
        dims = sorted({dim for key in sizes for dim, _ in key if dim != outer})
        self.tables = [{key: ends for key in sizes if (ends := _ends(key, outer, dim))} for dim in dims]

    def unknown(self, hidden: dict[Hashable, set[Key]]) -> set[Key]:
        """The values of this layer no figure shows exactly."""
        if self.part == "n":
            return set.intersection(*(hidden[m] for m in self.members))
        return set.intersection(*(hidden[m] | self.coded[m] for m in self.members))

    def rooms_of(self, hidden: dict[Hashable, set[Key]], plain: bool = False) -> dict[Key, tuple[bool, bool]]:
        """Whether each cell's y may rise, may fall by one, within what a reader knows of it
        (`plain`: were it hidden)."""
        rooms = {}
        for key in self.weight:
            x_up = x_down = True
            for m, bounds in self.bounds.items():
                value, hidden_range, coded_range = bounds[key]
                low, high = (coded_range if not plain and key in self.coded.get(m, ()) and key not in hidden[m]
                             else hidden_range)
                x_up, x_down = x_up and (high is None or value < high), x_down and value > low
            rooms[key] = (x_down, x_up) if len(key) == 1 else (x_up, x_down)
        return rooms

    def complement(self, hidden_by: dict[Hashable, set[Key]]) -> set[Key]:
        """Cells to hide (in every member measure) so that every value of the layer no
        figure shows can move; empty when none is needed."""
        hidden = self.unknown(hidden_by)
        self.rooms = self.rooms_of(hidden_by)
        if self.stuck_in:
            stuck = set().union(*({key for key, room in layer.rooms_of(hidden_by).items() if room == (False, False)}
                                  for layer in self.stuck_in))
        else:
            stuck = {key for key, room in self.rooms.items() if room != (False, False)}
        graphs = [_Graph(edges, self.rooms, self.weight, hidden) for edges in self.tables]
        added: set[Key] = set()

        def hide(keys: set[Key]) -> None:
            added.update(keys)
            for key in sorted(keys - hidden, key=repr):
                hidden.add(key)
                for graph in graphs:
                    graph.hide(key)

        for key in [key for key in self.shared if key in hidden and key in stuck]:
            if not self._margin_moves(key, graphs, hidden):
                hide(self._freeing_margin(key, graphs, hidden) or self._widening(key, hidden_by))
        pairs = self._pairs(graphs, hidden)
        for graph in graphs:
            for key in sorted((key for key in graph.edges if key in hidden and key in stuck), key=repr):
                if not self._cell_moves(key, graph, pairs):
                    hide(self._freeing_cell(key, graph, hidden) or self._widening(key, hidden_by))
        return added

    def _widening(self, key: Key, hidden_by: dict[Hashable, set[Key]]) -> set[Key]:
        """A coded rate that nothing shown can free is hidden whole: its count may then be
        anything from 0 to the group's size."""
        coded_shown = any(key in self.coded.get(m, ()) and key not in hidden_by[m] for m in self.members)
        return {key} if coded_shown and self.rooms_of(hidden_by, plain=True)[key] != (False, False) else set()

    def _completes(self, graphs: list[_Graph], source: Node, target: Node) -> bool:
        return all(target in graph.reach(source) for graph in graphs)

    def _pairs(self, graphs: list[_Graph], hidden: set[Key]) -> list[tuple[Key, Key]]:
        """The moves of two hidden shared margins that every table completes."""
        margins = [key for key in self.shared if key in hidden]
        return [(p, q) for p in margins if self.rooms[p][0] for q in margins
                if q != p and self.rooms[q][1] and self._completes(graphs, self.shared[q], self.shared[p])]

    def _margin_moves(self, key: Key, graphs: list[_Graph], hidden: set[Key]) -> bool:
        rise, fall = self.rooms[key]
        others = [other for other in self.shared if other in hidden and other != key]
        return (rise and any(self.rooms[q][1] and self._completes(graphs, self.shared[q], self.shared[key])
                             for q in others)
                or fall and any(self.rooms[p][0] and self._completes(graphs, self.shared[key], self.shared[p])
                                for p in others))

    def _cell_moves(self, key: Key, graph: _Graph, pairs: list[tuple[Key, Key]]) -> bool:
        """Whether a hidden cell of one table can move: round a cycle of the table's hidden
        cells, or on a path that completes a move of two shared margins."""
        for a, b in graph.moves(key):
            ahead = graph.reach(b, skip=key)
            if a in ahead:
                return True
            if pairs:
                behind = graph.reach(a, skip=key, back=True)
                if any(self.shared[p] in ahead and self.shared[q] in behind for p, q in pairs):
                    return True
        return False

    def _freeing_cell(self, key: Key, graph: _Graph, hidden: set[Key]) -> set[Key]:
        """The shown cells whose hiding lets a pinned cell move at the least cost: a cycle
        of the table's cells where there is one, else a path between two shared margins
        (hidden with it)."""
        best: tuple | None = None
        for a, b in graph.moves(key):
            ahead = graph.cheapest(b, skip=key)
            if a in ahead[0]:
                best = min(best or (float("inf"),), (ahead[0][a], repr(a), graph.path(ahead, a)))
        if best is not None:
            return best[2]
        for a, b in graph.moves(key):
            ahead, behind = graph.cheapest(b, skip=key), graph.cheapest(a, skip=key, back=True)
            for p, p_node in self.shared.items():
                for q, q_node in self.shared.items():
                    if p == q or not self.rooms[p][0] or not self.rooms[q][1]:
                        continue
                    if p_node in ahead[0] and q_node in behind[0]:
                        cost = (ahead[0][p_node] + behind[0][q_node]
                                + sum(self._cost(m, hidden) for m in (p, q)))
                        keys = graph.path(ahead, p_node) | graph.path(behind, q_node) | {p, q}
                        best = min(best or (float("inf"),), (cost, repr((p, q)), keys))
        return best[2] - hidden if best else set()

    def _freeing_margin(self, key: Key, graphs: list[_Graph], hidden: set[Key]) -> set[Key]:
        """A partner margin and, in every table, the path that completes their move, at the
        least cost."""
        rise, fall = self.rooms[key]
        best: tuple | None = None
        for other in self.shared:
            if other == key:
                continue
            for p, q in ((key, other), (other, key)):
                if not (self.rooms[p][0] and self.rooms[q][1] and (rise if p == key else fall)):
                    continue
                cost, keys = self._cost(other, hidden), {other}
                for graph in graphs:
                    found = graph.cheapest(self.shared[q])
                    if self.shared[p] not in found[0]:
                        break
                    cost += found[0][self.shared[p]]
                    keys |= graph.path(found, self.shared[p])
                else:
                    best = min(best or (float("inf"),), (cost, repr((p, q)), keys))
        return best[2] - hidden if best else set()

    def _cost(self, key: Key, hidden: set[Key]) -> int:
        return 0 if key in hidden else _Graph.cost(self.weight[key])


def _ends(key: Key, outer: str, dim: str) -> tuple[Node, Node] | None:
    """The cell's edge in the table of `dim` crossed with `outer`, if it is one of its own."""
    if len(key) == 2 and key[0][0] == outer and key[1][0] == dim:
        return ("r", key[0][1]), ("c", key[1][1])
    if len(key) == 1 and key[0][0] == dim:
        return ("r", STAR), ("c", key[0][1])
    return None


class _Graph:
    """The cells of one crossed table but the shared margins, with the moves each may make:
    the hidden cells' (`arcs`), and every cell's with a cost, for finding which to hide."""

    def __init__(self, edges: dict[Key, tuple[Node, Node]], rooms: dict, weight: dict, hidden: set[Key]):
        self.edges, self.rooms, self.weight = edges, rooms, weight
        self.arcs: dict[Node, dict[Node, Key]] = defaultdict(dict)
        self.back: dict[Node, dict[Node, Key]] = defaultdict(dict)
        self.every: dict[Node, list[tuple[Node, Key]]] = defaultdict(list)  # moves of every non-empty cell
        self.every_back: dict[Node, list[tuple[Node, Key]]] = defaultdict(list)
        self.hidden = set()
        self._reached: dict[tuple, set] = {}
        for key in edges:
            if weight[key] > 0:
                for a, b in self.moves(key):
                    self.every[a].append((b, key))
                    self.every_back[b].append((a, key))
            if key in hidden:
                self.hide(key)

    def moves(self, key: Key) -> list[tuple[Node, Node]]:
        u, v = self.edges[key]
        rise, fall = self.rooms[key]
        return [arc for arc, can in (((u, v), rise), ((v, u), fall)) if can]

    def hide(self, key: Key) -> None:
        if key not in self.edges or key in self.hidden:
            return
        self.hidden.add(key)
        self._reached.clear()
        for a, b in self.moves(key):
            self.arcs[a][b] = key
            self.back[b][a] = key

    def reach(self, start: Node, skip: Key | None = None, back: bool = False) -> set[Node]:
        """The nodes the hidden cells' moves lead to from `start` (to `start`, `back`),
        without `skip`'s."""
        memo = (start, skip, back)
        if memo in self._reached:
            return self._reached[memo]
        adjacent = self.back if back else self.arcs
        seen, todo = {start}, [start]
        while todo:
            for nxt, key in adjacent[todo.pop()].items():
                if key != skip and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        if skip is None:
            self._reached[memo] = seen
        return seen

    @staticmethod
    def cost(weight: int) -> int:
        return weight * 1000 + 1  # the smallest groups first; of equal sums, the fewest cells

    def cheapest(self, start: Node, skip: Key | None = None, back: bool = False) -> tuple[dict, dict]:
        """The least cost of reaching each node from `start` (or `start` from it, `back`)
        by moves of cells, a hidden cell's free and a shown one's by its size, and the
        cell each is reached by."""
        adjacent = self.every_back if back else self.every
        cost, via, done = {start: 0}, {}, set()
        heap, order = [(0, 0, start)], 1
        while heap:
            spent, _, node = heapq.heappop(heap)
            if node in done:
                continue
            done.add(node)
            for nxt, key in adjacent[node]:
                if key == skip:
                    continue
                total = spent + (0 if key in self.hidden else self.cost(self.weight[key]))
                if total < cost.get(nxt, total + 1):
                    cost[nxt], via[nxt] = total, (node, key)
                    heapq.heappush(heap, (total, order, nxt))
                    order += 1
        return cost, via

    def path(self, found: tuple[dict, dict], end: Node) -> set[Key]:
        """The shown cells on the cheapest way to `end`."""
        _, via = found
        keys = set()
        while end in via:
            end, key = via[end]
            if key not in self.hidden:
                keys.add(key)
        return keys
