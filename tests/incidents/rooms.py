"""A room's agent as the broker sees it: a paho client with the Last Will ``offline``, that
publishes health and can die without a DISCONNECT (the socket just closes).

The client loop is driven by hand, so dying is immediate (no network thread to stop first);
keepalive is off so an idle test agent is never timed out by the broker.
"""
from __future__ import annotations

import itertools
import socket
import struct
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


def _packet(kind: int, body: bytes) -> bytes:
    length, size = bytearray(), len(body)
    while True:
        byte, size = size % 128, size // 128
        length.append(byte | (0x80 if size else 0))
        if not size:
            return bytes([kind]) + bytes(length) + body


def _text(value: bytes) -> bytes:
    return struct.pack("!H", len(value)) + value


class WillOnlyAgent:
    """A room's agent reduced to its Last Will on one plain socket (MQTT 3.1.1 encoded by
    hand): thousands fit in one test process, where paho's ``select`` stops near a thousand
    descriptors. ``connect`` says ``online`` (retained, QoS 1); ``kill`` closes the socket."""

    def __init__(self, port: int, site: str = "porvoo", room: str = "r1") -> None:
        self.port, self.site, self.room = port, site, room
        self.sock: socket.socket | None = None

    def connect(self, timeout: float = 10) -> WillOnlyAgent:
        """CONNECT with the will ``offline`` (QoS 1, retained), then ``online``; both
        acknowledged by the broker."""
        status = topic(self.site, self.room, "agent", "status").encode()
        will = orjson.dumps({"v": 1, "ts": 0, "seq": 0, "state": "offline"})
        flags = 0x02 | 0x04 | 0x08 | 0x20  # clean session, will, will QoS 1, will retained
        client_id = f"agent-{self.site}-{self.room}".encode()
        connect = (_text(b"MQTT") + bytes([4, flags]) + struct.pack("!H", 0) + _text(client_id)
                   + _text(status) + _text(will))
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        self.sock.sendall(_packet(0x10, connect))
        self._expect(0x20, "CONNACK")
        online = _text(status) + struct.pack("!H", 1) + payload(state="online")
        self.sock.sendall(_packet(0x33, online))  # PUBLISH, QoS 1, retained
        self._expect(0x40, "PUBACK")
        return self

    def kill(self) -> None:
        """Vanish without a DISCONNECT: the broker publishes the Last Will."""
        self.sock.close()
        self.sock = None

    def _expect(self, kind: int, name: str) -> None:
        reply = b""
        while len(reply) < 4:
            chunk = self.sock.recv(4 - len(reply))
            if not chunk:
                raise ConnectionError(f"the broker closed before {name}")
            reply += chunk
        if reply[0] != kind or reply[3] != 0 and kind == 0x20:
            raise ConnectionError(f"expected {name}, got {reply!r}")
