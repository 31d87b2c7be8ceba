"""The advisor's and the expert's consoles: server-rendered pages whose forms work without
script (POST, then a redirect back: POST-redirect-GET; a refusal re-renders the page with a
GOV.UK-style error summary). Every page is scoped by ``cloud.accounts.access``: an advisor
sees and changes only the bookings of their own sites, an expert only their authority's.

``/console/advisor/live`` answers the page's live part (day, rooms, incidents) alone, which
the page's script fetches every 15 seconds; the call-button alerts come over the live event
stream (``/api/live/events``), read by ``static/alerts.js``."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import ValidationError

from cloud.accounts.access import ADMIN, ADVISOR, EXPERT
from cloud.accounts.deps import Access, NowDep
from cloud.accounts.pages import PageStaff
from cloud.api.deps import RegistryDep, SessionDep
from cloud.bookings import service as bookings
from cloud.bookings.views import RulesDep
from cloud.consoles import day as days
from cloud.consoles import exports
from cloud.consoles import service as tasks
from cloud.consoles.rules import STEPS, TASKS
from cloud.incidents.service import Routing
from cloud.incidents.views import get_routing
from cloud.sites.hours import HELSINKI, local_instant
from cloud.web.templating import language, render, texts, translate

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
MAX_FIELD = 200
DONE = ("checked_in", "no_show", "moved", "cancelled", "walk_in", "created")  # notices
REFRESH_MS = 15_000  # how often the page fetches its live part again
DEVICES = ("terminal", "doccam", "callbutton", "occupancy", "network")  # those with a name
RoutingDep = Annotated[Routing, Depends(get_routing)]


STATIC_FILES = {p.name: p for p in STATIC.iterdir() if p.suffix in (".js", ".css")}


@router.get("/static/consoles/{name}")
def static_file(name: str) -> FileResponse:
    """The consoles' scripts and styles (files: the CSP allows no inline script)."""
    if name not in STATIC_FILES:
        raise HTTPException(404, "no such file")
    return FileResponse(STATIC_FILES[name])


# --- scope -----------------------------------------------------------------------------------

def _access(request: Request, principal, now: datetime) -> Access:
    return Access(principal, request, now)


def advisor_sites(principal, registry) -> list[str]:
    """The sites whose console the caller may open, in registry order."""
    if principal.role == ADMIN:
        return list(registry.sites)
    if principal.role == ADVISOR:
        return [s for s in registry.sites if s in principal.sites]
    return []


def _site(request: Request, principal, registry, now: datetime, asked: str | None) -> str:
    """The site of the request: the one asked for (refused, audited, unless it is the
    caller's), else the caller's first."""
    mine = advisor_sites(principal, registry)
    site = asked or (mine[0] if mine else None)
    _access(request, principal, now).require("site.day_list", site=site,
                                             resource=f"site:{site}")
    if site not in registry.sites:
        raise HTTPException(404, "no such site")
    return site


async def _form(request: Request) -> dict[str, str]:
    """The fields of a posted form (each cut to a bound: no page takes long text)."""
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[0].strip()[:MAX_FIELD] for k, v in parse_qs(body).items()}


def _back(site: str, done: str, **extra) -> RedirectResponse:
    query = urlencode({"site": site, "done": done, **extra})
    return RedirectResponse(f"/console/advisor?{query}", status_code=303)


# --- the advisor's console -------------------------------------------------------------------

def _advisor_page(request: Request, *, principal, session, registry, rules, routing,
                  site: str, now: datetime, errors=(), form=None, status_code: int = 200):
    day = days.site_day(session, registry=registry, routing=routing, site=site, now=now)
    offered = rules.catalogue.offered_at(registry, site)
    return render(request, "advisor.html", status_code=status_code, principal=principal,
                  site=site, sites=advisor_sites(principal, registry), registry=registry,
                  day=day, now=now, services=offered, errors=list(errors), form=form or {},
                  refresh_ms=getattr(request.app.state, "console_refresh_ms", REFRESH_MS),
                  done=_known(request.query_params.get("done"), DONE), done_room=request.query_params.get(
                      "room", ""), alerts=alert_context(registry, principal, site),
                  **_helpers(request, registry, rules))


def _helpers(request: Request, registry, rules=None) -> dict:
    """What the templates use to name things from the registry and the catalogue, and
    ``label(prefix, value)``: the text ``prefix.value`` (a status, a device, a task...)."""
    services = rules.catalogue.services if rules is not None else {}
    lang = language(request)
    return {"label": lambda prefix, value, **values: translate(lang, f"{prefix}.{value}",
                                                               **values),
            "service_name": lambda s: days.names(services[s].name) if s in services else s,
            "authority_name": lambda a: days.names(registry.authorities[a].name)
            if a in registry.authorities else a,
            "site_name": lambda s: days.names(registry.sites[s].name),
            "room_name": lambda s, r: days.names(registry.sites[s].rooms[r].name)
            if r in registry.sites[s].rooms else r,
            "clock": days.clock, "local_date": days.local_day, "DEVICES": DEVICES}


def alert_context(registry, principal, site: str) -> dict:
    """What the alert banner's script needs, given to it as a JSON data block: room and site
    names in every language, and who is watching."""
    watched = advisor_sites(principal, registry) or [site]
    rooms = {f"{s}/{room_id}": days.names(room.name)
             for s in watched for room_id, room in registry.sites[s].rooms.items()}
    return {"site": site, "me": principal.username, "rooms": rooms,
            "sites": {s: days.names(registry.sites[s].name) for s in watched}}


@router.get("/console/advisor")
def advisor_console(request: Request, principal: PageStaff, session: SessionDep,
                    registry: RegistryDep, rules: RulesDep, routing: RoutingDep, now: NowDep,
                    site: str | None = None) -> Response:
    """Today at the advisor's site: bookings, rooms, incidents, actions, live alerts."""
    site = _site(request, principal, registry, now, site)
    return _advisor_page(request, principal=principal, session=session, registry=registry,
                         rules=rules, routing=routing, site=site, now=now)


@router.get("/console/advisor/live")
def advisor_live(request: Request, principal: PageStaff, session: SessionDep,
                 registry: RegistryDep, rules: RulesDep, routing: RoutingDep, now: NowDep,
                 site: str | None = None) -> Response:
    """The console's live part alone (day, rooms, incidents), which the page refreshes."""
    site = _site(request, principal, registry, now, site)
    day = days.site_day(session, registry=registry, routing=routing, site=site, now=now)
    return render(request, "advisor-live.html", principal=principal, site=site, day=day,
                  now=now, **_helpers(request, registry, rules))


# --- booking actions -------------------------------------------------------------------------

class FormError(Exception):
    """A field of a form that cannot be used; ``field`` is the input's id."""

    def __init__(self, field: str, key: str, **values) -> None:
        super().__init__(key)
        self.field, self.key, self.values = field, key, values


def _refusal_error(refusal: bookings.BookingRefused, field: str) -> FormError:
    key = f"advisor.refusal.{refusal.reason}"
    if key in texts():
        return FormError(field, key)
    return FormError(field, "advisor.refusal.other", detail=refusal.detail)


async def _booking_action(request: Request, booking_id: int, action: str, *, principal,
                          session, registry, rules, routing, now: datetime, change) -> Response:
    """Load the booking, check the caller may ``action`` it, apply ``change(booking, form)``
    and commit; a refusal re-renders the console with an error summary."""
    form = await _form(request)
    booking = bookings.booking_by_id(session, booking_id=booking_id)
    access = _access(request, principal, now)
    if booking is None:
        access.require(action, resource=f"booking:{booking_id}")
        raise HTTPException(404, "no such booking")
    access.require(action, site=booking.site, authority=booking.authority,
                   resource=f"booking:{booking.id}")
    try:
        done = change(booking, form)
        session.commit()
    except (bookings.BookingRefused, FormError) as problem:
        session.rollback()
        error = problem if isinstance(problem, FormError) else \
            _refusal_error(problem, f"actions-{booking_id}")
        status = 409 if getattr(problem, "status", 422) == 409 else 422
        return _advisor_page(request, principal=principal, session=session, registry=registry,
                             rules=rules, routing=routing, site=booking.site, now=now,
                             errors=[error], form={"booking": booking_id, **form},
                             status_code=status)
    return _back(booking.site, done, booking=booking.id)


def _action_route(path: str, action: str, change):
    """A POST route of one booking action: ``change(booking, form, actor, now, rules)``
    returns the ``done`` key of the notice shown after the redirect."""

    async def endpoint(booking_id: int, request: Request, principal: PageStaff,
                       session: SessionDep, registry: RegistryDep, rules: RulesDep,
                       routing: RoutingDep, now: NowDep) -> Response:
        return await _booking_action(
            request, booking_id, action, principal=principal, session=session,
            registry=registry, rules=rules, routing=routing, now=now,
            change=lambda booking, form: change(session, rules, booking, form,
                                                principal.username, now))

    endpoint.__doc__ = f"The form of ``{action}`` on one booking."
    router.add_api_route(f"/console/advisor/bookings/{{booking_id}}/{path}", endpoint,
                         methods=["POST"])


def _check_in(session, rules, booking, form, actor, now) -> str:
    bookings.check_in(session, booking=booking, actor=actor, now=now)
    return "checked_in"


def _no_show(session, rules, booking, form, actor, now) -> str:
    bookings.mark_no_show(session, booking=booking, actor=actor, now=now)
    return "no_show"


def _move(session, rules, booking, form, actor, now) -> str:
    field = f"move-time-{booking.id}"
    start = _local_start(form, day_field=f"move-date-{booking.id}", time_field=field,
                         day_key="date", time_key="time", default_day=booking.start)
    bookings.move_booking(session, rules, booking=booking, start=start, actor=actor, now=now,
                          version=_int(form.get("version")))
    return "moved"


def _cancel(session, rules, booking, form, actor, now) -> str:
    reason = form.get("reason", "")
    if not reason:
        raise FormError(f"cancel-reason-{booking.id}", "advisor.error.reason")
    bookings.cancel_booking(session, booking=booking, reason=reason, actor=actor, now=now,
                            version=_int(form.get("version")))
    return "cancelled"


_action_route("check-in", "booking.check_in", _check_in)
_action_route("no-show", "booking.no_show", _no_show)
_action_route("move", "booking.move", _move)
_action_route("cancel", "booking.cancel", _cancel)


def _known(value: str | None, known: tuple[str, ...]) -> str | None:
    return value if value in known else None


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _local_start(form: dict, *, day_field: str, time_field: str, day_key: str, time_key: str,
                 default_day: datetime | date) -> datetime:
    """The instant of a local day and ``hh:mm`` from a form."""
    raw_day = form.get(day_key, "")
    try:
        day = date.fromisoformat(raw_day) if raw_day else (
            default_day.astimezone(HELSINKI).date() if isinstance(default_day, datetime)
            else default_day)
    except ValueError:
        raise FormError(day_field, "advisor.error.date") from None
    try:
        wall = time.fromisoformat(form.get(time_key, ""))
    except ValueError:
        raise FormError(time_field, "advisor.error.time") from None
    return local_instant(day, wall.hour * 60 + wall.minute, HELSINKI)


def _customer(form: dict, prefix: str) -> bookings.Customer:
    name = form.get("name", "")
    if not name:
        raise FormError(f"{prefix}-name", "advisor.error.name")
    try:
        return bookings.Customer(name=name, phone=form.get("phone") or None,
                                 language=form.get("language") or "fi")
    except ValidationError as error:
        fields = {str(e["loc"][0]) for e in error.errors() if e.get("loc")}
        if "phone" in fields:
            raise FormError(f"{prefix}-phone", "advisor.error.phone") from None
        raise FormError(f"{prefix}-name", "advisor.error.name") from None


async def _new_visit(request: Request, action: str, prefix: str, book, *, principal, session,
                     registry, rules, routing, now: datetime) -> Response:
    """A walk-in or a new booking from the console's forms."""
    form = await _form(request)
    site = _site(request, principal, registry, now, form.get("site"))
    service_id = form.get("service", "")
    offered = rules.catalogue.offered_at(registry, site)
    authority = offered[service_id].authority if service_id in offered else None
    _access(request, principal, now).require(action, site=site, authority=authority)
    try:
        if authority is None:
            raise FormError(f"{prefix}-service", "advisor.error.service")
        booking = book(site, service_id, _minutes(form, offered[service_id]),
                       _customer(form, prefix), form)
        session.commit()
    except (bookings.BookingRefused, FormError) as problem:
        session.rollback()
        error = problem if isinstance(problem, FormError) else \
            _refusal_error(problem, f"{prefix}-submit")
        status = 409 if getattr(problem, "status", 422) == 409 else 422
        return _advisor_page(request, principal=principal, session=session, registry=registry,
                             rules=rules, routing=routing, site=site, now=now, errors=[error],
                             form={"prefix": prefix, **form}, status_code=status)
    done = "walk_in" if prefix == "walkin" else "created"
    return _back(site, done, booking=booking.id, room=booking.room)


def _minutes(form: dict, offered) -> int:
    minutes = _int(form.get("minutes"))
    return minutes if minutes in offered.lengths else offered.lengths[0]


@router.post("/console/advisor/walk-in")
async def walk_in_form(request: Request, principal: PageStaff, session: SessionDep,
                       registry: RegistryDep, rules: RulesDep, routing: RoutingDep,
                       now: NowDep) -> Response:
    """Seat a customer without a booking in a free room now."""
    def book(site, service_id, minutes, customer, form):
        return bookings.walk_in(session, rules, site=site, service=service_id,
                                minutes=minutes, customer=customer,
                                actor=principal.username, now=now)

    return await _new_visit(request, "booking.walk_in", "walkin", book, principal=principal,
                            session=session, registry=registry, rules=rules, routing=routing,
                            now=now)


@router.post("/console/advisor/bookings")
async def create_form(request: Request, principal: PageStaff, session: SessionDep,
                      registry: RegistryDep, rules: RulesDep, routing: RoutingDep,
                      now: NowDep) -> Response:
    """Book a visit for a customer at the desk or on the phone."""
    def book(site, service_id, minutes, customer, form):
        start = _local_start(form, day_field="create-date", time_field="create-time",
                             day_key="date", time_key="time", default_day=days.local_day(now))
        channel = form.get("channel") or "on_site"
        return bookings.create_booking(session, rules, site=site, service=service_id,
                                       start=start, minutes=minutes, channel=channel,
                                       customer=customer, actor=principal.username, now=now)

    return await _new_visit(request, "booking.create", "create", book, principal=principal,
                            session=session, registry=registry, rules=rules, routing=routing,
                            now=now)


# --- the task-time log -----------------------------------------------------------------------

def _tasks_page(request: Request, *, principal, session, registry, site: str, now: datetime,
                errors=(), status_code: int = 200) -> Response:
    today = days.local_day(now)
    minutes = tasks.day_minutes(session, site=site, advisor_id=principal.staff_id or 0,
                                day=today)
    return render(request, "tasks.html", status_code=status_code, principal=principal,
                  site=site, sites=advisor_sites(principal, registry), day=today,
                  tasks=TASKS, steps=STEPS, minutes=minutes, errors=list(errors),
                  saved=_known(request.query_params.get("saved"), TASKS),
                  **_helpers(request, registry))


@router.get("/console/advisor/tasks")
def task_log(request: Request, principal: PageStaff, session: SessionDep,
             registry: RegistryDep, now: NowDep, site: str | None = None) -> Response:
    """The advisor's time by task today: +5/+15 taps and a field to correct each."""
    site = _site(request, principal, registry, now, site)
    if principal.role != ADVISOR:
        raise HTTPException(403, "not allowed: the task-time log is the advisor's own")
    return _tasks_page(request, principal=principal, session=session, registry=registry,
                       site=site, now=now)


@router.post("/console/advisor/tasks")
async def task_log_form(request: Request, principal: PageStaff, session: SessionDep,
                        registry: RegistryDep, now: NowDep) -> Response:
    """Add a tap's minutes to a task, or set its minutes, for today."""
    form = await _form(request)
    site = _site(request, principal, registry, now, form.get("site"))
    if principal.role != ADVISOR:
        raise HTTPException(403, "not allowed: the task-time log is the advisor's own")
    task = form.get("task", "")
    field = f"minutes-{task}" if task in TASKS else "tasks"
    add, value = _int(form.get("add")), form.get("minutes", "")
    if task not in TASKS:
        errors = [FormError(field, "tasktime.error.task")]
    elif add is None and not (value.isdigit() and int(value) <= 24 * 60):
        errors = [FormError(field, "tasktime.error.minutes")]
    else:
        record = tasks.add_minutes if add is not None else tasks.set_minutes
        record(session, site=site, advisor_id=principal.staff_id, day=days.local_day(now),
               task=task, minutes=add if add is not None else int(value), now=now)
        session.commit()
        query = urlencode({"site": site, "saved": task})
        return RedirectResponse(f"/console/advisor/tasks?{query}#task-{task}", status_code=303)
    return _tasks_page(request, principal=principal, session=session, registry=registry,
                       site=site, now=now, errors=errors, status_code=422)


# --- monthly exports -------------------------------------------------------------------------

@router.get("/console/advisor/exports")
def export_page(request: Request, principal: PageStaff, session: SessionDep,
                registry: RegistryDep, now: NowDep, site: str | None = None,
                month: str | None = None, format: str | None = None) -> Response:
    """The month's task-time report and booking figures of the site, as XLSX or CSV."""
    site = _site(request, principal, registry, now, site)
    parsed = exports.parse_month(month) if month else None
    if format in exports.FORMATS and parsed is not None:
        lang = language(request)
        report = exports.monthly_report(
            session, registry=registry, site=site, month=parsed,
            task_names={task: translate(lang, f"tasktime.task.{task}") for task in TASKS})
        body, media_type = exports.encode(report, format)
        name = f"etapalvelu-{site}-{parsed:%Y-%m}.{format}"
        return Response(body, media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    default = (days.local_day(now).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    error = month is not None and parsed is None
    return render(request, "exports.html", status_code=422 if error else 200,
                  principal=principal, site=site, sites=advisor_sites(principal, registry),
                  month=month or default, error=error, **_helpers(request, registry))


# --- the expert's console --------------------------------------------------------------------

@router.get("/console/expert")
def expert_console(request: Request, principal: PageStaff, session: SessionDep,
                   registry: RegistryDep, rules: RulesDep, now: NowDep) -> Response:
    """The expert's sessions today: their authority's visits at every site, the customer's
    arrival, a link to each session."""
    authority = principal.organisation if principal.role == EXPERT else None
    _access(request, principal, now).require("authority.list", authority=authority,
                                             resource=f"authority:{authority}")
    visits = days.authority_day(session, authority=authority, now=now)
    return render(request, "expert.html", principal=principal, authority=authority,
                  visits=visits, day=days.local_day(now), now=now,
                  **_helpers(request, registry, rules))
