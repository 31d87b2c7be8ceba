"""The purge removes personal fields after retention and leaves statistics unchanged."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from cloud.bookings import service
from cloud.bookings.models import Booking
from cloud.bookings.purge import statistics
from cloud.bookings.service import Customer
from cloud.flows.purge import purge_personal_data
from tests.bookings.conftest import at

NOW = at(2025, 11, 3, 8)


def fill_a_week(session, rules):
    people = [Customer(name=f"Person {i}", phone="+358401234567", email="p@example.invalid",
                       language="fi") for i in range(6)]
    made = [service.create_booking(session, rules, site="porvoo", service="vero-taxation",
                                   start=at(2025, 11, 3 + i % 3, 9 + i), minutes=30 + 30 * (i % 2),
                                   channel=["on_site", "phone_service", "service_number"][i % 3],
                                   customer=people[i], actor="adv", now=NOW)
            for i in range(6)]
    service.move_booking(session, rules, booking=made[0], start=at(2025, 11, 3, 14),
                         actor="adv", now=NOW)
    service.cancel_booking(session, booking=made[1], reason="ill", actor="adv", now=NOW)
    service.complete(session, booking=made[2], realised_start=at(2025, 11, 5, 11, 3),
                     realised_end=at(2025, 11, 5, 11, 40), actor="exp", now=at(2025, 11, 5, 12))
    service.mark_no_show(session, booking=made[3], actor="adv", now=at(2025, 11, 3, 12, 10))
    return made


def test_purge_after_retention_keeps_statistics(store, rules):
    with store() as s:
        made = fill_a_week(s, rules)
        week = {"site": "porvoo", "first": date(2025, 11, 3), "last": date(2025, 11, 9)}
        before = statistics(s, **week)
        assert before["cancelled"] == 1 and before["moves"] == 1 and before["realised_minutes"] == 37
        retention = timedelta(days=30)
        assert purge_personal_data(s, now=at(2025, 12, 3, 8), retention=retention) == 0
        last_end = max(b.end for b in made)
        assert purge_personal_data(s, now=last_end + retention + timedelta(minutes=1),
                                   retention=retention) == 6
        rows = s.scalars(select(Booking)).all()
        assert all(b.customer_name is None and b.customer_phone is None
                   and b.customer_email is None and b.purged_at is not None for b in rows)
        assert statistics(s, **week) == before


def test_purge_leaves_recent_bookings_alone(store, rules):
    with store() as s:
        fill_a_week(s, rules)
        purged = purge_personal_data(s, now=at(2025, 12, 4, 12), retention=timedelta(days=30))
        names = s.scalars(select(Booking.customer_name).order_by(Booking.start)).all()
        # cutoff 4.11. 12:00: the two visits of 3.11. and the one of 4.11. at 10:00 ended before
        assert purged == 3 and names.count(None) == 3


def test_a_cancelled_booking_is_purged_retention_after_its_cancellation(store, rules):
    with store() as s:
        made = fill_a_week(s, rules)  # made[1] is cancelled at NOW; its visit was on 4.11.
        day = timedelta(days=1)
        assert purge_personal_data(s, now=NOW + day - timedelta(minutes=1), retention=day) == 0
        assert purge_personal_data(s, now=NOW + day + timedelta(minutes=1), retention=day) == 1
        s.refresh(made[1])
        assert made[1].customer_name is None and made[1].purged_at is not None
        assert s.scalar(select(Booking.customer_name).where(Booking.id == made[0].id))
