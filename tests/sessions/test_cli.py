"""``etapalvelu sessions terminal-url``: the kiosk address a room's terminal opens."""
from __future__ import annotations

from click.testing import CliRunner

from cloud.sessions.cli import sessions
from cloud.sessions.service import room_token
from cloud.sessions.settings import SessionSettings


def test_the_terminal_url_carries_the_rooms_token_in_the_fragment(monkeypatch):
    monkeypatch.setenv("ETP_SESSIONS_TERMINAL_SECRET", "a-secret-of-this-test")
    result = CliRunner().invoke(sessions, ["terminal-url", "porvoo", "r1",
                                           "--base", "https://etapalvelu.example.invalid"])
    token = room_token(SessionSettings(), site="porvoo", room="r1")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("https://etapalvelu.example.invalid/sessions/terminal?"
                                     f"site=porvoo&room=r1#token={token}")


def test_an_unknown_room_is_refused():
    result = CliRunner().invoke(sessions, ["terminal-url", "porvoo", "r9"])
    assert result.exit_code != 0 and "no room" in result.output
