"""The uplink: Wi-Fi, then MQTT with jittered exponential backoff, the Last Will, the command
subscription, and the retry queue sent one message at a time until each is acknowledged.

With a broker pair (``broker.host`` a list), a failure moves to the next broker at once
(spread over ``backoff.min_ms``); the backoff applies per round through the list. The new
broker has no session of ours: the command subscription is sent on every connect anyway, and
the queue resends what the old broker did not acknowledge.

The session is persistent (clean session off, a fixed client id) so the broker keeps our
command subscription and queues commands while the device sleeps [MQTT-3.1.2-4]. Queued
messages are resent after a reconnect with the DUP flag [MQTT-4.4.0-1]; the cloud drops
duplicates by event id. The Last Will marks the device's health ``missing``/``offline``.
"""
import os

import wire
from console import log
from mqtt import MqttClient, MqttError, Will
from store import exists

WIFI_POLL_MS = 250


def backoff_ms(attempt, min_ms, max_ms, noise):
    """Delay before retry number ``attempt`` (0-based): doubling, capped, with ``noise`` in
    [0, 1) spreading it over its upper half so a room of devices does not reconnect at once."""
    delay = min(max_ms, min_ms << min(attempt, 16))
    return delay // 2 + int(delay // 2 * noise)


def _noise():
    return int.from_bytes(os.urandom(2), "big") / 65536


class Uplink:
    """Keeps the connection; ``tick(now)`` does the work of one loop pass."""

    def __init__(self, board, config, device, queue, clock, on_command, on_connected):
        self.board = board
        self.config = config
        self.device = device
        self.queue = queue
        self.clock = clock
        self.on_command = on_command
        self.on_connected = on_connected
        self.client = None
        self.down_since = board.now_ms()
        self._attempt = 0  # rounds through the broker list that failed
        self._broker = 0  # index of the broker tried or connected now
        self._tried = 0  # brokers tried in this round
        self._next_try = 0
        self._inflight = None  # (name, packet id, sent at)
        self._last_sent = None
        self._acked = set()
        self._ntp_tried = False

    @property
    def up(self):
        """Whether the MQTT connection is open."""
        return self.client is not None and self.client.connected

    def topic(self, kind, command=None):
        """A topic of this device."""
        return wire.topic(self.config.site, self.config.room, self.device, kind, command)

    def tick(self, now):
        """Connect when due, read incoming packets, send the next queued message."""
        if not self.up:
            if now >= self._next_try:
                self._connect(now)
            return
        try:
            self.client.poll()
            self._flush(now)
        except OSError as exc:
            self._lost(now, exc)

    def publish(self, kind, payload, qos=0, retain=False):
        """Publish at once without queueing (health, telemetry); False when not connected."""
        if not self.up:
            return False
        try:
            self.client.publish(self.topic(kind), payload, qos=qos, retain=retain)
            return True
        except OSError as exc:
            self._lost(self.board.now_ms(), exc)
            return False

    def close(self):
        """Disconnect cleanly before deep sleep: no Last Will, the session stays."""
        if self.client is not None:
            self.client.disconnect()
        self.client = None

    def _connect(self, now):
        config = self.config
        if not self.board.wifi_up(config.wifi_ssid, config.wifi_password):
            self._next_try = now + WIFI_POLL_MS
            return
        if not self._ntp_tried and self.clock.wall_ms() is None:
            self._ntp_tried = True
            log("ntp", ok=self.board.sync_time(config.ntp_host))
        ts = self.clock.stamp()[0]
        # seq 0 like the agent's Will: it is published later than any seq the device used
        will = Will(self.topic("health"), wire.health(ts, 0, "missing", "offline"))
        client = None
        try:
            host, port = config.brokers[self._broker]
            client = MqttClient(config.client_id, host, port, self.board.now_ms, config.mqtt_username, config.mqtt_password,
                                config.keepalive_s, self._ssl_context())
            client.on_message = self._message
            client.connect(clean_session=False, will=will)
            client.subscribe(self.topic("cmd", "+"), qos=1)
        except (OSError, IndexError, ValueError) as exc:  # IndexError: no address found
            if client is not None:
                client.close()
            delay = self._next_broker()
            log("mqtt_connect_failed", attempt=self._attempt + 1, retry_ms=delay,
                error=type(exc).__name__)
            self._next_try = now + delay
            return
        self.client = client
        self._attempt = self._tried = 0
        self._inflight = None
        self._acked = set()
        client.on_puback = self._acked.add
        log("mqtt_connected", down_ms=now - self.down_since, broker=self._broker,
            queued=len(self.queue))
        self.on_connected()

    def _ssl_context(self):
        config = self.config
        if not config.broker_tls:
            return None
        cert = config.path(config.broker_cert)
        if not exists(cert):
            return self.board.ssl_context(config.path(config.broker_ca))
        return self.board.ssl_context(config.path(config.broker_ca), cert,
                                      config.path(config.broker_key))

    def _lost(self, now, exc):
        log("mqtt_lost", error=type(exc).__name__)
        if self.client is not None:
            self.client.close()
        self.client = None
        self.down_since = now
        self._next_try = now + self._next_broker()

    def _next_broker(self):
        """Move to the next broker of the list; the wait before trying it (ms): a spread
        within a round, the round's backoff once every broker failed."""
        config = self.config
        self._broker = (self._broker + 1) % len(config.brokers)
        self._tried += 1
        if self._tried < len(config.brokers):
            return int(config.backoff_min_ms * _noise())
        self._tried = 0
        delay = backoff_ms(self._attempt, config.backoff_min_ms, config.backoff_max_ms, _noise())
        self._attempt += 1
        return delay

    def _message(self, topic_name, payload):
        command = wire.parse_command(topic_name, payload)
        if command is None:
            log("command_dropped", topic=topic_name)
            return
        log("command", name=command.name)
        self.on_command(command)

    def _flush(self, now):
        if self._inflight is not None:
            name, packet_id, sent_at = self._inflight
            if packet_id in self._acked:
                self._acked.discard(packet_id)
                self.queue.remove(name)
                self._inflight = None
                log("sent", message=name)
            elif now - sent_at > self.config.publish_timeout_ms:
                raise MqttError("no PUBACK in time")
            else:
                return
        head = self.queue.peek()
        if head is None:
            return
        name, topic_name, payload = head
        packet_id = self.client.publish(topic_name, payload, qos=1, dup=name == self._last_sent)
        self._inflight = (name, packet_id, now)
        self._last_sent = name
