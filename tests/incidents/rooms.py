"""A room's agent as the broker sees it: a paho client with the Last Will ``offline``, that
publishes health and can die without a DISCONNECT (the socket just closes).

The client loop is driven by hand, so dying is immediate (no network thread to stop first);
keepalive is off so an idle test agent is never timed out by the broker.
"""
from __future__ import annotations

import itertools
import time

import orjson
import paho.mqtt.client as mqtt

from protocol.topics import topic

_seq = itertools.count(1)


def payload(**fields) -> bytes:
    """A wire payload with the envelope filled in."""
    return orjson.dumps({"v": 1, "ts": int(time.time() * 1000), "seq": next(_seq), **fields})


class RoomAgent:
    """Connects with a Last Will, says it is online, publishes health, dies uncleanly."""

    def __init__(self, port: int, site: str = "porvoo", room: str = "r1") -> None:
        self.port, self.site, self.room = port, site, room
        self.client: mqtt.Client | None = None

    def connect(self) -> RoomAgent:
        """Connect and publish ``online`` (retained), waiting for the broker's PUBACK."""
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                             client_id=f"agent-{self.site}-{self.room}", protocol=mqtt.MQTTv311)
        client.will_set(topic(self.site, self.room, "agent", "status"),
                        orjson.dumps({"v": 1, "ts": 0, "seq": 0, "state": "offline"}),
                        qos=1, retain=True)
        client.connect("127.0.0.1", self.port, keepalive=0)
        self.client = client
        self.publish("agent", "status", state="online")
        return self

    def publish(self, device: str, kind: str, timeout: float = 5, **fields) -> None:
        """Publish a retained QoS 1 message and wait until the broker has it."""
        info = self.client.publish(topic(self.site, self.room, device, kind), payload(**fields),
                                   qos=1, retain=True)
        deadline = time.monotonic() + timeout
        while not info.is_published():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the broker did not take {device}/{kind}")
            self.client.loop(timeout=0.01)

    def kill(self) -> None:
        """Vanish without a DISCONNECT: the broker publishes the Last Will."""
        self.client.socket().close()
        self.client = None

    def blink(self) -> None:
        """One flap: come online and vanish at once."""
        self.connect().kill()

    def close(self) -> None:
        """Leave cleanly (after the test)."""
        if self.client is not None:
            self.client.disconnect()
            self.client.loop(timeout=0.05)
            self.client = None
