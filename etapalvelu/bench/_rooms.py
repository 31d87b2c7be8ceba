"""Synthetic room agents for the reconnect storm: thousands of MQTT connections in one asyncio
loop, each speaking the room agent's wire contract (docs/protocol.md) with its room's own
credentials.

A room, per connection: CONNECT with its bound client id, username and password and the Last
Will ``offline`` (retained, QoS 1) of a fresh generation ``gen``; on CONNACK it subscribes its
command filter; on SUBACK it publishes ``online`` (retained, QoS 1, same ``gen``), then the
retained health of the devices its agent speaks for, then every event not yet acknowledged.
An event a minute (QoS 1, unique id) is kept until its PUBACK and for an hour after (the
outbox's window for ``resend``). A lost connection is retried after the edge agent's own
jittered backoff (``edge.mqtt.backoff_delay`` with the agent's configured bounds), reset on
each birth, as the agent does. Packets are written by hand (``_wire``): one
``asyncio.Protocol`` per room costs a few kilobytes and no thread.
"""
from __future__ import annotations

import asyncio
import json
import random
import time
from collections import deque
from dataclasses import dataclass, field

from edge import messages
from edge.config import Broker
from edge.mqtt import backoff_delay
from etapalvelu.bench._wire import (
    PINGREQ,
    connect_packet,
    puback_packet,
    publish_packet,
    read_publish,
    split_packets,
    subscribe_packet,
)
from protocol.topics import ROOT

AGENT_DEVICES = ("agent", "terminal", "doccam", "network")  # what an agent's identity speaks for
KEPT_S = 3600.0  # delivered events kept for ``resend``, as the agent's outbox keeps them
CONNECT, CONNACK, PUBLISH, PUBACK, SUBACK = 0x10, 0x20, 0x30, 0x40, 0x90


@dataclass
class FleetConfig:
    """What every synthetic room shares: the broker, the agent's timing, the event pace."""

    host: str
    port: int
    keepalive_s: int = Broker.model_fields["keepalive_s"].default
    reconnect_min_s: float = Broker.model_fields["reconnect_min_s"].default
    reconnect_max_s: float = Broker.model_fields["reconnect_max_s"].default
    event_period_s: float = 60.0
    resends: bool = True


@dataclass
class Tally:
    """What the rooms did, for the report: acknowledged event ids, resends served."""

    acked: dict[str, float] = field(default_factory=dict)  # event id -> monotonic PUBACK time
    resend_asked: int = 0
    resent: int = 0
    refused: int = 0  # CONNACK or SUBACK refusals (credentials, ACL)


class Link(asyncio.Protocol):
    """One MQTT client connection that comes back after a loss; subclasses say who it is,
    what it does once subscribed and what it makes of a message."""

    def __init__(self, config: FleetConfig, tally: Tally) -> None:
        self.config, self.tally = config, tally
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.attempt = 0
        self.ready = False  # subscribed (and, for a room, born)
        self.stopped = False
        self._next_id = 1
        self._timers: list[asyncio.TimerHandle] = []

    # -- who we are ------------------------------------------------------------------------
    def hello(self) -> bytes:
        raise NotImplementedError

    def subscription(self) -> str:
        raise NotImplementedError

    def retry_delay(self) -> float:
        return 0.2

    def on_ready(self) -> None:
        """Subscribed."""

    def on_message(self, topic: str, payload: bytes) -> None:
        """A PUBLISH from the broker."""

    def on_puback(self, packet_id: int) -> None:
        """A PUBACK of ours."""

    def on_lost(self) -> None:
        """The connection ended."""

    # -- life ------------------------------------------------------------------------------
    def connect(self) -> None:
        if not self.stopped:
            self.loop.create_task(self._open())

    async def _open(self) -> None:
        try:
            await self.loop.create_connection(lambda: self, self.config.host, self.config.port)
        except OSError:
            self._retry()

    def stop(self) -> None:
        """Vanish without DISCONNECT (the broker sends the Last Will)."""
        self.stopped = True
        if self.transport is not None:
            self.transport.abort()

    def packet_id(self) -> int:
        self._next_id = self._next_id % 65535 + 1
        return self._next_id

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _retry(self) -> None:
        if not self.stopped:
            self.loop.call_later(self.retry_delay(), self.connect)

    def _later(self, delay: float, action) -> None:
        self._timers.append(self.loop.call_later(delay, action))

    # -- asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport, self.ready = transport, False
        self.buffer.clear()
        transport.write(self.hello())
        # as the agent: no CONNACK within max(5 s, keepalive) ends the attempt
        self._later(max(5.0, self.config.keepalive_s), self._connack_overdue)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        for first, body in split_packets(self.buffer):
            kind = first & 0xF0
            if kind == CONNACK:
                self._on_connack(body)
            elif kind == SUBACK:
                self._on_suback(body)
            elif kind == PUBACK:
                self.on_puback(int.from_bytes(body[:2], "big"))
            elif kind == PUBLISH:
                topic, payload, qos, packet_id = read_publish(first, body)
                if qos:
                    self.send(puback_packet(packet_id))
                self.on_message(topic, payload)

    def connection_lost(self, exc) -> None:
        self.transport, self.ready = None, False
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self.on_lost()
        self._retry()

    def _connack_overdue(self) -> None:
        if not self.ready and self.transport is not None:
            self.transport.abort()

    def _on_connack(self, body: bytes) -> None:
        if body[1] != 0:
            self.tally.refused += 1
            self.transport.abort()
            return
        self.send(subscribe_packet(self.packet_id(), self.subscription()))

    def _on_suback(self, body: bytes) -> None:
        if body[2] == 0x80:  # refused: not online, try again later (as the agent)
            self.tally.refused += 1
            self.transport.abort()
            return
        self.ready = True
        self.on_ready()
        self._later(self.config.keepalive_s, self._ping)

    def _ping(self) -> None:
        self.send(PINGREQ)
        self._later(self.config.keepalive_s, self._ping)


class Room(Link):
    """One synthetic room agent (see the module docstring)."""

    def __init__(self, config: FleetConfig, tally: Tally, site: str, room: str,
                 password: str) -> None:
        super().__init__(config, tally)
        self.site, self.room, self.password = site, room, password
        self.base = f"{ROOT}/{site}/{room}"
        self.gen = 0  # of the connection being made
        self.born_gen = 0  # of the connection that published ``online``
        self.born_at = 0.0  # monotonic
        self.seq = dict.fromkeys(AGENT_DEVICES, 0)
        self.events = 0
        self.unsent: deque[tuple[str, bytes]] = deque()  # waiting for a connection
        self.inflight: dict[int, tuple[str, bytes]] = {}  # packet id -> event
        self.delivered: deque[tuple[float, str, bytes]] = deque()  # PUBACKed, kept for resend

    def start(self) -> None:
        """Connect now; the first event comes at a random point of the first period."""
        self.connect()
        self.loop.call_later(random.uniform(0, self.config.event_period_s), self._event)

    def hello(self) -> bytes:
        self.gen = max(self.gen + 1, time.time_ns() // 1_000_000)
        will = (f"{self.base}/agent/status", self._status("offline"), 1, True)
        return connect_packet(f"etp-{self.site}-{self.room}-agent", self.config.keepalive_s,
                              username=f"{self.site}.{self.room}.agent",
                              password=self.password, will=will)

    def subscription(self) -> str:
        return f"{self.base}/+/cmd/+"

    def retry_delay(self) -> float:
        delay = backoff_delay(self.attempt, self.config.reconnect_min_s,
                              self.config.reconnect_max_s)
        self.attempt += 1
        return delay

    def _status(self, state: str) -> bytes:
        return messages.status(ts=time.time_ns() // 1_000_000, state=state, gen=self.gen)

    def on_ready(self) -> None:
        self.send(publish_packet(f"{self.base}/agent/status", self._status("online"), 1,
                                 self.packet_id(), retain=True))
        self.born_gen, self.born_at, self.attempt = self.gen, time.monotonic(), 0
        for device in AGENT_DEVICES:
            self.seq[device] += 1
            body = messages.health(ts=time.time_ns() // 1_000_000, seq=self.seq[device],
                                   state="ok")
            self.send(publish_packet(f"{self.base}/{device}/health", body, 1, self.packet_id(),
                                     retain=True))
        self._flush()

    def on_lost(self) -> None:
        # what was in flight is still undelivered: first in line on the next connection
        self.unsent.extendleft(reversed(list(self.inflight.values())))
        self.inflight.clear()

    def on_puback(self, packet_id: int) -> None:
        event = self.inflight.pop(packet_id, None)
        if event is not None:
            now = time.monotonic()
            self.tally.acked[event[0]] = now
            self.delivered.append((now, *event))

    def on_message(self, topic: str, payload: bytes) -> None:
        name = topic.rsplit("/", 1)[-1]
        command = json.loads(payload)
        if name == "resend":
            self.tally.resend_asked += 1
            if self.config.resends:
                self._resend(float(command["args"].get("seconds", 0)))
        self.seq["agent"] += 1
        answer = messages.ack(ts=time.time_ns() // 1_000_000, seq=self.seq["agent"],
                              id=command["id"], cmd=name, ok=True)
        self.send(publish_packet(f"{self.base}/agent/ack", answer, 1, self.packet_id()))

    def _resend(self, seconds: float) -> None:
        since = time.monotonic() - seconds
        while self.delivered and self.delivered[0][0] < time.monotonic() - KEPT_S:
            self.delivered.popleft()
        again = [(event_id, body) for at, event_id, body in self.delivered if at >= since]
        self.tally.resent += len(again)
        self.unsent.extend(again)
        self._flush()

    def _event(self) -> None:
        if self.stopped:
            return
        self.events += 1
        self.seq["agent"] += 1
        event_id = f"storm-{self.site}-{self.events:07d}"
        body = messages.event(ts=time.time_ns() // 1_000_000, seq=self.seq["agent"],
                              id=event_id, data={"type": "occupancy",
                                                 "occupied": bool(self.events % 2)})
        self.unsent.append((event_id, body))
        self._flush()
        self.loop.call_later(self.config.event_period_s, self._event)

    def _flush(self) -> None:
        while self.ready and self.unsent:
            event_id, body = self.unsent.popleft()
            packet_id = self.packet_id()
            self.inflight[packet_id] = (event_id, body)
            self.send(publish_packet(f"{self.base}/agent/event", body, 1, packet_id))


class StatusWatch(Link):
    """Reads every agent's retained and live ``status`` as the rollout monitor does, and
    notes when each ``online`` of a new generation arrived (for the real agents' spread)."""

    def __init__(self, config: FleetConfig, tally: Tally, password: str) -> None:
        super().__init__(config, tally)
        self.password = password
        self.seen: list[tuple[float, str, str, int]] = []  # (monotonic, site, state, gen)

    def hello(self) -> bytes:
        return connect_packet("fleet.monitor", self.config.keepalive_s,
                              username="fleet.monitor", password=self.password)

    def subscription(self) -> str:
        return f"{ROOT}/+/+/agent/status"

    def on_message(self, topic: str, payload: bytes) -> None:
        status = json.loads(payload)
        self.seen.append((time.monotonic(), topic.split("/")[2], status["state"],
                          status.get("gen", 0)))

    def back_at(self, sites: set[str], since: float, before: dict[str, int]) -> dict[str, float]:
        """When each of ``sites`` was first online, after ``since``, with a generation newer
        than ``before[site]``."""
        back: dict[str, float] = {}
        for at, site, state, gen in self.seen:
            if (site in sites and site not in back and at >= since and state == "online"
                    and gen > before.get(site, 0)):
                back[site] = at
        return back

    def newest_gen(self, sites: set[str]) -> dict[str, int]:
        """The newest generation each of ``sites`` announced so far."""
        newest: dict[str, int] = {}
        for _, site, _, gen in self.seen:
            if site in sites:
                newest[site] = max(newest.get(site, 0), gen)
        return newest
