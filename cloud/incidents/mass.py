"""A mass disconnect: many rooms' agents offline together is one platform fault, pure.

When a broker restarts, or the cloud's side of the network breaks, every room's Last Will
arrives at once. That is one fault of the platform, not thousands of room faults: like
Alertmanager's grouping and inhibition, the engine opens one platform incident for the
operator and holds the rooms' own conditions while it lasts. Rooms still offline ``settle``
after the others came back are room faults again and get their own incidents as usual.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

Room = tuple[str, str]  # site, room


@dataclass(frozen=True)
class MassPolicy:
    """How many rooms going offline within ``window`` make a mass disconnect: at least
    ``min_rooms`` and at least ``fraction`` of the fleet; how long the rooms that were part of
    it stay held after it ended (``settle``)."""

    window: timedelta = timedelta(minutes=2)
    min_rooms: int = 10
    fraction: float = 0.05
    settle: timedelta = timedelta(minutes=3)

    def threshold(self, fleet: int) -> int:
        """Rooms offline together that make a mass disconnect in a fleet of ``fleet`` rooms."""
        return max(self.min_rooms, math.ceil(self.fraction * fleet))


@dataclass
class MassDisconnect:
    """Whether a mass disconnect is on, and which rooms it holds."""

    policy: MassPolicy = field(default_factory=MassPolicy)
    since: datetime | None = None  # on since then
    ended_at: datetime | None = None  # the last one ended then
    rooms: set[Room] = field(default_factory=set)  # rooms it holds

    @property
    def active(self) -> bool:
        """Whether a mass disconnect is on now."""
        return self.since is not None

    def update(self, offline: Mapping[Room, datetime], fleet: int, now: datetime) -> None:
        """Take the rooms whose agent is offline now, each since when. It starts when
        ``threshold`` rooms went offline within ``window``; rooms going offline while it is on
        join it; it ends when fewer than ``threshold`` of its rooms are still offline."""
        threshold = self.policy.threshold(fleet)
        recent = {room for room, since in offline.items() if now - since <= self.policy.window}
        if not self.active:
            if len(recent) < threshold:
                self._forget_settled(now)
                return
            self.since, self.ended_at = now, None
        self.rooms |= recent
        if sum(room in offline for room in self.rooms) < threshold:
            self.since, self.ended_at = None, now

    def resume(self, offline: Mapping[Room, datetime], now: datetime) -> None:
        """A new leader found the platform incident open: the rooms offline now are its."""
        self.since, self.ended_at = self.since or now, None
        self.rooms |= set(offline)

    def holds(self, room: Room, now: datetime) -> bool:
        """Whether ``room``'s conditions wait: it is part of a mass disconnect that is on or
        ended less than ``settle`` ago."""
        return room in self.rooms and (
            self.active or (self.ended_at is not None
                            and now - self.ended_at < self.policy.settle))

    def _forget_settled(self, now: datetime) -> None:
        if self.ended_at is not None and now - self.ended_at >= self.policy.settle:
            self.rooms.clear()
            self.ended_at = None
