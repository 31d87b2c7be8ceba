"""Pure rules over twin state: whether a room can serve."""
from __future__ import annotations

# without these a room cannot serve a customer at all
ESSENTIAL = frozenset({"terminal", "doccam", "network"})
DOWN_STATES = frozenset({"fault", "missing"})


def room_condition(agent_online: bool | None, device_states: dict[str, str | None]) -> str:
    """``offline`` (agent gone), ``unusable`` (an essential device down), ``degraded``
    (anything else not ok), ``ready``, or ``unknown`` (never heard from)."""
    if agent_online is None:
        return "unknown"
    if not agent_online:
        return "offline"
    if any(device_states.get(d) in DOWN_STATES for d in ESSENTIAL):
        return "unusable"
    if any(state not in (None, "ok") for state in device_states.values()):
        return "degraded"
    return "ready"
