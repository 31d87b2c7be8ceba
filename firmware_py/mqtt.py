"""A small MQTT 3.1.1 client in the style of MicroPython's ``umqtt.simple``.

What the firmware needs beyond ``umqtt.simple``: QoS 1 publishes that do not block until the
PUBACK (the caller keeps its own retry queue and matches acknowledgements by packet id),
the DUP flag on a resend, a non-blocking ``poll`` for commands and acknowledgements, and
``close`` without DISCONNECT so the broker publishes the Last Will [MQTT-3.1.2-8].
"""
import select
import socket

CONNECT, CONNACK, PUBLISH, PUBACK = 0x10, 0x20, 0x30, 0x40
SUBSCRIBE, SUBACK, PINGREQ, PINGRESP, DISCONNECT = 0x82, 0x90, 0xC0, 0xD0, 0xE0


class MqttError(OSError):
    """The connection failed or the broker refused it; the link is to be opened again."""


def _string(value):
    data = value if isinstance(value, bytes) else value.encode()
    return bytes([len(data) >> 8, len(data) & 0xFF]) + data


def _remaining_length(length):
    out = bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        out.append(byte | 0x80 if length else byte)
        if not length:
            return bytes(out)


def _packet(first_byte, body):
    return bytes([first_byte]) + _remaining_length(len(body)) + body


class Will:
    """The Last Will the broker publishes if the device vanishes without a DISCONNECT."""

    def __init__(self, topic, payload, qos=1, retain=True):
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain


class MqttClient:
    """One connection to the broker. ``on_message(topic, payload)`` gets PUBLISH packets,
    ``on_puback(packet_id)`` the broker's acknowledgements of our QoS 1 messages."""

    def __init__(self, client_id, host, port, now_ms, user=None, password=None,
                 keepalive_s=60, ssl_context=None, timeout_s=5):
        self.client_id = client_id
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.keepalive_s = keepalive_s
        self.ssl_context = ssl_context
        self.timeout_s = timeout_s
        self.on_message = None
        self.on_puback = None
        self._now_ms = now_ms
        self._sock = None
        self._poller = None
        self._pid = 0
        self._sent_at = 0
        self._heard_at = 0

    def connect(self, clean_session=True, will=None):
        """Open the connection; return whether the broker kept our session."""
        addr = socket.getaddrinfo(self.host, self.port, 0, socket.SOCK_STREAM)[0][-1]
        sock = socket.socket()
        sock.settimeout(self.timeout_s)
        try:
            sock.connect(addr)
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(sock, server_hostname=self.host)
        except Exception:
            sock.close()
            raise
        self._sock = sock
        self._poller = select.poll()
        self._poller.register(sock, select.POLLIN)
        flags = 0x02 if clean_session else 0
        payload = _string(self.client_id)
        if will is not None:
            flags |= 0x04 | (will.qos << 3) | (0x20 if will.retain else 0)
            payload += _string(will.topic) + _string(will.payload)
        if self.user is not None:
            flags |= 0x80
            payload += _string(self.user)
        if self.password is not None:
            flags |= 0x40
            payload += _string(self.password)
        header = _string(b"MQTT") + bytes([4, flags, self.keepalive_s >> 8,
                                           self.keepalive_s & 0xFF])
        self._write(_packet(CONNECT, header + payload))
        kind, body = self._read_packet()
        if kind != CONNACK or len(body) != 2:
            self.close()
            raise MqttError("expected CONNACK")
        if body[1] != 0:
            self.close()
            raise MqttError("connection refused, code %d" % body[1])
        return bool(body[0] & 1)

    @property
    def connected(self):
        """Whether a connection is open."""
        return self._sock is not None

    def next_packet_id(self):
        """A packet id for a QoS 1 message, 1..65535."""
        self._pid = self._pid % 65535 + 1
        return self._pid

    def publish(self, topic, payload, qos=0, retain=False, packet_id=None, dup=False):
        """Send a PUBLISH; for QoS 1 return the packet id whose PUBACK confirms it."""
        body = _string(topic)
        if qos:
            packet_id = packet_id or self.next_packet_id()
            body += bytes([packet_id >> 8, packet_id & 0xFF])
        first = PUBLISH | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0)
        self._write(_packet(first, body + payload))
        return packet_id

    def subscribe(self, topic_filter, qos=1):
        """Send a SUBSCRIBE; the SUBACK is consumed by ``poll``."""
        packet_id = self.next_packet_id()
        body = bytes([packet_id >> 8, packet_id & 0xFF]) + _string(topic_filter) + bytes([qos])
        self._write(_packet(SUBSCRIBE, body))

    def poll(self):
        """Handle every packet waiting on the socket and keep the connection alive."""
        while self._sock is not None and self._poller.poll(0):
            self._handle(*self._read_packet())
        now = self._now_ms()
        if now - self._heard_at > self.keepalive_s * 1500:
            self.close()
            raise MqttError("broker silent past keepalive")
        if now - self._sent_at >= self.keepalive_s * 500:
            self._write(bytes([PINGREQ, 0]))

    def disconnect(self):
        """Close cleanly: the broker discards the Last Will [MQTT-3.14.4-3]."""
        try:
            self._write(bytes([DISCONNECT, 0]))
        except OSError:
            pass
        self.close()

    def close(self):
        """Drop the connection without DISCONNECT, so the broker publishes the Last Will."""
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock = None
        self._poller = None

    def _handle(self, kind, body):
        if kind & 0xF0 == PUBLISH:
            qos = (kind >> 1) & 0x03
            length = (body[0] << 8) | body[1]
            topic = body[2:2 + length].decode()
            start = 2 + length
            if qos:
                packet_id = (body[start] << 8) | body[start + 1]
                start += 2
                self._write(bytes([PUBACK, 2, packet_id >> 8, packet_id & 0xFF]))
            if self.on_message is not None:
                self.on_message(topic, bytes(body[start:]))
        elif kind == PUBACK and self.on_puback is not None:
            self.on_puback((body[0] << 8) | body[1])
        elif kind == SUBACK and body[2] == 0x80:
            raise MqttError("subscription refused")

    def _write(self, data):
        if self._sock is None:
            raise MqttError("not connected")
        view = memoryview(data)
        try:
            while view:
                written = self._sock.write(view)
                if not written:
                    raise MqttError("connection closed")
                view = view[written:]
        except OSError:
            self.close()
            raise
        self._sent_at = self._now_ms()

    def _read_exact(self, count):
        data = b""
        while len(data) < count:
            chunk = self._sock.read(count - len(data))
            if not chunk:
                raise MqttError("connection closed by the broker")
            data += chunk
        return data

    def _read_packet(self):
        try:
            kind = self._read_exact(1)[0]
            length, shift = 0, 0
            while True:
                byte = self._read_exact(1)[0]
                length |= (byte & 0x7F) << shift
                shift += 7
                if not byte & 0x80:
                    break
            body = self._read_exact(length) if length else b""
        except OSError:
            self.close()
            raise
        self._heard_at = self._now_ms()
        return kind, body
