"""Fixtures of the firmware tests: devices on the MicroPython Unix port and an MQTT observer."""
from __future__ import annotations

import pytest

from tests.firmware.harness import Firmware, Observer, device_config


@pytest.fixture
def observer(broker):
    """Records what room porvoo/r1 sends, across broker restarts."""
    watcher = Observer(broker)
    yield watcher
    watcher.close()


@pytest.fixture
def start_device(broker, tmp_path):
    """Start a device (``callbutton`` or ``occupancy``) with test timings; stopped after."""
    devices: list[Firmware] = []

    def start(device: str, **overrides) -> Firmware:
        firmware = Firmware(tmp_path / f"{device}-{len(devices)}",
                            device_config(broker, device, **overrides))
        devices.append(firmware)
        return firmware

    yield start
    for firmware in devices:
        firmware.stop()
