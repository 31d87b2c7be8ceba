"""MQTT 3.1.1 packets written and read by hand, for load generation: a publisher that writes
in large batches, so one process offers tens of thousands of messages per second (paho's
per-message overhead would make the load generator, not the system, the bottleneck), and the
packets of the storm's room agents (CONNECT with Last Will and credentials, SUBSCRIBE, PUBACK,
PINGREQ; received packets split and PUBLISH read), thousands of connections in one loop."""
from __future__ import annotations

import socket
import struct
import threading


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(value: bytes) -> bytes:
    return struct.pack("!H", len(value)) + value


def connect_packet(client_id: str, keepalive: int = 60, *, username: str | None = None,
                   password: str | None = None,
                   will: tuple[str, bytes, int, bool] | None = None) -> bytes:
    """CONNECT (MQTT 3.1.1) with a clean session; ``will`` is (topic, payload, QoS, retain)."""
    flags, payload = 0x02, _string(client_id.encode())
    if will is not None:
        topic, message, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += _string(topic.encode()) + _string(message)
    if username is not None:
        flags |= 0x80
        payload += _string(username.encode())
    if password is not None:
        flags |= 0x40
        payload += _string(password.encode())
    body = _string(b"MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive) + payload
    return bytes([0x10]) + _remaining_length(len(body)) + body


def publish_packet(topic: str, payload: bytes, qos: int, packet_id: int,
                   retain: bool = False) -> bytes:
    """PUBLISH at QoS 0 or 1."""
    body = _string(topic.encode()) + (struct.pack("!H", packet_id) if qos else b"") + payload
    return bytes([0x30 | (qos << 1) | int(retain)]) + _remaining_length(len(body)) + body


def subscribe_packet(packet_id: int, topic_filter: str, qos: int = 1) -> bytes:
    """SUBSCRIBE to one filter."""
    body = struct.pack("!H", packet_id) + _string(topic_filter.encode()) + bytes([qos])
    return bytes([0x82]) + _remaining_length(len(body)) + body


def puback_packet(packet_id: int) -> bytes:
    """PUBACK of a QoS 1 PUBLISH we received."""
    return b"\x40\x02" + struct.pack("!H", packet_id)


PINGREQ = b"\xc0\x00"


def split_packets(buffer: bytearray) -> list[tuple[int, bytes]]:
    """Take every whole packet off the front of ``buffer``: (first byte, body) each."""
    packets = []
    while len(buffer) >= 2:
        length, multiplier, at = 0, 1, 1
        while True:
            if at >= len(buffer):
                return packets  # the length itself is not all here yet
            byte = buffer[at]
            length += (byte & 0x7F) * multiplier
            multiplier *= 128
            at += 1
            if not byte & 0x80:
                break
        if len(buffer) < at + length:
            return packets
        packets.append((buffer[0], bytes(buffer[at:at + length])))
        del buffer[:at + length]
    return packets


def read_publish(first: int, body: bytes) -> tuple[str, bytes, int, int]:
    """Topic, payload, QoS and packet id (0 at QoS 0) of a received PUBLISH."""
    qos = (first >> 1) & 0x03
    (length,) = struct.unpack_from("!H", body)
    topic = body[2:2 + length].decode()
    at = 2 + length
    packet_id = struct.unpack_from("!H", body, at)[0] if qos else 0
    return topic, body[at + (2 if qos else 0):], qos, packet_id


class RawPublisher:
    """One connection; ``send`` writes a batch; PUBACKs are counted by a reader thread."""

    WINDOW = 30_000  # unacknowledged QoS 1 messages allowed (packet ids must stay unique)

    def __init__(self, port: int, client_id: str) -> None:
        self._sock = socket.create_connection(("127.0.0.1", port))
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.sendall(connect_packet(client_id))
        if self._sock.recv(4)[:1] != b"\x20":
            raise ConnectionError("broker refused the connection")
        self.sent_qos1 = 0
        self.acked = 0
        self._acked = threading.Condition()
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def packet_id(self) -> int:
        """The next packet id, waiting while the window of unacknowledged ids is full."""
        with self._acked:
            self._acked.wait_for(lambda: self.sent_qos1 - self.acked < self.WINDOW, 60)
        self.sent_qos1 += 1
        self._next_id = self._next_id % 65535 + 1
        return self._next_id

    def send(self, packets: list[bytes]) -> None:
        self._sock.sendall(b"".join(packets))

    def wait_acked(self, timeout: float = 60) -> bool:
        with self._acked:
            return self._acked.wait_for(lambda: self.acked >= self.sent_qos1, timeout)

    def close(self) -> None:
        self._sock.sendall(b"\xe0\x00")  # DISCONNECT
        self._sock.close()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            whole = len(buffer) // 4 * 4  # the broker sends us only 4-byte PUBACKs
            if whole:
                with self._acked:
                    self.acked += whole // 4
                    self._acked.notify_all()
                buffer = buffer[whole:]
