"""The demo's simulated room terminals: for each pilot room, an aiortc peer that joins the
room's current video session through the API (with the room's terminal token, as a real
terminal does), sends generated frames as its camera and document camera and silence as its
audio, and leaves when the session ends. They run in one thread with their own event loop.

A room has one terminal place per session: when a real terminal (the kiosk page opened in a
browser) takes it, the simulated one steps aside and leaves that room to it for the rest of
the run, rather than take the place back every few seconds."""
from __future__ import annotations

import asyncio
import threading

import httpx

from etapalvelu.logs import event_log

log = event_log("etapalvelu.demo")


class SimulatedTerminals:
    """Watch every room for a current session and take part in it as the room terminal."""

    def __init__(self, base_url: str, rooms: list[tuple[str, str]], *, settings,
                 period_s: float = 2.0) -> None:
        self.base_url, self.rooms, self.settings = base_url, rooms, settings
        self.period_s = period_s
        self.stepped_aside: set[tuple[str, str]] = set()  # rooms left to a real terminal
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()),
                                        name="demo-terminals", daemon=True)

    def start(self) -> SimulatedTerminals:
        """Start watching the rooms."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop, leaving any session."""
        self._stop.set()
        self._thread.join(10)

    async def _run(self) -> None:
        await asyncio.gather(*(self._room(site, room) for site, room in self.rooms))

    async def _room(self, site: str, room: str) -> None:
        from cloud.sessions.service import room_token

        body = {"site": site, "room": room,
                "room_token": room_token(self.settings, site=site, room=room)}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            while not self._stop.is_set():
                try:
                    answer = await client.post("/api/sessions/terminal/join", json=body)
                    if answer.status_code == 200 and await self._take_part(answer.json()):
                        self.stepped_aside.add((site, room))
                        log.info("demo.terminal_stepped_aside", site=site, room=room)
                        return
                except (httpx.HTTPError, OSError) as error:
                    log.debug("demo.terminal_waiting", site=site, room=room,
                              error=type(error).__name__)
                except Exception:  # one failed session must not stop the room's terminal
                    log.exception("demo.terminal_failed", site=site, room=room)
                await asyncio.sleep(self.period_s)

    async def _take_part(self, joined: dict) -> bool:
        """Be the room's terminal in the session until it ends; True when another terminal
        took the place."""
        from cloud.sessions.peer import SessionPeer, terminal_tracks
        from cloud.sessions.signalling import CLOSE_SUPERSEDED

        ws = self.base_url.replace("http://", "ws://")
        peer = SessionPeer(ws, joined["session_id"], joined["credential"],
                           tracks=terminal_tracks())
        log.info("demo.terminal_joined", session=joined["session_id"])
        await peer.join()
        closed = None
        try:
            while closed is None and not self._stop.is_set():
                try:
                    closed = await peer.wait_for(lambda m: m["type"] == "closed", timeout=1)
                except TimeoutError:
                    continue
        finally:
            await peer.close()
        log.info("demo.terminal_left", session=joined["session_id"])
        return closed is not None and closed.get("code") == CLOSE_SUPERSEDED
