"""Login through a real local OIDC provider over HTTP: code flow with PKCE, state, nonce."""
from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlparse

import httpx
import pytest
from fastapi.testclient import TestClient

from cloud.accounts import service
from cloud.accounts.settings import AccountSettings
from tests.accounts.conftest import NOW, make_app
from tests.accounts.oidc_provider import Provider

REDIRECT = "http://testserver/api/accounts/oidc/callback"


@pytest.fixture
def provider():
    with Provider("etapalvelu", "client-secret-for-tests") as running:
        yield running


@pytest.fixture
def app(tmp_path, migrated_file, provider):
    app = make_app(tmp_path, datetime.now(UTC), migrated_file)
    app.state.account_settings = AccountSettings(
        cookie_secure=False, oidc_issuer=provider.issuer, oidc_client_id="etapalvelu",
        oidc_client_secret="client-secret-for-tests", oidc_redirect_url=REDIRECT)
    with app.state.sessionmaker() as session:
        service.create_staff(session, app.state.registry, username="exp-kela-oidc",
                             display_name="E", role="expert", organisation="kela", now=NOW,
                             oidc_issuer=provider.issuer, oidc_subject="subject-1")
        session.commit()
    return app


def through_provider(client: TestClient) -> httpx.Response:
    """Start at the app, approve at the provider, come back to the callback."""
    start = client.get("/api/accounts/oidc/login", follow_redirects=False)
    assert start.status_code == 302
    back = httpx.get(start.headers["location"], follow_redirects=False, timeout=10)
    assert back.status_code == 302
    callback = urlparse(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_a_linked_identity_logs_in_with_a_session(app):
    with TestClient(app) as client:
        done = through_provider(client)
        assert done.status_code == 303, done.text
        me = client.get("/api/accounts/me").json()
        assert me["username"] == "exp-kela-oidc" and me["organisation"] == "kela"


def test_an_identity_without_a_staff_account_is_refused(app, provider):
    provider.subject = "stranger"
    with TestClient(app) as client:
        assert through_provider(client).status_code == 403
        assert client.get("/api/accounts/me").status_code == 401


def test_a_token_for_another_client_is_refused(app, provider):
    provider.audience = "some-other-client"
    with TestClient(app) as client:
        assert through_provider(client).status_code == 401


def test_a_callback_with_a_forged_state_is_refused(app):
    with TestClient(app) as client:
        start = client.get("/api/accounts/oidc/login", follow_redirects=False)
        back = httpx.get(start.headers["location"], follow_redirects=False, timeout=10)
        callback = urlparse(back.headers["location"])
        forged = callback.query.replace("state=", "state=x")
        assert client.get(f"{callback.path}?{forged}", follow_redirects=False).status_code == 401
