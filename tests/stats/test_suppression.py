"""Complementary suppression: a hidden small count cannot be worked out by subtraction from
the cells shown and the totals a reader may ask for, neither by counts nor by minutes."""
from __future__ import annotations

from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.stats.figures import FAMILIES, hidden_cells, small, suppress

SITE_TOTAL_COMPLETED = 9
ROOM_REALISED_MIN = 275.0  # Kela's 180 and Vero's 95


def visit_row(authority: str, completed: int, minutes: float) -> dict:
    """A visits row of Porvoo for one authority: every visit completed and realised."""
    row = dict.fromkeys(FAMILIES["visits"].fields, 0)
    row.update(period="2026-11", site="porvoo", authority=authority, visits=completed,
               booked=completed, completed=completed, realised_count=completed,
               realised_min=minutes, booked_min=30.0 * completed,
               realised_avg_min=minutes / completed if completed else None)
    return row


def test_the_coordinators_site_view_cannot_give_veros_small_count_by_subtraction():
    # on main: the site showed completed 9 (asked by site), and by authority Kela 6, DVV 0,
    # so the hidden Vero was 9 - 6 - 0 = 3; the room's realised minutes (utilisation, shown
    # unsuppressed) minus Kela's and DVV's gave Vero's
    rows = suppress("visits", [visit_row("kela", 6, 180.0), visit_row("dvv", 0, 0.0),
                               visit_row("vero", 3, 95.0)])
    by = {r["authority"]: r for r in rows}
    shown_completed = [r["completed"] for r in rows if r["completed"] is not None]
    shown_minutes = [r["realised_min"] for r in rows if r["realised_min"] is not None]
    assert by["vero"]["completed"] is None and by["vero"]["realised_min"] is None
    assert SITE_TOTAL_COMPLETED - sum(shown_completed) != 3
    assert ROOM_REALISED_MIN - sum(shown_minutes) != 95.0
    # the complement is Kela, the next smallest non-zero cell (DVV's zero would be given
    # away by its zero visits), and what rests on it goes with it; DVV stays shown
    assert by["kela"]["completed"] is None and by["kela"]["realised_min"] is None
    assert {"realised_avg_min", "realised_count", "booked_min"} <= set(by["kela"]["suppressed"])
    assert by["dvv"]["completed"] == 0 and by["dvv"]["suppressed"] == []


def test_a_row_whose_parts_add_up_hides_a_second_part():
    row = visit_row("kela", 0, 0.0)
    row.update(visits=12, booked=9, walk_ins=3, completed=12, realised_count=12,
               realised_min=360.0, booked_min=360.0)
    (out,) = suppress("visits", [row])
    assert out["walk_ins"] is None and out["booked"] is None and out["visits"] == 12


def test_a_table_without_small_counts_is_shown_whole():
    rows = [visit_row("kela", 6, 180.0), visit_row("dvv", 7, 200.0)]
    assert all(r["suppressed"] == [] for r in suppress("visits", rows))


# --- no hidden cell can be recovered: a reader's search ------------------------------------

def table(grid: list[list[int]]) -> list[dict]:
    """A changes table of sites x actions holding ``grid``."""
    return [{"period": "2026-11", "site": f"s{i}", "action": f"a{j}", "count": value}
            for i, line in enumerate(grid) for j, value in enumerate(line)]


def known_totals(rows: list[dict], hidden: set[tuple]) -> list[tuple[list[int], int]]:
    """The totals a reader reads from coarser questions (each site's, each action's, the
    whole table's) that the suppression left shown: (the cells it adds up, its value)."""
    out = []
    for kept in (("period", "site"), ("period", "action"), ("period",)):
        members: dict = {}
        for i, r in enumerate(rows):
            members.setdefault(tuple(r[k] for k in kept), []).append(i)
        for idx in members.values():
            if (frozenset(idx), "count") not in hidden:
                out.append((idx, sum(rows[i]["count"] for i in idx)))
    return out


def recoverable(rows: list[dict], shown: list[dict], totals) -> set[int]:
    """The hidden cells whose value every assignment agreeing with the shown cells and the
    known totals gives alike: searched over steps of -1, 0, 1 from the true table (the
    lines' relations are totally unimodular, so a cell that can change can change by one)."""
    hidden = [i for i, r in enumerate(shown) if r["count"] is None]
    movable: set[int] = set()
    for steps in product((-1, 0, 1), repeat=len(hidden)):
        if not any(steps):
            continue
        change = dict(zip(hidden, steps))
        if any(rows[i]["count"] + d < 0 for i, d in change.items()):
            continue
        if all(sum(change.get(i, 0) for i in idx) == 0 for idx, _ in totals):
            movable |= {i for i, d in change.items() if d}
    return set(hidden) - movable


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 3).flatmap(lambda n: st.lists(
    st.lists(st.integers(0, 9), min_size=n, max_size=n), min_size=2, max_size=3)))
def test_no_hidden_cell_can_be_recovered_from_the_shown_cells_and_the_totals(grid):
    rows = table(grid)
    shown = suppress("changes", rows)
    totals = known_totals(rows, hidden_cells("changes", rows))
    assert all(r["count"] is None for r, o in zip(shown, rows) if small(o["count"]))
    assert all(small(total) is False for _, total in totals)
    assert recoverable(rows, shown, totals) == set(), (grid, [r["count"] for r in shown])


def test_the_reader_search_finds_the_subtraction_of_a_lone_hidden_cell():
    rows = table([[6, 0, 3], [5, 5, 5]])
    naive = [{**r, "count": None if small(r["count"]) else r["count"]} for r in rows]
    totals = known_totals(rows, set())
    assert recoverable(rows, naive, totals) == {2}
