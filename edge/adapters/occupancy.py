"""The occupancy sensor that tells whether the room is in use."""
from __future__ import annotations

from edge.adapters.base import Adapter, Emit, Reading, SimAdapter


class SimOccupancy(SimAdapter):
    """A simulated occupancy sensor: ``occupied`` and ``vacant`` change the room and send
    an event when the state changes."""

    device = "occupancy"

    def __init__(self, emit: Emit) -> None:
        super().__init__(emit)
        self.occupied = False

    def read_telemetry(self) -> dict[str, int | float]:
        return {"occupied": int(self.occupied)}

    def _set(self, occupied: bool) -> str:
        word = "occupied" if occupied else "vacant"
        if self.occupied == occupied:
            return f"already {word}"
        self.occupied = occupied
        self.emit({"type": "occupancy", "occupied": occupied})
        return f"room {word}"

    def action_occupied(self) -> str:
        """Someone entered the room."""
        return self._set(True)

    def action_vacant(self) -> str:
        """The room emptied."""
        return self._set(False)


class ExternalOccupancy(Adapter):
    """A real occupancy sensor speaks MQTT itself (see ``firmware_py``)."""

    device = "occupancy"

    def read_health(self) -> Reading | None:
        return None
