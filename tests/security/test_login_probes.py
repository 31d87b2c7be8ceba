"""Probes at the login: parallel guessing, forged client addresses, huge bodies, text that
is not text. Each must be refused."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from cloud.accounts.models import AuditEntry
from cloud.web.settings import WebSettings
from tests.accounts.conftest import NOW, PASSWORD, add_staff, make_app
from tests.security.conftest import ADMIN, served

pytestmark = pytest.mark.postgres


def _logins(app, outcome: str) -> int:
    with app.state.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "login", AuditEntry.outcome == outcome))


def test_forty_parallel_wrong_passwords_for_one_user_get_only_five_checked(store_app):
    start_together = threading.Barrier(40)

    with served(store_app) as url, httpx.Client(base_url=url, timeout=30) as http:
        def guess(n: int) -> int:
            start_together.wait(timeout=30)
            return http.post("/api/accounts/login",
                             json={"username": "adv-porvoo", "password": f"guess-{n}"}
                             ).status_code

        with ThreadPoolExecutor(40) as pool:
            answers = list(pool.map(guess, range(40)))
        correct = http.post("/api/accounts/login",
                            json={"username": "adv-porvoo", "password": PASSWORD})
    assert sorted(answers) == [401] * 5 + [429] * 35
    assert (_logins(store_app, "failed"), _logins(store_app, "refused")) == (5, 36)
    assert correct.status_code == 429  # even the right password waits out the window


def test_a_successful_login_does_not_use_up_the_users_attempts(client):
    for _ in range(10):
        answer = client.post("/api/accounts/login",
                             json={"username": "adv-porvoo", "password": PASSWORD})
        assert answer.status_code == 200
    client.cookies.clear()


def test_x_forwarded_for_from_an_untrusted_peer_changes_neither_throttle_nor_audit(app):
    with served(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        for n in range(20):
            answer = http.post("/api/accounts/login",
                               json={"username": f"user{n}", "password": "x"},
                               headers={"X-Forwarded-For": f"203.0.113.{n}"})
            assert answer.status_code == 401
        answer = http.post("/api/accounts/login", json={"username": "user99", "password": "x"},
                           headers={"X-Forwarded-For": "198.51.100.7"})
    assert answer.status_code == 429  # the peer's own 20 failures, whatever it claims
    with app.state.sessionmaker() as session:
        clients = set(session.scalars(select(AuditEntry.client)))
    assert clients == {"127.0.0.1"}


def test_x_forwarded_for_from_a_configured_proxy_names_the_client(tmp_path, migrated_file):
    from fastapi.testclient import TestClient

    app = make_app(tmp_path, NOW, migrated_file)
    app.state.web_settings = WebSettings(trusted_proxies=["testclient"])
    app = _rebuilt(app)
    add_staff(app, NOW)
    with TestClient(app) as client:
        client.post("/api/accounts/login", json={"username": "adv-porvoo", "password": "x"},
                    headers={"X-Forwarded-For": "198.51.100.7"})
    with app.state.sessionmaker() as session:
        assert list(session.scalars(select(AuditEntry.client))) == ["198.51.100.7"]


def _rebuilt(app):
    """The same app built with its (changed) web settings, keeping its state."""
    from cloud.web.app import create_app

    state = app.state
    new = create_app(state.settings, state.web_settings)
    new.state.account_settings, new.state.clock = state.account_settings, state.clock
    return new


def test_a_thirty_megabyte_login_body_is_refused_unread_and_not_echoed(client):
    body = b'{"username": "' + b"a" * 30_000_000 + b'", "password": "x"}'
    answer = client.post("/api/accounts/login", content=body,
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 413
    assert len(answer.content) < 200


def test_a_chunked_body_is_cut_off_at_the_bound(client):
    def chunks():
        for _ in range(100):
            yield b"a" * 10_000

    answer = client.post("/api/accounts/login", content=chunks(),
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 413


def test_a_refused_login_body_is_not_echoed_in_the_error(client):
    secret = "my-secret-password-" + "x" * 300
    answer = client.post("/api/accounts/login", json={"username": "adv-porvoo",
                                                      "password": secret})
    assert answer.status_code == 422
    assert "my-secret-password" not in answer.text
    assert answer.json()["errors"][0]["loc"] == ["body", "password"]


@pytest.mark.parametrize("field", ["username", "password"])
def test_a_lone_surrogate_in_the_login_is_a_clear_422(client, field):
    fields = {"username": '"adv-porvoo"', "password": '"x"', field: '"ab\\ud800cd"'}
    body = '{{"username": {username}, "password": {password}}}'.format(**fields)
    answer = client.post("/api/accounts/login", content=body.encode(),
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert "unicode" in answer.text.lower()


def test_the_audit_log_limit_is_bounded(client):
    for limit in (-1, 0, 1001):
        answer = client.get("/api/accounts/audit", params={"limit": limit}, headers=ADMIN)
        assert answer.status_code == 422, limit
    assert client.get("/api/accounts/audit", params={"limit": 2}, headers=ADMIN).status_code \
        == 200
