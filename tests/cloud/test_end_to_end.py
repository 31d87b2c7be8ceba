"""Agent -> Mosquitto -> ingest -> twin and telemetry store, with the network between the room
and the broker failing the way real links fail."""
from __future__ import annotations

import os
import threading
import time

import pytest

from tests.netfault import TcpProxy
from tests.servers import wait_for

OUTAGE_S = float(os.environ.get("ETP_TEST_OUTAGE_S", "3"))


def millisecond_clock():
    """Wall time in whole milliseconds, strictly rising from reading to reading and never ahead
    of the wall clock: a reading within the millisecond of the last one waits for the next,
    so every point has its own timestamp."""
    lock, last = threading.Lock(), [0]

    def read() -> float:
        with lock:
            while (now := time.time_ns() // 1_000_000) <= last[0]:
                time.sleep(0.0002)  # the rest of this millisecond
            last[0] = now
        return (now + 0.5) / 1000  # the agent's int(s * 1000) gives back exactly ``now``

    return read


def cut_off_and_reconnected(broker, victoria, cloud_settings, start_worker, start_agent, twin,
                            outage_s: float, pace_s: float = 0.0) -> None:
    start_worker(cloud_settings.model_copy(update={"influx_url": victoria.url}))
    with TcpProxy(broker.port) as proxy:
        agent = start_agent("imatra", "r1", f"mqtt://127.0.0.1:{proxy.port}",
                            clock=millisecond_clock())
        assert agent.wait_connected(10)
        points = lambda: sum(len(t) for t in victoria.export("agent_cpu_pct").values())
        wait_for(lambda: points() == 1, 20, "the start-up point in the store")
        ids, rounds = [], 0
        # the link drops; QoS 0 telemetry handed to a socket that is already dead is gone by
        # definition, so the room works on once the agent has noticed
        proxy.cut()
        wait_for(lambda: not agent.connected, 10, "the agent noticing the loss")
        deadline = time.monotonic() + outage_s
        while time.monotonic() < deadline or rounds < 50:  # a room working on, offline
            ids.append(agent.emit_event("callbutton", {"type": "button_press"}))
            ids.append(agent.emit_event("occupancy", {"type": "occupancy",
                                                      "occupied": rounds % 2 == 0}))
            agent.publish_telemetry()
            rounds += 1
            if pace_s:
                time.sleep(pace_s)  # a room's own pace, not a wait for a result
        proxy.restore()
        drain_s = 60 + rounds * 8 / 1000  # the backlog drains at well over 1,000 msg/s
        wait_for(lambda: twin("SELECT count(*) FROM twin_event")[0][0] >= len(ids), drain_s,
                 "every buffered event in the twin")
    stored = twin("SELECT id, device, seq FROM twin_event ORDER BY received_at, seq")
    assert sorted(row[0] for row in stored) == sorted(ids)  # each once, none missing
    for device in ("callbutton", "occupancy"):
        seqs = [seq for _, d, seq in stored if d == device]
        assert seqs == sorted(seqs), f"{device} events out of order"
    wait_for(lambda: points() >= rounds + 1, 30, "every agent point in the store")
    (timestamps,) = victoria.export("agent_cpu_pct").values()
    assert len(timestamps) == len(set(timestamps)) == rounds + 1  # +1: the point at start-up


def test_agent_cut_off_then_reconnected_delivers_everything_once_and_in_order(
        broker, victoria, cloud_settings, start_worker, start_agent, twin):
    cut_off_and_reconnected(broker, victoria, cloud_settings, start_worker, start_agent, twin,
                            OUTAGE_S)


@pytest.mark.soak
def test_agent_cut_off_for_minutes_then_reconnected_delivers_everything_once_and_in_order(
        broker, victoria, cloud_settings, start_worker, start_agent, twin):
    cut_off_and_reconnected(broker, victoria, cloud_settings, start_worker, start_agent, twin,
                            180, pace_s=0.05)


def test_agent_on_a_dead_link_is_marked_offline_within_one_and_a_half_keepalives(
        broker, cloud_settings, start_worker, start_agent, twin):
    keepalive = 2
    start_worker(cloud_settings)
    with TcpProxy(broker.port) as proxy:
        agent = start_agent("nurmes", "r1", f"mqtt://127.0.0.1:{proxy.port}",
                            keepalive_s=keepalive)
        wait_for(lambda: twin("SELECT online FROM twin_agent") == [(1,)], 10, "agent online")
        proxy.blackhole()  # power cut in the room: no FIN, no DISCONNECT, silence
        lost = time.monotonic()
        wait_for(lambda: twin("SELECT online FROM twin_agent") == [(0,)], 30, "agent offline")
        assert time.monotonic() - lost <= 1.5 * keepalive + 2
        proxy.restore()
        wait_for(lambda: agent.connected and twin("SELECT online FROM twin_agent") == [(1,)], 30,
                 "agent back online")
