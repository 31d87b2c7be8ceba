"""The real app with staff of every role, on SQLite or on PostgreSQL, in-process or served by
uvicorn on a free loopback port (for requests that really run in parallel)."""
from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from cloud.accounts.settings import AccountSettings
from cloud.db import migrate
from cloud.settings import CloudSettings
from cloud.web.app import create_app
from cloud.web.settings import WebSettings
from tests.accounts.conftest import (  # noqa: F401  (migrated_file is a fixture)
    ADMIN_TOKEN,
    NOW,
    Clock,
    add_staff,
    make_app,
    migrated_file,
)
from tests.pages import served  # noqa: F401  (the security tests serve apps)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def app(tmp_path, migrated_file):  # noqa: F811
    """The app on a migrated SQLite copy with staff of every role."""
    app = make_app(tmp_path, NOW, migrated_file)
    add_staff(app, NOW)
    return app


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture(params=["sqlite", "postgresql"])
def store_app(request, tmp_path, migrated_file):  # noqa: F811
    """The app with staff on SQLite, then on PostgreSQL."""
    if request.param == "sqlite":
        app = make_app(tmp_path, NOW, migrated_file)
    else:
        url = request.getfixturevalue("postgres").create_database(f"sec_{uuid.uuid4().hex[:8]}")
        migrate(url)
        app = create_app(CloudSettings(database_url=url, admin_token=ADMIN_TOKEN),
                         WebSettings())
        app.state.account_settings = AccountSettings(cookie_secure=False)
        app.state.clock = Clock(NOW)
    add_staff(app, NOW)
    return app


