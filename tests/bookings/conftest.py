"""Fixtures of the booking tests: a migrated SQLite store and the pilot's rules."""
from __future__ import annotations

import shutil
from datetime import datetime

import pytest

from cloud.bookings.hours import HELSINKI
from cloud.bookings.service import BookingRules, Customer
from cloud.db import make_engine, make_sessionmaker, migrate
from cloud.registry import load_registry


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory):
    """A SQLite file migrated once; each test copies it."""
    path = tmp_path_factory.mktemp("template") / "store.sqlite"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def store(tmp_path, migrated_file):
    """A sessionmaker on a fresh copy of a migrated SQLite file."""
    shutil.copy(migrated_file, tmp_path / "store.sqlite")
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def rules():
    """The pilot's registry and catalogue with Finnish holidays."""
    return BookingRules.load(load_registry())


def at(year, month, day, hh, mm=0) -> datetime:
    """A Helsinki wall time."""
    return datetime(year, month, day, hh, mm, tzinfo=HELSINKI)


CUSTOMER = Customer(name="A. A.", phone="+358 40 0000000", language="sv")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path, migrated_file) -> str:
    """The URL of a migrated, empty store on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        shutil.copy(migrated_file, tmp_path / "store.sqlite")
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    name = f"bk_{request.node.name}".translate(str.maketrans("[]-", "___")).lower()[:60]
    url = request.getfixturevalue("postgres").create_database(name)
    migrate(url)
    return url
