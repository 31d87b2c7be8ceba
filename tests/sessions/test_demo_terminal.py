"""The demo's simulated room terminal joins its room's session by itself, through the API and
the signalling, and the expert receives its two generated videos; it steps aside when a real
terminal takes the room."""
from __future__ import annotations

import asyncio

import pytest

from cloud.sessions.peer import SessionPeer, terminal_tracks
from etapalvelu.demo_terminal import SimulatedTerminals
from tests.sessions.conftest import in_own_loop


def test_the_simulated_terminal_joins_a_session_started_in_its_room(live):
    in_own_loop(_the_simulated_terminal_joins_a_session_started_in_its_room(live))


async def _the_simulated_terminal_joins_a_session_started_in_its_room(live):
    terminals = SimulatedTerminals(live.base, [("porvoo", "r1"), ("imatra", "r1")],
                                   settings=live.settings, period_s=0.2).start()
    try:
        session = live.open_walk_in(site="porvoo")
        expert = SessionPeer(live.ws, session["id"], live.join_staff(session["id"])["credential"])
        await expert.join()
        seen = await expert.wait_for(lambda m: _terminal_in(m) is not None)
        room = _terminal_in(seen)
        await expert.wait_until(lambda: min(expert.video_frames(room)) >= 5, timeout=20)
        await expert.send({"type": "end"})
        await expert.wait_for(lambda m: m["type"] == "closed")
        await expert.close()
    finally:
        terminals.stop()


def _terminal_in(message: dict) -> int | None:
    """The room terminal's id in a welcome's peers or a peer event, if it is there."""
    peers = message.get("peers", []) + ([message["peer"]] if message["type"] == "peer" else [])
    return next((p["id"] for p in peers if p["role"] == "terminal"), None)


def test_the_simulated_terminal_steps_aside_when_a_real_terminal_takes_the_room(live):
    in_own_loop(_the_simulated_terminal_steps_aside(live))


async def _the_simulated_terminal_steps_aside(live):
    terminals = SimulatedTerminals(live.base, [("porvoo", "r1")], settings=live.settings,
                                   period_s=0.2).start()
    try:
        session = live.open_walk_in(site="porvoo")
        expert = SessionPeer(live.ws, session["id"], live.join_staff(session["id"])["credential"])
        await expert.join()
        await expert.wait_for(lambda m: _terminal_in(m) is not None)  # the simulated one
        # the kiosk page opened in a browser takes the room's one terminal place
        joined = await asyncio.to_thread(live.join_terminal, session["id"])
        kiosk = SessionPeer(live.ws, session["id"], joined.json()["credential"],
                            tracks=terminal_tracks())
        await kiosk.join()
        with pytest.raises(TimeoutError):  # the simulated terminal does not take it back
            await kiosk.wait_for(lambda m: m["type"] == "closed", timeout=3)
        assert terminals.stepped_aside == {("porvoo", "r1")}
        await kiosk.close()
        await expert.close()
    finally:
        terminals.stop()
