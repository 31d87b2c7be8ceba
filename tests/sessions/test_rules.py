"""The pure rules of a session: states, permissions by role, the window and its end, the
assurance levels."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud.sessions import rules
from cloud.sessions.rules import SessionRefused, Window

SLOT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WINDOW = Window(SLOT, SLOT + timedelta(minutes=30), timedelta(minutes=10),
                timedelta(minutes=10), timedelta(minutes=5))


def test_a_waiting_participant_is_admitted_or_denied_and_an_admitted_one_removed():
    assert rules.next_state("waiting", "admit") == "admitted"
    assert rules.next_state("waiting", "deny") == "denied"
    assert rules.next_state("admitted", "remove") == "removed"
    assert rules.next_state("admitted", "leave") == "left"
    for state, action in (("denied", "admit"), ("removed", "admit"), ("admitted", "admit"),
                          ("left", "admit")):
        with pytest.raises(SessionRefused):
            rules.next_state(state, action)


def test_one_who_left_the_lobby_comes_back_to_the_lobby_and_an_admitted_one_to_the_session():
    assert rules.rejoin_state(admitted_before=False) == "waiting"
    assert rules.rejoin_state(admitted_before=True) == "admitted"


def test_the_room_and_the_expert_skip_the_lobby_and_others_wait():
    assert rules.first_state("terminal") == rules.first_state("expert") == "admitted"
    assert rules.first_state("third_party") == rules.first_state("advisor") == "waiting"


@pytest.mark.parametrize("role", ["terminal", "third_party", "advisor"])
@pytest.mark.parametrize("action", ["admit", "deny", "remove", "end", "invite"])
def test_only_the_expert_admits_removes_and_ends(role, action):
    rules.require("expert", action)
    with pytest.raises(SessionRefused):
        rules.require(role, action)


def test_one_in_the_lobby_may_only_leave():
    rules.require("third_party", "leave", state="waiting")
    with pytest.raises(SessionRefused) as refused:
        rules.require("third_party", "signal", state="waiting")
    assert refused.value.reason == "not_admitted"


def test_the_session_ends_at_the_slots_end_plus_grace_with_a_warning_five_minutes_before():
    assert WINDOW.ends_at == SLOT + timedelta(minutes=40)
    assert WINDOW.warn_at == SLOT + timedelta(minutes=35)
    five = timedelta(minutes=5)
    assert rules.phase(now=SLOT, ends_at=WINDOW.ends_at, warning=five, ended_at=None) == \
        "running"
    assert rules.phase(now=WINDOW.warn_at, ends_at=WINDOW.ends_at, warning=five,
                       ended_at=None) == "warning"
    assert rules.phase(now=WINDOW.ends_at, ends_at=WINDOW.ends_at, warning=five,
                       ended_at=None) == "over"
    assert rules.phase(now=SLOT, ends_at=WINDOW.ends_at, warning=five, ended_at=SLOT) == "over"


def test_a_terminal_joins_only_its_own_rooms_current_session():
    room = ("porvoo", "r1")
    rules.terminal_may_join(session_room=room, terminal_room=room, window=WINDOW, ended=False,
                            now=SLOT - timedelta(minutes=5))
    cases = [(("imatra", "r1"), SLOT, False, "other_room"),
             (room, SLOT - timedelta(minutes=11), False, "not_current"),
             (room, WINDOW.ends_at, False, "not_current"),
             (room, SLOT, True, "not_current")]
    for terminal_room, now, ended, reason in cases:
        with pytest.raises(SessionRefused) as refused:
            rules.terminal_may_join(session_room=room, terminal_room=terminal_room,
                                    window=WINDOW, ended=ended, now=now)
        assert refused.value.reason == reason


def test_only_substantial_and_high_assurance_pass():
    for acr in rules.ACCEPTED_ASSURANCE:
        assert rules.check_assurance(acr) == acr
    for acr in (None, "", "http://ftn.ficora.fi/2017/loa1", "http://eidas.europa.eu/LoA/low",
                ["http://ftn.ficora.fi/2017/loa3"], "HTTP://FTN.FICORA.FI/2017/LOA3"):
        with pytest.raises(SessionRefused):
            rules.check_assurance(acr)


def test_a_login_older_than_the_limit_or_from_the_future_is_stale():
    now, limit = SLOT, timedelta(minutes=5)
    assert rules.check_fresh(issued_at=now.timestamp() - 60, now=now, max_age=limit)
    for issued in (now.timestamp() - 301, now.timestamp() + 120, None, "1", True):
        with pytest.raises(SessionRefused):
            rules.check_fresh(issued_at=issued, now=now, max_age=limit)


def test_the_shown_name_never_falls_back_to_an_identity_code():
    assert rules.shown_name({"name": "Anna A."}) == "Anna A."
    assert rules.shown_name({"given_name": "Anna", "family_name": "A."}) == "Anna A."
    assert rules.shown_name({"sub": "x", "urn:oid:1.2.246.21": "010190-900P"}) == "?"


def test_production_refuses_the_development_secrets(monkeypatch):
    from pydantic import ValidationError

    from cloud.sessions.settings import SessionSettings

    monkeypatch.setenv("ETP_ENVIRONMENT", "production")
    with pytest.raises(ValidationError):
        SessionSettings()
    monkeypatch.setenv("ETP_SESSIONS_TERMINAL_SECRET", "a-real-terminal-secret")
    monkeypatch.setenv("ETP_SESSIONS_STATE_SECRET", "a-real-state-secret")
    assert SessionSettings().environment == "production"
