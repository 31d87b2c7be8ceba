"""The agent's link to the broker: paho-mqtt 2.x, MQTT 3.1.1, driven by the agent's own thread.

Why MQTT 3.1.1: every broker the platform meets speaks it (Mosquitto, EMQX, VerneMQ, the
embedded amqtt of the demo, the MicroPython firmware's umqtt), and the agent needs nothing of
MQTT 5: it keeps no broker-side session (clean session), because the outbox, not the broker,
holds what is undelivered.

Lifecycle of one connection (a fresh paho client each time, so no message paho queued on a
dead connection is ever re-sent behind the outbox's back):
1. Take the next connection generation ``gen`` from the outbox (persisted, rising), and
   CONNECT with the Last Will ``offline`` of that ``gen`` (retained, QoS 1) on the agent's
   status topic. The cloud orders status by ``gen``, so a Last Will that arrives after the
   next connection's ``online`` changes nothing.
2. On CONNACK, subscribe to the room's commands (``etp/v1/{site}/{room}/+/cmd/+``, QoS 1).
3. On SUBACK, publish ``online`` (retained, QoS 1): the birth comes only after the commands
   are subscribed, so the cloud never talks to an agent that cannot hear it yet. A refused
   subscription ends the connection (the broker sends the Last Will) and is retried with
   backoff: a room that cannot hear commands is not online.
4. Drain the outbox from its oldest row, at most ``inflight_limit`` unacknowledged messages at a
   time. A row is removed when its PUBACK arrives (QoS 1) or when paho wrote it to the socket
   (QoS 0; ``on_publish`` fires then [MQTT-4.3.1]). Telemetry buffered before the connection
   came up is replayed at QoS 1: the in-flight window then paces the backlog and a row leaves
   only on its PUBACK, so a half-open link cannot swallow it. Live telemetry stays QoS 0.
5. When the connection is lost, forget what was in flight (those rows are still in the outbox)
   and reconnect after a jittered exponential backoff. The next drain starts again from the
   oldest row, so order per device holds across reconnects.

With a broker pair (``broker.url`` a list), a failure (refused, unreachable, no CONNACK, a
keep-alive timeout, a lost connection) moves to the next broker of the list at once, spread
over ``reconnect_min_s``; the backoff applies per round through the list
(``protocol.brokers.BrokerRotation``). The new broker gets the birth (and its retained
``online``) and the whole outbox from its oldest row: what the dead broker acknowledged was
removed, what it did not is sent again. What the dead broker acknowledged but had not yet
passed on to the cloud died with it: after a move the agent resends, by itself, the events of
the window since the loss (``FAILOVER_MARGIN_S`` more); the cloud drops duplicates by id.
"""
from __future__ import annotations

import socket
import time
from collections.abc import Callable

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from edge import messages
from edge.config import AgentConfig
from edge.outbox import Outbox
from etapalvelu.logs import event_log
from protocol.brokers import BrokerRotation, backoff_delay  # noqa: F401 - re-exported
from protocol.codec import Message, Rejected, decode
from protocol.topics import ROOT, topic

log = event_log(__name__)

OnCommand = Callable[[Message], None]
# Events delivered this long before the loss of a broker may still have sat in its queue for
# the ingest (an ingest that far behind, e.g. its database slow): resent after a move.
FAILOVER_MARGIN_S = 60.0


class BrokerLink:
    """The connection of one room agent to the broker; call ``step`` from one thread only."""

    def __init__(self, config: AgentConfig, outbox: Outbox, on_command: OnCommand, *,
                 client_id: str | None = None, inflight_limit: int = 256,
                 version: str = "") -> None:
        self.config = config
        self.outbox = outbox
        self.on_command = on_command
        self.client_id = client_id or f"etp-{config.site}-{config.room}-agent"
        self.inflight_limit = inflight_limit
        self.version = version
        self.status_topic = topic(config.site, config.room, "agent", "status")
        self.command_filter = f"{ROOT}/{config.site}/{config.room}/+/cmd/+"
        self.connects = 0  # successful CONNACKs, for tests and logs
        self._client: paho.Client | None = None
        self._connecting_since = 0.0
        self.rotation = BrokerRotation(len(config.broker.urls), config.broker.reconnect_min_s,
                                       config.broker.reconnect_max_s)
        self._next_attempt = 0.0
        self._online_broker: int | None = None  # index of the broker last online on
        self._lost_wall = 0.0  # wall time the last connection was lost
        self._failover_window: float | None = None  # seconds to resend after a move
        self._connected = False  # CONNACK received
        self._ready = False  # commands subscribed, online published: draining allowed
        self._subscribed = False
        self._lost = False
        self._cursor = 0  # newest outbox row handed to paho on this connection
        self._backlog_end = 0  # newest outbox row stored before this connection came up
        self._gen = 0  # this connection's generation (in its Last Will and its status)
        self._inflight: dict[int, int] = {}  # paho mid -> outbox row
        self._done: list[int] = []  # mids paho reported published, not yet processed

    # -- state -----------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        """True once the birth message went out on the current connection."""
        return self._ready

    @property
    def inflight(self) -> int:
        """Messages handed to paho and not yet confirmed."""
        return len(self._inflight)

    @property
    def broker(self) -> tuple[str, int]:
        """(host, port) of the broker connected or tried now."""
        return self.config.broker.addresses[self.rotation.index]

    def take_failover(self) -> float | None:
        """Seconds of delivered events to send again, once, after a move to another broker."""
        window, self._failover_window = self._failover_window, None
        return window

    def idle_wait(self) -> float:
        """How long the caller may sleep before the next ``step`` is useful."""
        if self._client is not None:
            return 0.0  # ``step`` blocks in select itself
        return max(0.0, min(0.05, self._next_attempt - time.monotonic()))

    # -- the loop --------------------------------------------------------------------------
    def step(self, now: float, timeout: float = 0.05) -> None:
        """Do what is due: connect, read and write the socket, drain the outbox."""
        if self._client is None:
            if now >= self._next_attempt:
                self._connect(now)
            return
        if not self._connected and now - self._connecting_since > self._connack_timeout():
            log.warning("edge.connack_timeout", client=self.client_id)
            self._teardown(now)
            return
        busy = self._ready and self._has_more() and len(self._inflight) < self.inflight_limit
        rc = self._client.loop(timeout=0.0 if busy else timeout)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or self._lost:
            self._teardown(now)
            return
        if self._subscribed and not self._ready:
            self._publish_online(now)
        if self._ready:
            self._drain()
        self._settle()

    def close(self, clean: bool, timeout: float = 3.0) -> None:
        """End the connection: ``clean`` publishes ``offline`` and sends DISCONNECT; otherwise
        the socket is just closed, as if the agent died, so the broker sends the Last Will."""
        client, self._client = self._client, None
        if client is None:
            return
        if not clean or not self._connected:
            sock = client.socket()
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            return
        info = client.publish(self.status_topic, self._status("offline"), qos=1, retain=True)
        deadline = time.monotonic() + timeout
        while not info.is_published() and time.monotonic() < deadline:
            if client.loop(timeout=0.05) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break
        self._settle()
        client.disconnect()  # written at once: the client is not in threaded mode

    # -- connection ------------------------------------------------------------------------
    def _connack_timeout(self) -> float:
        return max(5.0, float(self.config.broker.keepalive_s))

    def _connect(self, now: float) -> None:
        broker = self.config.broker
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                             clean_session=True, protocol=paho.MQTTv311)
        client.connect_timeout = 5.0
        client.max_inflight_messages_set(self.inflight_limit)
        client.max_queued_messages_set(0)
        if broker.username:
            client.username_pw_set(broker.username, broker.secret())
        if broker.tls is not None:
            client.tls_set(ca_certs=str(broker.tls.ca_file),
                           certfile=str(broker.tls.cert_file) if broker.tls.cert_file else None,
                           keyfile=str(broker.tls.key_file) if broker.tls.key_file else None)
        # The Last Will: the broker publishes it when we vanish without DISCONNECT [MQTT-3.1.2-8].
        self._gen = self.outbox.next_connection(int(time.time() * 1000))
        client.will_set(self.status_topic, self._status("offline"), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        self._reset_connection_state()
        try:
            client.connect(*self.broker, keepalive=broker.keepalive_s)
        except (OSError, ValueError) as exc:
            self._schedule_retry(now, f"{type(exc).__name__}: {exc}")
            return
        self._client = client
        self._connecting_since = now

    def _reset_connection_state(self) -> None:
        self._connected = self._ready = self._subscribed = self._lost = False
        self._cursor = self._backlog_end = 0
        self._inflight.clear()
        self._done.clear()

    def _teardown(self, now: float) -> None:
        self._settle()  # what was confirmed before the loss is delivered
        client, self._client = self._client, None
        was_ready = self._ready
        self._reset_connection_state()
        if client is not None:
            sock = client.socket()
            if sock is not None:
                sock.close()
        if was_ready:
            self._lost_wall = time.time()
            log.warning("edge.connection_lost", client=self.client_id, pending=len(self.outbox))
        self._schedule_retry(now, "connection lost" if was_ready else "no connection",
                             lost=was_ready)

    def _schedule_retry(self, now: float, why: str, *, lost: bool = False) -> None:
        delay = self.rotation.lost(now) if lost else self.rotation.failed(now)
        self._next_attempt = now + delay
        host, port = self.broker
        log.info("edge.reconnect_scheduled", client=self.client_id, in_s=round(delay, 2),
                 round=self.rotation.round, broker=f"{host}:{port}", reason=why)

    def _publish_online(self, now: float) -> None:
        assert self._client is not None
        self._client.publish(self.status_topic, self._status("online"), qos=1, retain=True)
        self._backlog_end = self.outbox.last_row
        self._ready = True
        self.rotation.connected(now)
        if self._online_broker is not None and self._online_broker != self.rotation.index:
            self._failover_window = time.time() - self._lost_wall + FAILOVER_MARGIN_S
        self._online_broker = self.rotation.index
        host, port = self.broker
        log.info("edge.online", client=self.client_id, broker=f"{host}:{port}",
                 pending=len(self.outbox))

    def _status(self, state: str) -> bytes:
        ts = int(time.time() * 1000)
        if state == "online":
            return messages.status(ts=ts, state=state, gen=self._gen,
                                   version=self.version or None)
        return messages.status(ts=ts, state=state, gen=self._gen)

    # -- the outbox ------------------------------------------------------------------------
    def _has_more(self) -> bool:
        return self.outbox.last_row > self._cursor

    def _drain(self) -> None:
        assert self._client is not None
        while self._has_more():
            room = self.inflight_limit - len(self._inflight)
            if room <= 0:
                return
            rows = self.outbox.pending(self._cursor, room)
            if not rows:
                self._cursor = self.outbox.last_row
                return
            for row in rows:
                qos = max(row.qos, 1) if row.row <= self._backlog_end else row.qos
                info = self._client.publish(row.topic, row.payload, qos=qos, retain=row.retain)
                if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    self._lost = True
                    return
                self._inflight[info.mid] = row.row
                self._cursor = row.row

    def _settle(self) -> None:
        """Remove from the outbox every message paho confirmed."""
        if not self._done:
            return
        rows = [self._inflight.pop(mid) for mid in self._done if mid in self._inflight]
        self._done.clear()
        self.outbox.remove(rows)

    # -- paho callbacks (run inside ``step``, in the agent's thread) -------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("edge.connect_refused", client=self.client_id, reason=reason_code)
            self._lost = True
            return
        self._connected = True
        self.connects += 1
        # Re-subscribe on every connect: a clean session starts with no subscriptions.
        client.subscribe(self.command_filter, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("edge.subscribe_refused", client=self.client_id, filter=self.command_filter)
            self._lost = True  # not online: end this connection, try again after a backoff
            return
        self._subscribed = True

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._lost = True

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._done.append(mid)

    def _on_message(self, client, userdata, message: paho.MQTTMessage) -> None:
        if message.retain:
            return  # a retained command is stale by definition; never act on one
        try:
            decoded = decode(message.topic, message.payload)
        except Rejected as exc:
            log.warning("edge.command_rejected", reason=exc.reason, detail=exc.detail)
            return
        if decoded.topic.kind != "cmd":
            return
        try:
            self.on_command(decoded)
        except Exception:  # a bad command must never take the link down
            log.exception("edge.command_failed", topic=message.topic)
