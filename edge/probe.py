"""The WebRTC link probe: a short WebRTC connection to the cloud's probe endpoint that measures
what a video session would get from the room's network.

The agent offers a peer connection with two data channels: ``echo``, unordered and without
retransmissions (so a lost datagram is a lost message, as for media), and ``control``,
reliable, for the cloud's counts. Over ``echo`` it sends paced pings, which the cloud echoes,
then a paced burst, which the cloud only counts. From these:

- round trip: the median of the pings' round trips; jitter: the mean change of round trip
  from one returned ping to the next (RFC 3550's idea, over round trips, since the two clocks
  are not comparable);
- loss up: pings the cloud never got; loss down: echoes of pings it got that never came back;
- bitrate: bytes of the burst the cloud received over the time they took to arrive, capped by
  the burst's own pace.

The offer goes by HTTPS POST with the room's probe token (``cloud.probe``). ICE uses the
configured STUN/TURN servers, the same ones the room terminal's sessions use, so the probe
measures the path a session takes; ``relay_only`` forces the TURN relay.

Pure parts (``LinkSamples.figures``, ``judge``, ``next_probe_at``) take their inputs; the
measurement runs on its own event loop in a thread the agent starts (``ProbeRunner``).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import struct
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from edge.adapters.base import OK, Reading
from etapalvelu.logs import event_log
from protocol.payloads import LinkFigures

log = event_log(__name__)

PING, BURST = b"p", b"b"
_PING = struct.Struct("!cI")  # kind, sequence number
BURST_CHUNK = 1000  # bytes per burst message: one datagram, well under the path's MTU
BUFFER_HIGH = 64 * 1024  # stop queuing burst data while this much waits in the SCTP queue


class ProbeError(RuntimeError):
    """A probe that could not measure: refused, unreachable, timed out; the text says which."""


class ProbeUnavailable(ProbeError):
    """The cloud's probe endpoint did not answer the offer (down, refused, busy): says
    nothing about the room's link, so the network's health stays as the last probe left it."""


@dataclass(frozen=True)
class ProbePlan:
    """How a probe measures: pings, their pace, the wait for late ones, the burst."""

    pings: int = 50
    ping_interval_s: float = 0.02
    drain_s: float = 1.0
    burst_s: float = 1.0
    burst_kbps: float = 4000.0
    timeout_s: float = 45.0  # under 20 % loss the handshakes alone take ~15 s


@dataclass(frozen=True)
class LinkLimits:
    """Beyond these a link is ``degraded`` for video."""

    rtt_ms: float = 300.0
    jitter_ms: float = 30.0
    loss_pct: float = 5.0
    bitrate_kbps: float = 1000.0


@dataclass
class LinkSamples:
    """What one probe saw, before any figure is made of it."""

    setup_ms: float
    pings_sent: int = 0
    rtts_ms: list[float] = field(default_factory=list)  # in the order the echoes returned
    pings_at_cloud: int = 0
    burst_bytes_at_cloud: int = 0
    burst_span_s: float = 0.0  # first to last burst byte at the cloud
    burst_sent_s: float = 0.0  # how long the agent sent the burst
    booking_starts_ms: list[int] = field(default_factory=list)  # the room's, from the cloud

    def figures(self) -> LinkFigures:
        """The link's figures; no echo at all means 100 % loss, with round trip 0."""
        rtts = self.rtts_ms
        up = _pct(self.pings_sent - self.pings_at_cloud, self.pings_sent)
        down = _pct(self.pings_at_cloud - len(rtts), self.pings_at_cloud)
        jitter = (statistics.fmean(abs(b - a) for a, b in itertools.pairwise(rtts))
                  if len(rtts) > 1 else 0.0)
        # the burst's bytes took at least as long as they were sent over
        span = max(self.burst_span_s, self.burst_sent_s)
        bitrate = self.burst_bytes_at_cloud * 8 / span / 1000 if span > 0 else 0.0
        return LinkFigures(
            probe_rtt_ms=round(statistics.median(rtts), 2) if rtts else 0.0,
            probe_jitter_ms=round(jitter, 2), probe_loss_up_pct=round(up, 2),
            probe_loss_down_pct=round(down, 2), probe_bitrate_kbps=round(bitrate, 1),
            probe_setup_ms=round(self.setup_ms, 1))


def _pct(part: int, whole: int) -> float:
    return min(100.0, max(0.0, 100.0 * part / whole)) if whole else 100.0


def judge(figures: LinkFigures, limits: LinkLimits) -> Reading:
    """The network's health from a probe: ``degraded`` with the worst breach's code, else ok."""
    breaches = []
    if figures.loss_pct > limits.loss_pct:
        breaches.append(("packet_loss", f"loss {figures.loss_pct:.0f} %"))
    if figures.probe_rtt_ms > limits.rtt_ms:
        breaches.append(("high_latency", f"round trip {figures.probe_rtt_ms:.0f} ms"))
    if figures.probe_jitter_ms > limits.jitter_ms:
        breaches.append(("high_jitter", f"jitter {figures.probe_jitter_ms:.0f} ms"))
    if figures.probe_bitrate_kbps < limits.bitrate_kbps:
        breaches.append(("low_bitrate", f"bitrate {figures.probe_bitrate_kbps:.0f} kbit/s"))
    if not breaches:
        return OK
    return Reading("degraded", breaches[0][0],
                   "link probe: " + ", ".join(detail for _, detail in breaches))


def failed_reading(error: Exception) -> Reading:
    """The network's health after a probe that could not measure."""
    return Reading("degraded", "probe_failed", f"link probe failed: {error}"[:200])


def next_probe_at(*, now: float, last_at: float | None, every_s: float,
                  booking_starts: list[float], lead_s: float) -> float:
    """When the next probe is due (epoch seconds): ``every_s`` after the last one, or
    ``lead_s`` before the next booking that starts after the last probe, whichever is
    first; at once when there has been none."""
    if last_at is None:
        return now
    due = last_at + every_s
    for start in sorted(booking_starts):
        before = start - lead_s
        if start > now and before > last_at:
            return min(due, max(before, now))
    return due


# -- the measurement ------------------------------------------------------------------------

@dataclass(frozen=True)
class ProbeTarget:
    """Where and as whom the agent probes; ``ice_servers`` are dicts of ``urls``,
    ``username``, ``credential``."""

    url: str
    site: str
    room: str
    token: str
    ice_servers: tuple[dict, ...] = ()
    relay_only: bool = False


async def measure(target: ProbeTarget, plan: ProbePlan) -> LinkSamples:
    """Open the probe connection, measure, close; raise ``ProbeError`` when it cannot."""
    try:
        return await asyncio.wait_for(_measure(target, plan), plan.timeout_s)
    except TimeoutError:
        raise ProbeError(f"no result within {plan.timeout_s:.0f} s") from None


async def _measure(target: ProbeTarget, plan: ProbePlan) -> LinkSamples:
    from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
    from aiortc.rtcconfiguration import RTCIceTransportPolicy

    policy = RTCIceTransportPolicy.RELAY if target.relay_only else RTCIceTransportPolicy.ALL
    config = RTCConfiguration(  # no servers configured: none used (not aiortc's default STUN)
        iceServers=[RTCIceServer(**server) for server in target.ice_servers],
        iceTransportPolicy=policy)
    pc = RTCPeerConnection(config)
    try:
        started = time.perf_counter()
        echo = pc.createDataChannel("echo", ordered=False, maxRetransmits=0)
        control = pc.createDataChannel("control")
        opened = [_opened(echo), _opened(control)]
        await pc.setLocalDescription(await pc.createOffer())
        answer = await asyncio.to_thread(_post_offer, target, pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"],
                                                            type=answer["type"]))
        await asyncio.gather(*opened)
        samples = LinkSamples(setup_ms=(time.perf_counter() - started) * 1000,
                              booking_starts_ms=answer["booking_starts"])
        counts = _Counts(control)
        await _ping(echo, plan, samples)
        await _burst(echo, plan, samples)
        cloud = await counts.ask()
        samples.pings_at_cloud = cloud["pings"]
        samples.burst_bytes_at_cloud = cloud["burst_bytes"]
        samples.burst_span_s = cloud["burst_span_ms"] / 1000
        return samples
    finally:
        await pc.close()


def _opened(channel) -> asyncio.Future:
    future = asyncio.get_running_loop().create_future()
    channel.on("open", lambda: future.done() or future.set_result(None))
    return future


def _post_offer(target: ProbeTarget, sdp: str) -> dict:
    body = json.dumps({"site": target.site, "room": target.room, "sdp": sdp,
                       "type": "offer"}).encode()
    request = urllib.request.Request(
        f"{target.url.rstrip('/')}/api/probe/offer", data=body, method="POST",
        headers={"Content-Type": "application/json",
                 "Authorization": f"Bearer {target.token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            data = json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        raise ProbeUnavailable(f"the cloud refused the probe: HTTP {exc.code}") from None
    except (OSError, ValueError) as exc:
        raise ProbeUnavailable(f"the cloud's probe endpoint is unreachable: {exc}") from None
    starts = [int(ms) for ms in data.get("booking_starts", [])[:64]]
    return {"sdp": data["sdp"], "type": data["type"], "booking_starts": starts}


async def _ping(echo, plan: ProbePlan, samples: LinkSamples) -> None:
    sent_at: dict[int, float] = {}

    def on_message(message) -> None:
        if isinstance(message, bytes) and len(message) == _PING.size:
            _, seq = _PING.unpack(message)
            at = sent_at.pop(seq, None)  # a duplicate echo counts once
            if at is not None:
                samples.rtts_ms.append((time.perf_counter() - at) * 1000)

    echo.on("message", on_message)
    for seq in range(plan.pings):
        sent_at[seq] = time.perf_counter()
        echo.send(_PING.pack(PING, seq))
        samples.pings_sent += 1
        await asyncio.sleep(plan.ping_interval_s)
    await asyncio.sleep(plan.drain_s)  # late echoes still count; later ones are lost
    echo.remove_listener("message", on_message)


async def _burst(echo, plan: ProbePlan, samples: LinkSamples) -> None:
    chunk = BURST + bytes(BURST_CHUNK - 1)
    started, sent = time.perf_counter(), 0
    while (elapsed := time.perf_counter() - started) < plan.burst_s:
        paced = sent * 8 / 1000 >= plan.burst_kbps * elapsed
        if paced or echo.bufferedAmount > BUFFER_HIGH:
            await asyncio.sleep(0.002)
            continue
        echo.send(chunk)
        sent += len(chunk)
    samples.burst_sent_s = time.perf_counter() - started
    while echo.bufferedAmount and time.perf_counter() - started < plan.burst_s + plan.drain_s:
        await asyncio.sleep(0.01)  # what is still queued leaves before the cloud is asked
    await asyncio.sleep(plan.drain_s / 2)


class _Counts:
    """The cloud's counts, asked over the reliable channel."""

    def __init__(self, control) -> None:
        self.control = control
        self.answer: asyncio.Future = asyncio.get_running_loop().create_future()
        control.on("message", self._on_message)

    def _on_message(self, message) -> None:
        if isinstance(message, str) and not self.answer.done():
            self.answer.set_result(json.loads(message))

    async def ask(self) -> dict:
        self.control.send(json.dumps({"op": "counts"}))
        return await self.answer


# -- in the agent ---------------------------------------------------------------------------

class ProbeRunner:
    """Runs probes for the agent, one at a time, each in its own thread with its own event
    loop, and hands the outcome to ``done``: figures (None when the probe failed), the
    reading (None when the endpoint did not answer, which says nothing of the link), and the
    room's booking starts the cloud told (epoch ms; None when failed)."""

    def __init__(self, target: ProbeTarget, plan: ProbePlan, limits: LinkLimits,
                 done: Callable[[LinkFigures | None, Reading | None, list[int] | None], None]
                 ) -> None:
        self.target, self.plan, self.limits, self.done = target, plan, limits, done
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether a probe is under way."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Start a probe unless one runs; return whether one was started."""
        if self.running:
            return False
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"probe-{self.target.site}-{self.target.room}")
        self._thread.start()
        return True

    def join(self, timeout: float) -> None:
        """Wait for the running probe (the agent's stop)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            samples = asyncio.run(measure(self.target, self.plan))
            figures = samples.figures()
            reading = judge(figures, self.limits)
        except ProbeUnavailable as exc:
            log.warning("edge.probe_unavailable", site=self.target.site, room=self.target.room,
                        detail=str(exc))
            self.done(None, None, None)
            return
        except Exception as exc:  # noqa: BLE001 - any failure is a finding about the link
            log.warning("edge.probe_failed", site=self.target.site, room=self.target.room,
                        detail=str(exc))
            self.done(None, failed_reading(exc), None)
            return
        log.info("edge.probe", site=self.target.site, room=self.target.room,
                 rtt_ms=figures.probe_rtt_ms, jitter_ms=figures.probe_jitter_ms,
                 loss_up_pct=figures.probe_loss_up_pct,
                 loss_down_pct=figures.probe_loss_down_pct,
                 bitrate_kbps=figures.probe_bitrate_kbps, state=reading.state)
        self.done(figures, reading, samples.booking_starts_ms)
