"""Readiness before a visit: fifteen minutes ahead, the booking's room is read from the twin
and judged by the twin's one rule of whether a room can serve (``room_readiness``), and the
visit's start by the site's one opening-hours model (``cloud.sites``: a building closed by an
exception made after the booking); when the room cannot serve, the site's advisors and the
authority's experts are alerted through the outbox, naming the room's open incident."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cloud import formats
from cloud.accounts.service import staff_to_alert
from cloud.bookings import templates  # noqa: F401  (registers the message templates)
from cloud.bookings.models import Booking
from cloud.bookings.readiness import take_due_for_readiness
from cloud.incidents.service import active_incident_of_room
from cloud.notify import enqueue
from cloud.registry import Registry
from cloud.sites import service as sites
from cloud.sites.hours import site_zone
from cloud.twin.rules import RoomReadiness, room_readiness
from cloud.twin.service import room_state
from etapalvelu.logs import event_log

log = event_log(__name__)


@dataclass(frozen=True)
class NotReady:
    """A booking whose room is not ready, the problems, and the room's open incident."""

    booking_id: int
    site: str
    room: str
    problems: tuple[str, ...]
    incident: int | None
    alerted: tuple[str, ...]  # usernames of the staff alerted


def visit_readiness(session: Session, *, registry: Registry, site: str, room: str,
                    at: datetime) -> RoomReadiness:
    """Whether the room can serve a customer at ``at`` (a visit about to start): the site is
    open then by its one opening-hours model, and the twin's rule passes its devices now."""
    online, states = room_state(session, site=site, room=room)
    readiness = room_readiness(online, states, registry.sites[site].rooms[room].devices)
    hours = sites.hours_around(session, registry=registry, site=site, instant=at,
                               ahead=timedelta(0))
    if hours.is_open(at):
        return readiness
    return replace(readiness, condition="closed", problems=("site closed", *readiness.problems))


def check_readiness(session: Session, rules, *, now: datetime,
                    lead: timedelta = timedelta(minutes=15)) -> list[NotReady]:
    """Check every booking due; alert for each room that cannot serve (the caller commits)."""
    found = []
    for booking in take_due_for_readiness(session, now=now, lead=lead):
        readiness = visit_readiness(session, registry=rules.registry, site=booking.site,
                                    room=booking.room, at=booking.start)
        if not readiness.serves:
            found.append(_alert(session, rules.registry, booking, readiness.problems, now))
    return found


def _alert(session: Session, registry: Registry, booking: Booking, problems: tuple[str, ...],
           now: datetime) -> NotReady:
    incident = active_incident_of_room(session, site=booking.site, room=booking.room)
    context = {"site": booking.site, "room": booking.room, "booking": booking.id,
               "authority": booking.authority, "problems": ", ".join(problems),
               "time": formats.clock(booking.start, site_zone(registry, booking.site)),
               "incident": f"#{incident}" if incident else "-"}
    alerted = []
    for username, email in staff_to_alert(session, site=booking.site,
                                          authority=booking.authority):
        enqueue(session, channel="email", to=email, template="booking_room_not_ready",
                language="fi", context=context, reference=f"booking:{booking.id}", now=now,
                idempotency_key=f"booking:{booking.id}:not_ready:{booking.start.isoformat()}:"
                                f"{username}")
        alerted.append(username)
    log.warning("readiness.room_not_ready", booking=booking.id, site=booking.site,
                room=booking.room, problems=list(problems), incident=incident)
    return NotReady(booking.id, booking.site, booking.room, problems, incident, tuple(alerted))
