"""The demo's simulated room terminal joins its room's session by itself, through the API and
the signalling, and the expert receives its two generated videos."""
from __future__ import annotations

from cloud.sessions.peer import SessionPeer
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
