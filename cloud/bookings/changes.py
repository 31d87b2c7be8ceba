"""Changing bookings: booking, walk-ins, moving, cancelling and the visit's life (check-in,
no-show, completion). Every function takes the session and ``now`` and writes in the caller's
transaction; the caller commits (and confirms a visit booked or moved to its customer:
``flows.reminders``). A refusal decided by the database (a slot or the last expert
taken a moment ago, a booking changed meanwhile) rolls the session back.

Two changes of one booking cannot both win: each first claims the booking with a conditional
update of its ``version`` (the version the caller read), which holds the row until commit; the
loser finds the version moved on and is refused with ``changed_meanwhile``. Capacity is given
back only for the slots the change actually deleted.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from cloud.bookings.availability import pick_room
from cloud.bookings.hours import Interval, slot_floor
from cloud.bookings.models import (
    BOOKED,
    CANCELLED,
    CHANNELS,
    CHECKED_IN,
    COMPLETED,
    NO_SHOW,
    BookedSlot,
    Booking,
    BookingChange,
    ExpertLoad,
)
from cloud.bookings.rules import BookingRefused, BookingRules, Customer, refused
from etapalvelu.logs import event_log

log = event_log(__name__)
LOCK_CONFLICTS = ("40P01", "40001")  # PostgreSQL broke a lock cycle / a serialisation failure


# --- the database decides ---------------------------------------------------------------------

@contextmanager
def _decided_by_database(session: Session) -> Iterator[None]:
    """Turn the database's refusals into booking refusals, leaving nothing written."""
    try:
        yield
    except IntegrityError:
        session.rollback()
        raise refused("slot_taken", "the room was booked at that time a moment ago") from None
    except BookingRefused:
        session.rollback()
        raise
    except OperationalError as error:
        session.rollback()
        if getattr(error.orig, "sqlstate", None) in LOCK_CONFLICTS:
            raise refused("try_again", "another booking of the same times was being saved; "
                          "try again") from None
        raise


def _claim(session: Session, booking: Booking, version: int | None) -> None:
    """Claim ``booking`` for this change: move its version on, if it is still the one the
    caller read (``version``, else the loaded one). The row stays held until the caller's
    commit, so a concurrent change waits and then finds the version moved on."""
    seen = booking.version if version is None else version
    claimed = session.execute(
        update(Booking).where(Booking.id == booking.id, Booking.version == seen)
        .values(version=seen + 1).execution_options(synchronize_session=False)).rowcount
    if claimed != 1 or seen != booking.version:
        raise refused("changed_meanwhile", "the booking was changed a moment ago; reload it")
    session.refresh(booking)


def _add_load(session: Session, authority: str, at: datetime, delta: int) -> int:
    """Add ``delta`` to the authority's load at slot ``at``; return the new count."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = ExpertLoad.__table__
    statement = (insert(table).values(authority=authority, start=at, count=delta)
                 .on_conflict_do_update(index_elements=["authority", "start"],
                                        set_={"count": table.c.count + delta})
                 .returning(table.c.count))
    return session.execute(statement).scalar_one()


def _hold_slots(session: Session, rules: BookingRules, booking: Booking) -> None:
    """Take the booking's room slots and expert load. The slot key refuses a taken slot; the
    load row, counted under its row lock, refuses the authority's last expert taken by a
    concurrent booking."""
    starts = Interval(booking.start, booking.end).slot_starts()
    capacity = rules.catalogue.capacities.get(booking.authority)
    session.add_all(BookedSlot(site=booking.site, room=booking.room, start=at,
                               booking_id=booking.id) for at in starts)
    session.flush()
    for at in starts:
        count = _add_load(session, booking.authority, at, 1)
        if capacity is not None and count > capacity.experts_at(at):
            raise refused("no_expert", "the authority's last expert was booked a moment ago")


def _release_slots(session: Session, booking: Booking) -> None:
    """Free the booking's room slots and give back the expert load of exactly those."""
    released = session.scalars(delete(BookedSlot).where(BookedSlot.booking_id == booking.id)
                               .returning(BookedSlot.start)).all()
    for at in released:
        _add_load(session, booking.authority, at, -1)


# --- the change log ---------------------------------------------------------------------------

def _snapshot(booking: Booking) -> dict:
    return {"room": booking.room, "start": booking.start.isoformat(),
            "end": booking.end.isoformat(), "status": booking.status}


def _record(session: Session, booking: Booking, *, action: str, actor: str, now: datetime,
            before: dict | None) -> None:
    session.add(BookingChange(booking_id=booking.id, at=now, actor=actor, action=action,
                              before=before, after=_snapshot(booking)))
    session.flush()  # the availability reads of this transaction see the change


def _require_status(booking: Booking, *allowed: str) -> None:
    if booking.status not in allowed:
        raise refused("wrong_status", f"booking is {booking.status}; allowed from "
                      f"{', '.join(allowed)}")


# --- new bookings -----------------------------------------------------------------------------

def create_booking(session: Session, rules: BookingRules, *, site: str, service: str,
                   start: datetime, minutes: int, channel: str, customer: Customer, actor: str,
                   now: datetime, room: str | None = None) -> Booking:
    """Book a visit; refuse with the layer's reason, or ``slot_taken`` when another booking
    won the same slot first (decided by the database)."""
    offered = rules.service(site, service)
    if channel not in CHANNELS or channel == "walk_in":
        raise refused("bad_channel", f"channel is one of {CHANNELS[:3]}")
    rules.length(offered, service, minutes)
    visit = Interval(start, start + timedelta(minutes=minutes))
    room = pick_room(session, rules, site=site, room=room, authority=offered.authority,
                     visit=visit, not_before=now)
    return _insert(session, rules, site=site, room=room, authority=offered.authority,
                   service=service, visit=visit, channel=channel, customer=customer,
                   actor=actor, now=now)


def walk_in(session: Session, rules: BookingRules, *, site: str, service: str, minutes: int,
            customer: Customer, actor: str, now: datetime, room: str | None = None) -> Booking:
    """Use a free room now, without a prior booking: the visit starts in the current slot and
    the customer is checked in at once."""
    offered = rules.service(site, service)
    rules.length(offered, service, minutes)
    visit = Interval(slot_floor(now), slot_floor(now) + timedelta(minutes=minutes))
    room = pick_room(session, rules, site=site, room=room, authority=offered.authority,
                     visit=visit, not_before=visit.start)
    booking = _insert(session, rules, site=site, room=room, authority=offered.authority,
                      service=service, visit=visit, channel="walk_in", customer=customer,
                      actor=actor, now=now, status=CHECKED_IN)
    booking.realised_start = now
    return booking


def _insert(session: Session, rules: BookingRules, *, site: str, room: str, authority: str,
            service: str, visit: Interval, channel: str, customer: Customer, actor: str,
            now: datetime, status: str = BOOKED) -> Booking:
    booking = Booking(site=site, room=room, authority=authority, service=service,
                      start=visit.start, end=visit.end, channel=channel, status=status,
                      language=customer.language, customer_name=customer.name,
                      customer_phone=customer.phone, customer_email=customer.email, moves=0,
                      feedback_consent_at=now if customer.feedback_sms else None,
                      version=1, created_at=now, created_by=actor)
    with _decided_by_database(session):
        session.add(booking)
        session.flush()
        _hold_slots(session, rules, booking)
    _record(session, booking, action="created", actor=actor, now=now, before=None)
    log.info("bookings.created", id=booking.id, site=site, room=room, authority=authority,
             channel=channel)
    return booking


# --- changes of a booking ---------------------------------------------------------------------

def move_booking(session: Session, rules: BookingRules, *, booking: Booking, start: datetime,
                 actor: str, now: datetime, minutes: int | None = None,
                 room: str | None = None, version: int | None = None) -> Booking:
    """Move a booking that has not started to another time (and room, length)."""
    _require_status(booking, BOOKED)
    if now >= booking.start:
        raise refused("too_late", "the visit has already started; it can no longer be moved")
    minutes = minutes or booking.minutes
    offered = rules.service(booking.site, booking.service)
    rules.length(offered, booking.service, minutes)
    visit = Interval(start, start + timedelta(minutes=minutes))
    with _decided_by_database(session):
        _claim(session, booking, version)
        new_room = pick_room(session, rules, site=booking.site, room=room or booking.room,
                             authority=booking.authority, visit=visit, not_before=now,
                             exclude=booking.id)
        before = _snapshot(booking)
        _release_slots(session, booking)
        booking.room, booking.start, booking.end = new_room, visit.start, visit.end
        booking.moves += 1
        booking.readiness_checked_at = None
        session.flush()
        _hold_slots(session, rules, booking)
    _record(session, booking, action="moved", actor=actor, now=now, before=before)
    return booking


def cancel_booking(session: Session, *, booking: Booking, reason: str, actor: str,
                   now: datetime, version: int | None = None) -> Booking:
    """Cancel a booking that has not started; the slots are free at once."""
    _require_status(booking, BOOKED)
    if now >= booking.start:
        raise refused("too_late", "the visit has already started; mark it a no-show instead")
    with _decided_by_database(session):
        _claim(session, booking, version)
        before = _snapshot(booking)
        _release_slots(session, booking)
    booking.status, booking.cancel_reason = CANCELLED, reason
    _record(session, booking, action="cancelled", actor=actor, now=now, before=before)
    return booking


def check_in(session: Session, *, booking: Booking, actor: str, now: datetime) -> Booking:
    """The customer has arrived (the advisor checked the booking)."""
    _require_status(booking, BOOKED)
    if now < booking.start - timedelta(hours=2) or now >= booking.end:
        raise refused("not_today", "check-in is open from two hours before until the end")
    with _decided_by_database(session):
        _claim(session, booking, None)
    before = _snapshot(booking)
    booking.status = CHECKED_IN
    _record(session, booking, action="checked_in", actor=actor, now=now, before=before)
    return booking


def mark_no_show(session: Session, *, booking: Booking, actor: str, now: datetime) -> Booking:
    """The customer did not come: the rest of the slot time is free again."""
    _require_status(booking, BOOKED)
    if now < booking.start:
        raise refused("too_early", "a no-show is marked once the visit has begun")
    with _decided_by_database(session):
        _claim(session, booking, None)
        before = _snapshot(booking)
        _release_slots(session, booking)
    booking.status = NO_SHOW
    _record(session, booking, action="no_show", actor=actor, now=now, before=before)
    return booking


def complete(session: Session, *, booking: Booking, realised_start: datetime,
             realised_end: datetime, actor: str, now: datetime) -> Booking:
    """The visit is over: record the realised start and end."""
    _require_status(booking, BOOKED, CHECKED_IN)
    if not realised_start < realised_end <= now:
        raise refused("bad_times", "the realised start precedes the end, which is not ahead")
    with _decided_by_database(session):
        _claim(session, booking, None)
    before = _snapshot(booking)
    booking.status = COMPLETED
    booking.realised_start, booking.realised_end = realised_start, realised_end
    _record(session, booking, action="completed", actor=actor, now=now, before=before)
    return booking
