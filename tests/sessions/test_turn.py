"""A session through a real TURN server (coturn on loopback) with relay-only ICE: the
credentials are the short-lived ones the join hands out (coturn's ``use-auth-secret``)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from cloud.sessions.peer import SessionPeer, terminal_tracks
from cloud.sessions.settings import SessionSettings
from cloud.sessions.turn import ice_servers, turn_credential
from tests.sessions.conftest import TURN_SECRET, in_own_loop, make_live


@pytest.fixture
def live_turn(sqlite_url, coturn, broker):
    """The app handing out credentials of the test's coturn."""
    served, stop = make_live(sqlite_url, broker, turn_secret=TURN_SECRET,
                             turn_urls=[f"turn:127.0.0.1:{coturn.port}?transport=udp"])
    yield served
    stop()


def test_turn_credentials_expire_with_the_session_and_verify_under_the_shared_secret():
    ends_at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    username, password = turn_credential("secret", label="s1p2", expires_at=ends_at)
    assert username == f"{int(ends_at.timestamp())}:s1p2"
    signed = hmac.new(b"secret", username.encode(), hashlib.sha1).digest()  # coturn's check
    assert password == base64.b64encode(signed).decode()
    assert turn_credential("other", label="s1p2", expires_at=ends_at)[1] != password


def test_no_turn_server_is_offered_without_its_secret():
    settings = SessionSettings(stun_urls=["stun:stun.example.invalid:3478"],
                               turn_urls=["turn:turn.example.invalid:3478"])
    servers = ice_servers(settings, label="x", expires_at=datetime.now(UTC))
    assert servers == [{"urls": ["stun:stun.example.invalid:3478"]}]


def test_a_session_runs_through_coturn_with_relay_only_ice(live_turn):
    in_own_loop(_a_session_runs_through_coturn_with_relay_only_ice(live_turn))


async def _a_session_runs_through_coturn_with_relay_only_ice(live_turn):
    live = live_turn
    session = live.open_walk_in()
    expert_join = live.join_staff(session["id"])
    terminal_join = live.join_terminal(session["id"]).json()
    expert = SessionPeer(live.ws, session["id"], expert_join["credential"], relay_only=True)
    terminal = SessionPeer(live.ws, session["id"], terminal_join["credential"],
                           tracks=terminal_tracks(), relay_only=True)
    welcome = await expert.join()
    await terminal.join()
    room = terminal_join["participant_id"]
    try:
        await expert.wait_until(lambda: min(expert.video_frames(room)) >= 10, timeout=30)
    finally:
        await terminal.close()
        await expert.close()
    (turn,) = welcome["ice_servers"]
    expiry = int(turn["username"].split(":")[0])
    assert expiry == int(datetime.fromisoformat(session["ends_at"]).timestamp())
    assert expert.candidate_types == terminal.candidate_types == {"relay"}
    assert datetime.fromtimestamp(expiry, UTC) - datetime.now(UTC) < timedelta(minutes=41)
