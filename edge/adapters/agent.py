"""The agent itself, as a device: its CPU, memory, disk and temperature."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from edge.adapters.base import OK, Adapter, Emit, Reading, SimAdapter

DISK_LOW_MB = 500
HOT_C = 85.0


class SimAgentSelf(SimAdapter):
    """Simulated resources: ``disk_low`` and ``overheat`` degrade the agent."""

    device = "agent"
    FAULTS: ClassVar[dict[str, Reading]] = {
        "disk_low": Reading("degraded", "disk_low", f"under {DISK_LOW_MB} MB free"),
        "overheat": Reading("degraded", "overheat", f"over {HOT_C:.0f} C"),
    }

    def read_telemetry(self) -> dict[str, int | float]:
        return {"cpu_pct": 5.0, "mem_pct": 30.0,
                "disk_free_mb": 100 if self.has("disk_low") else 20480,
                "temp_c": 90.0 if self.has("overheat") else 45.0}


def max_temperature_c(sys_root: Path = Path("/sys")) -> float | None:
    """The hottest thermal zone in degrees Celsius, or None when the machine shows none."""
    temps = []
    for zone in (sys_root / "class/thermal").glob("thermal_zone*"):
        try:
            temps.append(int((zone / "temp").read_text().strip()) / 1000)
        except (OSError, ValueError):
            continue
    return max(temps) if temps else None


class LinuxAgentSelf(Adapter):
    """The real machine, read through psutil and ``/sys/class/thermal``; ``disk_path`` is the
    filesystem holding the outbox."""

    device = "agent"

    def __init__(self, emit: Emit, disk_path: Path = Path("/"),
                 sys_root: Path = Path("/sys")) -> None:
        super().__init__(emit)
        import psutil  # the edge extra brings it; imported here so sim-only use needs none

        self._psutil = psutil
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # the first call only starts the measurement
        self.disk_path = disk_path
        self.sys_root = sys_root

    def read_health(self) -> Reading:
        free_mb = self._psutil.disk_usage(str(self.disk_path)).free // 2**20
        if free_mb < DISK_LOW_MB:
            return Reading("degraded", "disk_low", f"{free_mb} MB free")
        temp = max_temperature_c(self.sys_root)
        if temp is not None and temp > HOT_C:
            return Reading("degraded", "overheat", f"{temp:.0f} C")
        return OK

    def read_telemetry(self) -> dict[str, int | float]:
        metrics: dict[str, int | float] = {
            "cpu_pct": round(self._process.cpu_percent(None), 1),
            "mem_pct": round(self._psutil.virtual_memory().percent, 1),
            "rss_mb": round(self._process.memory_info().rss / 2**20, 1),
            "disk_free_mb": self._psutil.disk_usage(str(self.disk_path)).free // 2**20,
        }
        temp = max_temperature_c(self.sys_root)
        if temp is not None:
            metrics["temp_c"] = round(temp, 1)
        return metrics
