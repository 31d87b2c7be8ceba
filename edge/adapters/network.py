"""The room's network link, judged by reaching the broker."""
from __future__ import annotations

import socket
import time
from typing import ClassVar

from edge.adapters.base import OK, Adapter, Emit, Reading, SimAdapter


class SimNetwork(SimAdapter):
    """A simulated link: ``loss`` cuts it, ``degraded`` makes it slow."""

    device = "network"
    FAULTS: ClassVar[dict[str, Reading]] = {
        "loss": Reading("fault", "link_down", "broker unreachable"),
        "degraded": Reading("degraded", "high_latency", "round trip over the limit"),
    }

    def read_telemetry(self) -> dict[str, int | float]:
        if self.has("loss"):
            return {"reachable": 0}
        return {"reachable": 1, "rtt_ms": 420.0 if self.has("degraded") else 12.0}


def tcp_connect_ms(host: str, port: int, timeout_s: float) -> float | None:
    """Milliseconds a TCP connect to host:port takes, or None when it fails."""
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return (time.perf_counter() - started) * 1000
    except OSError:
        return None


class LinuxNetwork(Adapter):
    """The real link: reachability and TCP connect latency to the broker, probed at most
    once per ``probe_every_s`` (health and telemetry share a probe)."""

    device = "network"

    def __init__(self, emit: Emit, host: str, port: int, degraded_rtt_ms: float = 150.0,
                 timeout_s: float = 2.0, probe_every_s: float = 5.0) -> None:
        super().__init__(emit)
        self.host, self.port = host, port
        self.degraded_rtt_ms = degraded_rtt_ms
        self.timeout_s = timeout_s
        self.probe_every_s = probe_every_s
        self._probed_at = float("-inf")
        self._rtt: float | None = None

    def _probe(self) -> float | None:
        now = time.monotonic()
        if now - self._probed_at >= self.probe_every_s:
            self._rtt = tcp_connect_ms(self.host, self.port, self.timeout_s)
            self._probed_at = now
        return self._rtt

    def read_health(self) -> Reading:
        rtt = self._probe()
        if rtt is None:
            return Reading("fault", "link_down", f"no TCP connection to the broker port {self.port}")
        if rtt > self.degraded_rtt_ms:
            return Reading("degraded", "high_latency", f"connect took {rtt:.0f} ms")
        return OK

    def read_telemetry(self) -> dict[str, int | float]:
        rtt = self._probe()
        return {"reachable": 0} if rtt is None else {"reachable": 1, "rtt_ms": round(rtt, 2)}
