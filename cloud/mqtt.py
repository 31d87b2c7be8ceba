"""The cloud's MQTT connection settings, one place for ingest, commands and the console."""
from __future__ import annotations

import select
import ssl
import struct
import time
import uuid
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.client import PUBACK, _ConnectionState
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cloud.settings import CloudSettings
from etapalvelu.logs import event_log
from protocol.brokers import BrokerRotation, host_port

log = event_log(__name__)
SESSION_EXPIRY_S = 24 * 3600
PAUSE_POLL_S = 0.05  # how soon a paused client notices that it may read again
# Reconnect backoff of the cloud's own clients. paho's own (doubling from 0.5 s, no jitter)
# had grown to 8 s by the end of a 10 s broker restart, so the ingest came back 5.5 s after
# the broker. While the broker was seen within RECENT_S the wait stays under RECENT_CAP_S:
# back within about a second, and a handful of cloud processes at one try a second each do
# not hammer a broker that is starting. Past that, the long cap of a real outage.
RECONNECT_LOW_S = 0.25
RECONNECT_CAP_S = 30.0
RECENT_S = 120.0
RECENT_CAP_S = 1.0


class CloudClient(mqtt.Client):
    """paho's client tuned for the ingest rate; overrides internals of paho 2.x (pinned < 3).

    - Reads the socket in 64 KiB chunks and handles every packet in the chunk (and the rest of
      one that runs past it) before returning to ``select()``: stock paho reads one packet per
      ``select()``, its fixed header byte by byte, and those system calls cost more than
      processing the messages.
    - ``ack_many`` sends a batch's PUBACKs as one write instead of one write (and one wake-up
      of the network thread) each.
    - Hands every message to ``on_message`` without the per-topic callback lookup, which the
      cloud does not use; with ``on_raw_message`` set, MQTT 3.1.1 PUBLISH packets at QoS 0
      and 1 are parsed here and handed over as (topic bytes, payload, qos, packet id, retain)
      without building paho's message object.
    - Stops reading the socket while ``reading_paused()`` holds (the ingest's inbox is full):
      the broker's writes then wait in TCP buffers and its own queue, within its bounds, and
      PUBACKs wait for the commits. PUBACKs and pings still go out meanwhile.
    - Reconnects through the list of brokers (``use_brokers``): a failure moves to the next,
      with the jittered backoff of ``protocol.brokers.BrokerRotation`` per round instead of
      paho's doubling delay.
    """

    on_raw_message = None  # callable(topic: bytes, payload: bytes, qos, mid, retain)
    reading_paused = None  # callable() -> bool

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._chunk, self._chunk_pos = b"", 0
        self.brokers: list[tuple[str, int]] = []
        self.rotation = BrokerRotation(1, RECONNECT_LOW_S, RECONNECT_CAP_S, recent_s=RECENT_S,
                                       recent_high=RECENT_CAP_S)
        self._was_connected = False

    def use_brokers(self, brokers: list[tuple[str, int]]) -> None:
        """The brokers (host, port) to connect to, in order of preference."""
        self.brokers = list(brokers)
        self.rotation.count = max(1, len(self.brokers))

    def _handle_connack(self) -> mqtt.MQTTErrorCode:
        result = super()._handle_connack()
        if self._state == _ConnectionState.MQTT_CS_CONNECTED:
            self._was_connected = True
            self.rotation.connected(time.monotonic())
        return result

    def _reconnect_wait(self) -> None:
        """Wait before the next attempt, then aim it at the next broker of the list."""
        now = time.monotonic()
        if self._was_connected:
            self._was_connected = False
            delay = self.rotation.lost(now)
        else:
            delay = self.rotation.failed(now)
        if self.brokers:
            self._host, self._port = self.brokers[self.rotation.index]
        log.info("mqtt.reconnect_scheduled", client=self._client_id.decode(), in_s=round(delay, 2),
                 broker=f"{self._host}:{self._port}", round=self.rotation.round)
        deadline = now + delay
        while (self._state not in (_ConnectionState.MQTT_CS_DISCONNECTING,
                                   _ConnectionState.MQTT_CS_DISCONNECTED)
               and not self._thread_terminate and time.monotonic() < deadline):
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._chunk_pos >= len(self._chunk):
            data = super()._sock_recv(65536)  # raises BlockingIOError when nothing waits
            if not data:
                return data  # the broker closed the connection
            self._chunk, self._chunk_pos = data, 0
        part = self._chunk[self._chunk_pos:self._chunk_pos + bufsize]
        self._chunk_pos += len(part)
        return part

    def _sock_close(self) -> None:
        self._chunk, self._chunk_pos = b"", 0  # bytes of a dead connection mean nothing
        super()._sock_close()

    def ack_many(self, mids: list[int]) -> None:
        """Acknowledge QoS 1 messages (``manual_ack``) in one write."""
        if mids:
            packets = b"".join(struct.pack("!BBH", PUBACK, 2, mid) for mid in mids)
            self._packet_queue(PUBACK, packets, 0, 0)

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        command, packet = self._in_packet["command"], self._in_packet["packet"]
        qos = (command & 0x06) >> 1
        if self.on_raw_message is None or qos > 1 or self._protocol == mqtt.MQTTv5:
            return super()._handle_publish()
        (length,) = struct.unpack_from("!H", packet)
        position = 2 + length
        mid = 0
        if qos:
            (mid,) = struct.unpack_from("!H", packet, position)
            position += 2
        self.on_raw_message(packet[2:2 + length], packet[position:], qos, mid,
                            bool(command & 0x01))
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    def _handle_on_message(self, message: mqtt.MQTTMessage) -> None:
        if self.on_message is not None:
            self.on_message(self, self._userdata, message)

    def _paused(self) -> bool:
        return self.reading_paused is not None and self.reading_paused()

    def _loop(self, timeout: float = 1.0) -> mqtt.MQTTErrorCode:
        if self._sock is None:
            return super()._loop(timeout)
        if not self._paused():
            if self._chunk_pos < len(self._chunk):  # read before a pause: handle it first
                rc = self.loop_read()
                if rc or self._sock is None:
                    return rc
                timeout = 0.0
            return super()._loop(timeout)
        # Reading paused: wait only for our own writes (PUBACKs) and the wake-up pipe. Bytes
        # from the broker stay unread, so the keep-alive must not count their absence: the
        # check resumes with reading.
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        wlist = [self._sock] if self.want_write() else []
        rlist = [self._sockpairR] if self._sockpairR is not None else []
        try:
            _, writable, _ = select.select(rlist, wlist, [], min(timeout, PAUSE_POLL_S))
        except (OSError, ValueError, TypeError):
            return mqtt.MQTTErrorCode.MQTT_ERR_CONN_LOST
        if self._sockpairR is not None:
            try:
                self._sockpairR.recv(10000)
            except BlockingIOError:
                pass
        if writable:
            rc = self.loop_write()
            if rc or self._sock is None:
                return rc
        return self.loop_misc()

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        result = super().loop_read(max_packets)
        while (result == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS and self._sock is not None
               and self._chunk_pos < len(self._chunk) and not self._paused()):
            result = super().loop_read(1)
        return result


def make_client(settings: CloudSettings, client_id: str | None = None, *,
                persistent: bool = False, manual_ack: bool = False) -> CloudClient:
    """A paho client configured from settings (auth, TLS, protocol); not yet connected.

    ``persistent`` keeps the broker-side session, so QoS 1 messages wait for a restarted worker.
    """
    v5 = settings.mqtt_protocol == "5"
    client = CloudClient(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id or f"cloud-{uuid.uuid4().hex[:12]}",
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        clean_session=None if v5 else not persistent,
        manual_ack=manual_ack,
    )
    if settings.broker_username:
        password = settings.broker_password.get_secret_value() if settings.broker_password else None
        client.username_pw_set(settings.broker_username, password)
    if urlsplit(settings.broker_urls[0]).scheme == "mqtts":
        client.tls_set(ca_certs=settings.broker_ca_file and str(settings.broker_ca_file),
                       certfile=settings.broker_cert_file and str(settings.broker_cert_file),
                       keyfile=settings.broker_key_file and str(settings.broker_key_file),
                       tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.use_brokers([host_port(url) for url in settings.broker_urls])
    return client


def connect(client: mqtt.Client, settings: CloudSettings, *, persistent: bool = False,
            keepalive: int = 30, receive_maximum: int = 65535) -> None:
    """Connect asynchronously to the first broker of the list; paho's loop reconnects after
    a loss, through the list (``CloudClient._reconnect_wait``).

    ``receive_maximum`` bounds the unacknowledged QoS 1 messages an MQTT 5 broker sends us."""
    host, port = host_port(settings.broker_urls[0])
    if settings.mqtt_protocol == "5":
        properties = Properties(PacketTypes.CONNECT)
        properties.ReceiveMaximum = min(65535, receive_maximum)  # acks wait for the commit
        if persistent:
            properties.SessionExpiryInterval = SESSION_EXPIRY_S
        client.connect_async(host, port, keepalive=keepalive,
                             clean_start=not persistent, properties=properties)
    else:
        client.connect_async(host, port, keepalive=keepalive)
