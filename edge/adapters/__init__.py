"""Device adapters, one module per device type, each with a simulated and a Linux backend."""
from __future__ import annotations

from pathlib import Path

from edge.adapters.agent import LinuxAgentSelf, SimAgentSelf
from edge.adapters.base import OK, Adapter, AdapterError, Emit, Reading, SimAdapter
from edge.adapters.callbutton import ExternalCallButton, SimCallButton
from edge.adapters.doccam import LinuxDocCam, SimDocCam
from edge.adapters.network import LinuxNetwork, SimNetwork
from edge.adapters.occupancy import ExternalOccupancy, SimOccupancy
from edge.adapters.terminal import LinuxTerminal, SimTerminal
from edge.config import AgentConfig

SIMULATED = {cls.device: cls for cls in (SimTerminal, SimDocCam, SimCallButton, SimOccupancy,
                                          SimNetwork, SimAgentSelf)}

__all__ = [
    "OK",
    "SIMULATED",
    "Adapter",
    "AdapterError",
    "Emit",
    "Reading",
    "SimAdapter",
    "make_adapters",
]


def make_adapters(config: AgentConfig, emit: Emit) -> dict[str, Adapter]:
    """One adapter per configured device, keyed by device type."""
    adapters: dict[str, Adapter] = {}
    for device in config.devices:
        if device.backend == "sim":
            adapters[device.type] = SIMULATED[device.type](emit)
        else:
            adapters[device.type] = _linux(device, config, emit)
    return adapters


def _linux(device, config: AgentConfig, emit: Emit) -> Adapter:
    match device.type:
        case "terminal":
            return LinuxTerminal(emit, device.touch_name)
        case "doccam":
            return LinuxDocCam(emit, device.video_name)
        case "network":
            return LinuxNetwork(emit, config.broker.host, config.broker.port,
                                device.degraded_rtt_ms)
        case "agent":
            return LinuxAgentSelf(emit, Path(config.outbox.path).resolve().parent)
        case "callbutton":
            return ExternalCallButton(emit)
        case "occupancy":
            return ExternalOccupancy(emit)
    raise ValueError(f"no adapter for device type {device.type!r}")
