"""Who may do what, where: pure rules over a principal's role, organisation and sites.

Each action names, per role, the scope a request must fall in: ``site`` (one of the advisor's
sites), ``authority`` (the caller's own authority), ``party`` (the support party the caller works
for) or ``any``. A role not listed is refused.
"""
from __future__ import annotations

from dataclasses import dataclass

ADVISOR, EXPERT, PHONE_AGENT, SUPPORT, ADMIN = "advisor", "expert", "phone_agent", "support", \
    "admin"
COORDINATOR = "coordinator"  # the pilot's coordinators: read the statistics of every site
ROLES = (ADVISOR, EXPERT, PHONE_AGENT, SUPPORT, COORDINATOR, ADMIN)

_BOOKERS = {ADVISOR: "site", PHONE_AGENT: "authority", ADMIN: "any"}
_READERS = {ADVISOR: "site", EXPERT: "authority", PHONE_AGENT: "authority", ADMIN: "any"}
_SITE_STAFF = {ADVISOR: "site", ADMIN: "any"}
_INCIDENT_STAFF = {ADVISOR: "site", SUPPORT: "party", ADMIN: "any"}

RULES: dict[str, dict[str, str]] = {
    "catalogue.read": {role: "any" for role in ROLES},
    "availability.read": _READERS,
    "booking.read": _READERS,
    "booking.create": _BOOKERS,
    "booking.move": _BOOKERS,
    "booking.cancel": _BOOKERS,
    "booking.walk_in": _SITE_STAFF,
    "booking.check_in": _SITE_STAFF,
    "booking.no_show": _SITE_STAFF,
    "booking.complete": {ADVISOR: "site", EXPERT: "authority", ADMIN: "any"},
    "site.day_list": _SITE_STAFF,
    "authority.list": {EXPERT: "authority", PHONE_AGENT: "authority", ADMIN: "any"},
    "room.close": _SITE_STAFF,
    "room.affected": {ADVISOR: "site", SUPPORT: "any", ADMIN: "any"},
    "building.exception": _SITE_STAFF,
    "bookings.purge": {ADMIN: "any"},
    "staff.manage": {ADMIN: "any"},
    "audit.read": {ADMIN: "any"},
    "incident.read": _INCIDENT_STAFF,
    "incident.act": _INCIDENT_STAFF,  # acknowledge, resolve, comment
    "incident.report": _SITE_STAFF,
    "incident.silence": _SITE_STAFF,
    "incident.sla_report": {ADMIN: "any"},
    "fleet.read": {ADVISOR: "site", SUPPORT: "any", ADMIN: "any"},  # rooms and devices
    "ingest.read": {SUPPORT: "any", ADMIN: "any"},  # counters of the ingest workers
    "session.open": {ADVISOR: "site", EXPERT: "authority", ADMIN: "any"},  # video sessions
    "session.read": {ADVISOR: "site", EXPERT: "authority", ADMIN: "any"},
    "session.join": {ADVISOR: "site", EXPERT: "authority"},  # the advisor waits to be admitted
    "session.manage": {EXPERT: "authority"},  # invite third parties, end
    "room.simulate": {ADVISOR: "site", SUPPORT: "any", ADMIN: "any"},  # the demo's faults
    "stats.read": {ADVISOR: "site", EXPERT: "authority", PHONE_AGENT: "authority",
                   COORDINATOR: "any", ADMIN: "any"},
    "call.read": _SITE_STAFF,  # a site's call-button calls, live and listed
    "call.acknowledge": _SITE_STAFF,
}


@dataclass(frozen=True)
class Principal:
    """The caller of a request: a member of staff, or the bootstrap admin token."""

    username: str
    role: str
    organisation: str | None = None
    sites: frozenset[str] = frozenset()
    staff_id: int | None = None


def may(principal: Principal, action: str, *, site: str | None = None,
        authority: str | None = None, party: str | None = None) -> bool:
    """Whether ``principal`` may do ``action`` on a thing of ``site`` and/or ``authority``.

    A scoped rule needs its scope named: an advisor's ``site`` rule refuses a request that
    names no site, so nothing is ever read across sites by leaving a filter out."""
    scope = RULES[action].get(principal.role)
    if scope == "any":
        return True
    if scope == "site":
        return site is not None and site in principal.sites
    if scope == "authority":
        return authority is not None and authority == principal.organisation
    if scope == "party":
        return party is not None and party == principal.organisation
    return False
