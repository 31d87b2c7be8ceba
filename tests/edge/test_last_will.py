"""The broker marks a vanished agent offline through its Last Will, in time."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.netfault import TcpProxy

KEEPALIVE_S = 2
DEADLINE_S = 1.5 * KEEPALIVE_S + 2  # what the platform promises


def test_agent_process_killed_with_sigkill_is_marked_offline_retained_in_time(
        broker, subscriber, tmp_path):
    config = tmp_path / "agent.yaml"
    config.write_text(yaml.safe_dump({
        "site": "porvoo", "room": "r1",
        "broker": {"url": broker.url, "keepalive_s": KEEPALIVE_S},
        "outbox": {"path": str(tmp_path / "outbox.sqlite")},
        "devices": [{"type": "agent", "backend": "linux"}, {"type": "doccam"}],
    }))
    etapalvelu = Path(sys.executable).parent / "etapalvelu"
    agent = subprocess.Popen([str(etapalvelu), "edge", "run", "--config", str(config)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        subscriber.wait(lambda s: s.statuses() == ["online"], 20, "the agent online")
        os.kill(agent.pid, signal.SIGKILL)
        killed = time.monotonic()
        subscriber.wait(lambda s: s.statuses() == ["online", "offline"], DEADLINE_S,
                        "the Last Will")
        print(f"offline {time.monotonic() - killed:.2f}s after SIGKILL")
        assert agent.wait(5) == -signal.SIGKILL
    finally:
        agent.kill()
        agent.wait(5)
        agent.stderr.close()
    assert subscriber.received("agent", "status")[-1].payload["seq"] == 0


def test_agent_whose_link_goes_dead_is_marked_offline_within_one_and_a_half_keepalives(
        broker, subscriber, make_agent):
    with TcpProxy(broker.port) as proxy:
        agent = make_agent(f"mqtt://127.0.0.1:{proxy.port}", keepalive_s=KEEPALIVE_S)
        subscriber.wait(lambda s: s.statuses() == ["online"], 10, "the agent online")
        proxy.blackhole()  # a pulled cable: no FIN, the broker must notice by keep-alive
        dead = time.monotonic()
        subscriber.wait(lambda s: s.statuses() == ["online", "offline"], DEADLINE_S,
                        "the Last Will")
        print(f"offline {time.monotonic() - dead:.2f}s after the link died")
        proxy.restore()
        subscriber.wait(lambda s: s.statuses()[-1] == "online", 15, "the agent back online")
        assert agent.link.connects == 2


def test_killed_in_process_agent_fires_its_last_will(broker, subscriber, make_agent):
    agent = make_agent(broker.url, keepalive_s=KEEPALIVE_S)
    subscriber.wait(lambda s: s.statuses() == ["online"], 10, "the agent online")
    agent.kill()
    subscriber.wait(lambda s: s.statuses() == ["online", "offline"], DEADLINE_S, "the Last Will")


def test_the_last_will_carries_its_connections_generation_and_the_next_online_a_higher_one(
        broker, subscriber, make_agent):
    with TcpProxy(broker.port) as proxy:
        make_agent(f"mqtt://127.0.0.1:{proxy.port}", keepalive_s=KEEPALIVE_S)
        subscriber.wait(lambda s: s.statuses() == ["online"], 10, "the agent online")
        proxy.cut()  # the broker sees the socket close: the Last Will goes at once
        subscriber.wait(lambda s: s.statuses() == ["online", "offline"], DEADLINE_S,
                        "the Last Will")
        proxy.restore()
        subscriber.wait(lambda s: s.statuses() == ["online", "offline", "online"], 15,
                        "the agent back online")
        born, will, reborn = (m.payload["gen"] for m in subscriber.received("agent", "status"))
    assert born == will < reborn


def test_agent_process_stopped_with_sigterm_says_offline_itself_and_exits_cleanly(
        broker, subscriber, tmp_path):
    config = tmp_path / "agent.yaml"
    config.write_text(yaml.safe_dump({
        "site": "porvoo", "room": "r1", "broker": {"url": broker.url},
        "outbox": {"path": str(tmp_path / "outbox.sqlite")},
        "devices": [{"type": "agent", "backend": "linux"}, {"type": "network",
                                                             "backend": "linux"}],
    }))
    etapalvelu = Path(sys.executable).parent / "etapalvelu"
    agent = subprocess.Popen([str(etapalvelu), "edge", "run", "--config", str(config)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        subscriber.wait(lambda s: s.statuses() == ["online"]
                        and len(s.received(kind="telemetry")) == 2, 20, "online, telemetry")
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(15) == 0
    finally:
        agent.kill()
        agent.wait(5)
    log = agent.stderr.read()
    agent.stderr.close()
    subscriber.wait(lambda s: s.statuses() == ["online", "offline"], 5, "offline")
    assert "event=edge.agent_stopped site=porvoo room=r1 clean=true" in log
    network = subscriber.received("network", "telemetry")[0].payload["metrics"]
    assert network["reachable"] == 1  # the Linux backend measured the real broker
