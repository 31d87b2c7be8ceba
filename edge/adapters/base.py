"""What every device adapter offers the agent, and the simulated backend they share.

An adapter reads one device: ``read_health()`` gives its current state, ``read_telemetry()``
its numbers, ``restart()`` tries to bring it back. Discrete facts (a button press, the room
becoming occupied) are pushed to the agent through the ``emit`` callback given at creation.
Adapters do no MQTT and no storage; the agent turns their readings into messages.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

# (device, event data) -> None; the agent stores the event and sends it.
Emit = Callable[[str, dict], None]


class AdapterError(RuntimeError):
    """A device operation that failed or is not possible; the text goes into the command's ack."""


@dataclass(frozen=True, slots=True)
class Reading:
    """A device's health: ``state`` is ok/degraded/fault/missing; ``code`` names the fault."""

    state: str
    code: str | None = None
    detail: str | None = None


OK = Reading("ok")


class Adapter:
    """One device of the room. Subclasses set ``device`` and override the readers."""

    device: str = ""
    simulated: bool = False

    def __init__(self, emit: Emit) -> None:
        self._emit = emit

    def read_health(self) -> Reading | None:
        """The device's current state, or None when the device reports its own health."""
        return OK

    def read_telemetry(self) -> dict[str, int | float]:
        """Current numbers of the device (may be empty)."""
        return {}

    def restart(self) -> str:
        """Restart the device; return a short detail or raise ``AdapterError``."""
        raise AdapterError(f"{self.device} cannot be restarted by the agent")

    def inject(self, fault: str) -> str:
        """Inject a fault or action (simulated backends only)."""
        raise AdapterError(f"{self.device} is not simulated; faults cannot be injected")

    def emit(self, data: dict) -> None:
        """Push an event of this device to the agent."""
        self._emit(self.device, data)


class SimAdapter(Adapter):
    """A simulated device whose faults are set by ``inject`` and removed by ``clear``.

    ``FAULTS`` maps a fault name to the health it causes; ``RESTART_CLEARS`` are the faults a
    restart repairs (a frozen camera) as opposed to those it cannot (an unplugged cable).
    Subclasses add actions (a button press) by defining ``action_<name>`` methods.
    """

    simulated = True
    FAULTS: ClassVar[dict[str, Reading]] = {}
    RESTART_CLEARS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, emit: Emit) -> None:
        super().__init__(emit)
        self._lock = threading.Lock()
        self.faults: set[str] = set()
        self.restarts = 0

    @classmethod
    def choices(cls) -> list[str]:
        """Every fault and action this device accepts, plus ``clear``."""
        actions = [name[len("action_"):] for name in dir(cls) if name.startswith("action_")]
        return sorted([*cls.FAULTS, *actions, "clear"])

    def read_health(self) -> Reading:
        with self._lock:
            active = [name for name in self.FAULTS if name in self.faults]
        if not active:
            return OK
        # the worst active fault wins: missing > fault > degraded
        rank = {"missing": 3, "fault": 2, "degraded": 1}
        return max((self.FAULTS[name] for name in active), key=lambda r: rank[r.state])

    def restart(self) -> str:
        with self._lock:
            self.restarts += 1
            repaired = self.faults & self.RESTART_CLEARS
            self.faults -= repaired
            left = sorted(self.faults)
        if left:
            raise AdapterError(f"restarted, still {', '.join(left)}")
        return f"restarted{'; repaired ' + ', '.join(sorted(repaired)) if repaired else ''}"

    def inject(self, fault: str) -> str:
        if fault == "clear":
            with self._lock:
                self.faults.clear()
            return "cleared"
        if fault in self.FAULTS:
            with self._lock:
                self.faults.add(fault)
            return f"{fault} injected"
        action = getattr(self, f"action_{fault}", None)
        if action is None:
            raise AdapterError(f"unknown fault {fault!r} for {self.device}; "
                               f"one of {', '.join(self.choices())}")
        return action()

    def has(self, fault: str) -> bool:
        """Whether the fault is active."""
        with self._lock:
            return fault in self.faults
