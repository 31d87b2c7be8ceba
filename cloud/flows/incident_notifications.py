"""The incident's notifications, a journey across domains: an incident opened (by the engine,
or reported by staff) -> its party's channels through the notify outbox, with single-use
acknowledge and resolve links -> a channel accepts it (notify) -> the response clock starts
(incidents) -> past its due time, escalated -> the party's escalation contacts and the site's
advisors told; the engine seeing the fault clear -> the party told it is resolved.

The engine calls ``PartyNotifications`` (``flows.incidents.incident_engine`` wires it in);
the incident views call ``opened`` after a report. Every step writes in the caller's
transaction, so an incident, its audit entry and its messages commit together.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cloud.incidents import service as incidents
from cloud.incidents import templates  # noqa: F401  (registers the incident templates)
from cloud.incidents.matrix import Channel
from cloud.incidents.models import Incident
from cloud.incidents.service import LINK_ACTIONS, Routing
from cloud.notify import accepted_at, enqueue


def opened(session: Session, *, incident: Incident, routing: Routing, now: datetime) -> None:
    """Queue the opening (or reopening) notification to the incident's party, with its
    acknowledge and resolve links."""
    party = routing.matrix.party(incident.party)
    links = {f"{a[:3] if a == 'acknowledge' else a}_url":
             incidents.make_link(session, incident=incident, action=a, routing=routing,
                                 now=now)
             for a in LINK_ACTIONS}
    _send(session, incident=incident, routing=routing, channels=party.channels,
          language=party.language, template="incident_opened", tag=f"open-{incident.reopened}",
          reference=incidents.opened_reference(incident.id, incident.reopened), now=now,
          extra={**links, "response_minutes": party.response_minutes})


def resolved(session: Session, *, incident: Incident, routing: Routing, now: datetime) -> None:
    """The engine saw the fault clear: tell the party, when it had been told of it."""
    if incident.notified_at is None:
        return
    party = routing.matrix.party(incident.party)
    _send(session, incident=incident, routing=routing, channels=party.channels,
          language=party.language, template="incident_resolved",
          tag=f"resolved-{incident.reopened}", reference=f"incident:{incident.id}:resolved",
          now=now)


def escalated(session: Session, *, incident: Incident, routing: Routing, now: datetime) -> None:
    """Tell the escalation contacts of an incident past its due time."""
    contacts = incidents.escalation_contacts(routing, incident)
    if contacts:
        _send(session, incident=incident, routing=routing, channels=contacts,
              language=routing.matrix.party(incident.party).language,
              template="incident_escalated", tag=f"escalated-{incident.reopened}",
              reference=f"incident:{incident.id}:escalated", now=now)


def accepted(session: Session) -> dict[int, datetime]:
    """The open incidents whose opening notification a channel has accepted, with when:
    their response clocks start then."""
    waiting = incidents.awaiting_acceptance(session)
    if not waiting:
        return {}
    return {waiting[reference]: at
            for reference, at in accepted_at(session, references=waiting).items()}


class PartyNotifications:
    """The engine's notifications (``IncidentEngine(notifications=...)``): this journey."""

    opened = staticmethod(opened)
    resolved = staticmethod(resolved)
    escalated = staticmethod(escalated)
    accepted = staticmethod(accepted)


def _send(session: Session, *, incident: Incident, routing: Routing,
          channels: tuple[Channel, ...], language: str, template: str, tag: str,
          reference: str, now: datetime, extra: dict | None = None) -> None:
    context = incidents.incident_context(incident, routing, language) | (extra or {})
    for index, channel in enumerate(channels):
        enqueue(session, channel=channel.type, to=channel.to, template=template,
                language=language, context=context, reference=reference,
                idempotency_key=f"incident-{incident.id}-{tag}-{index}")
    incidents.audit(session, incident, "notification_queued", incidents.ENGINE, now,
                    f"template={template} channels={len(channels)}")
