"""Media through the project's signalling with real aiortc peers: the expert receives the
room terminal's two videos (camera and document camera) and its audio; a third party the
expert admitted sees and hears the room too."""
from __future__ import annotations

from cloud.sessions.peer import SessionPeer, terminal_tracks
from tests.sessions.conftest import in_own_loop

FRAMES = 10  # a third of a second of video: decoding works, not a single lucky frame


def test_the_expert_receives_the_terminals_camera_document_camera_and_audio(live):
    in_own_loop(_the_expert_receives_the_terminals_camera_document_camera_and_audio(live))


async def _the_expert_receives_the_terminals_camera_document_camera_and_audio(live):
    session = live.open_walk_in()
    expert_join = live.join_staff(session["id"])
    terminal_join = live.join_terminal(session["id"]).json()
    expert = SessionPeer(live.ws, session["id"], expert_join["credential"])
    terminal = SessionPeer(live.ws, session["id"], terminal_join["credential"],
                           tracks=terminal_tracks())
    await expert.join()
    await terminal.join()
    room = terminal_join["participant_id"]
    try:
        await expert.wait_until(lambda: min(expert.video_frames(room)) >= FRAMES
                                and expert.frames[(room, "audio")] >= FRAMES, timeout=20)
    finally:
        await terminal.close()
        await expert.close()
    camera, document = expert.video_frames(room)
    assert camera >= FRAMES and document >= FRAMES

