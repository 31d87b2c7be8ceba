"""The real FastAPI app on a migrated SQLite store, with staff of every role."""
from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from cloud.accounts import service
from cloud.accounts.settings import AccountSettings
from cloud.db import migrate
from cloud.settings import CloudSettings
from cloud.web.app import create_app

PASSWORD = "correct horse battery staple"
ADMIN_TOKEN = "test-admin-token-of-this-app"

# username: (role, organisation, sites)
STAFF = {
    "adv-porvoo": ("advisor", "porvoo", ["porvoo"]),
    "adv-imatra": ("advisor", "imatra", ["imatra"]),
    "exp-kela": ("expert", "kela", []),
    "exp-vero": ("expert", "vero", []),
    "tel-kela": ("phone_agent", "kela", []),
    "tel-poliisi": ("phone_agent", "poliisi", []),
    "sup-elisa": ("support", "elisa", []),
    "admin": ("admin", None, []),
}


class Clock:
    """A settable clock for the app."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# Cheap argon2 parameters keep the tests fast; the production defaults are tested apart.
service.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory):
    """A SQLite file migrated once; each test copies it."""
    path = tmp_path_factory.mktemp("template") / "cloud.sqlite"
    migrate(f"sqlite:///{path}")
    return path


def make_app(tmp_path, now: datetime, template, **account_settings):
    shutil.copy(template, tmp_path / "cloud.sqlite")
    url = f"sqlite:///{tmp_path / 'cloud.sqlite'}"
    app = create_app(CloudSettings(database_url=url, admin_token=ADMIN_TOKEN))
    app.state.account_settings = AccountSettings(cookie_secure=False, **account_settings)
    app.state.clock = Clock(now)
    return app


def add_staff(app, now: datetime) -> None:
    with app.state.sessionmaker() as session:
        for username, (role, org, sites) in STAFF.items():
            service.create_staff(session, app.state.registry, username=username,
                                 display_name=username, role=role, organisation=org,
                                 sites=sites, password=PASSWORD, now=now)
        session.commit()


def login(client: TestClient, username: str) -> dict:
    """Log in and return the bearer header of the new session."""
    answer = client.post("/api/accounts/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


NOW = datetime(2025, 11, 10, 6, 0, tzinfo=UTC)  # Monday 08:00 in Helsinki


@pytest.fixture
def app(tmp_path, migrated_file):
    app = make_app(tmp_path, NOW, migrated_file)
    add_staff(app, NOW)
    return app
