"""Faults of the network for tests: a TCP proxy that breaks the link between a client and a
server without stopping the server, and a UDP relay (``UdpRelay``, below) that loses and
delays datagrams.

    with TcpProxy(broker.port) as proxy:
        agent = start_agent(f"mqtt://127.0.0.1:{proxy.port}")
        proxy.cut()        # close every connection; new ones are closed at once
        proxy.blackhole()  # keep the sockets open but let nothing through (a dead link)
        proxy.restore()    # forward again
        proxy.impair(loss=0.2, delay_s=0.1)  # forward late; a "lost" segment waits an RTO

Modes:
- ``cut()``: every open connection is closed (both sides see a FIN); new connections are
  accepted and closed at once, like a server host that refuses.
- ``blackhole()``: open connections stay open but bytes in both directions are read and thrown
  away; new connections are accepted but never reach the target. Peers notice only through
  their own timeouts (keep-alive), as with a pulled cable.
- ``restore()``: new connections are forwarded again. Blackholed connections are closed, since
  bytes were lost inside them; a cut has already closed its connections.
- ``impair(loss, delay_s, rto_s)``: forward every chunk ``delay_s`` late, and a ``loss`` share
  of them another ``rto_s`` later (what TCP makes of a lost segment: a retransmission, with
  everything behind it waiting). Order holds in each direction. ``restore()`` ends it.

One selector thread serves every connection; the mode changes run on that thread, so a call
returns only when the change took effect.
"""
from __future__ import annotations

import heapq
import queue
import random
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field

FORWARD, CUT, BLACKHOLE = "forward", "cut", "blackhole"


@dataclass
class _Pair:
    client: socket.socket
    upstream: socket.socket | None
    blackholed: bool = False
    peers: dict = field(default_factory=dict)


class TcpProxy:
    """A TCP proxy from ``127.0.0.1:port`` to ``target_host:target_port``."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.mode = FORWARD
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._requests: queue.Queue = queue.Queue()
        self._pairs: list[_Pair] = []
        self._impairment = (0.0, 0.0, 0.0)  # loss, delay_s, rto_s
        self._late: list = []  # heap of (due, n, peer, data, pair)
        self._due: dict[socket.socket, float] = {}  # the last due time per destination
        self._late_count = 0
        self.accepted = 0  # connections accepted, ever (tests check reconnects with it)
        self._thread = threading.Thread(target=self._serve, daemon=True, name="tcp-proxy")
        self._running = True
        self._thread.start()

    # -- public API --------------------------------------------------------------------------
    @property
    def connections(self) -> int:
        """Connections currently open through the proxy."""
        return self._call(lambda: len(self._pairs))

    def cut(self) -> None:
        """Close every connection and refuse new ones until ``restore``."""
        self._call(lambda: self._set_mode(CUT))

    def blackhole(self) -> None:
        """Keep connections open but forward nothing, until ``restore``."""
        self._call(lambda: self._set_mode(BLACKHOLE))

    def impair(self, *, loss: float = 0.0, delay_s: float = 0.0, rto_s: float = 0.2) -> None:
        """Forward with delay and TCP-like loss (see the module's docstring)."""
        def apply() -> None:
            self._set_mode(FORWARD)
            self._impairment = (loss, delay_s, rto_s)
        self._call(apply)

    def restore(self) -> None:
        """Forward new connections again (blackholed ones are closed)."""
        self._call(lambda: self._set_mode(FORWARD))

    def close(self) -> None:
        """Stop the proxy and close every socket."""
        if not self._running:
            return
        self._call(self._shutdown)
        self._thread.join(5)
        self._wake_w.close()

    def __enter__(self) -> TcpProxy:  # noqa: PYI034 - no subclasses
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the selector thread -----------------------------------------------------------------
    def _call(self, func, timeout: float = 5.0):
        done: queue.Queue = queue.Queue()
        self._requests.put((func, done))
        self._wake_w.send(b"x")
        ok, value = done.get(timeout=timeout)
        if not ok:
            raise value
        return value

    def _serve(self) -> None:
        while self._running:
            self._send_due()
            wait = min(1.0, max(0.0, self._late[0][0] - time.monotonic())) if self._late else 1.0
            for key, _ in self._selector.select(timeout=wait):
                if not self._running:
                    break
                if key.data == "wake":
                    self._run_requests()
                elif key.data is None:
                    self._accept()
                else:
                    self._pump(key.fileobj, key.data)

    def _run_requests(self) -> None:
        try:
            self._wake_r.recv(4096)
        except BlockingIOError:
            pass
        while True:
            try:
                func, done = self._requests.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((True, func()))
            except Exception as exc:  # noqa: BLE001 - handed to the caller's thread
                done.put((False, exc))

    def _set_mode(self, mode: str) -> None:
        self.mode = mode
        self._impairment = (0.0, 0.0, 0.0)
        for pair in list(self._pairs):
            if mode == CUT or (mode == FORWARD and pair.blackholed):
                self._close(pair)
            elif mode == BLACKHOLE:
                pair.blackholed = True

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        self.accepted += 1
        if self.mode == CUT:
            client.close()
            return
        upstream = None
        if self.mode == FORWARD:
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                return
        pair = _Pair(client, upstream, blackholed=self.mode == BLACKHOLE)
        self._pairs.append(pair)
        for sock, peer in ((client, upstream), (upstream, client)):
            if sock is not None:
                sock.setblocking(True)
                pair.peers[sock] = peer
                self._selector.register(sock, selectors.EVENT_READ, pair)

    def _pump(self, sock: socket.socket, pair: _Pair) -> None:
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._close(pair)
            return
        peer = pair.peers.get(sock)
        if pair.blackholed or peer is None:
            return  # swallowed, as a dead link would
        loss, delay_s, rto_s = self._impairment
        if loss or delay_s or self._due.get(peer, 0.0) > time.monotonic():
            due = time.monotonic() + delay_s + (rto_s if random.random() < loss else 0.0)
            due = max(due, self._due.get(peer, 0.0))  # nothing overtakes what waits
            self._due[peer] = due
            self._late_count += 1
            heapq.heappush(self._late, (due, self._late_count, peer, data, pair))
            return
        try:
            peer.sendall(data)
        except OSError:
            self._close(pair)

    def _send_due(self) -> None:
        now = time.monotonic()
        while self._late and self._late[0][0] <= now:
            _, _, peer, data, pair = heapq.heappop(self._late)
            if pair not in self._pairs:
                continue  # closed meanwhile: its bytes are gone with it
            try:
                peer.sendall(data)
            except OSError:
                self._close(pair)

    def _close(self, pair: _Pair) -> None:
        if pair in self._pairs:
            self._pairs.remove(pair)
        for sock in (pair.client, pair.upstream):
            if sock is None:
                continue
            self._due.pop(sock, None)
            try:
                self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _shutdown(self) -> None:
        for pair in list(self._pairs):
            self._close(pair)
        self._running = False
        self._selector.close()
        self._listener.close()
        self._wake_r.close()


class UdpRelay:
    """A UDP relay from ``127.0.0.1:port`` to ``target_host:target_port`` that loses and delays
    datagrams, as a poor link does (this kernel has no netem).

        with UdpRelay(turn.port, loss=0.2, delay_s=0.075) as relay:
            ...  # clients send to 127.0.0.1:relay.port

    Each client address gets its own upstream socket (a NAT binding), so the target sees one
    peer per client and its answers go back to the right client. Every datagram, in either
    direction, is dropped with probability ``loss`` and otherwise delivered ``delay_s`` later
    (plus up to ``jitter_s``, uniformly): a round trip through the relay costs two delays and
    survives with ``(1 - loss) ** 2``. ``seed`` makes the losses repeatable.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1", *, loss: float = 0.0,
                 delay_s: float = 0.0, jitter_s: float = 0.0, seed: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.loss, self.delay_s, self.jitter_s = loss, delay_s, jitter_s
        self._random = random.Random(seed)
        self._front = _udp_socket()
        self._front.setblocking(False)
        self.port: int = self._front.getsockname()[1]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._front, selectors.EVENT_READ, None)
        self._upstream: dict[tuple, socket.socket] = {}  # client address -> its socket
        self._due: list[tuple[float, int, socket.socket, bytes, tuple]] = []  # a heap
        self._lock = threading.Lock()
        self._order = 0
        self.forwarded = self.dropped = 0
        self._running = True
        self._thread = threading.Thread(target=self._serve, daemon=True, name="udp-relay")
        self._thread.start()

    def impair(self, *, loss: float | None = None, delay_s: float | None = None,
               jitter_s: float | None = None) -> None:
        """Change the impairment of datagrams from now on."""
        with self._lock:
            self.loss = self.loss if loss is None else loss
            self.delay_s = self.delay_s if delay_s is None else delay_s
            self.jitter_s = self.jitter_s if jitter_s is None else jitter_s

    def close(self) -> None:
        """Stop relaying and close every socket."""
        if not self._running:
            return
        self._running = False
        self._thread.join(5)
        for sock in (self._front, *self._upstream.values()):
            sock.close()
        self._selector.close()

    def __enter__(self) -> UdpRelay:  # noqa: PYI034 - no subclasses
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _serve(self) -> None:
        while self._running:
            now = time.monotonic()
            while self._due and self._due[0][0] <= now:
                _, _, sock, data, to = heapq.heappop(self._due)
                try:
                    sock.sendto(data, to)
                except OSError:
                    pass  # as a link would: the datagram is gone
            wait = min(0.05, self._due[0][0] - now) if self._due else 0.05
            for key, _ in self._selector.select(timeout=max(wait, 0)):
                self._receive(key.fileobj, key.data)

    def _receive(self, sock: socket.socket, client: tuple | None) -> None:
        try:
            data, sender = sock.recvfrom(65536)
        except OSError:
            return
        if client is None:  # from a client, towards the target
            out, to = self._socket_for(sender), self.target
        else:  # from the target, back to the client it answers
            out, to = self._front, client
        self._schedule(out, data, to)

    def _socket_for(self, client: tuple) -> socket.socket:
        sock = self._upstream.get(client)
        if sock is None:
            sock = _udp_socket()
            sock.setblocking(False)
            self._upstream[client] = sock
            self._selector.register(sock, selectors.EVENT_READ, client)
        return sock

    def _schedule(self, sock: socket.socket, data: bytes, to: tuple) -> None:
        with self._lock:
            loss, delay, jitter = self.loss, self.delay_s, self.jitter_s
        if self._random.random() < loss:
            self.dropped += 1
            return
        self.forwarded += 1
        self._order += 1
        at = time.monotonic() + delay + (self._random.uniform(0, jitter) if jitter else 0.0)
        heapq.heappush(self._due, (at, self._order, sock, data, to))


def _udp_socket() -> socket.socket:
    """A loopback UDP socket whose buffer holds a burst: the relay loses only what it means to."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 2**20)
    sock.bind(("127.0.0.1", 0))
    return sock
