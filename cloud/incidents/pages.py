"""The incident pages: the support party's console (its queue, an incident's history,
acknowledge, resolve and comment) and the advisor's manual incident report.

Plain HTML forms that work without script (POST, then a redirect to a page to GET); each
action goes through the same service functions and access rules as the API, so audit,
notifications and the rooms reopened at a resolve happen the same way. Times are shown in the
incident's site's zone and durations as ``cloud.formats`` writes them; the SLA clock is the
incidents' own (``service.response_clock``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from cloud import formats
from cloud.accounts.access import SUPPORT
from cloud.accounts.deps import Access
from cloud.accounts.pages import PageAccess
from cloud.api.deps import NowDep, SessionDep
from cloud.api.forms import read_form
from cloud.api.inputs import RowId
from cloud.api.refusals import not_found
from cloud.flows import incident_notifications
from cloud.flows import incidents as journey
from cloud.incidents import service
from cloud.incidents.lifecycle import ACTIVE_STATES, STATES, InvalidTransition
from cloud.incidents.matrix import CATEGORIES, CATEGORY_OWNERS
from cloud.incidents.models import Incident
from cloud.incidents.rules import CRITICAL, MAJOR, MINOR
from cloud.incidents.views import RoutingDep, _incident, routing_of
from cloud.incidents.words import actor_words, code_words, device_words, finding_words
from cloud.live.brokerlink import broker_notice
from cloud.sites.hours import DEFAULT_ZONE, site_zone
from cloud.texts import localized, texts, translate
from cloud.web.templating import language, render

router = APIRouter(include_in_schema=False)
CONSOLE = "/console/support"
# the queue's state filter -> the lifecycle states it shows
STATE_FILTERS = {"active": ACTIVE_STATES, "open": ("open", "notified"),
                 "acknowledged": ("acknowledged",), "resolved": ("resolved", "closed")}
SEVERITIES = (CRITICAL, MAJOR, MINOR)
# furniture and signage may be the state's (Senaatti brought it); everything else has one owner
STATE_OWNED = frozenset(c for c, owners in CATEGORY_OWNERS.items() if "state" in owners)
MAX_FIELD, MAX_COMMENT, MAX_SUMMARY = 200, 2000, 500
ACTIONS = ("acknowledge", "resolve", "comment")
EVENT_KINDS = ("opened", "notification_queued", "notified", "acknowledged", "resolved",
               "comment", "escalated", "reopened", "closed", "severity")
# the texts a page names by a value (``label(kind, value)``): kind -> the values it has
LABELS = {"category": CATEGORIES, "report_hint": CATEGORIES, "severity": SEVERITIES,
          "report_severity": SEVERITIES, "state": STATES, "states": tuple(STATE_FILTERS),
          "event": EVENT_KINDS, "done": ACTIONS}
URGENCY = ("breached", "running", "paused", "stopped", "ended")
FILTERS = ("state", "site", "category", "breached")


def clock_text(lang: str, clock: service.ResponseClock, zone: ZoneInfo = DEFAULT_ZONE) -> str:
    """The SLA clock in words: time left, overdue by how much, or stopped (its due time in
    the site's ``zone``)."""
    due = formats.moment(clock.due, zone)
    if clock.status in ("running", "paused"):
        return translate(lang, f"incidents.clock_{clock.status}",
                         left=formats.duration(lang, clock.left), due=due)
    if clock.status == "breached":
        return translate(lang, "incidents.clock_breached",
                         over=formats.duration(lang, clock.over), due=due)
    used = formats.duration(lang, clock.used or timedelta(0))
    late = "_late" if clock.breached else ""
    return translate(lang, f"incidents.clock_{clock.status}{late}", used=used, due=due)


def label(lang: str, kind: str, value: str, **values) -> str:
    """The text naming ``value`` of ``kind`` (a category, a state...), ``{name}`` fields
    filled from ``values``; the value itself for one the texts do not know yet (an audit
    entry of a newer kind)."""
    key = f"incidents.{kind}_{value}"
    return translate(lang, key, **values) if key in texts() else value


def words(lang: str, routing: service.Routing) -> dict:
    """The page's people's words for codes (``cloud.incidents.words``): ``device(code)``,
    ``fault_code(code)``, ``finding(incident)`` and ``actor(name)``."""
    return {
        "device": lambda device: device_words(lang, device),
        "fault_code": lambda code: code_words(lang, code),
        "finding": lambda incident: finding_words(
            lang, incident.rule, incident.device, lambda c: label(lang, "category", c)),
        "actor": lambda actor: actor_words(
            lang, actor, lambda p: localized(_party_name(routing, p), lang)),
    }


def page(request: Request, template: str, *, status_code: int = 200, **context) -> Response:
    """``render`` with what every incident page uses: ``label``, ``clock_text`` (times
    through the templating's filters, in each row's ``zone``) and the ``words`` for codes."""
    lang = language(request)
    return render(request, template, status_code=status_code, clock_text=clock_text,
                  label=lambda kind, value, **values: label(lang, kind, value, **values),
                  **words(lang, routing_of(request.app)), **context)


def _notice(request: Request) -> str | None:
    """The action just done, from the redirect's ``?done=`` (nothing else is shown)."""
    done = request.query_params.get("done")
    return done if done in ACTIONS else None


def _noticed(request: Request) -> int | None:
    """The incident the queue's notice is about (``?incident=``), a number or nothing."""
    value = request.query_params.get("incident", "")
    return int(value) if value.isdigit() and len(value) < 12 else None


def _place(routing: service.Routing, incident: Incident) -> tuple[object, str | None]:
    """The site's names (a fi/sv/en mapping) and the room's name from the registry."""
    site = routing.registry.sites.get(incident.site)
    if site is None:
        return incident.site, incident.room
    room = site.rooms.get(incident.room) if incident.room else None
    if room is None:
        return site.name.model_dump(), incident.room
    return site.name.model_dump(), room.names.model_dump() if room.names else room.name


def _row(routing: service.Routing, incident: Incident, now: datetime,
         reopened: dict[int, datetime] | None = None) -> dict:
    """What a page shows of ``incident``; ``reopened``: when incidents were last reopened."""
    site, room = _place(routing, incident)
    return {"incident": incident, "site": site, "room": room,
            "reopened_at": (reopened or {}).get(incident.id),
            "zone": site_zone(routing.registry, incident.site),
            "clock": service.response_clock(incident=incident, matrix=routing.matrix, now=now),
            "party": routing.matrix.party(incident.party).shown_name}


def _party_of(access: Access) -> str | None:
    """The party whose incidents the caller works: a support agent's own (not audited, as
    the API's list); the admin's all (audited); any other role is refused (audited)."""
    principal = access.principal
    if principal.role == SUPPORT and principal.organisation:
        return principal.organisation
    access.require("incident.read", resource="incidents")
    return None


def _party_name(routing: service.Routing, party: str | None) -> dict[str, str] | str | None:
    """The party's name (its id when the matrix does not know it: an account set up with a
    party that is not, or no longer, in the matrix sees an empty queue, not an error)."""
    known = routing.matrix.data.parties.get(party) if party else None
    return known.shown_name if known else party


def _urgency(row: dict) -> tuple:
    """Queue order: overdue first (longest over), then by due time, acknowledged last."""
    clock = row["clock"]
    return (URGENCY.index(clock.status), -clock.over, clock.due)


def _kept_filters(query: str) -> dict[str, str]:
    """The queue's filters out of a query string (nothing else is carried back)."""
    return {k: v[0][:MAX_FIELD] for k, v in parse_qs(query).items() if k in FILTERS}


@router.get("/console/support")
def support_console(request: Request, session: SessionDep, access: PageAccess,
                    routing: RoutingDep, now: NowDep, state: str = "active",
                    site: str | None = None, category: str | None = None,
                    breached: str | None = None) -> Response:
    """The party's queue: its incidents by state, site and category, each with its SLA
    clock; counts of open, acknowledged and breached; refreshed by a small script."""
    party = _party_of(access)
    state = state if state in STATE_FILTERS else "active"
    site = site if site in routing.registry.sites else None
    category = category if category in CATEGORIES else None
    incidents = service.party_incidents(session, party=party, states=STATE_FILTERS[state],
                                        site=site, category=category)
    reopened = service.last_reopened(session, incidents=incidents)
    rows = [_row(routing, i, now, reopened) for i in incidents]
    if state != "resolved":  # resolved ones stay newest first
        rows.sort(key=_urgency)
    everything = [_row(routing, i, now) for i in
                  service.party_incidents(session, party=party, states=ACTIVE_STATES)]
    counts = {"open": sum(r["incident"].acknowledged_at is None for r in everything),
              "acknowledged": sum(r["incident"].state == "acknowledged" for r in everything),
              "breached": sum(r["clock"].breached for r in everything)}
    if breached:
        rows = [r for r in rows if r["clock"].breached]
    return page(request, "support-console.html", principal=access.principal, rows=rows,
                broker=broker_notice(request, session, now),
                script_keys=["incidents.refresh_failed"],
                counts=counts, party=_party_name(routing, party),
                filters={"state": state, "site": site or "", "category": category or "",
                         "breached": bool(breached)},
                states=STATE_FILTERS, sites=routing.registry.sites, categories=CATEGORIES,
                refreshed=formats.clock(now, seconds=True),
                refresh_s=routing.settings.console_refresh_s, notice=_notice(request),
                noticed=_noticed(request),
                back=urlencode(_kept_filters(request.url.query)))


def _detail_page(request: Request, session: Session, access: Access, routing: service.Routing,
                 incident: Incident, now: datetime, *, status_code: int = 200,
                 error: str | None = None, comment: str = "") -> Response:
    return page(request, "support-incident.html", status_code=status_code,
                principal=access.principal, broker=broker_notice(request, session, now),
                row=_row(routing, incident, now,
                         service.last_reopened(session, incidents=[incident])),
                events=service.incident_events(session, incident=incident),
                error=error, comment=comment, notice=_notice(request), console=CONSOLE)


@router.get("/console/support/incidents/{incident_id}")
def support_incident(incident_id: RowId, request: Request, session: SessionDep,
                     access: PageAccess, routing: RoutingDep, now: NowDep) -> Response:
    """One incident: where, what, its SLA clock, its history and comments, and the actions."""
    incident = _incident(session, access, incident_id, "incident.read")
    return _detail_page(request, session, access, routing, incident, now)


@router.post("/console/support/incidents/{incident_id}/{action}")
async def support_action(incident_id: RowId, action: str, request: Request, session: SessionDep,
                         access: PageAccess, routing: RoutingDep, now: NowDep) -> Response:
    """Acknowledge, resolve (with an optional comment) or comment, then back to the page the
    form was on; a refused or impossible action is shown on the incident's page."""
    form = await read_form(request)
    if action not in ACTIONS:
        raise not_found("action")
    incident = _incident(session, access, incident_id, "incident.act")
    text = form.get("comment", "").strip()
    if action == "comment" and not text:
        return _detail_page(request, session, access, routing, incident, now, status_code=422,
                            error="incidents.error_comment_empty")
    try:
        _carry_out(session, incident, action, actor=access.principal.username, text=text,
                   now=now)
    except InvalidTransition:
        session.rollback()
        return _detail_page(request, session, access, routing, incident, now, status_code=409,
                            error=f"incidents.error_cannot_{action}", comment=text)
    session.commit()
    if form.get("from") == "queue":  # back to the queue as it was filtered
        query = _kept_filters(form.get("back", "")) | {"done": action, "incident": incident.id}
        return RedirectResponse(f"{CONSOLE}?{urlencode(query)}", status_code=303)
    return RedirectResponse(f"{CONSOLE}/incidents/{incident.id}?done={action}", status_code=303)


def _carry_out(session: Session, incident: Incident, action: str, *, actor: str, text: str,
               now: datetime) -> None:
    """The action through the service functions the API uses (a resolve through the
    journey, so rooms closed for the incident reopen)."""
    if action == "acknowledge":
        service.acknowledge(session, incident=incident, actor=actor, now=now)
    elif action == "resolve":
        journey.resolve(session, incident=incident, actor=actor, now=now)
    if text:
        service.comment(session, incident=incident, actor=actor, text=text, now=now)



def hours_text(lang: str, party) -> str:
    """A party's service hours in words: "ma–pe 08:00–16:15" or around the clock."""
    if party.hours.always:
        return translate(lang, "incidents.hours_always")
    spans = []
    for days, span in party.hours.weekly.items():
        named = "–".join(translate(lang, f"incidents.day_{d}") for d in days.split("-"))
        spans.append(f"{named} {span.replace('-', '–')}")
    holidays = translate(lang, "incidents.hours_holidays") if party.hours.holidays else ""
    return ", ".join(spans) + holidays


def _report_site(access: Access, routing: service.Routing, site: str | None):
    """The site the advisor reports for (their only site when the link names none);
    403 (audited) for a site that is not theirs."""
    if site is None and len(access.principal.sites) == 1:
        site = next(iter(access.principal.sites))
    access.require("incident.report", site=site)
    if site not in routing.registry.sites:
        raise not_found("site")
    return site, routing.registry.sites[site]


def _report_page(request: Request, access: Access, routing: service.Routing, site_id: str,
                 *, values: dict, errors: list[tuple[str, str]], status_code: int = 200):
    site = routing.registry.sites[site_id]
    handlers = {c: routing.matrix.party(routing.matrix.party_id(c, site_id)).shown_name
                for c in CATEGORIES}
    senaatti = {c: routing.matrix.party(routing.matrix.party_id(c, site_id, "state")).shown_name
                for c in STATE_OWNED}
    return page(request, "incident-report.html", status_code=status_code,
                principal=access.principal, site_id=site_id, site=site.name.model_dump(),
                rooms=site.rooms, categories=CATEGORIES, severities=SEVERITIES,
                handlers=handlers, senaatti=senaatti, values=values, errors=errors)


@router.get("/incidents/report")
def report_form(request: Request, access: PageAccess, routing: RoutingDep,
                site: str | None = None) -> Response:
    """The advisor's form to report a fault by hand for their site."""
    site_id, _ = _report_site(access, routing, site)
    return _report_page(request, access, routing, site_id,
                        values={"severity": MAJOR, "room": "", "category": "", "summary": ""},
                        errors=[])


def _report_errors(form: dict[str, str], rooms) -> list[tuple[str, str]]:
    """What is wrong with a report form: (field id, text key) pairs, in the form's order."""
    errors = []
    if form.get("category") not in CATEGORIES:
        errors.append(("category-" + CATEGORIES[0], "incidents.error_category"))
    if form.get("room") and form["room"] not in rooms:
        errors.append(("room", "incidents.error_room"))
    if form.get("severity") not in SEVERITIES:
        errors.append(("severity-" + MAJOR, "incidents.error_severity"))
    if not 3 <= len(form.get("summary", "").strip()) <= MAX_SUMMARY:
        errors.append(("summary", "incidents.error_summary"))
    return errors


@router.post("/incidents/report")
async def report_submit(request: Request, session: SessionDep, access: PageAccess,
                        routing: RoutingDep, now: NowDep) -> Response:
    """Open the reported incident, routed by the responsibility matrix, and show whom it
    went to; a form with mistakes comes back with an error summary."""
    form = await read_form(request)
    site_id, site = _report_site(access, routing, form.get("site") or None)
    errors = _report_errors(form, site.rooms)
    if errors:
        return _report_page(request, access, routing, site_id, values=form, errors=errors,
                            status_code=422)
    category = form["category"]
    owner = "state" if category in STATE_OWNED and form.get("state_owned") else None
    incident = service.open_incident(
        session, routing=routing, site=site_id, room=form.get("room") or None, device=None,
        rule=f"reported_{category}", category=category, owner=owner,
        severity=form["severity"], summary=form["summary"].strip(), manual=True,
        actor=access.principal.username, now=now)
    incident_notifications.opened(session, incident=incident, routing=routing, now=now)
    session.commit()
    return RedirectResponse(f"/incidents/report/{incident.id}", status_code=303)


@router.get("/incidents/report/{incident_id}")
def report_done(incident_id: RowId, request: Request, session: SessionDep, access: PageAccess,
                routing: RoutingDep, now: NowDep) -> Response:
    """The confirmation: the incident, who it went to and their response target."""
    incident = _incident(session, access, incident_id, "incident.read")
    party = routing.matrix.party(incident.party)
    return page(request, "incident-reported.html", principal=access.principal,
                row=_row(routing, incident, now), party=party,
                hours=hours_text(language(request), party))
