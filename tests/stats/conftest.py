"""Fixtures of the statistics tests: a migrated store on SQLite and PostgreSQL (the booking
tests' ``database``) holding the seeded month (``tests.stats.seed``)."""
from __future__ import annotations

import pytest

import tests.accounts.conftest  # noqa: F401  (cheap password hashing for the test logins)
from cloud.db import make_engine, make_sessionmaker
from cloud.registry import load_registry
from tests.bookings.conftest import database, migrated_file  # noqa: F401
from tests.stats.seed import seed_month


@pytest.fixture
def seeded(database):  # noqa: F811
    """(url, sessionmaker, registry) of a store holding the seeded month."""
    registry = load_registry()
    engine = make_engine(database)
    sessions = make_sessionmaker(engine)
    seed_month(sessions, registry)
    yield database, sessions, registry
    engine.dispose()
