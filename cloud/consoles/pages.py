"""The consoles' pages, mounted at the root by the app factory: the advisor's console with
its booking forms, the task-time log and the monthly report, the expert's day, and the
consoles' scripts and styles (the one module of the domain that renders, so the only one that
imports the templating).

Server-rendered; every form works without script: a change posts, is applied through the
owning domain's service functions and redirects back (POST-redirect-GET); a refusal
re-renders the page with a GOV.UK-style error summary (409 a conflict with other bookings,
422 a form to correct). ``/console/advisor/live`` and ``/console/expert/live`` answer a page's
live part alone, which ``static/refresh.js`` fetches every 15 s; the call-button alerts come
over the live event stream (``/api/live/events``), read by ``static/alerts.js``
(docs/consoles.md)."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from cloud.accounts.access import ADVISOR, EXPERT
from cloud.accounts.pages import PageStaff
from cloud.api.deps import NowDep, RegistryDep, SessionDep
from cloud.api.forms import read_form
from cloud.api.inputs import RowId
from cloud.api.refusals import Refusal, not_found
from cloud.bookings import service as bookings
from cloud.bookings.interpretation import LANGUAGES as INTERPRETER_LANGUAGES
from cloud.bookings.interpretation import language_name
from cloud.bookings.views import RulesDep, interpreter_after_move, with_interpreter
from cloud.consoles import day as days
from cloud.consoles import exports
from cloud.consoles import service as tasks
from cloud.consoles.forms import (
    FormError,
    customer_of,
    interpreter_of,
    known,
    length_of,
    local_start,
    reason_of,
    whole_number,
)
from cloud.consoles.rules import MAX_DAY_MINUTES, STEPS, TASKS
from cloud.consoles.scope import DEVICES, RoutingDep, access, advisor_sites, chosen_site
from cloud.flows import reminders
from cloud.live.brokerlink import broker_notice
from cloud.registry import Registry
from cloud.sites.hours import site_zone
from cloud.texts import texts, translate
from cloud.web.templating import language, render

router = APIRouter(include_in_schema=False)



# --- what every console template is given ----------------------------------------------------

def template_helpers(request: Request, registry: Registry, rules=None) -> dict:
    """What the templates use to name things from the registry and the catalogue in the
    page's language, and ``label(prefix, value)``: the text ``prefix.value`` (a status, a
    device, a task...)."""
    services = rules.catalogue.services if rules is not None else {}
    lang = language(request)

    def label(prefix: str, value: str, **values) -> str:
        return translate(lang, f"{prefix}.{value}", **values)

    def room_name(site: str, room: str):
        rooms = registry.sites[site].rooms
        return days.room_names(rooms[room]) if room in rooms else room

    return {"label": label, "room_name": room_name,
            "service_name": lambda s: days.names(services[s].name) if s in services else s,
            "authority_name": lambda a: days.names(registry.authorities[a].name)
            if a in registry.authorities else a,
            "site_name": lambda s: days.names(registry.sites[s].name),
            "local_date": days.local_day, "DEVICES": DEVICES,
            "INTERPRETER_LANGUAGES": INTERPRETER_LANGUAGES,
            "interpreter_name": lambda code: language_name(code, lang)}


def refusal_error(refusal: bookings.BookingRefused, field: str) -> FormError:
    """The booking rules' refusal said in the page's words (their own sentence when the
    consoles have none for it), at ``field``."""
    key = f"advisor.refusal.{refusal.reason}"
    if key in texts():
        return FormError(field, key, status=refusal.status)
    return FormError(field, "advisor.refusal.other", status=refusal.status,
                     detail=refusal.detail)


# --- the advisor's console -------------------------------------------------------------------
# the notices a change leaves on the console
DONE = ("checked_in", "no_show", "moved", "cancelled", "walk_in", "created", "completed")
REFRESH_MS = 15_000  # how often the page fetches its live part again


def alert_context(registry, principal, site: str, now: datetime) -> dict:
    """What the alert banner's script needs, as a JSON data block: the names of the rooms
    and sites the caller watches, in every language, and the server's time (a call's wait
    is counted by the server's clock, not the workstation's)."""
    watched = advisor_sites(principal, registry) or [site]
    rooms = {f"{s}/{room_id}": days.room_names(room)
             for s in watched for room_id, room in registry.sites[s].rooms.items()}
    return {"site": site, "rooms": rooms, "now": now.isoformat(),
            "sites": {s: days.names(registry.sites[s].name) for s in watched}}


def _advisor_page(request: Request, *, principal, session, registry, rules, routing,
                  site: str, now: datetime, errors=(), form=None,
                  status_code: int = 200) -> Response:
    day = days.site_day(session, registry=registry, routing=routing, site=site, now=now)
    return render(request, "advisor.html", status_code=status_code, principal=principal,
                  site=site, zone=site_zone(registry, site), sites=advisor_sites(principal, registry), day=day, now=now,
                  broker=broker_notice(request, session, now),
                  services=rules.catalogue.offered_at(registry, site), errors=list(errors),
                  form=form or {}, alerts=alert_context(registry, principal, site, now),
                  script_keys=[k for k in texts() if k.startswith("callalert.")],
                  refresh_ms=getattr(request.app.state, "console_refresh_ms", REFRESH_MS),
                  done=known(request.query_params.get("done"), DONE),
                  done_room=request.query_params.get("room", ""),
                  **template_helpers(request, registry, rules))


def _back(site: str, done: str, **extra) -> RedirectResponse:
    query = urlencode({"site": site, "done": done, **extra})
    return RedirectResponse(f"/console/advisor?{query}", status_code=303)


@router.get("/console/advisor")
def advisor_console(request: Request, principal: PageStaff, session: SessionDep,
                    registry: RegistryDep, rules: RulesDep, routing: RoutingDep, now: NowDep,
                    site: str | None = None) -> Response:
    """Today at the advisor's site: bookings, rooms, incidents, actions, live alerts."""
    site = chosen_site(request, principal, registry, now, site)
    return _advisor_page(request, principal=principal, session=session, registry=registry,
                         rules=rules, routing=routing, site=site, now=now)


@router.get("/console/advisor/live")
def advisor_live(request: Request, principal: PageStaff, session: SessionDep,
                 registry: RegistryDep, rules: RulesDep, routing: RoutingDep, now: NowDep,
                 site: str | None = None) -> Response:
    """The console's live part alone (day, rooms, incidents), which the page refreshes."""
    site = chosen_site(request, principal, registry, now, site)
    day = days.site_day(session, registry=registry, routing=routing, site=site, now=now)
    return render(request, "advisor-live.html", principal=principal, site=site, day=day,
                  now=now, zone=site_zone(registry, site),
                  broker=broker_notice(request, session, now),
                  **template_helpers(request, registry, rules))


# --- actions on one booking ------------------------------------------------------------------

def _check_in(session, rules, booking, form, actor, now) -> str:
    bookings.check_in(session, booking=booking, actor=actor, now=now)
    return "checked_in"


def _no_show(session, rules, booking, form, actor, now) -> str:
    bookings.mark_no_show(session, booking=booking, actor=actor, now=now)
    return "no_show"


def _move(session, rules, booking, form, actor, now) -> str:
    zone = site_zone(rules.registry, booking.site)
    start = local_start(form, day_field=f"move-date-{booking.id}",
                        time_field=f"move-time-{booking.id}",
                        default_day=days.local_day(booking.start, zone), zone=zone)
    bookings.move_booking(session, rules, booking=booking, start=start, actor=actor, now=now,
                          version=whole_number(form.get("version")))
    reminders.confirm(session, rules, booking=booking, now=now)
    return "moved"


def _cancel(session, rules, booking, form, actor, now) -> str:
    reason = reason_of(form, f"cancel-reason-{booking.id}")
    bookings.cancel_booking(session, booking=booking, reason=reason, actor=actor, now=now,
                            version=whole_number(form.get("version")))
    return "cancelled"


def _done(session, rules, booking, form, actor, now) -> str:
    """The visit without a video session is over: realised from its start (or the walk-in's
    seating) until now; its feedback message follows (``flows.feedback_sms``)."""
    began = min(booking.realised_start or booking.start, now - timedelta(minutes=1))
    bookings.complete(session, booking=booking, realised_start=began, realised_end=now,
                      actor=actor, now=now)
    return "completed"


ACTIONS = {"check-in": ("booking.check_in", _check_in), "no-show": ("booking.no_show", _no_show),
           "move": ("booking.move", _move), "cancel": ("booking.cancel", _cancel),
           "done": ("booking.complete", _done)}


def _act(request: Request, booking_id: int, name: str, form: dict, *, principal, session,
         registry, rules, routing, now: datetime) -> Response:
    action, change = ACTIONS[name]
    booking = bookings.booking_by_id(session, booking_id=booking_id)
    checks = access(request, principal, now)
    if booking is None:
        checks.require(action, resource=f"booking:{booking_id}", hidden="booking")
        raise not_found("booking")
    checks.require(action, site=booking.site, authority=booking.authority,
                   resource=f"booking:{booking.id}", hidden="booking",
                   seen_by="booking.read")
    try:
        done = change(session, rules, booking, form, principal.username, now)
        if done == "moved":
            interpreter_after_move(request, session, rules, booking, actor=principal.username,
                                   now=now)
        session.commit()
    except bookings.BookingRefused as refusal:
        error = refusal_error(refusal, f"actions-{booking_id}")
    except FormError as problem:
        error = problem
    else:
        return _back(booking.site, done, booking=booking.id)
    session.rollback()
    return _advisor_page(request, principal=principal, session=session, registry=registry,
                         rules=rules, routing=routing, site=booking.site, now=now,
                         errors=[error], form={"booking": booking_id, **form},
                         status_code=error.status)


@router.post("/console/advisor/bookings/{booking_id}/{name}")
async def booking_action(booking_id: RowId, name: str, request: Request, principal: PageStaff,
                         session: SessionDep, registry: RegistryDep, rules: RulesDep,
                         routing: RoutingDep, now: NowDep) -> Response:
    """Check in, mark a no-show, move or cancel one booking (the form's ``name``)."""
    if name not in ACTIONS:
        raise not_found("action")
    form = await read_form(request)
    return await run_in_threadpool(_act, request, booking_id, name, form, principal=principal,
                                   session=session, registry=registry, rules=rules,
                                   routing=routing, now=now)


# --- new visits ------------------------------------------------------------------------------

def _walk_in(session, rules, site, service_id, minutes, customer, form, actor, now):
    booking = bookings.walk_in(session, rules, site=site, service=service_id, minutes=minutes,
                               customer=customer, actor=actor, now=now)
    reminders.confirm(session, rules, booking=booking, now=now)
    return booking


def _create(session, rules, site, service_id, minutes, customer, form, actor, now):
    zone = site_zone(rules.registry, site)
    start = local_start(form, day_field="create-date", time_field="create-time",
                        default_day=days.local_day(now, zone), zone=zone)
    booking = bookings.create_booking(session, rules, site=site, service=service_id,
                                      start=start, minutes=minutes,
                                      channel=form.get("channel") or "on_site",
                                      customer=customer, actor=actor, now=now)
    reminders.confirm(session, rules, booking=booking, now=now)
    return booking


VISITS = {"walkin": ("booking.walk_in", _walk_in, "walk_in"),
          "create": ("booking.create", _create, "created")}


def _book(request: Request, prefix: str, form: dict, *, principal, session, registry, rules,
          routing, now: datetime) -> Response:
    action, book, done = VISITS[prefix]
    site = chosen_site(request, principal, registry, now, form.get("site"))
    offered = rules.catalogue.offered_at(registry, site)
    service = offered.get(form.get("service", ""))
    access(request, principal, now).require(action, site=site,
                                            authority=service.authority if service else None)
    try:
        if service is None:
            raise FormError(f"{prefix}-service", "advisor.error.service")
        minutes = length_of(form, prefix, service, language(request))
        interpreter = interpreter_of(form, prefix)
        booking = book(session, rules, site, form["service"], minutes,
                       customer_of(form, prefix), form, principal.username, now)
        with_interpreter(request, session, rules, booking, interpreter,
                         actor=principal.username, now=now)
        session.commit()
    except bookings.BookingRefused as refusal:
        error = refusal_error(refusal, f"{prefix}-submit")
    except FormError as problem:
        error = problem
    else:
        return _back(site, done, booking=booking.id, room=booking.room)
    session.rollback()
    return _advisor_page(request, principal=principal, session=session, registry=registry,
                         rules=rules, routing=routing, site=site, now=now, errors=[error],
                         form={"prefix": prefix, **form}, status_code=error.status)


@router.post("/console/advisor/walk-in")
async def walk_in_form(request: Request, principal: PageStaff, session: SessionDep,
                       registry: RegistryDep, rules: RulesDep, routing: RoutingDep,
                       now: NowDep) -> Response:
    """Seat a customer without a booking in a free room now."""
    form = await read_form(request)
    return await run_in_threadpool(_book, request, "walkin", form, principal=principal,
                                   session=session, registry=registry, rules=rules,
                                   routing=routing, now=now)


@router.post("/console/advisor/bookings")
async def create_form(request: Request, principal: PageStaff, session: SessionDep,
                      registry: RegistryDep, rules: RulesDep, routing: RoutingDep,
                      now: NowDep) -> Response:
    """Book a visit for a customer at the desk or on the phone."""
    form = await read_form(request)
    return await run_in_threadpool(_book, request, "create", form, principal=principal,
                                   session=session, registry=registry, rules=rules,
                                   routing=routing, now=now)


# --- the task-time log and the monthly report ---------------------------------------------


def _own_log(principal) -> None:
    if principal.role != ADVISOR or principal.staff_id is None:
        raise Refusal(403, "not_allowed", "the task-time log is the advisor's own")


def _tasks_page(request: Request, *, principal, session, registry, site: str,
                now: datetime, errors=(), status_code: int = 200) -> Response:
    today = days.local_day(now, site_zone(registry, site))
    minutes = tasks.day_minutes(session, site=site, advisor_id=principal.staff_id, day=today)
    return render(request, "tasks.html", status_code=status_code, principal=principal,
                  site=site, sites=advisor_sites(principal, registry), day=today,
                  tasks=TASKS, steps=STEPS, minutes=minutes, errors=list(errors),
                  saved=known(request.query_params.get("saved"), TASKS),
                  **template_helpers(request, registry))


@router.get("/console/advisor/tasks")
def task_log(request: Request, principal: PageStaff, session: SessionDep,
             registry: RegistryDep, now: NowDep, site: str | None = None) -> Response:
    """The advisor's time by task today."""
    site = chosen_site(request, principal, registry, now, site)
    _own_log(principal)
    return _tasks_page(request, principal=principal, session=session, registry=registry,
                       site=site, now=now)


def _record(request: Request, form: dict, *, principal, session, registry,
            now: datetime) -> Response:
    site = chosen_site(request, principal, registry, now, form.get("site"))
    _own_log(principal)
    task, add = form.get("task", ""), whole_number(form.get("add"))
    minutes = add if add is not None else whole_number(form.get("minutes"))
    if task not in TASKS:
        error = FormError("task-title-meeting", "tasktime.error.task")
    elif minutes is None or minutes > MAX_DAY_MINUTES:
        error = FormError(f"minutes-{task}", "tasktime.error.minutes")
    else:
        record = tasks.add_minutes if add is not None else tasks.set_minutes
        record(session, site=site, advisor_id=principal.staff_id,
               day=days.local_day(now, site_zone(registry, site)),
               task=task, minutes=minutes, now=now)
        session.commit()
        query = urlencode({"site": site, "saved": task})
        return RedirectResponse(f"/console/advisor/tasks?{query}#task-{task}", status_code=303)
    return _tasks_page(request, principal=principal, session=session, registry=registry,
                       site=site, now=now, errors=[error], status_code=422)


@router.post("/console/advisor/tasks")
async def task_log_form(request: Request, principal: PageStaff, session: SessionDep,
                        registry: RegistryDep, now: NowDep) -> Response:
    """Add a tap's minutes to a task, or set its minutes, for today."""
    form = await read_form(request)
    return await run_in_threadpool(_record, request, form, principal=principal,
                                   session=session, registry=registry, now=now)


@router.get("/console/advisor/exports")
def export_page(request: Request, principal: PageStaff, session: SessionDep,
                registry: RegistryDep, now: NowDep, site: str | None = None,
                month: str | None = None, format: str | None = None) -> Response:
    """The month's task-time report and booking figures of the site, as XLSX or CSV."""
    site = chosen_site(request, principal, registry, now, site)
    first = exports.parse_month(month) if month else None
    if format in exports.FORMATS and first is not None:
        report = exports.monthly_report(session, registry=registry, site=site, month=first,
                                        lang=language(request))
        body, media_type = exports.encode(report, format)
        name = f"etapalvelu-{site}-{first:%Y-%m}.{format}"
        return Response(body, media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    this_month = days.local_day(now, site_zone(registry, site)).strftime("%Y-%m")
    error = month is not None and first is None
    return render(request, "exports.html", status_code=422 if error else 200,
                  principal=principal, site=site, sites=advisor_sites(principal, registry),
                  month=month or this_month, error=error, **template_helpers(request, registry))


# --- the expert's console --------------------------------------------------------------------


def _day(request: Request, template: str, *, principal, session, registry, rules,
         now: datetime) -> Response:
    authority = principal.organisation if principal.role == EXPERT else None
    access(request, principal, now).require("authority.list", authority=authority,
                                            resource=f"authority:{authority}")
    return render(request, template, principal=principal, authority=authority,
                  visits=days.authority_day(session, registry=registry, authority=authority,
                                            now=now),
                  started=days.started_sessions(session, registry=registry,
                                                authority=authority, now=now),
                  day=days.local_day(now), now=now, broker=broker_notice(request, session, now),
                  refresh_ms=getattr(request.app.state, "console_refresh_ms", REFRESH_MS),
                  **template_helpers(request, registry, rules))


@router.get("/console/expert")
def expert_console(request: Request, principal: PageStaff, session: SessionDep,
                   registry: RegistryDep, rules: RulesDep, now: NowDep) -> Response:
    """The expert's sessions today with the customer's arrival."""
    return _day(request, "expert.html", principal=principal, session=session,
                registry=registry, rules=rules, now=now)


@router.get("/console/expert/live")
def expert_live(request: Request, principal: PageStaff, session: SessionDep,
                registry: RegistryDep, rules: RulesDep, now: NowDep) -> Response:
    """The expert's day alone, which the page refreshes."""
    return _day(request, "expert-live.html", principal=principal, session=session,
                registry=registry, rules=rules, now=now)
