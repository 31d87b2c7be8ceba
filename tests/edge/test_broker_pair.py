"""The agent with the broker pair: it moves to the standby when the active broker refuses it
or goes silent (a keep-alive timeout), arrives there with a fresh birth, and resends by
itself the events of the minute before the move."""
from __future__ import annotations

import signal

from tests.edge.conftest import Subscriber
from tests.netfault import TcpProxy
from tests.servers import wait_for


def test_a_silent_active_broker_sends_the_agent_to_the_standby_after_its_keepalive(
        broker, broker_factory, make_agent):
    standby = broker_factory("standby").start()
    watcher = Subscriber(standby.port)
    try:
        with TcpProxy(broker.port) as proxy:
            agent = make_agent(f"mqtt://127.0.0.1:{proxy.port},{standby.url}", keepalive_s=2)
            assert agent.wait_connected(10) and agent.link.broker[1] == proxy.port
            pressed = agent.emit_event("callbutton", {"type": "button_press"})
            wait_for(lambda: len(agent.outbox) == 0, 10, "the press acknowledged")
            proxy.blackhole()  # the active broker's host unreachable: nothing, not a refusal
            wait_for(lambda: agent.connected and agent.link.broker[1] == standby.port, 15,
                     "the agent online on the standby")
            # the birth of the new connection, and the press again: the dead broker may
            # have acknowledged it without passing it on
            watcher.wait(lambda s: s.received("agent", "status"), 10, "the birth")
            watcher.wait(lambda s: any(m.payload["id"] == pressed
                                       for m in s.received("callbutton", "event")), 15,
                         "the press resent")
    finally:
        watcher.close()


def test_a_refusing_active_broker_sends_the_agent_to_the_standby_at_once(
        broker, broker_factory, make_agent):
    standby = broker_factory("standby").start()
    broker.stop(signal.SIGKILL)
    agent = make_agent(f"{broker.url},{standby.url}")
    assert agent.wait_connected(5) and agent.link.broker[1] == standby.port
