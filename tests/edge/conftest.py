"""Fixtures of the room-agent tests: agents on a real broker and a plain subscriber."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import orjson
import paho.mqtt.client as paho
import pytest

from edge.agent import Agent
from edge.config import simulated_config
from protocol.topics import Topic, parse_topic
from tests.servers import wait_for


@dataclass(frozen=True)
class Received:
    """One message as a plain subscriber saw it."""

    topic: Topic
    payload: dict
    qos: int
    retain: bool


class Subscriber:
    """A plain paho client subscribed to ``etp/#`` that records everything it receives."""

    def __init__(self, port: int, pattern: str = "etp/#", *, username: str | None = None,
                 password: str | None = None) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        subscribed = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: subscribed.set()
        if username:
            self.client.username_pw_set(username, password)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe(pattern, qos=1)
        assert subscribed.wait(5), "subscription not confirmed"

    def _on_message(self, client, userdata, message) -> None:
        item = Received(parse_topic(message.topic), orjson.loads(message.payload), message.qos,
                        bool(message.retain))
        with self._lock:
            self._received.append(item)

    def received(self, device: str | None = None, kind: str | None = None) -> list[Received]:
        """Messages so far, optionally of one device and/or kind."""
        with self._lock:
            items = list(self._received)
        return [m for m in items if (device is None or m.topic.device == device)
                and (kind is None or m.topic.kind == kind)]

    def wait(self, predicate, timeout: float = 10.0, what: str = "messages") -> None:
        """Wait until ``predicate(self)`` holds."""
        wait_for(lambda: predicate(self), timeout, what)

    def statuses(self) -> list[str]:
        """The agent status states received, in order."""
        return [m.payload["state"] for m in self.received("agent", "status")]

    def publish(self, topic: str, payload: bytes) -> None:
        """Publish with QoS 1 and wait until the broker confirmed it."""
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber(broker):
    """A plain subscriber on the test's broker."""
    sub = Subscriber(broker.port)
    yield sub
    sub.close()


@pytest.fixture
def make_agent(tmp_path):
    """Make simulated agents (every device simulated, slow timers so tests drive them);
    every agent made is stopped after the test."""
    agents: list[Agent] = []

    def make(broker_url: str, *, site: str = "porvoo", room: str = "r1", start: bool = True,
             outbox: str = "outbox.sqlite", **settings) -> Agent:
        settings.setdefault("health_s", 3600)
        settings.setdefault("telemetry_s", 3600)
        settings.setdefault("reconnect_min_s", 0.1)
        settings.setdefault("reconnect_max_s", 0.5)
        config = simulated_config(site, room, outbox_path=tmp_path / outbox,
                                  broker_url=broker_url, **settings)
        agent = Agent(config)
        agents.append(agent)
        return agent.start() if start else agent

    yield make
    for agent in agents:
        agent.stop()
