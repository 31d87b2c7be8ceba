"""Faults of the link between a room and the broker: loss and delay, then a partition (a dead
link that closes nothing), each while the room sends; the agent recovers by itself and every
event it accepted reaches the twin once."""
from __future__ import annotations

import pytest

from tests.fault.conftest import Presses, assert_all_stored_once
from tests.servers import wait_for

pytestmark = pytest.mark.fault


def test_a_lossy_slow_link_delays_the_events_and_loses_none(proxied_room, twin):
    agent, proxy = proxied_room
    with Presses(agent) as presses:
        proxy.impair(loss=0.2, delay_s=0.15, rto_s=0.4)
        presses.wait(100)
        proxy.restore()
        presses.wait(20)
    assert_all_stored_once(twin, presses.accepted)


def heals_by_itself(agent, twin, pull, mend) -> None:
    """While the room sends: ``pull()`` its link, see the agent and the twin notice, ``mend()``
    it, see both recover by themselves; every accepted event reaches the twin once."""
    with Presses(agent) as presses:
        presses.wait(20)
        pull()
        try:
            wait_for(lambda: not agent.connected, 10, "the agent noticing (keep-alive)")
            wait_for(lambda: twin("select online from twin_agent") == [(False,)], 15,
                     "the room offline in the twin (its Last Will)")
            presses.wait(100)
        finally:
            mend()
        wait_for(agent.wait_connected, 20, "the agent back by itself")
        presses.wait(20)
    wait_for(lambda: twin("select online from twin_agent") == [(True,)], 10,
             "the room online again")
    assert_all_stored_once(twin, presses.accepted)


def test_a_partition_from_the_broker_heals_by_itself_and_loses_nothing(proxied_room, twin):
    agent, proxy = proxied_room
    # the cable pulled: nothing closes, nothing arrives
    heals_by_itself(agent, twin, proxy.blackhole, proxy.restore)


def test_a_cable_pulled_in_the_kernel_heals_by_itself_and_loses_nothing(room_on_a_cable, twin):
    # the room's link is a veth pair into the broker's namespace: down, the kernel drops
    # every packet both ways, retransmissions included, while the cloud's link holds
    agent, cable = room_on_a_cable
    heals_by_itself(agent, twin, cable.down, cable.up)
