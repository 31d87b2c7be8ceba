"""Fixtures of the firmware tests: devices on the MicroPython Unix port and an MQTT observer."""
from __future__ import annotations

import pytest

from protocol.codec import encode
from tests.firmware.harness import Firmware, Observer, device_config


@pytest.fixture
def observer(broker):
    """Records what room porvoo/r1 sends, across broker restarts. After the test, every
    message a device sent must be accepted by the cloud parser and be in canonical form."""
    watcher = Observer(broker)
    yield watcher
    watcher.close()
    for received in watcher.received:
        if received.topic.split("/")[5] != "cmd":
            assert encode(received.message.payload) == received.payload, received


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
