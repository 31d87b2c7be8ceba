"""Readiness of a room before each booking: fifteen minutes ahead, read the room's devices in
the twin; when the room is not ready, alert the site's advisors and the authority's experts
through the notify outbox, naming the open incident of the room when there is one."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.bookings import templates  # noqa: F401  (registers the message templates)
from cloud.bookings.hours import HELSINKI
from cloud.bookings.models import LIVE, Booking
from cloud.notify import enqueue

log = logging.getLogger(__name__)
USABLE_STATES = ("ok", "degraded")  # degraded still serves a visit; fault/missing/unknown not

def room_problems(agent_online: bool | None, device_states: Mapping[str, str | None],
                  devices: Iterable[str]) -> list[str]:
    """What keeps a room from serving a visit: its agent offline or never seen, or a device
    that is faulty, missing or has never reported. Empty when the room is ready."""
    problems = [] if agent_online else ["agent offline"]
    for device in devices:
        if device == "agent":
            continue
        state = device_states.get(device)
        if state not in USABLE_STATES:
            problems.append(f"{device} {state or 'unknown'}")
    return problems


def due_for_check(bookings: Iterable[Booking], now: datetime, lead: timedelta) -> list[Booking]:
    """Live bookings starting within ``lead`` of ``now`` that have not been checked yet."""
    return [b for b in bookings if b.status in LIVE and b.readiness_checked_at is None
            and b.start - lead <= now < b.start]


@dataclass(frozen=True)
class NotReady:
    """A booking whose room is not ready, the problems, and the room's open incident."""

    booking_id: int
    site: str
    room: str
    problems: tuple[str, ...]
    incident: int | None
    alerted: tuple[str, ...]  # usernames of the staff alerted


def _twin(session: Session, site: str, room: str) -> tuple[bool | None, dict[str, str | None]]:
    from cloud.twin.models import AgentPresence, DeviceState

    agent = session.get(AgentPresence, (site, room))
    states = dict(session.execute(select(DeviceState.device, DeviceState.state).where(
        DeviceState.site == site, DeviceState.room == room)).all())
    return (agent.online if agent else None), states


def open_incident(session: Session, *, site: str, room: str) -> int | None:
    """The newest active incident of the room (or of the whole site), if any."""
    from cloud.incidents.lifecycle import ACTIVE_STATES
    from cloud.incidents.models import Incident

    return session.scalar(select(Incident.id).where(
        Incident.site == site, (Incident.room == room) | Incident.room.is_(None),
        Incident.state.in_(ACTIVE_STATES)).order_by(Incident.opened_at.desc()).limit(1))


def _recipients(session: Session, booking: Booking) -> list:
    from cloud.accounts.models import Staff

    staff = session.scalars(select(Staff).where(Staff.active.is_(True),
                                                Staff.email.is_not(None))).all()
    return [s for s in staff if (s.role == "advisor" and booking.site in (s.sites or ()))
            or (s.role == "expert" and s.organisation == booking.authority)]


def check_readiness(session: Session, rules, *, now: datetime,
                    lead: timedelta = timedelta(minutes=15)) -> list[NotReady]:
    """Check every booking due (commits); alert for each room that is not ready."""
    candidates = session.scalars(select(Booking).where(
        Booking.status.in_(LIVE), Booking.readiness_checked_at.is_(None),
        Booking.start > now, Booking.start <= now + lead))
    found = []
    for booking in due_for_check(candidates, now, lead):
        booking.readiness_checked_at = now
        online, states = _twin(session, booking.site, booking.room)
        devices = rules.registry.sites[booking.site].rooms[booking.room].devices
        problems = room_problems(online, states, devices)
        if problems:
            found.append(_alert(session, booking, problems, now))
    session.commit()
    return found


def _alert(session: Session, booking: Booking, problems: list[str], now: datetime) -> NotReady:
    incident = open_incident(session, site=booking.site, room=booking.room)
    context = {"site": booking.site, "room": booking.room, "booking": booking.id,
               "authority": booking.authority, "problems": ", ".join(problems),
               "time": booking.start.astimezone(HELSINKI).strftime("%H:%M"),
               "incident": f"#{incident}" if incident else "-"}
    alerted = []
    for staff in _recipients(session, booking):
        enqueue(session, channel="email", to=staff.email, template="booking_room_not_ready",
                language="fi", context=context, reference=f"booking:{booking.id}", now=now,
                idempotency_key=f"booking:{booking.id}:not_ready:{booking.start.isoformat()}:"
                                f"{staff.username}")
        alerted.append(staff.username)
    log.warning("room not ready booking=%s site=%s room=%s problems=%s incident=%s",
                booking.id, booking.site, booking.room, problems, incident)
    return NotReady(booking.id, booking.site, booking.room, tuple(problems), incident,
                    tuple(alerted))
