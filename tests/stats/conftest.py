"""Fixtures of the statistics tests: a migrated store on SQLite and PostgreSQL holding the
seeded month (``tests.stats.seed``)."""
from __future__ import annotations

import shutil

import pytest

from cloud.accounts import service as accounts
from cloud.db import make_engine, make_sessionmaker, migrate
from cloud.registry import load_registry
from tests.stats.seed import seed_month

try:  # cheap password hashing, as in the account tests
    from argon2 import PasswordHasher

    accounts.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
except ImportError:  # pragma: no cover
    pass


@pytest.fixture(scope="session")
def migrated_stats_file(tmp_path_factory):
    """A SQLite file migrated once; each test copies it."""
    path = tmp_path_factory.mktemp("stats-template") / "cloud.sqlite"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path, migrated_stats_file) -> str:
    """The URL of a migrated, empty store on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        shutil.copy(migrated_stats_file, tmp_path / "cloud.sqlite")
        return f"sqlite:///{tmp_path / 'cloud.sqlite'}"
    name = f"st_{request.node.name}".translate(str.maketrans("[]-", "___")).lower()[:60]
    url = request.getfixturevalue("postgres").create_database(name)
    migrate(url)
    return url


@pytest.fixture
def seeded(store_url):
    """(url, sessionmaker, registry) of a store holding the seeded month."""
    registry = load_registry()
    engine = make_engine(store_url)
    sessions = make_sessionmaker(engine)
    seed_month(sessions, registry)
    yield store_url, sessions, registry
    engine.dispose()
