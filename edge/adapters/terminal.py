"""The customer terminal: touchscreen, camera and screen of the room."""
from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

from edge.adapters.base import OK, Adapter, Emit, Reading, SimAdapter


class SimTerminal(SimAdapter):
    """A simulated terminal."""

    device = "terminal"
    FAULTS: ClassVar[dict[str, Reading]] = {
        "touch_failure": Reading("fault", "touch_failure", "touchscreen not responding"),
        "camera_missing": Reading("missing", "camera_missing", "terminal camera not found"),
    }
    RESTART_CLEARS: ClassVar[frozenset[str]] = frozenset({"touch_failure"})

    def __init__(self, emit: Emit) -> None:
        super().__init__(emit)
        self._started = time.monotonic()

    def read_telemetry(self) -> dict[str, int | float]:
        return {"uptime_s": int(time.monotonic() - self._started),
                "touch_ok": 0 if self.has("touch_failure") else 1}


def input_devices(proc_root: Path = Path("/proc")) -> list[str]:
    """Names of the input devices the kernel lists in ``/proc/bus/input/devices``."""
    try:
        text = (proc_root / "bus/input/devices").read_text(errors="replace")
    except OSError:
        return []
    names = []
    for line in text.splitlines():
        if line.startswith("N: Name="):
            names.append(line[len("N: Name="):].strip().strip('"'))
    return names


class LinuxTerminal(Adapter):
    """The real terminal: the touchscreen is an input device whose name contains
    ``touch_name`` (default: ``touch``)."""

    device = "terminal"

    def __init__(self, emit: Emit, touch_name: str | None = None,
                 proc_root: Path = Path("/proc")) -> None:
        super().__init__(emit)
        self.touch_name = (touch_name or "touch").lower()
        self.proc_root = proc_root

    def _touchscreens(self) -> list[str]:
        return [n for n in input_devices(self.proc_root) if self.touch_name in n.lower()]

    def read_health(self) -> Reading:
        if self._touchscreens():
            return OK
        return Reading("missing", "touch_missing", f"no input device named *{self.touch_name}*")

    def read_telemetry(self) -> dict[str, int | float]:
        metrics: dict[str, int | float] = {"input_devices": len(input_devices(self.proc_root)),
                                           "touch_ok": 1 if self._touchscreens() else 0}
        try:
            uptime = (self.proc_root / "uptime").read_text().split()[0]
            metrics["uptime_s"] = int(float(uptime))
        except (OSError, ValueError, IndexError):
            pass
        return metrics
