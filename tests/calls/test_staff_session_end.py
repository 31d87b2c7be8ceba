"""A console's live stream lives no longer than the staff session that opened it: after a
logout, or once the account is disabled, the stream says ``logged_out`` and ends within its
keep-alive interval (on SQLite and PostgreSQL)."""
from __future__ import annotations

import httpx
import pytest

from cloud.accounts.models import Staff
from cloud.calls.settings import CallSettings
from cloud.settings import CloudSettings
from cloud.web.app import create_app
from tests.calls.conftest import ADMIN_TOKEN
from tests.calls.sse import SseClient
from tests.pages import served

KEEPALIVE_S = 0.5


@pytest.fixture
def replica(database, broker):
    """The app with a short keep-alive, served on a free port."""
    app = create_app(CloudSettings(database_url=database, broker_url=broker.url,
                                   admin_token=ADMIN_TOKEN))
    app.state.call_settings = CallSettings(keepalive_s=KEEPALIVE_S)
    with served(app) as base:
        yield app, base


def _listening(base: str, token: str) -> SseClient:
    console = SseClient(f"{base}/api/live/events", token)
    assert console.wait_status() == 200
    console.wait("hello")
    return console


def test_a_console_stream_ends_soon_after_its_staff_session_logs_out(replica, staff):
    _, base = replica
    console = _listening(base, staff["adv-porvoo-1"][1])
    other = _listening(base, staff["adv-porvoo-2"][1])
    answer = httpx.post(f"{base}/api/accounts/logout",
                        headers={"Authorization": f"Bearer {staff['adv-porvoo-1'][1]}"})
    assert answer.status_code == 204
    console.wait("logged_out", timeout=KEEPALIVE_S * 6)
    console.wait_ended(timeout=KEEPALIVE_S * 6)
    assert not other.ended and "logged_out" not in other.names()  # others are not touched
    other.close()


def test_a_console_stream_ends_once_the_account_is_disabled(replica, staff, sessions):
    _, base = replica
    staff_id, token = staff["adv-porvoo-1"]
    console = _listening(base, token)
    with sessions() as db:
        db.get(Staff, staff_id).active = False
        db.commit()
    console.wait("logged_out", timeout=KEEPALIVE_S * 6)
    console.wait_ended(timeout=KEEPALIVE_S * 6)
