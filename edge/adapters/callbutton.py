"""The service advisor's wireless call button, pressed by the customer."""
from __future__ import annotations

from typing import ClassVar

from edge.adapters.base import Adapter, Reading, SimAdapter


class SimCallButton(SimAdapter):
    """A simulated call button: ``press`` and ``cancel`` send events; ``battery_low`` degrades."""

    device = "callbutton"
    FAULTS: ClassVar[dict[str, Reading]] = {"battery_low": Reading("degraded", "battery_low", "battery below 2.4 V")}

    def read_telemetry(self) -> dict[str, int | float]:
        return {"battery_v": 2.3 if self.has("battery_low") else 2.95, "rssi_dbm": -67}

    def action_press(self) -> str:
        """The customer presses the button."""
        self.emit({"type": "button_press"})
        return "button pressed"

    def action_cancel(self) -> str:
        """A long press cancels the call."""
        self.emit({"type": "button_cancel"})
        return "call cancelled"


class ExternalCallButton(Adapter):
    """A real call button speaks MQTT itself (see ``firmware_py``): the agent reports nothing
    for it, so it never masks the device's own health."""

    device = "callbutton"

    def read_health(self) -> Reading | None:
        return None
