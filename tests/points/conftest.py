"""Fixtures of the points' tests: the real app on SQLite or PostgreSQL, its clock on Monday
14.12.2026 at 10:00 in Helsinki (the four weeks from it hold Christmas Eve, Christmas Day,
New Year's Day and Epiphany), and the building of Porvoo closing at noon on 31.12."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from cloud.db import migrate
from cloud.settings import CloudSettings
from cloud.sites.service import set_building_exception
from cloud.web.app import create_app
from tests.accounts.conftest import ADMIN_TOKEN, Clock

NOW = datetime(2026, 12, 14, 8, 0, tzinfo=UTC)  # 10:00 in Helsinki
NEW_YEARS_EVE = date(2026, 12, 31)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """A migrated database, SQLite or PostgreSQL, where Porvoo's building closes at noon on
    New Year's Eve."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cloud.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database(
            f"points_{uuid.uuid4().hex[:12]}")
    migrate(url)
    return url


@pytest.fixture
def app(database_url):
    """The real app on this test's database, its clock at ``NOW``."""
    app = create_app(CloudSettings(database_url=database_url, admin_token=ADMIN_TOKEN))
    app.state.clock = Clock(NOW)
    with app.state.sessionmaker() as session:
        set_building_exception(session, site="porvoo", day=NEW_YEARS_EVE,
                               spans=[(9 * 60, 12 * 60)], reason="uudenvuodenaatto")
        session.commit()
    yield app
    app.state.engine.dispose()
