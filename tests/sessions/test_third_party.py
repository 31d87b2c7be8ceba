"""Third parties: the expert's invitation link, strong authentication through the (real,
development-only) OIDC provider with the assurance level checked, the confidentiality
affirmation, the lobby and the expert's admission; every refusal the issue names."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from cloud.sessions import service
from cloud.sessions.peer import GeneratedVideo, SessionPeer, terminal_tracks
from cloud.sessions.rules import SessionRefused
from tests.sessions.conftest import NOW, in_own_loop, with_identity

IDENTITY_CODE = "010190-900P"  # a test identity code the provider hands out: never kept


@pytest.fixture
def invited(live, identity):
    """A session with the third parties' login pointed at the provider."""
    with_identity(live, identity)
    session = live.open_walk_in()
    identity.claims["urn:oid:1.2.246.21"] = IDENTITY_CODE  # the national identity code claim
    return live, identity, session


def login(live, session_id: int, *, affirmed: bool | None = True) -> httpx.Response:
    """Open the expert's invitation, log in at the provider, affirm (or not)."""
    with live.client() as staff:
        invitation = staff.post(f"/api/sessions/{session_id}/invitations",
                                headers=live.staff("exp-kela"))
    assert invitation.status_code == 201, invitation.text
    with httpx.Client(timeout=10) as browser:
        to_provider = browser.get(invitation.json()["url"])
        assert to_provider.status_code == 302
        back = browser.get(to_provider.headers["location"])
        callback = browser.get(back.headers["location"])
        if callback.status_code != 303 or affirmed is None:
            return callback
        return browser.post(f"{live.base}/api/sessions/invite/affirm",
                            json={"affirmed": affirmed})


def _third_parties(live, session_id: int) -> list:
    with live.app.state.sessionmaker() as db:
        return [p for p in service.participants(db=db, session_id=session_id)
                if p.role == "third_party"]


@pytest.mark.parametrize("acr", ["http://ftn.ficora.fi/2017/loa2",
                                 "http://ftn.ficora.fi/2017/loa3",
                                 "http://eidas.europa.eu/LoA/substantial",
                                 "http://eidas.europa.eu/LoA/high"])
def test_a_third_party_with_substantial_or_high_assurance_enters_the_lobby(invited, acr):
    live, identity, session = invited
    identity.claims["acr"] = acr
    answer = login(live, session["id"])
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "waiting"
    (stored,) = _third_parties(live, session["id"])
    assert (stored.shown_name, stored.assurance) == ("Tulkki Testinen", acr)
    assert stored.authenticated_at is not None and stored.affirmed_at is not None


@pytest.mark.parametrize("acr", ["http://ftn.ficora.fi/2017/loa1",
                                 "http://eidas.europa.eu/LoA/low", "loa3", None])
def test_a_third_party_with_a_weak_or_missing_assurance_level_is_refused(invited, acr):
    live, identity, session = invited
    identity.claims["acr"] = acr
    answer = login(live, session["id"])
    assert answer.status_code == 403 and answer.json()["reason"] == "weak_authentication"
    assert _third_parties(live, session["id"]) == []


def test_a_token_for_another_audience_is_refused(invited):
    live, identity, session = invited
    identity.audience = "another-service"
    answer = login(live, session["id"])
    assert answer.status_code == 403 and answer.json()["reason"] == "bad_token"


def test_a_replayed_token_is_refused(invited):
    live, identity, session = invited
    assert login(live, session["id"]).status_code == 200
    identity.replay = True  # the provider's answer carries the earlier ID token again
    answer = login(live, session["id"])
    assert answer.status_code == 403 and answer.json()["reason"] == "bad_token"
    assert len(_third_parties(live, session["id"])) == 1


def test_the_same_id_token_is_accepted_only_once(sqlite_url):
    from cloud.db import make_engine, make_sessionmaker

    with make_sessionmaker(make_engine(sqlite_url))() as db:
        service.claim_id_token(db=db, id_token="the token", expires_at=NOW, now=NOW)
        with pytest.raises(SessionRefused) as refused:
            service.claim_id_token(db=db, id_token="the token", expires_at=NOW, now=NOW)
        assert refused.value.reason == "replayed_token"


def test_a_stale_login_is_refused(invited):
    live, identity, session = invited
    identity.issued_ago_s = 3600
    answer = login(live, session["id"])
    assert answer.status_code == 403 and answer.json()["reason"] == "stale_token"


def test_without_the_confidentiality_affirmation_no_one_enters(invited):
    live, _, session = invited
    answer = login(live, session["id"], affirmed=False)
    assert answer.status_code == 403 and answer.json()["reason"] == "no_affirmation"
    assert _third_parties(live, session["id"]) == []


def test_affirming_without_a_login_is_refused(live):
    with live.client() as client:
        answer = client.post("/api/sessions/invite/affirm", json={"affirmed": True})
    assert answer.status_code == 403 and answer.json()["reason"] == "not_authenticated"


def test_no_identity_code_is_stored_of_a_third_party(invited):
    live, _, session = invited
    assert login(live, session["id"]).status_code == 200
    with live.app.state.engine.connect() as connection:
        tables = [t for (t,) in connection.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'sessions_%'"))]
        dump = " ".join(str(row) for table in tables
                        for row in connection.execute(text(f"SELECT * FROM {table}")))
    assert IDENTITY_CODE not in dump and "subject-1" not in dump
    assert "Tulkki Testinen" in dump


def test_an_admitted_third_party_sees_the_room_and_the_expert_in_a_three_party_session(invited):
    in_own_loop(_an_admitted_third_party_sees_the_room_and_the_expert_in_a_three_party_session(invited))


async def _an_admitted_third_party_sees_the_room_and_the_expert_in_a_three_party_session(invited):
    live, _, session = invited
    expert_join = live.join_staff(session["id"])
    terminal_join = live.join_terminal(session["id"]).json()
    expert = SessionPeer(live.ws, session["id"], expert_join["credential"],
                         tracks=[GeneratedVideo(shade=30)])
    terminal = SessionPeer(live.ws, session["id"], terminal_join["credential"],
                           tracks=terminal_tracks())
    await expert.join()
    await terminal.join()
    guest_join = login(live, session["id"]).json()
    guest = SessionPeer(live.ws, session["id"], guest_join["credential"],
                        tracks=[GeneratedVideo(shade=60)])
    welcome = await guest.join()
    assert welcome["you"]["state"] == "waiting" and welcome["peers"] == []
    waiting = await expert.wait_for(lambda m: m["type"] == "peer" and m["event"] == "waiting")
    assert waiting["peer"]["name"] == "Tulkki Testinen"
    guest_id, room = guest_join["participant_id"], terminal_join["participant_id"]
    await guest.send({"type": "offer", "to": room, "sdp": "v=0"})  # from the lobby: refused
    assert (await guest.wait_for(lambda m: m["type"] == "error"))["reason"] == "not_admitted"
    await expert.send({"type": "admit", "participant": guest_id})
    await guest.wait_for(lambda m: m["type"] == "admitted")
    try:
        await guest.wait_until(lambda: min(guest.video_frames(room)) >= 5
                               and guest.video_frames(expert_join["participant_id"])[0] >= 5,
                               timeout=30)
        await expert.wait_until(lambda: expert.video_frames(guest_id)[0] >= 5, timeout=30)
    finally:
        for peer in (guest, terminal, expert):
            await peer.close()
    assert not any(m["type"] == "peer" and m["event"] == "waiting" for m in terminal.messages)


def test_the_keyed_hash_of_a_third_partys_login_is_forgotten_when_the_session_ends(invited):
    live, _, session = invited
    assert login(live, session["id"]).status_code == 200
    (guest,) = _third_parties(live, session["id"])
    assert guest.identity_hash and "subject-1" not in guest.identity_hash
    with live.client() as staff:
        ended = staff.post(f"/api/sessions/{session['id']}/end", headers=live.staff("exp-kela"))
    assert ended.json() == {"ended": True}
    (guest,) = _third_parties(live, session["id"])
    assert guest.identity_hash is None
