"""The live bus over MQTT: one connection per process, fan-out to in-process subscribers."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import paho.mqtt.client as mqtt

from cloud.mqtt import connect, make_client
from cloud.settings import CloudSettings
from etapalvelu.logs import event_log
from protocol.topics import LIVE_ROOT, check_level

log = event_log(__name__)
# LIVE_ROOT lies outside the devices' tree (etp/v1/#): the ingest never sees live events,
# and no device identity is granted anything under it (provisioning/identities.py)
QUEUE_MAX = 256  # events one subscriber may lag behind before it is dropped
MAX_EVENT_BYTES = 64 * 1024
UNSENT_MAX = 1000  # publishes held while the broker is away


def channel_topic(channel: str) -> str:
    """The MQTT topic of a live channel (``site/porvoo`` -> ``etp/live/v1/site/porvoo``);
    every level must be a legal topic level, so no channel carries a wildcard."""
    for level in channel.split("/"):
        check_level(level, "channel level")
    return f"{LIVE_ROOT}/{channel}"


class SubscriberDropped(Exception):
    """The subscriber fell behind (its queue was full) or the bus lost the broker: what it
    missed is gone, so it must start again from a snapshot."""


_DROP = object()  # the marker that ends a dropped subscriber's iteration


class Subscription:
    """Events of some channels for one in-process subscriber, in order; an async iterator."""

    def __init__(self, channels: tuple[str, ...], queue_max: int) -> None:
        self.channels = channels
        self._queue: asyncio.Queue = asyncio.Queue(queue_max)
        self.dropped = False

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict:
        item = await self._queue.get()
        if item is _DROP:
            raise SubscriberDropped(",".join(self.channels))
        return item

    def offer(self, event: dict) -> bool:
        """Queue ``event``; False (and dropped) when the subscriber's queue is full."""
        if self.dropped:
            return True
        try:
            self._queue.put_nowait(event)
            return True
        except asyncio.QueueFull:
            self.drop()
            return False

    def drop(self) -> None:
        """End this subscription: the iterator raises ``SubscriberDropped`` next."""
        if not self.dropped:
            self.dropped = True
            while not self._queue.empty():  # room for the marker; what it held is moot now
                self._queue.get_nowait()
            self._queue.put_nowait(_DROP)


class LiveBus:
    """One MQTT connection of a process to the live tree.

    ``start()`` connects (paho's thread); called inside an event loop, that loop receives
    events for ``subscribe``. Processes that only publish (the ingest, the schedule) start it
    with ``listen=False``. ``counts`` holds ``published``, ``delivered``, ``malformed``,
    ``slow_dropped``, ``link_dropped``, ``released`` (ended by the replica's stop) and
    ``confirmed``/``unconfirmed`` (``send_confirmed``).
    """

    def __init__(self, settings: CloudSettings, *, listen: bool = True,
                 queue_max: int = QUEUE_MAX) -> None:
        self._settings, self._listen, self._queue_max = settings, listen, queue_max
        self._client = make_client(settings)
        # while the broker is away, keep a bounded backlog (counted beyond): the consoles
        # resynchronise from the store anyway when the link returns
        self._client.max_queued_messages_set(UNSENT_MAX)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: dict[str, set[Subscription]] = {}
        self.counts: Counter = Counter()
        self.connected = threading.Event()  # and, when listening, subscribed
        # since when an established link is lost (None: linked, or not linked yet): what
        # this replica's pages are told, since their live pushes stop with it
        self.lost_since: datetime | None = None
        self._stopping = False
        self._lock = threading.Lock()

    def start(self) -> LiveBus:
        """Connect; returns at once (``connected`` is set once the link is up)."""
        if self._listen:
            self._loop = asyncio.get_running_loop()
        connect(self._client, self._settings)
        self._client.loop_start()
        return self

    def stop(self) -> None:
        """Close the connection. Without a link, paho's thread may be sleeping out its
        reconnect delay: it ends by itself after it, unwaited (a daemon thread)."""
        linked = self.connected.is_set()
        self._stopping = True
        self._client.disconnect()
        if linked:
            self._client.loop_stop()
        else:
            threading.Thread(target=self._client.loop_stop, daemon=True).start()

    def wait_connected(self, timeout: float = 10) -> bool:
        """Wait until the link is up (and subscribed, when listening)."""
        return self.connected.wait(timeout)

    async def ready(self, timeout: float) -> bool:
        """Wait (without blocking the loop) until the link is up and subscribed."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.connected.is_set() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        return self.connected.is_set()

    # publishing ---------------------------------------------------------------------------
    async def publish(self, channel: str, event: dict) -> None:
        """Send ``event`` to every subscriber of ``channel`` in every process."""
        self.publish_threadsafe(channel, event)

    def publish_threadsafe(self, channel: str, event: dict) -> None:
        """``publish`` from any thread (paho's publish only queues the packet)."""
        body = json.dumps(event, separators=(",", ":"))
        info = self._client.publish(channel_topic(channel), body, qos=1)
        with self._lock:
            self.counts["published" if info.rc == mqtt.MQTT_ERR_SUCCESS
                        or info.rc == mqtt.MQTT_ERR_NO_CONN else "unsent"] += 1

    def send(self, topic: str, payload: bytes) -> None:
        """Send a device command (``cloud.commands.command``) over the same connection."""
        self._client.publish(topic, payload, qos=1)

    def send_confirmed(self, topic: str, payload: bytes, *, timeout: float) -> bool:
        """Send a message over the same connection and wait (blocking) for the broker's
        PUBACK; False when the link is down or the broker did not take it within
        ``timeout``. Without a link nothing is queued: the sender tells its user at once."""
        if not self.connected.is_set():
            return False
        info = self._client.publish(topic, payload, qos=1)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError):  # the link lost meanwhile (it may go out on the
            # reconnect: a late press still opens the call), or the backlog is full
            return False
        with self._lock:
            self.counts["confirmed" if info.is_published() else "unconfirmed"] += 1
        return info.is_published()

    # subscribing --------------------------------------------------------------------------
    @asynccontextmanager
    async def subscribe(self, *channels: str) -> AsyncIterator[Subscription]:
        """Events of ``channels`` published from here on, merged in arrival order, as an
        async iterator; it raises ``SubscriberDropped`` when this subscriber fell behind or
        the link was lost."""
        if self._loop is None:
            raise RuntimeError("this live bus was started without listening")
        for channel in channels:
            channel_topic(channel)
        subscription = Subscription(channels, self._queue_max)
        for channel in channels:
            self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            for channel in channels:
                members = self._subscribers.get(channel, set())
                members.discard(subscription)
                if not members:
                    self._subscribers.pop(channel, None)

    def subscriber_count(self) -> int:
        """In-process subscribers now."""
        return sum(len(members) for members in self._subscribers.values())

    # paho's network thread ----------------------------------------------------------------
    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.error("live.connect_refused", reason=reason_code)
            return
        _no_delay(client.socket())
        if self._listen:  # again on every connect [MQTT-3.1.2-6]: the session is clean
            client.subscribe(f"{LIVE_ROOT}/#", qos=1)
        else:
            self._up()

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _properties) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("live.subscribe_refused", reasons=reason_codes)
            return
        if self._loop is None or self._loop.is_closed():
            self._up()
        else:  # on the loop, so no stream subscribes between the two steps
            self._loop.call_soon_threadsafe(self._linked)

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        if was and not self._stopping:
            self.lost_since = datetime.now(UTC)
            log.warning("live.disconnected", reason=reason_code)
        if was and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._drop_all)  # what passes meanwhile is lost

    def _on_message(self, _client, _userdata, msg: mqtt.MQTTMessage) -> None:
        channel = msg.topic[len(LIVE_ROOT) + 1:]
        event = _decode(msg.payload)
        if event is None:
            with self._lock:
                self.counts["malformed"] += 1
            log.warning("live.malformed_dropped", channel=channel, bytes=len(msg.payload))
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._deliver, channel, event)

    # the event loop -----------------------------------------------------------------------
    def _deliver(self, channel: str, event: dict) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            if subscription.offer(event):
                self.counts["delivered"] += 1
            else:
                self.counts["slow_dropped"] += 1
                log.warning("live.slow_subscriber_dropped", channel=channel)

    def release_all(self) -> None:
        """The replica is stopping: end every subscription now (on the loop), so the live
        streams and the signalling sockets close and their browsers come back through
        another replica, instead of holding the stop until the unit's timeout."""
        self._drop_all("released")

    def announce(self, channel: str, event: dict) -> None:
        """Hand ``event`` to this process's subscribers of ``channel`` only, not through the
        broker (on the loop): a fact each replica finds for itself, which must reach its
        pages also while it has lost the broker."""
        self._deliver(channel, event)

    def _linked(self) -> None:
        self._drop_all()  # who subscribed while the link was down missed events
        self._up()

    def _up(self) -> None:
        self.lost_since = None
        self.connected.set()

    def _drop_all(self, counted_as: str = "link_dropped") -> None:
        for subscription in {s for members in self._subscribers.values() for s in members}:
            if not subscription.dropped:
                subscription.drop()
                self.counts[counted_as] += 1


def _no_delay(sock) -> None:
    """Send each live event at once: with Nagle's algorithm a small write waits for the ACK
    of the previous one, which the peer may delay by 40 ms."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError):  # a TLS wrapper or a closing socket: best effort
        pass


def _decode(payload: bytes) -> dict | None:
    """A live event: a JSON object of bounded size, else None."""
    if len(payload) > MAX_EVENT_BYTES:
        return None
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    return event if isinstance(event, dict) else None
