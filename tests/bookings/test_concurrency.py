"""Concurrent changes of one booking: exactly one wins, and the room slots, the authority's
expert load and the change log stay exact (on SQLite and on the real PostgreSQL)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from cloud.bookings import service
from cloud.bookings.models import BookedSlot, Booking, BookingChange, ExpertLoad
from cloud.bookings.service import BookingRefused
from cloud.db import make_engine, make_sessionmaker
from tests.bookings.conftest import CUSTOMER, at

NOW = at(2025, 11, 10, 8)
CHANGES = 20


def a_booking(sessions, rules) -> int:
    with sessions() as session:
        booking = service.create_booking(
            session, rules, site="porvoo", service="vero-taxation", start=at(2025, 11, 12, 10),
            minutes=60, channel="phone_service", customer=CUSTOMER, actor="setup", now=NOW)
        session.commit()
        return booking.id


def change_at_once(sessions, rules, booking_id: int) -> list[str]:
    """Every change reads the booking, then all of them change it at the same moment: half
    cancel, half move it to times of their own."""
    everyone_has_read = threading.Barrier(CHANGES)

    def change(n: int) -> str:
        with sessions() as session:
            booking = session.get(Booking, booking_id)
            everyone_has_read.wait(timeout=30)
            try:
                if n % 2:
                    service.cancel_booking(session, booking=booking, reason="ill",
                                           actor=f"agent{n}", now=NOW)
                else:
                    service.move_booking(session, rules, booking=booking, actor=f"agent{n}",
                                         start=at(2025, 11, 13 + n // 10, 9 + (n % 10) // 2),
                                         now=NOW)
                session.commit()
                return "cancelled" if n % 2 else "moved"
            except BookingRefused as refusal:
                return f"{refusal.reason} {refusal.status}"

    with ThreadPoolExecutor(CHANGES) as pool:
        return list(pool.map(change, range(CHANGES)))


def test_of_twenty_concurrent_cancels_and_moves_of_one_booking_exactly_one_wins(database,
                                                                                rules):
    engine = make_engine(database, pool_size=CHANGES + 2, max_overflow=0)
    sessions = make_sessionmaker(engine)
    booking_id = a_booking(sessions, rules)
    outcomes = change_at_once(sessions, rules, booking_id)
    winners = [o for o in outcomes if o in ("cancelled", "moved")]
    assert len(winners) == 1, outcomes
    assert set(outcomes) - set(winners) == {"changed_meanwhile 409"}
    with sessions() as session:
        booking = session.get(Booking, booking_id)
        held = sorted(session.scalars(select(BookedSlot.start)))
        load = dict(session.execute(select(ExpertLoad.start, ExpertLoad.count)
                                    .where(ExpertLoad.count != 0)).all())
        actions = session.scalars(select(BookingChange.action).order_by(BookingChange.id)).all()
        assert session.scalar(select(func.min(ExpertLoad.count))) == 0  # never below nothing
    if winners == ["cancelled"]:
        assert booking.status == "cancelled" and held == [] and load == {}
    else:
        assert booking.status == "booked" and booking.moves == 1
        assert held == [booking.start, booking.start + (booking.end - booking.start) / 2]
        assert load == {at_: 1 for at_ in held}
    assert actions == ["created", winners[0]]
    assert booking.version == 2
    engine.dispose()
