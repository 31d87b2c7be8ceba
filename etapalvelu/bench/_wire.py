"""A minimal MQTT 3.1.1 publisher for load generation: packets are encoded by hand and written
in large batches, so one process offers tens of thousands of messages per second (paho's
per-message overhead would make the load generator, not the system, the bottleneck)."""
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


def connect_packet(client_id: str, keepalive: int = 60) -> bytes:
    """CONNECT with a clean session."""
    body = _string(b"MQTT") + bytes([4, 0x02]) + struct.pack("!H", keepalive)
    body += _string(client_id.encode())
    return bytes([0x10]) + _remaining_length(len(body)) + body


def publish_packet(topic: str, payload: bytes, qos: int, packet_id: int) -> bytes:
    """PUBLISH at QoS 0 or 1."""
    body = _string(topic.encode()) + (struct.pack("!H", packet_id) if qos else b"") + payload
    return bytes([0x30 | (qos << 1)]) + _remaining_length(len(body)) + body


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
