"""Local login: argon2 passwords, throttling, idle and absolute timeouts, audit."""
from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher, Type
from fastapi.testclient import TestClient
from sqlalchemy import select

from cloud.accounts.models import AuditEntry, Staff
from tests.accounts.conftest import ADMIN_TOKEN, NOW, PASSWORD, login


def audit_rows(app):
    with app.state.sessionmaker() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_passwords_are_stored_as_argon2id_hashes_only(app):
    assert PasswordHasher().type is Type.ID  # the production hasher
    with app.state.sessionmaker() as session:
        staff = session.scalar(select(Staff).where(Staff.username == "exp-kela"))
    assert staff.password_hash.startswith("$argon2id$") and PASSWORD not in staff.password_hash


def test_login_gives_a_cookie_session_and_me_shows_the_scope(app):
    with TestClient(app) as client:
        answer = client.post("/api/accounts/login",
                             json={"username": "adv-porvoo", "password": PASSWORD})
        assert answer.status_code == 200
        assert "httponly" in answer.headers["set-cookie"].lower()
        me = client.get("/api/accounts/me").json()  # the cookie alone authenticates
        assert me == {"username": "adv-porvoo", "role": "advisor", "organisation": "porvoo",
                      "sites": ["porvoo"]}
        second = login(client, "adv-porvoo")
        assert second["Authorization"].split()[1] != answer.json()["token"]  # renewed
        client.post("/api/accounts/logout", headers=second)
        client.cookies.clear()
        assert client.get("/api/accounts/me", headers=second).status_code == 401


def test_failed_logins_are_throttled_and_audited_without_the_password(app):
    with TestClient(app) as client:
        for _ in range(5):
            bad = client.post("/api/accounts/login",
                              json={"username": "exp-vero", "password": "wrong password!"})
            assert bad.status_code == 401
        right = client.post("/api/accounts/login",
                            json={"username": "exp-vero", "password": PASSWORD})
        assert right.status_code == 429
        app.state.clock.now = NOW + timedelta(minutes=16)
        assert client.post("/api/accounts/login",
                           json={"username": "exp-vero", "password": PASSWORD}).status_code == 200
    rows = [(r.actor, r.action, r.outcome) for r in audit_rows(app)]
    assert rows.count(("exp-vero", "login", "failed")) == 5
    assert ("exp-vero", "login", "refused") in rows and ("exp-vero", "login", "ok") in rows
    assert all(r.client == "testclient" for r in audit_rows(app))
    assert not any("wrong" in str(vars(r)) or PASSWORD in str(vars(r)) for r in audit_rows(app))


def test_unknown_user_fails_like_a_wrong_password(app):
    with TestClient(app) as client:
        answer = client.post("/api/accounts/login", json={"username": "nobody", "password": "x"})
    assert answer.status_code == 401 and answer.json()["detail"] == "wrong username or password"


def test_sessions_end_after_idle_and_absolute_timeouts(app):
    with TestClient(app) as client:
        headers = login(client, "exp-kela")
        client.cookies.clear()
        for minutes in (29, 58, 87):  # used within the idle limit each time
            app.state.clock.now = NOW + timedelta(minutes=minutes)
            assert client.get("/api/accounts/me", headers=headers).status_code == 200
        app.state.clock.now = NOW + timedelta(minutes=87 + 31)
        assert client.get("/api/accounts/me", headers=headers).status_code == 401
        app.state.clock.now = NOW
        headers = login(client, "exp-kela")
        client.cookies.clear()
        for step in range(1, 24):  # every 25 minutes up to 9 h 35 min
            app.state.clock.now = NOW + timedelta(minutes=25 * step)
            assert client.get("/api/accounts/me", headers=headers).status_code == 200
        app.state.clock.now = NOW + timedelta(hours=10)
        assert client.get("/api/accounts/me", headers=headers).status_code == 401


def test_admin_token_bootstraps_staff_creation(app):
    with TestClient(app) as client:
        token = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        answer = client.post("/api/accounts/staff", headers=token, json={
            "username": "adv-nurmes", "display_name": "Advisor", "role": "advisor",
            "organisation": "nurmes", "sites": ["nurmes"], "password": PASSWORD})
        assert answer.status_code == 201 and "password" not in answer.text
        bad = client.post("/api/accounts/staff", headers=token, json={
            "username": "exp-x", "display_name": "X", "role": "expert", "organisation": "nasa"})
        assert bad.status_code == 422
        unrouted = client.post("/api/accounts/staff", headers=token, json={
            "username": "sup-x", "display_name": "X", "role": "support", "organisation": "elisa"})
        assert unrouted.status_code == 422  # no incident is routed to "elisa": an empty queue
        assert "supplier" in unrouted.json()["detail"]
        support = client.post("/api/accounts/staff", headers=token, json={
            "username": "sup-v", "display_name": "V", "role": "support", "organisation": "valtori"})
        assert support.status_code == 201
        assert login(client, "adv-nurmes")
