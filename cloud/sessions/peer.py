"""A session peer built on aiortc, speaking the platform's signalling: the room terminal's
media where it has no browser (the demo's simulated terminal), the tests' participants and the
benchmark's. It offers to the peers listed on ``welcome`` and ``admitted``, answers offers,
counts the frames it receives per peer and kind, and keeps every signalling message it got.

The room terminal sends its tracks in a fixed order: the camera, the document camera, audio;
every offer holds these three media lines in that order, so a receiver tells the two videos
apart by their order (the second video is the document camera)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable

import websockets
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError
from aiortc.sdp import candidate_from_sdp
from av import VideoFrame

from etapalvelu.logs import event_log

log = event_log(__name__)
# the media lines of every offer: the room terminal's camera, its document camera, audio
# (videos first: aiortc 1.16 drops the second video's packets when audio comes before it)
MEDIA_LINES = ("video", "video", "audio")


class SignallingRefused(Exception):
    """The server refused the peer; ``reason`` is its code."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class GeneratedVideo(VideoStreamTrack):
    """Generated video: a grey card with a bar that moves, so every frame differs (a
    simulated camera or document camera)."""

    def __init__(self, width: int = 320, height: int = 240, shade: int = 96) -> None:
        super().__init__()
        self.width, self.height, self.shade, self.count = width, height, shade, 0

    async def recv(self) -> VideoFrame:
        """The next frame, paced at 30 frames per second."""
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(self.width, self.height, "yuv420p")
        luma, blue, red = frame.planes
        row = bytearray([self.shade]) * luma.line_size
        x = (self.count * 4) % (self.width - 8)
        row[x:x + 8] = b"\xff" * 8
        self.count += 1
        luma.update(bytes(row) * luma.height)
        for chroma in (blue, red):
            chroma.update(b"\x80" * (chroma.line_size * chroma.height))
        frame.pts, frame.time_base = pts, time_base
        return frame


def terminal_tracks() -> list:
    """The room terminal's media: the camera, the document camera, audio (in that order)."""
    return [GeneratedVideo(shade=96), GeneratedVideo(shade=200), AudioStreamTrack()]


class SessionPeer:
    """One participant: its signalling socket and a peer connection to every other one."""

    def __init__(self, server: str, session_id: int, credential: str, *,
                 tracks: list | None = None, relay_only: bool = False) -> None:
        self.url = f"{server.rstrip('/')}/api/sessions/{session_id}/signal"
        self.credential, self.relay_only = credential, relay_only
        self.tracks = tracks or []
        self.relay = MediaRelay()
        self.connections: dict[int, RTCPeerConnection] = {}
        self.frames: Counter = Counter()  # (peer id, "audio" | "video0" | "video1") -> frames
        self.first_frame_at: float | None = None  # time.monotonic() of the first video frame
        self.offer_sent_at: float | None = None  # time.monotonic() of the first offer sent
        self.messages: list[dict] = []
        self.you: dict = {}
        self.ice_servers: list[dict] = []
        self.candidate_types: set[str] = set()  # of the local candidates offered
        self._changed = asyncio.Condition()
        self._socket = None
        self._reader: asyncio.Task | None = None
        self._consumers: list[asyncio.Task] = []
        self.on_message: Callable[[dict], None] | None = None

    # --- signalling ------------------------------------------------------------------------

    async def join(self, timeout: float = 10) -> dict:
        """Open the socket and say hello; the welcome, or ``SignallingRefused``."""
        self._socket = await websockets.connect(self.url, open_timeout=timeout)
        await self._send({"type": "hello", "credential": self.credential})
        async with asyncio.timeout(timeout):
            first = json.loads(await self._socket.recv())
        if first["type"] == "refused":
            await self._socket.close()
            raise SignallingRefused(first["reason"], first.get("message", ""))
        self.messages.append(first)
        self.you, self.ice_servers = first["you"], first["ice_servers"]
        self._reader = asyncio.create_task(self._read())
        if self.you["state"] == "admitted":
            await self._offer_to(first["peers"])
        return first

    async def _send(self, message: dict) -> None:
        await self._socket.send(json.dumps(message))

    async def send(self, message: dict) -> None:
        """Send a signalling message (``admit``, ``remove``, ``end``, ...)."""
        await self._send(message)

    async def _read(self) -> None:
        try:
            async for raw in self._socket:
                message = json.loads(raw)
                try:
                    await self._handle(message)
                except Exception:  # one bad exchange must not stop the peer
                    log.exception("sessions.peer_message_failed", type=message.get("type"))
                async with self._changed:
                    self.messages.append(message)
                    self._changed.notify_all()
        except websockets.ConnectionClosed:
            pass
        async with self._changed:
            self.messages.append({"type": "closed", "code": self._socket.close_code})
            self._changed.notify_all()

    async def _handle(self, message: dict) -> None:
        kind = message["type"]
        if kind == "admitted":
            self.you["state"] = "admitted"
            await self._offer_to(message["peers"])
        elif kind == "offer":
            await self._answer(message["from"], message["sdp"])
        elif kind == "answer":
            connection = self.connections.get(message["from"])
            if connection is not None:
                await connection.setRemoteDescription(RTCSessionDescription(
                    message["sdp"], "answer"))
        elif kind == "candidate" and message.get("candidate"):
            connection = self.connections.get(message["from"])
            if connection is not None:
                candidate = candidate_from_sdp(message["candidate"].removeprefix("candidate:"))
                candidate.sdpMid, candidate.sdpMLineIndex = message.get("sdpMid"), \
                    message.get("sdpMLineIndex")
                await connection.addIceCandidate(candidate)
        elif kind == "peer" and message["event"] in ("left", "removed", "denied"):
            await self._close_connection(message["peer"]["id"])
        if self.on_message:
            self.on_message(message)

    async def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 10) -> dict:
        """The first message so far or to come that ``predicate`` accepts."""
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for message in self.messages:
                    if predicate(message):
                        return message
                await self._changed.wait()

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10) -> None:
        """Wait until ``condition()`` holds (frames counted, a connection up)."""
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.02)

    # --- media -------------------------------------------------------------------------------

    def _new_connection(self, peer_id: int, *, offering: bool) -> RTCPeerConnection:
        servers = [RTCIceServer(urls=s["urls"], username=s.get("username"),
                                credential=s.get("credential")) for s in self.ice_servers]
        policy = RTCIceTransportPolicy.RELAY if self.relay_only else RTCIceTransportPolicy.ALL
        connection = RTCPeerConnection(RTCConfiguration(iceServers=servers,
                                                        iceTransportPolicy=policy))
        self.connections[peer_id] = connection
        videos = iter(range(10))

        @connection.on("track")
        def on_track(track) -> None:
            label = "audio" if track.kind == "audio" else f"video{next(videos)}"
            self._consumers.append(asyncio.create_task(self._consume(peer_id, label, track)))

        if not offering:  # the offer's media lines take our tracks, kind by kind, in order
            for track in self.tracks:
                connection.addTrack(self.relay.subscribe(track, buffered=False))
            return connection
        own = list(self.tracks)
        for kind in MEDIA_LINES:  # room for all the room terminal sends, in its order
            track = next((t for t in own if t.kind == kind), None)
            if track is None:
                connection.addTransceiver(kind, direction="recvonly")
            else:
                own.remove(track)
                connection.addTransceiver(self.relay.subscribe(track, buffered=False),
                                          direction="sendrecv")
        return connection

    async def _consume(self, peer_id: int, label: str, track) -> None:
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            self.frames[(peer_id, label)] += 1
            if label != "audio" and self.first_frame_at is None:
                self.first_frame_at = time.monotonic()

    async def _offer_to(self, peers: list[dict]) -> None:
        for peer in peers:
            await self._close_connection(peer["id"])
            connection = self._new_connection(peer["id"], offering=True)
            await connection.setLocalDescription(await connection.createOffer())
            self._note_candidates(connection.localDescription.sdp)
            self.offer_sent_at = self.offer_sent_at or time.monotonic()
            await self._send({"type": "offer", "to": peer["id"],
                              "sdp": connection.localDescription.sdp})

    async def _answer(self, peer_id: int, sdp: str) -> None:
        await self._close_connection(peer_id)  # a peer that offers again has come back
        connection = self._new_connection(peer_id, offering=False)
        await connection.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        await connection.setLocalDescription(await connection.createAnswer())
        self._note_candidates(connection.localDescription.sdp)
        await self._send({"type": "answer", "to": peer_id,
                          "sdp": connection.localDescription.sdp})

    def _note_candidates(self, sdp: str) -> None:
        for line in sdp.splitlines():
            if line.startswith("a=candidate:"):
                self.candidate_types.add(line.split(" typ ")[1].split()[0])

    async def _close_connection(self, peer_id: int) -> None:
        connection = self.connections.pop(peer_id, None)
        if connection is not None:
            await connection.close()

    def connected_to(self, peer_id: int) -> bool:
        """Whether the media connection to ``peer_id`` is up."""
        connection = self.connections.get(peer_id)
        return connection is not None and connection.connectionState == "connected"

    def video_frames(self, peer_id: int) -> tuple[int, int]:
        """Frames received from ``peer_id`` of its first and second video."""
        return self.frames[(peer_id, "video0")], self.frames[(peer_id, "video1")]

    # --- the end -----------------------------------------------------------------------------

    async def drop(self) -> None:
        """Lose the socket and the media without a word (a Wi-Fi blip, a page reload)."""
        await self.close()

    async def close(self) -> None:
        """Close the socket and every connection."""
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._reader, 5)
        for task in self._consumers:
            task.cancel()
        for peer_id in list(self.connections):
            await self._close_connection(peer_id)


