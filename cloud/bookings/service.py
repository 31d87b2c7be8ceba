"""Service functions of the booking system: availability, booking, moving, cancelling, walk-ins,
the visit's life (check-in, no-show, completion), room closures and the impact of an unusable
room. Every function takes the session and ``now``; the ones that change data commit."""
from __future__ import annotations

import logging
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import holidays as holiday_calendars
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, bindparam, delete, select, type_coerce
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from cloud.api.inputs import PlainText
from cloud.bookings import reminders
from cloud.bookings.catalogue import Catalogue, Service, load_catalogue
from cloud.bookings.hours import (
    REFUSALS,
    SLOT,
    Interval,
    Layers,
    OpeningHours,
    free_visits_by_length,
    local_instant,
    refusal,
    slot_floor,
)
from cloud.bookings.models import (
    BOOKED,
    CANCELLED,
    CHANNELS,
    CHECKED_IN,
    COMPLETED,
    LIVE,
    NO_SHOW,
    BookedSlot,
    Booking,
    BookingChange,
    BuildingException,
    ExpertLoad,
    RoomClosure,
)
from cloud.registry import Registry

log = logging.getLogger(__name__)


class BookingRefused(Exception):
    """A refused booking action, with a machine-readable reason and an HTTP status."""

    def __init__(self, reason: str, detail: str | None = None, status: int = 422) -> None:
        super().__init__(detail or REFUSALS.get(reason, reason))
        self.reason, self.detail, self.status = reason, detail or REFUSALS.get(reason, reason), \
            status


CONFLICT_REASONS = {"slot_taken", "no_expert", "room_unavailable", "no_room_free", "try_again"}


def refused(reason: str, detail: str | None = None) -> BookingRefused:
    """A ``BookingRefused`` with 409 for conflicts with other data, 422 for invalid requests."""
    return BookingRefused(reason, detail, 409 if reason in CONFLICT_REASONS else 422)


class Customer(BaseModel):
    """What a booking keeps of its customer: a name or initials, an optional contact for the
    reminder, a preferred language. Nothing else."""

    model_config = ConfigDict(extra="forbid")
    name: PlainText = Field(min_length=1, max_length=100)
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 ]{5,19}$")
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    language: str = Field("fi", pattern=r"^(fi|sv|en)$")


@dataclass
class BookingRules:
    """What the booking rules read besides the database: registry, catalogue, holidays."""

    registry: Registry
    catalogue: Catalogue
    holidays: Container[date] = field(default_factory=holiday_calendars.Finland)

    @classmethod
    def load(cls, registry: Registry) -> BookingRules:
        """The rules for ``registry`` with the packaged catalogue."""
        return cls(registry, load_catalogue(registry))

    def service(self, site: str, service_id: str) -> Service:
        """The service ``service_id`` as offered at ``site``; refuse an unknown or absent one."""
        if site not in self.registry.sites:
            raise refused("unknown_site", f"no site {site!r}")
        offered = self.catalogue.offered_at(self.registry, site)
        if service_id not in offered:
            raise refused("service_not_offered", f"service {service_id!r} is not offered at {site}")
        return offered[service_id]

    def rooms(self, site: str) -> list[str]:
        """The rooms of ``site``."""
        return list(self.registry.sites[site].rooms)


@dataclass(slots=True)
class FreeVisit:
    """A visit that can be booked now."""

    room: str
    start: datetime
    end: datetime


# --- reading the layers ---------------------------------------------------------------------
# The statements of the availability path are built once, with bound parameters: building a
# select costs more than running it on a small index range.

_exception, _closure = BuildingException.__table__.c, RoomClosure.__table__.c
_slot, _load = BookedSlot.__table__.c, ExpertLoad.__table__.c
_EXCEPTIONS = select(_exception.day, _exception.spans).where(
    _exception.site == bindparam("site"), _exception.day >= bindparam("first"),
    _exception.day <= bindparam("last"))
_CLOSURES = select(_closure.room, _closure.start, _closure.end).where(
    _closure.site == bindparam("site"), _closure.start < bindparam("end"),
    _closure.end > bindparam("start"))
_SLOTS = select(_slot.room, type_coerce(_slot.start, String), _slot.booking_id).where(
    _slot.site == bindparam("site"), _slot.start >= bindparam("start"),
    _slot.start < bindparam("end"))
_LOAD = select(type_coerce(_load.start, String), _load.count).where(
    _load.authority == bindparam("authority"), _load.start >= bindparam("start"),
    _load.start < bindparam("end"))


def _instant(value: str | datetime) -> datetime:
    """A slot start read raw: SQLite's text parsed in C (SQLAlchemy's parser is the slowest
    part of an availability query), PostgreSQL's datetime as it comes; always aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def site_hours(session: Session, rules: BookingRules, *, site: str, first: date, last: date
               ) -> OpeningHours:
    """The site's opening hours with the dated building exceptions between the two days."""
    rows = session.connection().execute(_EXCEPTIONS, {"site": site, "first": first,
                                                      "last": last})
    exceptions = {day: tuple(tuple(span) for span in spans) for day, spans in rows}
    return rules.catalogue.opening_hours(site, exceptions, rules.holidays)


def _window(hours: OpeningHours, first: date, last: date) -> Interval:
    return Interval(local_instant(first, 0, hours.tz), local_instant(last, 1440, hours.tz))


def _closures(session: Session, site: str, window: Interval) -> dict[str, list[Interval]]:
    rows = session.connection().execute(_CLOSURES, {"site": site, "start": window.start,
                                                    "end": window.end})
    out: dict[str, list[Interval]] = {}
    for room, start, end in rows:
        out.setdefault(room, []).append(Interval(start, end))
    return out


def _room_bookings(session: Session, site: str, window: Interval, exclude: int | None
                   ) -> dict[str, list[Interval]]:
    rows = session.connection().execute(_SLOTS, {"site": site, "start": window.start - SLOT,
                                                 "end": window.end}).all()
    out: dict[str, list[Interval]] = {}
    for room, raw, booking_id in rows:
        if booking_id != exclude:
            start = _instant(raw)
            out.setdefault(room, []).append(Interval(start, start + SLOT))
    return out


def _authority_load(session: Session, authority: str, window: Interval,
                    exclude: int | None) -> dict[datetime, int]:
    """How many of the authority's bookings (every site) hold each slot of ``window``, less
    the booking ``exclude`` (one being moved)."""
    rows = session.connection().execute(_LOAD, {"authority": authority, "start": window.start,
                                                "end": window.end}).all()
    load = {_instant(raw): count for raw, count in rows}
    if exclude is not None:
        moving = session.get(Booking, exclude)
        for at in Interval(moving.start, moving.end).slot_starts():
            if at in load:
                load[at] -= 1
    return load


# --- availability ---------------------------------------------------------------------------

def availability(session: Session, rules: BookingRules, *, site: str, service: str,
                 first: date, last: date, now: datetime, minutes: int | None = None
                 ) -> list[FreeVisit]:
    """Every bookable visit of ``service`` at ``site`` between the two local days."""
    offered = rules.service(site, service)
    lengths = [minutes] if minutes else list(offered.lengths)
    if set(lengths) - set(offered.lengths):
        raise refused("bad_length", f"{service} allows visits of {offered.lengths} minutes")
    hours = site_hours(session, rules, site=site, first=first, last=last)
    window = _window(hours, first, last)
    open_ = hours.between(first, last)
    closures = _closures(session, site, window)
    booked = _room_bookings(session, site, window, None)
    authority_load = _authority_load(session, offered.authority, window, None)
    capacity = rules.catalogue.capacities.get(offered.authority)
    visits = []
    for room in rules.rooms(site):
        layers = Layers(closures.get(room, ()), booked.get(room, ()), authority_load, capacity,
                        now)
        by_length = free_visits_by_length(open_, [m // 30 for m in lengths], layers)
        visits += [FreeVisit(room, v.start, v.end) for found in by_length.values()
                   for v in found]
    return sorted(visits, key=lambda v: (v.start, v.end, v.room))


def _refusal_for(session: Session, rules: BookingRules, *, site: str, room: str,
                 authority: str, visit: Interval, not_before: datetime,
                 exclude: int | None = None) -> str | None:
    first = rules.catalogue.opening_hours(site).local_day(visit.start)
    last = rules.catalogue.opening_hours(site).local_day(visit.end)
    hours = site_hours(session, rules, site=site, first=first, last=last)
    window = Interval(visit.start - SLOT, visit.end + SLOT)
    layers = Layers(_closures(session, site, window).get(room, ()),
                    _room_bookings(session, site, window, exclude).get(room, ()),
                    _authority_load(session, authority, window, exclude),
                    rules.catalogue.capacities.get(authority), not_before)
    return refusal(hours, visit, layers)


# --- changing bookings ----------------------------------------------------------------------

def _snapshot(booking: Booking) -> dict:
    return {"room": booking.room, "start": booking.start.isoformat(),
            "end": booking.end.isoformat(), "status": booking.status}


def _record(session: Session, booking: Booking, *, action: str, actor: str, now: datetime,
            before: dict | None) -> None:
    session.add(BookingChange(booking_id=booking.id, at=now, actor=actor, action=action,
                              before=before, after=_snapshot(booking)))


def _hold_slots(session: Session, rules: BookingRules, booking: Booking) -> None:
    """Take the booking's room slots and expert load in a savepoint. The slot key refuses a
    taken slot; the load row, counted under its row lock, refuses the authority's last expert
    taken by a concurrent booking."""
    starts = Interval(booking.start, booking.end).slot_starts()
    capacity = rules.catalogue.capacities.get(booking.authority)
    try:
        with session.begin_nested():
            session.add_all(BookedSlot(site=booking.site, room=booking.room, start=at,
                                       booking_id=booking.id) for at in starts)
            session.flush()
            for at in starts:
                count = _add_load(session, booking.authority, at, 1)
                if capacity is not None and count > capacity.experts_at(at):
                    raise refused("no_expert", "the authority's last expert was booked a "
                                  "moment ago")
    except IntegrityError:
        session.rollback()
        raise refused("slot_taken", "the room was booked at that time a moment ago") from None
    except BookingRefused:
        session.rollback()
        raise
    except OperationalError as error:  # PostgreSQL broke a lock cycle: nothing was booked
        session.rollback()
        if getattr(error.orig, "sqlstate", None) in ("40P01", "40001"):
            raise refused("try_again", "another booking of the same times was being saved; "
                          "try again") from None
        raise


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


def _release_slots(session: Session, booking: Booking) -> None:
    session.execute(delete(BookedSlot).where(BookedSlot.booking_id == booking.id))
    for at in Interval(booking.start, booking.end).slot_starts():
        _add_load(session, booking.authority, at, -1)


def _pick_room(session: Session, rules: BookingRules, *, site: str, room: str | None,
               authority: str, visit: Interval, not_before: datetime,
               exclude: int | None = None) -> str:
    if room is not None:
        if room not in rules.registry.sites[site].rooms:
            raise refused("unknown_room", f"no room {room!r} at {site}")
        reason = _refusal_for(session, rules, site=site, room=room, authority=authority,
                              visit=visit, not_before=not_before, exclude=exclude)
        if reason:
            raise refused(reason)
        return room
    reasons = []
    for candidate in rules.rooms(site):
        reason = _refusal_for(session, rules, site=site, room=candidate, authority=authority,
                              visit=visit, not_before=not_before, exclude=exclude)
        if reason is None:
            return candidate
        reasons.append(reason)
    only = set(reasons)
    raise refused(only.pop() if len(only) == 1 else "no_room_free")


def create_booking(session: Session, rules: BookingRules, *, site: str, service: str,
                   start: datetime, minutes: int, channel: str, customer: Customer, actor: str,
                   now: datetime, room: str | None = None) -> Booking:
    """Book a visit; refuse with the layer's reason, or ``slot_taken`` when another booking
    won the same slot first (decided by the database)."""
    offered = rules.service(site, service)
    if channel not in CHANNELS or channel == "walk_in":
        raise refused("bad_channel", f"channel is one of {CHANNELS[:3]}")
    if minutes not in offered.lengths:
        raise refused("bad_length", f"{service} allows visits of {offered.lengths} minutes")
    visit = Interval(start, start + timedelta(minutes=minutes))
    room = _pick_room(session, rules, site=site, room=room, authority=offered.authority,
                      visit=visit, not_before=now)
    return _insert(session, rules, site=site, room=room, authority=offered.authority, service=service,
                   visit=visit, channel=channel, customer=customer, actor=actor, now=now)


def _insert(session: Session, rules: BookingRules, *, site: str, room: str, authority: str, service: str,
            visit: Interval, channel: str, customer: Customer, actor: str, now: datetime,
            status: str = BOOKED) -> Booking:
    booking = Booking(site=site, room=room, authority=authority, service=service,
                      start=visit.start, end=visit.end, channel=channel, status=status,
                      language=customer.language, customer_name=customer.name,
                      customer_phone=customer.phone, customer_email=customer.email, moves=0,
                      created_at=now, created_by=actor)
    session.add(booking)
    session.flush()
    _hold_slots(session, rules, booking)
    _record(session, booking, action="created", actor=actor, now=now, before=None)
    reminders.confirm(session, rules, booking=booking, now=now)
    session.commit()
    log.info("booking created id=%s site=%s room=%s authority=%s channel=%s", booking.id, site,
             room, authority, channel)
    return booking


def walk_in(session: Session, rules: BookingRules, *, site: str, service: str, minutes: int,
            customer: Customer, actor: str, now: datetime, room: str | None = None) -> Booking:
    """Use a free room now, without a prior booking: the visit starts in the current slot and
    the customer is checked in at once."""
    offered = rules.service(site, service)
    if minutes not in offered.lengths:
        raise refused("bad_length", f"{service} allows visits of {offered.lengths} minutes")
    visit = Interval(slot_floor(now), slot_floor(now) + timedelta(minutes=minutes))
    room = _pick_room(session, rules, site=site, room=room, authority=offered.authority,
                      visit=visit, not_before=visit.start)
    booking = _insert(session, rules, site=site, room=room, authority=offered.authority,
                      service=service, visit=visit, channel="walk_in", customer=customer,
                      actor=actor, now=now, status=CHECKED_IN)
    booking.realised_start = now
    session.commit()
    return booking


def _require_status(booking: Booking, *allowed: str) -> None:
    if booking.status not in allowed:
        raise refused("wrong_status", f"booking is {booking.status}; allowed from "
                      f"{', '.join(allowed)}")


def move_booking(session: Session, rules: BookingRules, *, booking: Booking, start: datetime,
                 actor: str, now: datetime, minutes: int | None = None,
                 room: str | None = None) -> Booking:
    """Move a booking that has not started to another time (and room, length)."""
    _require_status(booking, BOOKED)
    if now >= booking.start:
        raise refused("too_late", "the visit has already started; it can no longer be moved")
    minutes = minutes or booking.minutes
    offered = rules.service(booking.site, booking.service)
    if minutes not in offered.lengths:
        raise refused("bad_length", f"{booking.service} allows {offered.lengths} minutes")
    visit = Interval(start, start + timedelta(minutes=minutes))
    new_room = _pick_room(session, rules, site=booking.site, room=room or booking.room,
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
    reminders.confirm(session, rules, booking=booking, now=now)
    session.commit()
    return booking


def cancel_booking(session: Session, *, booking: Booking, reason: str, actor: str,
                   now: datetime) -> Booking:
    """Cancel a booking that has not started; the slots are free at once."""
    _require_status(booking, BOOKED)
    if now >= booking.start:
        raise refused("too_late", "the visit has already started; mark it a no-show instead")
    before = _snapshot(booking)
    _release_slots(session, booking)
    booking.status, booking.cancel_reason = CANCELLED, reason
    _record(session, booking, action="cancelled", actor=actor, now=now, before=before)
    session.commit()
    return booking


def check_in(session: Session, *, booking: Booking, actor: str, now: datetime) -> Booking:
    """The customer has arrived (the advisor checked the booking)."""
    _require_status(booking, BOOKED)
    if now < booking.start - timedelta(hours=2) or now >= booking.end:
        raise refused("not_today", "check-in is open from two hours before until the end")
    before = _snapshot(booking)
    booking.status = CHECKED_IN
    _record(session, booking, action="checked_in", actor=actor, now=now, before=before)
    session.commit()
    return booking


def mark_no_show(session: Session, *, booking: Booking, actor: str, now: datetime) -> Booking:
    """The customer did not come: the rest of the slot time is free again."""
    _require_status(booking, BOOKED)
    if now < booking.start:
        raise refused("too_early", "a no-show is marked once the visit has begun")
    before = _snapshot(booking)
    booking.status = NO_SHOW
    _release_slots(session, booking)
    _record(session, booking, action="no_show", actor=actor, now=now, before=before)
    session.commit()
    return booking


def complete(session: Session, *, booking: Booking, realised_start: datetime,
             realised_end: datetime, actor: str, now: datetime) -> Booking:
    """The visit is over: record the realised start and end."""
    _require_status(booking, BOOKED, CHECKED_IN)
    if not realised_start < realised_end <= now:
        raise refused("bad_times", "the realised start precedes the end, which is not ahead")
    before = _snapshot(booking)
    booking.status = COMPLETED
    booking.realised_start, booking.realised_end = realised_start, realised_end
    _record(session, booking, action="completed", actor=actor, now=now, before=before)
    session.commit()
    return booking


# --- reading bookings -----------------------------------------------------------------------

def bookings_between(session: Session, *, start: datetime, end: datetime,
                     site: str | None = None, authority: str | None = None,
                     include_cancelled: bool = False) -> list[Booking]:
    """Bookings starting in [start, end), optionally of one site or authority."""
    query = select(Booking).where(Booking.start >= start, Booking.start < end)
    if site is not None:
        query = query.where(Booking.site == site)
    if authority is not None:
        query = query.where(Booking.authority == authority)
    if not include_cancelled:
        query = query.where(Booking.status != CANCELLED)
    return list(session.scalars(query.order_by(Booking.start, Booking.room)))


def changes_of(session: Session, *, booking_id: int) -> list[BookingChange]:
    """The change log of one booking, oldest first."""
    return list(session.scalars(select(BookingChange).where(
        BookingChange.booking_id == booking_id).order_by(BookingChange.id)))


def affected_bookings(session: Session, *, site: str, room: str, start: datetime,
                      end: datetime | None = None) -> list[Booking]:
    """Live bookings of a room that overlap [start, end) (end None: open-ended), e.g. while
    an incident makes the room unusable. The incident engine lists them on the incident."""
    query = select(Booking).where(Booking.site == site, Booking.room == room,
                                  Booking.status.in_(LIVE), Booking.end > start)
    if end is not None:
        query = query.where(Booking.start < end)
    return list(session.scalars(query.order_by(Booking.start)))


# --- room closures and building exceptions --------------------------------------------------

def close_room(session: Session, rules: BookingRules, *, site: str, room: str, start: datetime,
               end: datetime, reason: str, actor: str, incident: str | None = None
               ) -> RoomClosure:
    """Take a room out of use (maintenance, an incident); existing bookings stay and are
    listed by ``affected_bookings`` for the advisor to move."""
    if site not in rules.registry.sites or room not in rules.registry.sites[site].rooms:
        raise refused("unknown_room", f"no room {room!r} at {site}")
    if not start < end:
        raise refused("bad_times", "a closure ends after it starts")
    closure = RoomClosure(site=site, room=room, start=start, end=end, reason=reason,
                          incident=incident, created_by=actor)
    session.add(closure)
    session.commit()
    return closure


def end_incident_closures(session: Session, *, incident: str, end: datetime) -> int:
    """Reopen a room closed for ``incident`` at ``end`` (the incident was resolved): closures
    of the incident that would last longer end then (commits); returns how many changed."""
    rows = session.scalars(select(RoomClosure).where(RoomClosure.incident == incident,
                                                     RoomClosure.end > end)).all()
    for row in rows:
        row.end = max(end, row.start)
    session.commit()
    return len(rows)


def end_room_closure(session: Session, *, site: str, room: str, closure_id: int,
                     now: datetime) -> bool:
    """End a closure of the room now, or remove it when it has not begun (commits); False
    when the room has no such closure."""
    row = session.get(RoomClosure, closure_id)
    if row is None or (row.site, row.room) != (site, room):
        return False
    if row.start >= now:
        session.delete(row)
    else:
        row.end = min(row.end, now)
    session.commit()
    return True


def set_building_exception(session: Session, *, site: str, day: date,
                           spans: list[tuple[int, int]], reason: str) -> BuildingException:
    """Set the building's hours of one day (no spans: closed that day)."""
    row = session.get(BuildingException, (site, day)) or BuildingException(site=site, day=day)
    row.spans, row.reason = [list(s) for s in spans], reason
    session.add(row)
    session.commit()
    return row
