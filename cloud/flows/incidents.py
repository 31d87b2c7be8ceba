"""The incident journey across domains: an incident that stops a room -> the bookings it hits
and the room closed for it -> the room reopened when the incident is resolved.

Advisors close a room for an incident through the booking API (a closure that names the
incident); whoever resolves the incident (the engine when the fault clears, staff, or the
party through its action link) goes through here, so such closures end at the resolve.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from cloud.bookings.models import Booking
from cloud.bookings.service import affected_bookings, end_incident_closures
from cloud.flows.incident_notifications import PartyNotifications
from cloud.incidents import service as incidents
from cloud.incidents.engine import IncidentEngine
from cloud.incidents.models import Incident
from cloud.incidents.rules import CRITICAL
from cloud.registry import Registry


def bookings_hit(session: Session, *, incident: Incident) -> list[Booking]:
    """The live bookings of the incident's room while it stops the room from serving
    (a critical incident of a room), from its opening to its resolve (or open-ended)."""
    if incident.room is None or incident.severity != CRITICAL:
        return []
    return affected_bookings(session, site=incident.site, room=incident.room,
                             start=incident.opened_at, end=incident.resolved_at)


def reopen_rooms(session: Session, incident: Incident, now: datetime) -> int:
    """The incident is resolved: rooms closed for it reopen now; returns how many closures
    ended. The engine's ``on_resolved``."""
    return end_incident_closures(session, incident=str(incident.id), end=now)


def resolve(session: Session, *, incident: Incident, actor: str, now: datetime) -> Incident:
    """Staff resolve an incident: its state, and the rooms closed for it (the caller commits)."""
    incidents.resolve(session, incident=incident, actor=actor, now=now)
    reopen_rooms(session, incident, now)
    return incident


def use_link(session: Session, *, token: str, routing: incidents.Routing,
             now: datetime) -> Incident:
    """A party's action link (acknowledge or resolve); a resolve reopens the rooms."""
    incident = incidents.use_link(session, token=token, routing=routing, now=now)
    if incident.state == "resolved":
        reopen_rooms(session, incident, now)
    return incident


def incident_engine(sessions: sessionmaker, registry: Registry, **kwargs) -> IncidentEngine:
    """The incident engine with its cross-domain journeys wired in (every process that runs
    the engine builds it here): the parties' notifications, the rooms reopened."""
    return IncidentEngine(sessions, registry, on_resolved=reopen_rooms,
                          notifications=PartyNotifications(), **kwargs)
