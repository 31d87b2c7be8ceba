"""Service functions of incidents: open, acknowledge, resolve, comment, links, silences, SLA.

Keyword-only and transactional: each takes the caller's session and ``now`` and leaves the
commit to the caller, so an incident, its audit entry and its notifications (queued by the
journey ``cloud/flows/incident_notifications.py``) commit together.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloud.formats import moment
from cloud.incidents.lifecycle import ACTIVE_STATES, Handled, next_state, sla_report
from cloud.incidents.matrix import CATEGORY_OWNERS, Channel, ResponsibilityMatrix
from cloud.incidents.models import ActionLink, Incident, IncidentEvent, SilenceRow
from cloud.incidents.rules import CRITICAL, Silence
from cloud.incidents.settings import IncidentSettings
from cloud.instants import utc_text
from cloud.registry import Registry
from cloud.sites.hours import site_zone
from cloud.texts import localized

ENGINE = "engine"
SEVERITY_WORDS = {"fi": {"critical": "KRIITTINEN", "major": "merkittävä", "minor": "vähäinen"},
                  "en": {"critical": "CRITICAL", "major": "major", "minor": "minor"}}
LINK_ACTIONS = ("acknowledge", "resolve")


class LinkError(LookupError):
    """An action link that is unknown, used or expired."""


@dataclass(frozen=True)
class Routing:
    """What the engine needs beside the session: the matrix, the registry, the settings."""

    matrix: ResponsibilityMatrix
    registry: Registry
    settings: IncidentSettings


def audit(session: Session, incident: Incident, kind: str, actor: str, now: datetime,
          detail: str | None = None) -> None:
    """Append to the incident's audit trail."""
    session.add(IncidentEvent(incident_id=incident.id, at=now, kind=kind, actor=actor,
                              detail=detail))


def open_incident(session: Session, *, routing: Routing, site: str, room: str | None,
                  device: str | None, rule: str, category: str, severity: str, now: datetime,
                  owner: str | None = None, code: str | None = None, summary: str | None = None,
                  condition: str | None = None, manual: bool = False, flapping: bool = False,
                  actor: str = ENGINE) -> Incident:
    """Open an incident and route it by the matrix (the caller notifies the party)."""
    owner = owner or CATEGORY_OWNERS[category][0]
    party = routing.matrix.party_id(category, site, owner)
    incident = Incident(site=site, room=room, device=device, condition=condition, rule=rule,
                        category=category, owner=owner, party=party, severity=severity,
                        state="open", code=code, summary=summary, manual=manual,
                        flapping=flapping, reopened=0, opened_at=now, updated_at=now)
    session.add(incident)
    session.flush()
    audit(session, incident, "opened", actor, now,
          f"rule={rule} category={category} owner={owner} party={party} severity={severity}")
    return incident


def reopen(session: Session, *, incident: Incident, now: datetime,
           severity: str | None = None) -> Incident:
    """The condition came back soon after resolving: the same incident opens again (the
    caller notifies the party)."""
    incident.state = next_state(incident.state, "reopen")
    incident.reopened += 1
    incident.severity = severity or incident.severity
    incident.resolved_at = incident.acknowledged_at = incident.notified_at = None
    incident.due_at = incident.escalated_at = None
    incident.updated_at = now
    audit(session, incident, "reopened", ENGINE, now)
    return incident


def opened_reference(incident_id: int, reopened: int) -> str:
    """The outbox reference of an incident's opening notification (``reopened`` times)."""
    return f"incident:{incident_id}:open:{reopened}"


def incident_context(incident: Incident, routing: Routing, language: str) -> dict:
    """The facts a message about ``incident`` may show (nothing about customers)."""
    site = routing.registry.sites.get(incident.site)
    zone = site_zone(routing.registry, incident.site)
    return {
        "incident": incident.id, "room": incident.room or "-",
        "severity": SEVERITY_WORDS[language].get(incident.severity, incident.severity),
        "site_name": getattr(site.name, language) if site else incident.site,
        "device": incident.device or "-", "what": incident.rule, "code": incident.code or "-",
        "party": localized(routing.matrix.party(incident.party).shown_name, language),
        "opened": moment(incident.opened_at, zone),
        "due": moment(incident.due_at, zone) if incident.due_at else "-",
    }


def make_link(session: Session, *, incident: Incident, action: str, routing: Routing,
              now: datetime) -> str:
    """A new single-purpose, expiring link for ``action``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(ActionLink(token_hash=_hash(token), incident_id=incident.id, action=action,
                           created_at=now,
                           expires_at=now + timedelta(seconds=routing.settings.link_ttl_s)))
    return f"{routing.settings.public_url.rstrip('/')}/api/incidents/links/{token}"


def use_link(session: Session, *, token: str, routing: Routing, now: datetime) -> Incident:
    """Carry out the link's action once; raise ``LinkError`` if unknown, used or expired."""
    link = session.get(ActionLink, _hash(token))
    if link is None:
        raise LinkError("unknown link")
    if link.used_at is not None:
        raise LinkError("this link has already been used")
    if link.expires_at <= now:
        raise LinkError("this link has expired")
    link.used_at = now
    incident = session.get(Incident, link.incident_id)
    actor = f"party:{incident.party}"
    if link.action == "acknowledge":
        return acknowledge(session, incident=incident, actor=actor, now=now)
    return resolve(session, incident=incident, actor=actor, now=now)


def link_action(session: Session, *, token: str) -> str | None:
    """The action of a link (for the confirmation page), None when unknown."""
    link = session.get(ActionLink, _hash(token))
    return link.action if link else None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def acknowledge(session: Session, *, incident: Incident, actor: str, now: datetime) -> Incident:
    """The party has taken the incident on: the response clock stops."""
    incident.state = next_state(incident.state, "acknowledge")
    incident.acknowledged_at = incident.updated_at = now
    audit(session, incident, "acknowledged", actor, now)
    return incident


def resolve(session: Session, *, incident: Incident, actor: str, now: datetime) -> Incident:
    """The fault is gone (the engine tells the party when it saw it clear by itself)."""
    incident.state = next_state(incident.state, "resolve")
    incident.resolved_at = incident.updated_at = now
    audit(session, incident, "resolved", actor, now)
    return incident


def comment(session: Session, *, incident: Incident, actor: str, text: str,
            now: datetime) -> None:
    """Add a comment to the audit trail."""
    audit(session, incident, "comment", actor, now, text)
    incident.updated_at = now


def awaiting_acceptance(session: Session) -> dict[str, int]:
    """The outbox references of the open incidents' opening notifications, to their ids:
    the notifications no channel has yet been seen to accept."""
    waiting = session.execute(select(Incident.id, Incident.reopened)
                              .where(Incident.state == "open")).all()
    return {opened_reference(i, n): i for i, n in waiting}


def mark_notified(session: Session, *, routing: Routing, accepted: dict[int, datetime],
                  now: datetime) -> int:
    """Start the SLA clock of open incidents whose notification a channel has accepted
    (``accepted``: incident id -> when); returns how many clocks started."""
    started = 0
    for incident_id, start in accepted.items():
        incident = session.get(Incident, incident_id)
        if incident is None or incident.state != "open":
            continue
        party = routing.matrix.party(incident.party)
        incident.state = next_state(incident.state, "notify")
        incident.notified_at = start
        incident.due_at = routing.matrix.clock(incident.party).due(
            start, party.response_time, critical=incident.severity == CRITICAL)
        incident.updated_at = now
        audit(session, incident, "notified", ENGINE, now, f"accepted_at={utc_text(start)}")
        started += 1
    return started


def escalation_contacts(routing: Routing, incident: Incident) -> tuple[Channel, ...]:
    """Who hears of an incident past its due time: the party's escalation contacts and the
    site's advisors."""
    return routing.matrix.party(incident.party).escalation + routing.matrix.advisors(
        incident.site)


def escalate_breaches(session: Session, *, routing: Routing, now: datetime) -> list[Incident]:
    """Mark as escalated the incidents past their due time, and those whose notification no
    channel of the party accepted in that time; the caller tells their
    ``escalation_contacts``."""
    overdue = list(session.scalars(select(Incident).where(
        Incident.state == "notified", Incident.due_at < now, Incident.escalated_at.is_(None))))
    for incident in session.scalars(select(Incident).where(
            Incident.state == "open", Incident.escalated_at.is_(None))):
        party = routing.matrix.party(incident.party)
        due = routing.matrix.clock(incident.party).due(
            incident.opened_at, party.response_time,
            critical=incident.severity == CRITICAL)
        if now > due:  # the party never got it: the clock ran from the opening instead
            incident.due_at = due
            overdue.append(incident)
    for incident in overdue:
        incident.escalated_at = incident.updated_at = now
        audit(session, incident, "escalated", ENGINE, now,
              f"contacts={len(escalation_contacts(routing, incident))} "
              f"delivered={incident.state == 'notified'}")
    return overdue


def close_resolved(session: Session, *, settings: IncidentSettings, now: datetime) -> int:
    """Close incidents resolved longer ago than the reopen window."""
    limit = now - timedelta(seconds=settings.reopen_window_s)
    count = 0
    for incident in session.scalars(select(Incident).where(Incident.state == "resolved",
                                                           Incident.resolved_at < limit)):
        incident.state = next_state(incident.state, "close")
        incident.closed_at = incident.updated_at = now
        audit(session, incident, "closed", ENGINE, now)
        count += 1
    return count


def active_incidents(session: Session) -> list[Incident]:
    """Incidents not yet resolved."""
    return list(session.scalars(select(Incident).where(Incident.state.in_(ACTIVE_STATES))))


def resolved_among(session: Session, *, ids: list[int]) -> dict[int, datetime]:
    """Of the incidents ``ids``, those no longer active (resolved or closed), with when they
    were resolved: the engine's check for incidents resolved by hand."""
    if not ids:
        return {}
    rows = session.execute(select(Incident.id, Incident.resolved_at, Incident.updated_at).where(
        Incident.id.in_(ids), Incident.state.not_in(ACTIVE_STATES))).all()
    return {i: resolved or updated for i, resolved, updated in rows}


def active_incident_of_room(session: Session, *, site: str, room: str) -> int | None:
    """The newest active incident of the room (or of its whole site), if any."""
    return session.scalar(select(Incident.id).where(
        Incident.site == site, (Incident.room == room) | Incident.room.is_(None),
        Incident.state.in_(ACTIVE_STATES)).order_by(Incident.opened_at.desc()).limit(1))


def monthly_report(session: Session, *, matrix: ResponsibilityMatrix, year: int, month: int):
    """Per party: count, median and p90 clock minutes to acknowledge and to resolve, breaches
    of the incidents opened in the month (UTC)."""
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    incidents = session.scalars(select(Incident).where(Incident.opened_at >= start,
                                                       Incident.opened_at < end))
    return sla_report(_handled(i, matrix) for i in incidents)


def _handled(incident: Incident, matrix: ResponsibilityMatrix) -> Handled:
    clock = matrix.clock(incident.party)
    critical = incident.severity == CRITICAL
    start = incident.notified_at or incident.opened_at

    def took(end):
        return None if end is None else clock.elapsed(start, end, critical=critical)

    acknowledged = incident.acknowledged_at
    due = incident.due_at
    breached = incident.escalated_at is not None or (
        due is not None and acknowledged is not None and acknowledged > due)
    return Handled(incident.party, took(incident.acknowledged_at), took(incident.resolved_at),
                   breached)


def party_incidents(session: Session, *, party: str | None, states: tuple[str, ...],
                    site: str | None = None, category: str | None = None,
                    limit: int = 200) -> list[Incident]:
    """A support party's incidents in ``states``, newest first (``party`` None: every
    party's, for the admin), optionally of one site and one category."""
    query = select(Incident).where(Incident.state.in_(states))
    for column, value in ((Incident.party, party), (Incident.site, site),
                          (Incident.category, category)):
        if value is not None:
            query = query.where(column == value)
    return list(session.scalars(query.order_by(Incident.opened_at.desc(), Incident.id.desc())
                                .limit(limit)))


def incident_events(session: Session, *, incident: Incident) -> list[IncidentEvent]:
    """The incident's audit trail, oldest first."""
    return list(session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident.id).order_by(IncidentEvent.id)))


def last_reopened(session: Session, *, incidents: Collection[Incident]) -> dict[int, datetime]:
    """When each of ``incidents`` that was ever reopened was reopened last (by id)."""
    ids = [i.id for i in incidents if i.reopened]
    if not ids:
        return {}
    rows = session.execute(select(IncidentEvent.incident_id, func.max(IncidentEvent.at))
                           .where(IncidentEvent.incident_id.in_(ids),
                                  IncidentEvent.kind == "reopened")
                           .group_by(IncidentEvent.incident_id)).all()
    return {incident_id: at for incident_id, at in rows}


@dataclass(frozen=True)
class ResponseClock:
    """Where an incident's response clock stands at an instant, for a console.

    ``status``: ``running`` (clock time ``left`` until ``due``), ``paused`` (time left, but
    the party's service hours are closed now), ``breached`` (``over``: wall time past ``due``), ``stopped``
    (acknowledged: ``used`` clock time, ``breached`` when that was past due) or ``ended``
    (resolved or closed without an acknowledgement)."""

    status: str
    due: datetime
    left: timedelta = timedelta(0)
    over: timedelta = timedelta(0)
    used: timedelta | None = None
    breached: bool = False


def response_clock(*, incident: Incident, matrix: ResponsibilityMatrix,
                   now: datetime) -> ResponseClock:
    """The response clock of ``incident`` at ``now``: the clock runs in the party's service
    hours (around the clock when critical) from the accepted notification, or from the
    opening while none has been accepted, as ``escalate_breaches`` counts it."""
    clock = matrix.clock(incident.party)
    critical = incident.severity == CRITICAL
    start = incident.notified_at or incident.opened_at
    due = incident.due_at or clock.due(start, matrix.party(incident.party).response_time,
                                       critical=critical)
    if incident.acknowledged_at is not None:
        acknowledged = incident.acknowledged_at
        return ResponseClock("stopped", due, used=clock.elapsed(start, acknowledged,
                                                                critical=critical),
                             breached=acknowledged > due)
    if incident.state not in ACTIVE_STATES:
        end = incident.resolved_at or incident.updated_at
        return ResponseClock("ended", due, used=clock.elapsed(start, end, critical=critical),
                             breached=end > due)
    if now > due:  # past due is said in wall time: "overdue since 15:45, by 2 h"
        return ResponseClock("breached", due, over=now - due, breached=True)
    running = critical or clock.hours.is_open(now)
    return ResponseClock("running" if running else "paused", due,
                         left=clock.elapsed(now, due, critical=critical))


def add_silence(session: Session, *, site: str, room: str | None, device: str | None,
                starts_at: datetime, ends_at: datetime, reason: str, actor: str,
                now: datetime) -> SilenceRow:
    """Mute a site, a room or a device from ``starts_at`` to ``ends_at`` (the caller has
    checked the span and commits)."""
    row = SilenceRow(site=site, room=room, device=device, starts_at=starts_at,
                     ends_at=ends_at, reason=reason, created_by=actor, created_at=now)
    session.add(row)
    session.flush()
    return row


def silence_by_id(session: Session, *, silence_id: int) -> SilenceRow | None:
    """A silence, ended or not."""
    return session.get(SilenceRow, silence_id)


def end_silence(session: Session, *, silence: SilenceRow, now: datetime) -> None:
    """End a silence now (detection resumes at the engine's next round; the caller commits)."""
    silence.ends_at = min(silence.ends_at, now)


def silences_not_ended(session: Session, *, now: datetime,
                       sites: Collection[str] | None = None) -> list[SilenceRow]:
    """Silences and maintenance windows that have not ended at ``now`` (of ``sites`` only,
    when given), by start."""
    query = select(SilenceRow).where(SilenceRow.ends_at > now)
    if sites is not None:
        query = query.where(SilenceRow.site.in_(sorted(sites)))
    return list(session.scalars(query.order_by(SilenceRow.starts_at, SilenceRow.id)))


def silences_for_rules(session: Session, *, now: datetime) -> list[Silence]:
    """The silences not ended at ``now`` as the engine's pure rules take them."""
    return [Silence(r.site, r.room, r.device, r.starts_at, r.ends_at)
            for r in silences_not_ended(session, now=now)]


def incidents_between(session: Session, *, start: datetime, end: datetime) -> list[Incident]:
    """Incidents that were open at some time in ``[start, end)``: opened before its end and
    not resolved before its start (what statistics read)."""
    return list(session.scalars(select(Incident).where(
        Incident.opened_at < end,
        Incident.resolved_at.is_(None) | (Incident.resolved_at >= start))
        .order_by(Incident.opened_at, Incident.id)))
