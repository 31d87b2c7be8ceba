"""The booking store on the real PostgreSQL: schema matches the models, and concurrent
attempts at one slot are decided by the database."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, func, select

import cloud.accounts.models  # noqa: F401  (registers the tables compared below)
from cloud.bookings import service
from cloud.bookings.models import BookedSlot, Booking
from cloud.bookings.service import BookingRefused, Customer
from cloud.db import make_sessionmaker, migrate
from tests.bookings.conftest import at
from tests.store import schema_differences

pytestmark = pytest.mark.postgres
OURS = ("accounts_", "bookings_")


def test_migrations_match_the_models_on_sqlite_and_postgresql(tmp_path, postgres):
    for url in (f"sqlite:///{tmp_path / 'm.sqlite'}", postgres.create_database("bk_schema")):
        migrate(url)
        assert schema_differences(url, *OURS) == []


def test_fifty_concurrent_attempts_at_one_slot_book_it_once(postgres, rules):
    url = postgres.create_database("bk_race")
    migrate(url)
    engine = create_engine(url, pool_size=55, max_overflow=0)
    sessions = make_sessionmaker(engine)
    start_together = threading.Barrier(50)

    def attempt(n: int):
        with sessions() as session:
            start_together.wait(timeout=30)
            try:
                booking = service.create_booking(
                    session, rules, site="imatra", service="vero-taxation",
                    start=at(2025, 11, 12, 10), minutes=30, channel="phone_service",
                    customer=Customer(name=f"C{n}"), actor=f"agent{n}",
                    now=at(2025, 11, 10, 8), room="r1")
                session.commit()
                return ("booked", booking.id)
            except BookingRefused as refusal:
                return (refusal.reason, refusal.status, refusal.detail)

    with ThreadPoolExecutor(50) as pool:
        outcomes = list(pool.map(attempt, range(50)))
    booked = [o for o in outcomes if o[0] == "booked"]
    assert len(booked) == 1
    assert {o[:2] for o in outcomes if o not in booked} == {("slot_taken", 409)}
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1
        assert session.scalar(select(func.count()).select_from(BookedSlot)) == 1
    engine.dispose()


def test_concurrent_bookings_never_exceed_the_authoritys_experts(postgres, rules):
    url = postgres.create_database("bk_experts")
    migrate(url)
    engine = create_engine(url, pool_size=25, max_overflow=0)
    sessions = make_sessionmaker(engine)
    start_together = threading.Barrier(21)
    sites = ("porvoo", "imatra", "nurmes")  # one DVV expert serves all three rooms

    def attempt(n: int):
        with sessions() as session:
            start_together.wait(timeout=30)
            try:
                service.create_booking(
                    session, rules, site=sites[n % 3], service="dvv-population",
                    start=at(2025, 11, 12, 11), minutes=30, channel="phone_service",
                    customer=Customer(name=f"C{n}"), actor=f"agent{n}", now=at(2025, 11, 10, 8))
                session.commit()
                return "booked"
            except BookingRefused as refusal:
                return refusal.reason

    with ThreadPoolExecutor(21) as pool:
        outcomes = list(pool.map(attempt, range(21)))
    assert outcomes.count("booked") == 1
    assert set(outcomes) - {"booked"} <= {"no_expert", "slot_taken"}
    engine.dispose()
