"""The test proxy itself: forwards, cuts, blackholes and restores."""
from __future__ import annotations

import socket
import threading

import pytest

from tests.netfault import TcpProxy


@pytest.fixture
def echo_server():
    """A TCP echo server on a free loopback port."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve_one(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    stop.set()
    server.close()


def roundtrip(port: int, data: bytes = b"ping", timeout: float = 2.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return sock.recv(4096)


def closed_at_once(port: int) -> bool:
    """Whether a new connection is closed without an answer (FIN or RST)."""
    try:
        return roundtrip(port) == b""
    except ConnectionResetError:
        return True


def test_proxy_forwards_until_cut_and_again_after_restore(echo_server):
    with TcpProxy(echo_server) as proxy:
        assert roundtrip(proxy.port) == b"ping"
        held = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
        held.sendall(b"a")
        assert held.recv(10) == b"a"
        proxy.cut()
        assert held.recv(10) == b""  # the open connection was closed
        assert closed_at_once(proxy.port)  # and new ones are closed at once
        proxy.restore()
        assert roundtrip(proxy.port) == b"ping"
        held.close()


def test_blackhole_keeps_connections_open_but_silent(echo_server):
    with TcpProxy(echo_server) as proxy:
        held = socket.create_connection(("127.0.0.1", proxy.port), timeout=2)
        proxy.blackhole()
        held.sendall(b"lost")
        held.settimeout(0.3)
        with pytest.raises(socket.timeout):
            held.recv(10)
        assert proxy.connections == 1
        proxy.restore()
        held.settimeout(2)
        assert held.recv(10) == b""  # bytes were lost inside it: closed on restore
        assert roundtrip(proxy.port) == b"ping"
        held.close()
