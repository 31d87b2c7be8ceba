"""Fixtures of the time tests: every test runs on SQLite and on PostgreSQL, through the real
app, with staff of every role and a settable clock."""
from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from cloud.accounts.settings import AccountSettings
from cloud.db import migrate
from cloud.incidents import service
from cloud.incidents.matrix import load_matrix
from cloud.incidents.settings import IncidentSettings
from cloud.settings import CloudSettings
from cloud.web.app import create_app
from tests.accounts.conftest import ADMIN_TOKEN, Clock, add_staff

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SETTINGS = IncidentSettings(housekeeping_interval_s=0.0, twin_interval_s=3600,
                            public_url="https://etapalvelu.example.invalid")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """An empty database, SQLite or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cloud.sqlite'}"
    return request.getfixturevalue("postgres").create_database(f"time_{uuid.uuid4().hex[:12]}")


def make_app(url: str, now: datetime):
    """The real app on the database at ``url`` (migrated), its clock at ``now``."""
    migrate(url)
    app = create_app(CloudSettings(database_url=url, admin_token=ADMIN_TOKEN))
    app.state.account_settings = AccountSettings(cookie_secure=False)
    app.state.incident_settings = SETTINGS
    app.state.clock = Clock(now)
    return app


@pytest.fixture
def app_factory(database_url):
    """Make the app on this test's database; its engine is disposed of after the test."""
    apps = []

    def make(now: datetime, *, staff: bool = False):
        app = make_app(database_url, now)
        if staff:
            add_staff(app, now)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.state.engine.dispose()


def routing_of(app) -> service.Routing:
    """The incident routing the app's engine works with (matrix, registry, settings)."""
    registry = app.state.registry
    return service.Routing(load_matrix(SETTINGS.matrix_file, list(registry.sites)), registry,
                           SETTINGS)
