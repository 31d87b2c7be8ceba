"""Fixtures of the points' tests: the real app on SQLite or PostgreSQL, its clock on Monday
14.12.2026 at 10:00 in Helsinki (the four weeks from it hold Christmas Eve, Christmas Day,
New Year's Day and Epiphany), and the building of Porvoo closing at noon on 31.12."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cloud.db import migrate
from cloud.settings import CloudSettings
from cloud.sites.service import set_building_exception
from cloud.web.app import create_app
from tests.accounts.conftest import ADMIN_TOKEN, Clock
from tests.time.conftest import database_url  # noqa: F401 - the fixture: either store

NOW = datetime(2026, 12, 14, 8, 0, tzinfo=UTC)  # 10:00 in Helsinki
NEW_YEARS_EVE = date(2026, 12, 31)


@pytest.fixture
def app(database_url):  # noqa: F811 - the imported fixture
    """The real app on this test's database (SQLite or PostgreSQL, migrated here), its clock
    at ``NOW``, Porvoo's building closing at noon on New Year's Eve."""
    migrate(database_url)
    app = create_app(CloudSettings(database_url=database_url, admin_token=ADMIN_TOKEN))
    app.state.clock = Clock(NOW)
    with app.state.sessionmaker() as session:
        set_building_exception(session, site="porvoo", day=NEW_YEARS_EVE,
                               spans=[(9 * 60, 12 * 60)], reason="uudenvuodenaatto")
        session.commit()
    yield app
    app.state.engine.dispose()
