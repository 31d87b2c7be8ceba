"""The incident lifecycle and the monthly SLA report, pure.

open -> notified -> acknowledged -> resolved -> closed; a resolved incident whose condition
returns within the reopen window goes back to open.
"""
from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

STATES = ("open", "notified", "acknowledged", "resolved", "closed")
ACTIVE_STATES = ("open", "notified", "acknowledged")
_MOVES = {
    "notify": ({"open"}, "notified"),
    "acknowledge": ({"open", "notified"}, "acknowledged"),
    "resolve": ({"open", "notified", "acknowledged"}, "resolved"),
    "reopen": ({"resolved"}, "open"),
    "close": ({"resolved"}, "closed"),
}
ACTIONS = tuple(_MOVES)


class InvalidTransition(ValueError):
    """An action that the incident's state does not allow."""


def next_state(state: str, action: str) -> str:
    """The state after ``action``; raise ``InvalidTransition`` when not allowed."""
    allowed, target = _MOVES[action]
    if state not in allowed:
        raise InvalidTransition(f"cannot {action} an incident that is {state}")
    return target


@dataclass(frozen=True)
class Handled:
    """One incident as the SLA report sees it: clock times from the start of the clock."""

    party: str
    to_acknowledge: timedelta | None
    to_resolve: timedelta | None
    breached: bool


@dataclass(frozen=True)
class PartyReport:
    """A party's month: how many, how fast (median, p90, in minutes), how many breaches."""

    party: str
    incidents: int
    acknowledge_median_min: float | None
    acknowledge_p90_min: float | None
    resolve_median_min: float | None
    resolve_p90_min: float | None
    breaches: int


def sla_report(handled: Iterable[Handled]) -> list[PartyReport]:
    """Per-party figures of the month, parties in name order."""
    by_party: dict[str, list[Handled]] = {}
    for item in handled:
        by_party.setdefault(item.party, []).append(item)
    return [_party_report(party, items) for party, items in sorted(by_party.items())]


def _party_report(party: str, items: list[Handled]) -> PartyReport:
    acks = [i.to_acknowledge.total_seconds() / 60 for i in items if i.to_acknowledge is not None]
    fixes = [i.to_resolve.total_seconds() / 60 for i in items if i.to_resolve is not None]
    return PartyReport(party, len(items), _median(acks), percentile(acks, 90), _median(fixes),
                       percentile(fixes, 90), sum(i.breached for i in items))


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def percentile(values: list[float], p: float) -> float | None:
    """The ``p``-th percentile by the nearest-rank method (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return round(ordered[int(rank) - 1], 1)
