"""The cloud's side of a probe: an aiortc peer that echoes pings, counts a burst and answers
with its counts; every peer is kept in a registry, closed when its connection fails or
closes, after ``max_duration_s`` at most, and all at once on shutdown (as aiortc's
``examples/server``)."""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from etapalvelu.logs import event_log

log = event_log(__name__)

PING, BURST = ord("p"), ord("b")


class UnusableOffer(ValueError):
    """An offer that cannot be answered: not SDP aiortc reads, or without a data channel."""


class ProbesBusy(RuntimeError):
    """Every probe slot of this replica is taken; the agent tries again at its next turn."""


@dataclass
class EchoCounts:
    """What the cloud received of one probe."""

    pings: int = 0
    burst_bytes: int = 0
    burst_first: float | None = None
    burst_last: float | None = None

    def take(self, message: bytes) -> bytes | None:
        """Count one message of the ``echo`` channel; return what to send back, if anything."""
        if not message:
            return None
        if message[0] == PING:
            self.pings += 1
            return message
        if message[0] == BURST:
            now = time.perf_counter()
            self.burst_first = self.burst_first if self.burst_first is not None else now
            self.burst_last = now
            self.burst_bytes += len(message)
        return None

    def as_dict(self) -> dict:
        """The counts as the agent asks for them."""
        span = (self.burst_last - self.burst_first) if self.burst_first is not None else 0.0
        return {"pings": self.pings, "burst_bytes": self.burst_bytes,
                "burst_span_ms": round(span * 1000, 3)}


class ProbePeers:
    """The peers of the probes under way on this replica, at most ``limit`` at once."""

    def __init__(self, limit: int, max_duration_s: float, stun_urls: list[str]) -> None:
        self.limit, self.max_duration_s, self.stun_urls = limit, max_duration_s, stun_urls
        self._peers: set = set()
        self.served = 0

    def __len__(self) -> int:
        return len(self._peers)

    async def answer(self, sdp: str, *, site: str, room: str) -> tuple[str, str]:
        """Answer an agent's offer with an echoing peer; return the answer's ``(sdp, type)``.
        Raises ``ProbesBusy`` when ``limit`` probes run already, ``UnusableOffer`` for an
        offer without a data channel or one aiortc cannot read."""
        from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription

        if len(self._peers) >= self.limit:
            raise ProbesBusy(f"{len(self._peers)} probes under way")
        pc = RTCPeerConnection(RTCConfiguration(
            iceServers=[RTCIceServer(urls=url) for url in self.stun_urls]))
        self._peers.add(pc)  # counted from here, so concurrent offers cannot overshoot
        self.served += 1
        try:
            self._serve(pc, site, room)
            await _take_offer(pc, RTCSessionDescription(sdp=sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception:
            await self._close(pc)
            raise
        asyncio.get_running_loop().call_later(
            self.max_duration_s, lambda: asyncio.ensure_future(self._close(pc)))
        return pc.localDescription.sdp, pc.localDescription.type

    def _serve(self, pc, site: str, room: str) -> None:
        counts = EchoCounts()

        @pc.on("datachannel")
        def on_channel(channel) -> None:
            if channel.label == "echo":
                channel.on("message", lambda m: _echo(channel, counts, m))
            elif channel.label == "control":
                channel.on("message", lambda m: _control(channel, counts, m))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                log.info("probe.closed", site=site, room=room, state=pc.connectionState,
                         pings=counts.pings)
                await self._close(pc)

    async def _close(self, pc) -> None:
        if pc in self._peers:
            self._peers.discard(pc)
            await pc.close()

    async def close_all(self) -> None:
        """Close every peer (shutdown)."""
        await asyncio.gather(*(self._close(pc) for pc in list(self._peers)))


async def _take_offer(pc, offer) -> None:
    try:
        await pc.setRemoteDescription(offer)
    except Exception as exc:  # noqa: BLE001 - aiortc's parser asserts as well as it raises
        raise UnusableOffer(f"{type(exc).__name__}: {exc}"[:200]) from None
    if pc.sctp is None:
        raise UnusableOffer("the offer has no data channel")


def _echo(channel, counts: EchoCounts, message) -> None:
    if isinstance(message, bytes):
        back = counts.take(message)
        if back is not None and channel.readyState == "open":
            channel.send(back)


def _control(channel, counts: EchoCounts, message) -> None:
    try:
        asked = json.loads(message).get("op") if isinstance(message, str) else None
    except (ValueError, AttributeError):
        asked = None
    if asked == "counts" and channel.readyState == "open":
        channel.send(json.dumps(counts.as_dict()))
