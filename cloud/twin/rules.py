"""Pure rules over twin state: whether a room can serve a customer.

The one answer that the twin's room view, incident severity and the readiness check before a
visit all use. A room serves when its agent is online and each essential device (terminal,
document camera, network) reports ``ok`` or ``degraded``. The call button, occupancy sensor
and the like make a room ``degraded`` when they are not well, never unusable: the advisor
can still be fetched and the video meeting still runs.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

AGENT = "agent"
# without these a room cannot serve a customer at all
ESSENTIAL = frozenset({"terminal", "doccam", "network"})
SERVING_STATES = frozenset({"ok", "degraded"})  # degraded still serves a visit


def stops_service(device: str, state: str | None) -> bool:
    """Whether ``device`` in ``state`` keeps its room from serving a customer: an essential
    device that is not ``ok``/``degraded`` (down, or never reported)."""
    return device in ESSENTIAL and state not in SERVING_STATES


@dataclass(frozen=True)
class RoomReadiness:
    """The room's condition and, when it cannot serve, why (``"doccam missing"``...);
    ``notes`` name devices that are not well but do not stop the room."""

    condition: str  # unknown | offline | unusable | degraded | ready (| closed: the site's)
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def serves(self) -> bool:
        """Whether a customer can be served in the room now."""
        return self.condition in ("ready", "degraded")


def room_readiness(agent_online: bool | None, device_states: Mapping[str, str | None],
                   devices: Iterable[str]) -> RoomReadiness:
    """Judge a room from its agent's presence and its devices' states (``devices``: those the
    registry says the room has; a device missing from ``device_states`` never reported)."""
    problems, notes = [], []
    for device in devices:
        if device == AGENT:
            continue
        state = device_states.get(device)
        if stops_service(device, state):
            problems.append(f"{device} {state or 'unknown'}")
        elif state not in (None, "ok"):
            notes.append(f"{device} {state}")
    if agent_online is None:
        return RoomReadiness("unknown", ("agent unknown", *problems), tuple(notes))
    if not agent_online:
        return RoomReadiness("offline", ("agent offline", *problems), tuple(notes))
    if problems:
        return RoomReadiness("unusable", tuple(problems), tuple(notes))
    return RoomReadiness("degraded" if notes else "ready", (), tuple(notes))


def room_condition(agent_online: bool | None, device_states: dict[str, str | None]) -> str:
    """The room's condition alone, for the devices that have a state in ``device_states``."""
    return room_readiness(agent_online, device_states, device_states).condition
