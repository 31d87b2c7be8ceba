"""The advisor's console: today at the site (bookings, rooms, incidents), the call-button
alerts, and the booking actions as plain forms. A change posts, is applied through the
bookings domain's service functions and redirects back (POST-redirect-GET); a refusal
re-renders the console with an error summary (409 a conflict, 422 a form to correct)."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from cloud.accounts.deps import NowDep
from cloud.accounts.pages import PageStaff
from cloud.api.deps import RegistryDep, SessionDep
from cloud.bookings import service as bookings
from cloud.bookings.views import RulesDep
from cloud.consoles import day as days
from cloud.consoles.forms import (
    FormError,
    customer_of,
    known,
    local_start,
    read_form,
    refusal_error,
    whole_number,
)
from cloud.consoles.scope import (
    RoutingDep,
    access,
    advisor_sites,
    chosen_site,
    template_helpers,
)
from cloud.web.templating import render

router = APIRouter()
DONE = ("checked_in", "no_show", "moved", "cancelled", "walk_in", "created")  # notices
REFRESH_MS = 15_000  # how often the page fetches its live part again


def alert_context(registry, principal, site: str) -> dict:
    """What the alert banner's script needs, as a JSON data block: the names of the rooms
    and sites the caller watches, in every language."""
    watched = advisor_sites(principal, registry) or [site]
    rooms = {f"{s}/{room_id}": days.room_names(room)
             for s in watched for room_id, room in registry.sites[s].rooms.items()}
    return {"site": site, "me": principal.username, "rooms": rooms,
            "sites": {s: days.names(registry.sites[s].name) for s in watched}}


def _page(request: Request, *, principal, session, registry, rules, routing, site: str,
          now: datetime, errors=(), form=None, status_code: int = 200) -> Response:
    day = days.site_day(session, registry=registry, routing=routing, site=site, now=now)
    return render(request, "advisor.html", status_code=status_code, principal=principal,
                  site=site, sites=advisor_sites(principal, registry), day=day, now=now,
                  services=rules.catalogue.offered_at(registry, site), errors=list(errors),
                  form=form or {}, alerts=alert_context(registry, principal, site),
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
    return _page(request, principal=principal, session=session, registry=registry,
                 rules=rules, routing=routing, site=site, now=now)


@router.get("/console/advisor/live")
def advisor_live(request: Request, principal: PageStaff, session: SessionDep,
                 registry: RegistryDep, rules: RulesDep, routing: RoutingDep, now: NowDep,
                 site: str | None = None) -> Response:
    """The console's live part alone (day, rooms, incidents), which the page refreshes."""
    site = chosen_site(request, principal, registry, now, site)
    day = days.site_day(session, registry=registry, routing=routing, site=site, now=now)
    return render(request, "advisor-live.html", principal=principal, site=site, day=day,
                  now=now, **template_helpers(request, registry, rules))


# --- actions on one booking ------------------------------------------------------------------

def _check_in(session, rules, booking, form, actor, now) -> str:
    bookings.check_in(session, booking=booking, actor=actor, now=now)
    return "checked_in"


def _no_show(session, rules, booking, form, actor, now) -> str:
    bookings.mark_no_show(session, booking=booking, actor=actor, now=now)
    return "no_show"


def _move(session, rules, booking, form, actor, now) -> str:
    start = local_start(form, day_field=f"move-date-{booking.id}",
                        time_field=f"move-time-{booking.id}",
                        default_day=days.local_day(booking.start))
    bookings.move_booking(session, rules, booking=booking, start=start, actor=actor, now=now,
                          version=whole_number(form.get("version")))
    return "moved"


def _cancel(session, rules, booking, form, actor, now) -> str:
    reason = form.get("reason", "")
    if not reason:
        raise FormError(f"cancel-reason-{booking.id}", "advisor.error.reason")
    bookings.cancel_booking(session, booking=booking, reason=reason, actor=actor, now=now,
                            version=whole_number(form.get("version")))
    return "cancelled"


ACTIONS = {"check-in": ("booking.check_in", _check_in), "no-show": ("booking.no_show", _no_show),
           "move": ("booking.move", _move), "cancel": ("booking.cancel", _cancel)}


def _act(request: Request, booking_id: int, name: str, form: dict, *, principal, session,
         registry, rules, routing, now: datetime) -> Response:
    action, change = ACTIONS[name]
    booking = bookings.booking_by_id(session, booking_id=booking_id)
    checks = access(request, principal, now)
    if booking is None:
        checks.require(action, resource=f"booking:{booking_id}")  # refused before saying 404
        raise HTTPException(404, "no such booking")
    checks.require(action, site=booking.site, authority=booking.authority,
                   resource=f"booking:{booking.id}")
    try:
        done = change(session, rules, booking, form, principal.username, now)
        session.commit()
    except bookings.BookingRefused as refusal:
        error = refusal_error(refusal, f"actions-{booking_id}")
    except FormError as problem:
        error = problem
    else:
        return _back(booking.site, done, booking=booking.id)
    session.rollback()
    return _page(request, principal=principal, session=session, registry=registry,
                 rules=rules, routing=routing, site=booking.site, now=now, errors=[error],
                 form={"booking": booking_id, **form}, status_code=error.status)


@router.post("/console/advisor/bookings/{booking_id}/{name}")
async def booking_action(booking_id: int, name: str, request: Request, principal: PageStaff,
                         session: SessionDep, registry: RegistryDep, rules: RulesDep,
                         routing: RoutingDep, now: NowDep) -> Response:
    """Check in, mark a no-show, move or cancel one booking (the form's ``name``)."""
    if name not in ACTIONS:
        raise HTTPException(404, "no such action")
    form = await read_form(request)
    return await run_in_threadpool(_act, request, booking_id, name, form, principal=principal,
                                   session=session, registry=registry, rules=rules,
                                   routing=routing, now=now)


# --- new visits ------------------------------------------------------------------------------

def _walk_in(session, rules, site, service_id, minutes, customer, form, actor, now):
    return bookings.walk_in(session, rules, site=site, service=service_id, minutes=minutes,
                            customer=customer, actor=actor, now=now)


def _create(session, rules, site, service_id, minutes, customer, form, actor, now):
    start = local_start(form, day_field="create-date", time_field="create-time",
                        default_day=days.local_day(now))
    return bookings.create_booking(session, rules, site=site, service=service_id,
                                   start=start, minutes=minutes,
                                   channel=form.get("channel") or "on_site",
                                   customer=customer, actor=actor, now=now)


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
        minutes = whole_number(form.get("minutes"))
        booking = book(session, rules, site, form["service"],
                       minutes if minutes in service.lengths else service.lengths[0],
                       customer_of(form, prefix), form, principal.username, now)
        session.commit()
    except bookings.BookingRefused as refusal:
        error = refusal_error(refusal, f"{prefix}-submit")
    except FormError as problem:
        error = problem
    else:
        return _back(site, done, booking=booking.id, room=booking.room)
    session.rollback()
    return _page(request, principal=principal, session=session, registry=registry,
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
