"""The signalling's rules through the real socket: a terminal joins only its own room's current
session; only the expert ends; at the end every peer is disconnected and its credential
refused; a dropped peer comes back with its own credential and the others see it
reconnecting meanwhile. Time-dependent cases run on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cloud.sessions import service
from cloud.sessions.peer import SessionPeer, SignallingRefused, terminal_tracks
from tests.sessions.conftest import in_own_loop, make_live


def _closed(message: dict) -> bool:
    return message["type"] == "closed"


async def _pair(live, session_id: int) -> tuple[SessionPeer, SessionPeer, int, int]:
    expert_join = live.join_staff(session_id)
    terminal_join = live.join_terminal(session_id).json()
    expert = SessionPeer(live.ws, session_id, expert_join["credential"])
    terminal = SessionPeer(live.ws, session_id, terminal_join["credential"],
                           tracks=terminal_tracks())
    await expert.join()
    await terminal.join()
    return expert, terminal, expert_join["participant_id"], terminal_join["participant_id"]


def test_a_terminal_of_another_room_is_refused(live):
    session = live.open_walk_in(site="porvoo")
    answer = live.join_terminal(session["id"], site="imatra", room="r1")
    assert answer.status_code == 403 and answer.json()["reason"] == "other_room"


def test_a_terminal_that_cannot_prove_the_room_it_names_is_refused(live):
    session = live.open_walk_in(site="porvoo")
    answer = live.join_terminal(session["id"], token_of=("imatra", "r1"))
    assert answer.status_code == 403 and answer.json()["reason"] == "bad_room_token"


def test_a_terminal_joins_its_rooms_current_session_without_naming_it(live):
    session = live.open_walk_in(site="porvoo")
    answer = live.join_terminal(None)
    assert answer.status_code == 200 and answer.json()["session_id"] == session["id"]


def test_a_terminal_cannot_join_its_rooms_session_after_its_end(live):
    session = live.open_walk_in()
    live.clock.jump_to(datetime.fromisoformat(session["ends_at"]) + timedelta(minutes=1))
    answer = live.join_terminal(session["id"])
    assert answer.status_code == 403 and answer.json()["reason"] == "not_current"


def test_only_the_expert_may_end_admit_or_remove(live):
    in_own_loop(_only_the_expert_may_end_admit_or_remove(live))


async def _only_the_expert_may_end_admit_or_remove(live):
    session = live.open_walk_in()
    expert, terminal, expert_id, _ = await _pair(live, session["id"])
    try:
        for message in ({"type": "end"}, {"type": "remove", "participant": expert_id},
                        {"type": "admit", "participant": expert_id}):
            terminal.messages.clear()
            await terminal.send(message)
            refusal = await terminal.wait_for(lambda m: m["type"] == "error")
            assert refusal["reason"] == "not_allowed"
    finally:
        await terminal.close()
        await expert.close()


def test_when_the_expert_ends_every_peer_is_disconnected_and_cannot_rejoin(live_db):
    in_own_loop(_when_the_expert_ends_every_peer_is_disconnected_and_cannot_rejoin(live_db))


async def _when_the_expert_ends_every_peer_is_disconnected_and_cannot_rejoin(live_db):
    live = live_db
    session = live.open_walk_in()
    expert, terminal, _, room = await _pair(live, session["id"])
    await expert.wait_until(lambda: expert.video_frames(room)[0] > 0, timeout=20)
    await expert.send({"type": "end"})
    for peer in (expert, terminal):
        assert (await peer.wait_for(lambda m: m["type"] == "ended"))["by"] == "expert"
        assert (await peer.wait_for(_closed))["code"] == 4000
    again = SessionPeer(live.ws, session["id"], terminal.credential)
    with pytest.raises(SignallingRefused) as refused:
        await again.join()
    assert refused.value.reason == "ended"
    await terminal.close()
    await expert.close()


def test_at_the_slots_end_and_grace_every_peer_is_warned_then_disconnected(live_db):
    in_own_loop(_at_the_slots_end_and_grace_every_peer_is_warned_then_disconnected(live_db))


async def _at_the_slots_end_and_grace_every_peer_is_warned_then_disconnected(live_db):
    live = live_db
    session = live.open_walk_in()
    ends_at = datetime.fromisoformat(session["ends_at"])
    expert, terminal, _, _ = await _pair(live, session["id"])
    live.clock.jump_to(ends_at - timedelta(minutes=4))
    for peer in (expert, terminal):
        await peer.wait_for(lambda m: m["type"] == "warning")
    live.clock.jump_to(ends_at)
    for peer in (expert, terminal):
        assert (await peer.wait_for(lambda m: m["type"] == "ended"))["by"] == "slot_end"
        assert (await peer.wait_for(_closed))["code"] == 4000
    for credential in (expert.credential, terminal.credential):
        with pytest.raises(SignallingRefused) as refused:
            await SessionPeer(live.ws, session["id"], credential).join()
        assert refused.value.reason == "ended"
    with live.app.state.sessionmaker() as db:
        ended = service.get(db=db, session_id=session["id"])
        assert (ended.ended_by, ended.ended_at) == ("slot_end", ends_at)
    await terminal.close()
    await expert.close()


def test_a_dropped_terminal_rejoins_with_its_credential_and_is_shown_reconnecting(live_db):
    in_own_loop(_a_dropped_terminal_rejoins_with_its_credential_and_is_shown_reconnecting(live_db))


async def _a_dropped_terminal_rejoins_with_its_credential_and_is_shown_reconnecting(live_db):
    live = live_db
    session = live.open_walk_in()
    expert, terminal, _, room = await _pair(live, session["id"])
    await expert.wait_until(lambda: expert.video_frames(room)[0] > 0, timeout=20)
    await terminal.drop()
    seen = await expert.wait_for(lambda m: m["type"] == "peer" and m["peer"]["id"] == room
                                 and m["event"] == "reconnecting")
    assert seen["peer"]["state"] == "admitted"  # away, not gone
    before = expert.video_frames(room)
    back = SessionPeer(live.ws, session["id"], terminal.credential, tracks=terminal_tracks())
    await back.join()
    await expert.wait_for(lambda m: m["type"] == "peer" and m["peer"]["id"] == room
                          and m["event"] == "reconnected")
    await expert.wait_until(lambda: min(expert.video_frames(room)) > max(before) + 5,
                            timeout=20)
    with live.app.state.sessionmaker() as db:
        kinds = [e.kind for e in service.events_of(db=db, session_id=session["id"])]
    assert kinds.count("reconnecting") == 1 and kinds.count("reconnected") == 1
    await back.close()
    await expert.close()


def test_a_credential_of_another_session_is_refused(live):
    in_own_loop(_a_credential_of_another_session_is_refused(live))


async def _a_credential_of_another_session_is_refused(live):
    first = live.open_walk_in(site="porvoo")
    second = live.open_walk_in(site="imatra", by="adv-imatra")
    credential = live.join_staff(first["id"])["credential"]
    with pytest.raises(SignallingRefused) as refused:
        await SessionPeer(live.ws, second["id"], credential).join()
    assert refused.value.reason == "bad_credential"


def test_after_the_end_the_room_and_the_expert_answer_the_feedback_for_half_an_hour(live):
    in_own_loop(_after_the_end_the_room_and_the_expert_answer_the_feedback_for_half_an_hour(live))


async def _after_the_end_the_room_and_the_expert_answer_the_feedback_for_half_an_hour(live):
    session = live.open_walk_in()
    expert, terminal, _, _ = await _pair(live, session["id"])
    await expert.send({"type": "end"})
    await terminal.wait_for(_closed)
    with live.client() as client:
        face = client.post(f"/api/sessions/{session['id']}/feedback",
                           json={"credential": terminal.credential, "score": 5})
        form = client.post(f"/api/sessions/{session['id']}/feedback", json={
            "credential": expert.credential, "score": 4, "media_ok": True,
            "matter_resolved": False})
        live.clock.jump_to(live.clock() + timedelta(minutes=31))
        late = client.post(f"/api/sessions/{session['id']}/feedback",
                           json={"credential": terminal.credential, "score": 1})
    assert (face.status_code, face.json()) == (201, {"source": "customer", "score": 5})
    assert (form.status_code, form.json()) == (201, {"source": "expert", "score": 4})
    assert late.status_code == 403 and late.json()["reason"] == "ended"
    await terminal.close()
    await expert.close()


def test_peers_on_two_api_replicas_meet_through_the_live_bus(sqlite_url, broker):
    in_own_loop(_peers_on_two_api_replicas_meet_through_the_live_bus(sqlite_url, broker))


async def _peers_on_two_api_replicas_meet_through_the_live_bus(sqlite_url, broker):
    # two replicas on one store, each with its own connection to the broker
    first, stop_first = make_live(sqlite_url, broker)
    second, stop_second = make_live(sqlite_url, broker, with_staff=False)
    try:
        session = first.open_walk_in()
        expert = SessionPeer(first.ws, session["id"],
                             first.join_staff(session["id"])["credential"])
        terminal_join = second.join_terminal(session["id"]).json()
        terminal = SessionPeer(second.ws, session["id"], terminal_join["credential"],
                               tracks=terminal_tracks())
        await expert.join()
        await terminal.join()
        room = terminal_join["participant_id"]
        await expert.wait_until(lambda: min(expert.video_frames(room)) >= 5, timeout=20)
        await expert.send({"type": "end"})
        assert (await terminal.wait_for(_closed))["code"] == 4000
        await terminal.close()
        await expert.close()
    finally:
        stop_second()
        stop_first()


def test_the_advisor_sees_the_sites_no_show_candidates_and_no_other_sites(live):
    with live.client() as client:
        answer = client.get("/api/sessions/no-show-candidates", params={"site": "porvoo"},
                                headers=live.staff("adv-porvoo"))
        other = client.get("/api/sessions/no-show-candidates", params={"site": "porvoo"},
                           headers=live.staff("adv-imatra"))
    assert answer.status_code == 200 and answer.json() == {"booking_ids": []}
    assert other.status_code == 403


def test_the_advisor_asked_to_verify_identity_waits_until_the_expert_admits(live):
    in_own_loop(_advisor_waits(live))


async def _advisor_waits(live):
    session = live.open_walk_in()
    expert = SessionPeer(live.ws, session["id"], live.join_staff(session["id"])["credential"])
    advisor_join = live.join_staff(session["id"], "adv-porvoo")
    advisor = SessionPeer(live.ws, session["id"], advisor_join["credential"])
    await expert.join()
    assert (await advisor.join())["you"]["state"] == "waiting"
    waiting = await expert.wait_for(lambda m: m["type"] == "peer" and m["event"] == "waiting")
    assert waiting["peer"]["role"] == "advisor"
    await expert.send({"type": "admit", "participant": advisor_join["participant_id"]})
    admitted = await advisor.wait_for(lambda m: m["type"] == "admitted")
    assert [p["role"] for p in admitted["peers"]] == ["expert"]
    await advisor.close()
    await expert.close()


def test_a_bad_message_is_answered_with_an_error_and_the_channel_stays_open(live):
    in_own_loop(_bad_message(live))


async def _bad_message(live):
    session = live.open_walk_in()
    expert, terminal, _, _ = await _pair(live, session["id"])
    for raw in ("not json", "[1, 2]", '{"type": "shout"}',
                '{"type": "offer", "to": 999, "sdp": "v=0"}'):
        terminal.messages.clear()
        await terminal._socket.send(raw)
        error = await terminal.wait_for(lambda m: m["type"] == "error")
        assert error["reason"] in ("bad_message", "no_participant")
    await terminal.send({"type": "ping"})
    await terminal.wait_for(lambda m: m["type"] == "pong")
    await terminal.close()
    await expert.close()


def test_the_expert_ends_through_the_api_and_every_peer_is_disconnected(live):
    in_own_loop(_end_through_api(live))


async def _end_through_api(live):
    session = live.open_walk_in()
    expert, terminal, _, _ = await _pair(live, session["id"])
    with live.client() as client:
        refused = client.post(f"/api/sessions/{session['id']}/end",
                              headers=live.staff("adv-porvoo"))
        ended = client.post(f"/api/sessions/{session['id']}/end",
                            headers=live.staff("exp-kela"))
    assert refused.status_code == 403 and ended.json() == {"ended": True}
    for peer in (expert, terminal):
        assert (await peer.wait_for(_closed))["code"] == 4000
    await terminal.close()
    await expert.close()


def test_one_who_leaves_the_lobby_and_comes_back_waits_again(live):
    in_own_loop(_lobby_leaver(live))


async def _lobby_leaver(live):
    session = live.open_walk_in()
    advisor = SessionPeer(live.ws, session["id"],
                          live.join_staff(session["id"], "adv-porvoo")["credential"])
    await advisor.join()
    await advisor.send({"type": "leave"})
    await advisor.wait_for(_closed)
    again = SessionPeer(live.ws, session["id"], advisor.credential)
    assert (await again.join())["you"]["state"] == "waiting"
    await again.close()


def test_a_second_socket_of_the_same_participant_replaces_the_first(live):
    in_own_loop(_second_socket(live))


async def _second_socket(live):
    session = live.open_walk_in()
    expert, terminal, _, room = await _pair(live, session["id"])
    await expert.wait_until(lambda: min(expert.video_frames(room)) >= 5, timeout=20)
    second = SessionPeer(live.ws, session["id"], terminal.credential, tracks=terminal_tracks())
    await second.join()
    assert (await terminal.wait_for(_closed))["code"] == 4001
    before = max(expert.video_frames(room))
    await expert.wait_until(lambda: min(expert.video_frames(room)) > before + 5, timeout=20)
    assert not any(m["type"] == "peer" and m["event"] == "reconnecting"
                   for m in expert.messages)
    await second.close()
    await terminal.close()
    await expert.close()


def test_a_room_token_that_is_not_even_ascii_is_refused_plainly(live):
    with live.client() as client:
        answer = client.post("/api/sessions/terminal/join", json={
            "site": "porvoo", "room": "r1", "room_token": "ä" * 64})
    assert answer.status_code == 422 and answer.json()["reason"] == "invalid_input", answer.text


def test_a_staff_socket_ends_soon_after_the_staff_session_logs_out(sqlite_url, broker):
    live, stop = make_live(sqlite_url, broker, staff_check_s=0.3)
    try:
        in_own_loop(_a_staff_socket_ends_after_logout(live))
    finally:
        stop()


async def _a_staff_socket_ends_after_logout(live):
    session = live.open_walk_in()
    expert, terminal, _, _ = await _pair(live, session["id"])
    with live.client() as client:
        assert client.post("/api/accounts/logout",
                           headers=live.staff("exp-kela")).status_code == 204
    refused = await expert.wait_for(lambda m: m["type"] == "refused", timeout=3)
    assert refused["reason"] == "logged_out"
    assert (await expert.wait_for(_closed, timeout=3))["code"] == 4403  # final: no retry
    left = await terminal.wait_for(lambda m: m["type"] == "peer"
                                   and m["event"] == "left", timeout=3)
    assert left["peer"]["role"] == "expert"
    assert not any(_closed(m) for m in terminal.messages)  # the room's socket stays
    await terminal.close()
