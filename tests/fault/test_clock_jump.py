"""The device clock jumping an hour forward, then back (a bad NTP answer corrected): events
keep arriving and are stored once, and the twin follows the device's health both ways, since
readings are ordered by their sequence numbers, not by the device's time."""
from __future__ import annotations

import time

import pytest

from tests.fault.conftest import Presses, assert_all_stored_once, start_room
from tests.servers import wait_for

pytestmark = pytest.mark.fault
HOUR_S = 3600.0


def camera(twin) -> list[tuple]:
    return twin("select state, code from twin_device where device = 'doccam'")


@pytest.mark.parametrize("first_jump_s", [HOUR_S, -HOUR_S], ids=["forward", "back"])
def test_a_device_clock_jumping_an_hour_loses_no_event_and_the_twin_follows_its_health(
        tmp_path, broker, cloud_settings, start_worker, twin, first_jump_s):
    start_worker(cloud_settings)
    offset = [0.0]
    agent = start_room(tmp_path, broker.url, clock=lambda: time.time() + offset[0])
    try:
        assert agent.wait_connected(10)
        with Presses(agent) as presses:
            presses.wait(10)
            offset[0] = first_jump_s
            agent.inject_fault("doccam", "unplugged")
            wait_for(lambda: camera(twin) == [("missing", "unplugged")], 10, "the fault seen")
            presses.wait(10)
            offset[0] = 0.0  # the clock corrected: an hour the other way
            agent.inject_fault("doccam", "clear")
            wait_for(lambda: camera(twin) == [("ok", None)], 10, "the repair seen")
            presses.wait(10)
        assert_all_stored_once(twin, presses.accepted)
    finally:
        agent.stop()
