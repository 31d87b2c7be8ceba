"""The incidents API: list and filter, acknowledge, resolve, comment, silence, report manual
incidents, the monthly SLA report (admin token until staff accounts exist), and the
account-free action links sent to parties."""
from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from html import escape
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.accounts.access import ADMIN, ADVISOR, SUPPORT
from cloud.accounts.deps import AccessDep
from cloud.api.deps import NowDep, RegistryDep, SessionDep
from cloud.api.inputs import Code, Comment, Reason, RowId, Summary, Token, check_span
from cloud.api.refusals import Refusal, invalid, not_found
from cloud.flows import incident_notifications
from cloud.flows import incidents as journey
from cloud.incidents import service
from cloud.incidents.lifecycle import InvalidTransition
from cloud.incidents.matrix import CATEGORIES, CATEGORY_OWNERS
from cloud.incidents.models import Incident, IncidentEvent
from cloud.incidents.rules import MAJOR
from cloud.instants import ApiInstant, ApiYear

router = APIRouter(prefix="/incidents", tags=["incidents"])
MAX_SILENCE, SILENCE_HORIZON = timedelta(days=31), timedelta(days=366)


def routing_of(app) -> service.Routing:
    """The matrix and settings of incidents, as the app factory loaded them (a test may
    set other settings on ``app.state``)."""
    state = app.state
    return service.Routing(state.matrix, state.registry, state.incident_settings)


def get_routing(request: Request) -> service.Routing:
    """The app's incident routing, as a request's dependency."""
    return routing_of(request.app)


RoutingDep = Annotated[service.Routing, Depends(get_routing)]


class IncidentOut(BaseModel):
    """An incident as the API shows it."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    site: str
    room: str | None
    device: str | None
    rule: str
    category: str
    owner: str
    party: str
    severity: str
    state: str
    code: str | None
    summary: str | None
    manual: bool
    flapping: bool
    reopened: int
    opened_at: ApiInstant
    notified_at: ApiInstant | None
    due_at: ApiInstant | None
    acknowledged_at: ApiInstant | None
    resolved_at: ApiInstant | None
    closed_at: ApiInstant | None
    escalated_at: ApiInstant | None


class EventOut(BaseModel):
    """An entry of the audit trail."""

    model_config = ConfigDict(from_attributes=True)
    at: ApiInstant
    kind: str
    actor: str
    detail: str | None


class AffectedBooking(BaseModel):
    """A booking of the room while the incident makes it unusable (no customer data: the
    advisor opens the booking itself to move it)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    start: ApiInstant
    end: ApiInstant
    authority: str
    service: str
    status: str


class IncidentDetail(IncidentOut):
    """An incident with its audit trail and, when the room cannot serve, the bookings hit."""

    events: list[EventOut]
    affected_bookings: list[AffectedBooking] = []


class ManualReport(BaseModel):
    """A fault staff report by hand (no personal data in ``summary``)."""

    model_config = ConfigDict(extra="forbid")
    site: Code
    room: Code | None = None
    category: Literal[CATEGORIES]  # type: ignore[valid-type]
    owner: Code | None = None
    severity: Literal["critical", "major", "minor"] = MAJOR
    summary: Summary


class CommentIn(BaseModel):
    """A comment on an incident."""

    text: Comment


class SilenceIn(BaseModel):
    """A maintenance window or silence of a site, room or device."""

    model_config = ConfigDict(extra="forbid")
    site: Code
    room: Code | None = None
    device: Code | None = None
    starts_at: ApiInstant
    ends_at: ApiInstant
    reason: Reason




def _incident(session: Session, access, incident_id: int, action: str) -> Incident:
    """The incident, when the caller may do ``action`` on it; a missing id and one out of
    scope are the same 404."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        access.require(action, resource=f"incident:{incident_id}", hidden="incident")
        raise not_found("incident")
    access.require(action, site=incident.site, party=incident.party,
                   resource=f"incident:{incident.id}", hidden="incident",
                   seen_by="incident.read")
    return incident


def _detail(session: Session, incident: Incident) -> IncidentDetail:
    events = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident.id)
                             .order_by(IncidentEvent.id))
    return IncidentDetail(**IncidentOut.model_validate(incident).model_dump(),
                          events=[EventOut.model_validate(e) for e in events],
                          affected_bookings=_affected(session, incident))


def _affected(session: Session, incident: Incident) -> list[AffectedBooking]:
    return [AffectedBooking.model_validate(b)
            for b in journey.bookings_hit(session, incident=incident)]


@router.get("", response_model=list[IncidentOut])
def list_incidents(session: SessionDep, access: AccessDep, site: Code | None = None,
                   room: Code | None = None, party: Code | None = None,
                   state: Code | None = None, severity: Code | None = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[Incident]:
    """Incidents, newest first, filtered by site, room, party, state and severity; an advisor
    sees those of their sites, a support party its own."""
    query = _visible(access, select(Incident).order_by(Incident.id.desc()).limit(limit))
    for column, value in ((Incident.site, site), (Incident.room, room), (Incident.party, party),
                          (Incident.state, state), (Incident.severity, severity)):
        if value is not None:
            query = query.where(column == value)
    return list(session.scalars(query))


def _visible(access, query):
    """Limit a query to the incidents the caller may see (403 for a role that sees none)."""
    principal = access.principal
    if principal.role == ADMIN:
        return query
    if principal.role == ADVISOR:
        return query.where(Incident.site.in_(sorted(principal.sites)))
    if principal.role == SUPPORT:
        return query.where(Incident.party == principal.organisation)
    access.require("incident.read")  # refused and audited
    return query


@router.post("", response_model=IncidentDetail, status_code=201)
def report_incident(report: ManualReport, session: SessionDep, access: AccessDep,
                    routing: RoutingDep, now: NowDep) -> IncidentDetail:
    """Report a fault by hand (space, furniture, signage, workstation network, threat...)."""
    access.require("incident.report", site=report.site)
    site = routing.registry.sites.get(report.site)
    if site is None:
        raise invalid("unknown site")
    if report.room is not None and report.room not in site.rooms:
        raise invalid("the site has no such room")
    if report.owner is not None and report.owner not in CATEGORY_OWNERS[report.category]:
        raise invalid(f"owner of {report.category} is one of "
                      f"{', '.join(CATEGORY_OWNERS[report.category])}")
    incident = service.open_incident(
        session, routing=routing, site=report.site, room=report.room, device=None,
        rule=f"reported_{report.category}", category=report.category, owner=report.owner,
        severity=report.severity, summary=report.summary, manual=True,
        actor=access.principal.username, now=now)
    incident_notifications.opened(session, incident=incident, routing=routing,
                                  now=incident.opened_at)
    session.commit()
    return _detail(session, incident)


@router.get("/report/{year}/{month}")
def sla_report(year: ApiYear, month: Annotated[int, Field(ge=1, le=12)], session: SessionDep,
               access: AccessDep, routing: RoutingDep) -> list[dict]:
    """The month's SLA figures per party."""
    access.require("incident.sla_report")
    return [asdict(r) for r in service.monthly_report(session, matrix=routing.matrix,
                                                      year=year, month=month)]


class SilenceOut(SilenceIn):
    """A silence as stored."""

    id: int


@router.get("/silences", response_model=list[SilenceOut])
def list_silences(session: SessionDep, access: AccessDep, now: NowDep) -> list[SilenceOut]:
    """Silences and maintenance windows that have not ended (an advisor's sites only)."""
    sites = None
    if access.principal.role == ADVISOR:
        sites = access.principal.sites
    elif access.principal.role != ADMIN:
        access.require("incident.silence")  # refused and audited
    rows = service.silences_not_ended(session, now=now, sites=sites)
    return [SilenceOut(id=r.id, site=r.site, room=r.room, device=r.device,
                       starts_at=r.starts_at, ends_at=r.ends_at, reason=r.reason) for r in rows]


@router.delete("/silences/{silence_id}", status_code=204)
def end_silence(silence_id: RowId, session: SessionDep, access: AccessDep,
                now: NowDep) -> None:
    """End a silence now (detection resumes at the engine's next round)."""
    row = service.silence_by_id(session, silence_id=silence_id)
    if row is None:
        access.require("incident.silence", resource=f"silence:{silence_id}", hidden="silence")
        raise not_found("silence")
    access.require("incident.silence", site=row.site, resource=f"silence:{row.id}",
                   hidden="silence")
    service.end_silence(session, silence=row, now=now)
    session.commit()


@router.post("/silences", status_code=201)
def add_silence(silence: SilenceIn, session: SessionDep, access: AccessDep,
                registry: RegistryDep, now: NowDep) -> dict:
    """Mute a site, a room or a device of the registry for a time (maintenance: at most a
    month, within a year of now)."""
    access.require("incident.silence", site=silence.site)
    _known_target(registry, silence)
    check_span(silence.starts_at, silence.ends_at, now=now, longest=MAX_SILENCE,
               horizon=SILENCE_HORIZON, what="silence")
    row = service.add_silence(session, **silence.model_dump(), actor=access.principal.username,
                              now=now)
    session.commit()
    return {"id": row.id}


def _known_target(registry, silence: SilenceIn) -> None:
    site = registry.sites.get(silence.site)
    if site is None:
        raise invalid("unknown site")
    if silence.room is not None and silence.room not in site.rooms:
        raise invalid("the site has no such room")
    if silence.device is not None and (silence.room is None or silence.device
                                       not in site.rooms[silence.room].devices):
        raise invalid("a silenced device is one of the room's devices")


@router.get("/links/{token}", response_class=HTMLResponse)
def link_page(token: Token, session: SessionDep) -> str:
    """A confirmation page: link scanners that fetch the URL must not act on it."""
    action = service.link_action(session, token=token)
    if action is None:
        raise not_found("link")
    label = {"acknowledge": "Kuittaa / Acknowledge", "resolve": "Korjattu / Resolved"}[action]
    return (f"<!doctype html><meta charset=utf-8><title>{label}</title>"
            f"<form method=post><button>{escape(label)}</button></form>")


@router.post("/links/{token}", response_model=IncidentOut)
def use_link(token: Token, session: SessionDep, routing: RoutingDep,
             now: NowDep) -> Incident:
    """Carry out a link's action, once, before it expires (no account needed)."""
    try:
        incident = journey.use_link(session, token=token, routing=routing, now=now)
    except service.LinkError as exc:
        if "unknown" in str(exc):
            raise not_found("link") from None
        raise Refusal(410, "gone", str(exc)) from None
    except InvalidTransition as exc:
        raise Refusal(409, "conflict", str(exc)) from None
    session.commit()
    return incident


@router.get("/{incident_id}", response_model=IncidentDetail)
def get_incident(incident_id: RowId, session: SessionDep, access: AccessDep) -> IncidentDetail:
    """One incident with its audit trail."""
    return _detail(session, _incident(session, access, incident_id, "incident.read"))


@router.post("/{incident_id}/acknowledge", response_model=IncidentOut)
def acknowledge(incident_id: RowId, session: SessionDep, access: AccessDep,
                now: NowDep) -> Incident:
    """Staff acknowledge (a support party its own incident; an advisor on its behalf)."""
    return _act(session, access, incident_id, lambda i: service.acknowledge(
        session, incident=i, actor=access.principal.username, now=now))


@router.post("/{incident_id}/resolve", response_model=IncidentOut)
def resolve(incident_id: RowId, session: SessionDep, access: AccessDep,
            now: NowDep) -> Incident:
    """Staff mark the incident resolved."""
    return _act(session, access, incident_id, lambda i: journey.resolve(
        session, incident=i, actor=access.principal.username, now=now))


@router.post("/{incident_id}/comments", status_code=201)
def add_comment(incident_id: RowId, body: CommentIn, session: SessionDep,
                access: AccessDep, now: NowDep) -> dict:
    """Comment on an incident (kept in its audit trail)."""
    incident = _incident(session, access, incident_id, "incident.act")
    service.comment(session, incident=incident, actor=access.principal.username,
                    text=body.text, now=now)
    session.commit()
    return {"ok": True}


def _act(session: Session, access, incident_id: int, action) -> Incident:
    incident = _incident(session, access, incident_id, "incident.act")
    try:
        action(incident)
    except InvalidTransition as exc:
        raise Refusal(409, "conflict", str(exc)) from None
    session.commit()
    return incident

