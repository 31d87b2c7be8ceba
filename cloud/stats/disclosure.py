"""Complementary cell suppression, as statistical agencies do it: given the cells of a table,
the cells hidden because they are small, and the linear relations a reader knows hold between
cells (a line of cells adds up to a published total; a row's parts add up to its total),
hide further cells until no hidden cell can be worked out from the shown cells and the known
totals. Pure: no I/O, knows nothing of the families (``figures.suppress`` builds the table).

A hidden cell is worked out when the known relations fix its value: linearly (it is a pivot
of the relations' reduced row echelon form with no free cell in its row) or because the
hidden cells of a relation of positive terms add up to zero (all are zero, as counts and
minutes are never negative). The complement chosen is the smallest non-zero shown cell of a
relation of the exposed cell (a zero says little: the zero of a related count gives it away),
never a cell that a relation alone fixes.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

Cell = Hashable


@dataclass(frozen=True)
class Relation:
    """``sum(coefficient * cell) == constant``, with the constant known to a reader (a
    published total, or zero for a row's parts and its total) or not."""

    terms: tuple[tuple[Cell, int], ...]
    known: bool = True

    @property
    def cells(self) -> tuple[Cell, ...]:
        """The cells of the relation."""
        return tuple(c for c, _ in self.terms)


def protect(values: Mapping[Cell, float], primary: Iterable[Cell],
            relations: Iterable[Relation], *,
            follows: Mapping[Cell, Iterable[Cell]] | None = None) -> set[Cell]:
    """The cells to hide: the ``primary`` ones, the cells that ``follows`` a hidden cell (a
    count's minutes), and complements until no hidden cell is worked out (or, where no
    complement can help, as few as that allows). Each round gives one complement to every exposed
    cell whose relations hold none of the round's complements yet."""
    known = [r for r in relations if r.known]
    of_cell: dict[Cell, list[Relation]] = defaultdict(list)
    for relation in known:
        for cell in relation.cells:
            of_cell[cell].append(relation)
    hidden = _closure(set(primary), follows or {})
    stuck: set[Cell] = set()
    while True:
        _cover_lines(values, hidden, known, of_cell, follows or {}, stuck)
        exposed = sorted(exposed_cells(values, hidden, known, of_cell) - stuck, key=repr)
        if not exposed:
            return hidden
        touched: set[Cell] = set()
        for cell in exposed:
            near = {c for r in of_cell.get(cell, ()) for c in r.cells}
            if near & touched:
                continue  # a complement of this round may already cover it
            extra = _complement(cell, values, hidden, of_cell)
            if extra is None:
                stuck.add(cell)
                continue
            added = _closure({extra}, follows or {})
            hidden |= added
            touched |= added


def _cover_lines(values: Mapping[Cell, float], hidden: set[Cell], known: list[Relation],
                 of_cell: Mapping[Cell, list[Relation]],
                 follows: Mapping[Cell, Iterable[Cell]], stuck: set[Cell]) -> None:
    """Give every relation holding exactly one hidden cell a second one, the smallest shown
    cell of that relation (non-zero first), until none is left alone (or nothing can help):
    the quick part of ``protect``, one pass over a work list."""
    count = {id(r): sum(c in hidden for c in set(r.cells)) for r in known}
    queue = [r for r in known if count[id(r)] == 1]
    while queue:
        relation = queue.pop()
        if count[id(relation)] != 1:
            continue
        alone = next(c for c in relation.cells if c in hidden)
        shown = [c for c in relation.cells if c not in hidden]
        if not shown:
            stuck.add(alone)
            continue
        extra = min(shown, key=lambda c: (values[c] == 0, abs(values[c]), repr(c)))
        for cell in _closure({extra}, follows) - hidden:
            hidden.add(cell)
            for r in of_cell.get(cell, ()):
                count[id(r)] += 1
                if count[id(r)] == 1:
                    queue.append(r)


def _closure(cells: set[Cell], follows: Mapping[Cell, Iterable[Cell]]) -> set[Cell]:
    out, todo = set(), list(cells)
    while todo:
        cell = todo.pop()
        if cell not in out:
            out.add(cell)
            todo.extend(follows.get(cell, ()))
    return out


def _lonely(cell: Cell, of_cell: Mapping[Cell, list[Relation]]) -> bool:
    """Whether a known relation fixes ``cell`` alone (nothing can hide it)."""
    return any(len(r.terms) == 1 for r in of_cell.get(cell, ()))


def _complement(cell: Cell, values: Mapping[Cell, float], hidden: set[Cell],
                of_cell: Mapping[Cell, list[Relation]]) -> Cell | None:
    """The next smallest shown cell of a relation of ``cell``: non-zero ones first."""
    if _lonely(cell, of_cell):
        return None
    shown = {c for r in of_cell.get(cell, ()) for c in r.cells
             if c not in hidden and not _lonely(c, of_cell)}
    if not shown:
        return None
    return min(shown, key=lambda c: (values[c] == 0, abs(values[c]), repr(c)))


def exposed_cells(values: Mapping[Cell, float], hidden: set[Cell],
                  relations: Iterable[Relation],
                  of_cell: Mapping[Cell, list[Relation]] | None = None) -> set[Cell]:
    """The hidden cells a reader works out from the shown cells and the known relations
    (``of_cell``: the relations of each cell, when the caller has them at hand)."""
    if of_cell is None:
        touching = [r for r in relations if r.known and any(c in hidden for c in r.cells)]
    else:
        touching = list({id(r): r for c in hidden for r in of_cell.get(c, ())}.values())
    out: set[Cell] = set()
    for r in touching:
        unknown = [(c, k) for c, k in r.terms if c in hidden]
        if len({c for c, _ in unknown}) == 1:  # the one hidden cell of a relation
            out.add(unknown[0][0])
        elif (all(k > 0 for _, k in unknown) or all(k < 0 for _, k in unknown)) and \
                sum(k * values[c] for c, k in unknown) == 0:  # non-negative cells adding to 0
            out.update(c for c, _ in unknown)
    if out:
        return out  # cheap findings first: the elimination runs once they are covered
    for group in _components(touching, hidden):
        if len({c for row in group for c in row}) <= EXACT_UP_TO:
            out |= _determined(group)
    return out


def _components(relations: list[Relation], hidden: set[Cell]) -> list[list[dict]]:
    """The relations restricted to hidden cells, in groups that share no hidden cell."""
    parent: dict[Cell, Cell] = {}

    def root(c: Cell) -> Cell:
        while parent.setdefault(c, c) != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c
    rows = []
    for r in relations:
        row: dict[Cell, int] = defaultdict(int)
        for c, k in r.terms:
            if c in hidden:
                row[c] += k
        row = {c: k for c, k in row.items() if k}
        if row:
            first = next(iter(row))
            for c in row:
                parent[root(c)] = root(first)
            rows.append(row)
    groups: dict[Cell, list[dict]] = defaultdict(list)
    for row in rows:
        groups[root(next(iter(row)))].append(row)
    return list(groups.values())


EXACT_UP_TO = 300  # hidden cells of one group solved exactly; a larger group: by its lines
PRIME = 2**61 - 1  # elimination modulo a large prime: exact over the rationals but by chance


def _determined(rows: list[dict]) -> set[Cell]:
    """The cells whose value the rows fix: reduced row echelon form (sparse, modulo
    ``PRIME``); a pivot whose reduced row holds no other cell is fixed."""
    pivots: dict[Cell, dict[Cell, int]] = {}
    for raw in rows:
        row = {c: k % PRIME for c, k in raw.items() if k % PRIME}
        for cell, pivot_row in pivots.items():
            if cell in row:
                row = _eliminate(row, pivot_row, row[cell])
        if not row:
            continue
        lead = min(row, key=repr)
        inverse = pow(row[lead], PRIME - 2, PRIME)
        row = {c: k * inverse % PRIME for c, k in row.items()}
        for cell, pivot_row in list(pivots.items()):
            if lead in pivot_row:
                pivots[cell] = _eliminate(pivot_row, row, pivot_row[lead])
        pivots[lead] = row
    return {cell for cell, row in pivots.items() if len(row) == 1}


def _eliminate(row: dict, pivot_row: dict, factor: int) -> dict:
    """``row - factor * pivot_row`` modulo ``PRIME``, zeros dropped."""
    out = dict(row)
    for c, k in pivot_row.items():
        value = (out.get(c, 0) - factor * k) % PRIME
        if value:
            out[c] = value
        else:
            out.pop(c, None)
    return out
