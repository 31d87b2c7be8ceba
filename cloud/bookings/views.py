"""The booking API: catalogue, free visits, booking changes, the advisor's day list and the
expert's list. Every request is scoped by ``cloud.accounts.access``; a refusal of the rules
comes back as 409 (a conflict with other bookings) or 422, as every refusal does
(``cloud.api.problems``)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from cloud.accounts.deps import AccessDep
from cloud.api.deps import NowDep, RegistryDep, SessionDep, app_settings
from cloud.api.inputs import Code, RowId, check_span
from cloud.api.refusals import invalid, not_found
from cloud.bookings import service
from cloud.bookings.models import Booking
from cloud.bookings.schemas import (
    AffectedOut,
    AffectedVisit,
    BookingIn,
    BookingOut,
    CancelIn,
    ChangeOut,
    ClosureIn,
    CompleteIn,
    ExceptionIn,
    FreeVisitOut,
    MoveIn,
    ServiceOut,
    WalkInIn,
)
from cloud.bookings.service import BookingRules
from cloud.bookings.settings import BookingSettings
from cloud.flows import interpretation, reminders
from cloud.flows.purge import purge_personal_data
from cloud.instants import ApiDay, ApiInstant
from cloud.sites import service as sites
from cloud.sites.hours import day_window, site_zone

MAX_RANGE_DAYS = 62
MAX_CLOSURE, CLOSURE_HORIZON = timedelta(days=366), timedelta(days=2 * 366)


router = APIRouter(prefix="/bookings", tags=["bookings"])
get_rules = app_settings("booking_rules")  # built once from the app's registry
RulesDep = Annotated[BookingRules, Depends(get_rules)]
BookingSettingsDep = Annotated[BookingSettings, Depends(app_settings("booking_settings"))]


# --- helpers --------------------------------------------------------------------------------

def _range(first: date, last: date) -> None:
    if last < first or (last - first).days > MAX_RANGE_DAYS:
        raise invalid(f"a date range runs forward, at most {MAX_RANGE_DAYS} days")


def _booking(session, access, booking_id: int, action: str) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        access.require(action, resource=f"booking:{booking_id}", hidden="booking")
        raise not_found("booking")
    access.require(action, site=booking.site, authority=booking.authority,
                   resource=f"booking:{booking.id}", hidden="booking",
                   seen_by="booking.read")
    return booking


def _service_authority(rules: BookingRules, service_id: str) -> str | None:
    """The authority of a catalogue service (offered at the site or not: the rules say 422
    for a service not offered there, once the caller is known to be in scope)."""
    known = rules.catalogue.services.get(service_id)
    return known.authority if known else None


# --- catalogue and availability -------------------------------------------------------------

@router.get("/services", response_model=list[ServiceOut])
def services(site: Code, access: AccessDep, rules: RulesDep) -> list[ServiceOut]:
    """The services bookable at ``site``, with names in fi/sv/en and allowed lengths."""
    access.require("catalogue.read", site=site)
    if site not in rules.registry.sites:
        raise not_found("site")
    return [ServiceOut(id=sid, authority=s.authority, name=s.name.model_dump(),
                       lengths=list(s.lengths))
            for sid, s in rules.catalogue.offered_at(rules.registry, site).items()]


@router.get("/availability", response_model=list[FreeVisitOut])
def availability(site: Code, service_id: Annotated[Code, Query(alias="service")],
                 first: ApiDay, last: ApiDay, access: AccessDep, session: SessionDep,
                 rules: RulesDep, now: NowDep,
                 minutes: Annotated[int, Query(ge=1, le=240)] | None = None
                 ) -> list[service.FreeVisit]:
    """Free visits of a service at a site between two local days."""
    access.require("availability.read", site=site,
                   authority=_service_authority(rules, service_id))
    _range(first, last)
    return service.availability(session, rules, site=site, service=service_id, first=first,
                                last=last, now=now, minutes=minutes)


# --- booking changes ------------------------------------------------------------------------

@router.post("", response_model=BookingOut, status_code=201)
def create(body: BookingIn, request: Request, access: AccessDep, session: SessionDep,
           rules: RulesDep, now: NowDep) -> Booking:
    """Book a visit through a channel (on site, authority's phone service, service number)."""
    access.require("booking.create", site=body.site,
                   authority=_service_authority(rules, body.service))
    booking = service.create_booking(session, rules, site=body.site, service=body.service,
                                     start=body.start, minutes=body.minutes,
                                     channel=body.channel, customer=body.customer,
                                     room=body.room, actor=access.principal.username, now=now)
    reminders.confirm(session, rules, booking=booking, now=now)
    with_interpreter(request, session, rules, booking, body.interpreter,
                     actor=access.principal.username, now=now)
    session.commit()
    return booking


def with_interpreter(request: Request, session, rules: BookingRules, booking: Booking,
                     interpreter, *, actor: str, now) -> bool:
    """Record the interpreter the visit needs and send a video interpreter's invitation at
    once (``flows.interpretation``); True when an invitation was queued."""
    if interpreter is None:
        return False
    service.need_interpreter(session, booking=booking, interpreter=interpreter)
    return interpretation.invite_interpreter(
        session, rules, request.app.state.session_settings, booking=booking, actor=actor,
        now=now, language=interpreter.invite_language, link=_invitation_link(request))


def interpreter_after_move(request: Request, session, rules: BookingRules, booking: Booking,
                           *, actor: str, now) -> bool:
    """A moved visit's video interpreter gets a new invitation with the new time
    (``flows.interpretation``); True when one was queued."""
    return interpretation.reinvite_after_move(
        session, rules, request.app.state.session_settings, booking=booking, actor=actor,
        now=now, link=_invitation_link(request))


def _invitation_link(request: Request):
    """The address an interpreter's invitation token opens, on this deployment."""
    return lambda token: str(request.url_for("interpreter_invitation", token=token))


@router.post("/walk-in", response_model=BookingOut, status_code=201)
def walk_in(body: WalkInIn, request: Request, access: AccessDep, session: SessionDep,
            rules: RulesDep, now: NowDep) -> Booking:
    """Seat a walk-in customer in a free room now."""
    access.require("booking.walk_in", site=body.site,
                   authority=_service_authority(rules, body.service))
    booking = service.walk_in(session, rules, site=body.site, service=body.service,
                              minutes=body.minutes, customer=body.customer, room=body.room,
                              actor=access.principal.username, now=now)
    reminders.confirm(session, rules, booking=booking, now=now)
    with_interpreter(request, session, rules, booking, body.interpreter,
                     actor=access.principal.username, now=now)
    session.commit()
    return booking


@router.get("/{booking_id}", response_model=BookingOut)
def read(booking_id: RowId, access: AccessDep, session: SessionDep) -> Booking:
    """One booking."""
    return _booking(session, access, booking_id, "booking.read")


@router.get("/{booking_id}/changes", response_model=list[ChangeOut])
def changes(booking_id: RowId, access: AccessDep, session: SessionDep) -> list:
    """The change log of a booking: who changed what, when, from what to what."""
    _booking(session, access, booking_id, "booking.read")
    return service.changes_of(session, booking_id=booking_id)


@router.post("/{booking_id}/move", response_model=BookingOut)
def move(booking_id: RowId, body: MoveIn, request: Request, access: AccessDep,
         session: SessionDep, rules: RulesDep, now: NowDep) -> Booking:
    """Move a booking that has not started (409 ``changed_meanwhile`` when it changed since
    the caller read ``version``)."""
    booking = _booking(session, access, booking_id, "booking.move")
    service.move_booking(session, rules, booking=booking, start=body.start,
                         minutes=body.minutes, room=body.room, version=body.version,
                         actor=access.principal.username, now=now)
    reminders.confirm(session, rules, booking=booking, now=now)
    interpreter_after_move(request, session, rules, booking, actor=access.principal.username,
                           now=now)
    session.commit()
    return booking


@router.post("/{booking_id}/cancel", response_model=BookingOut)
def cancel(booking_id: RowId, body: CancelIn, access: AccessDep, session: SessionDep,
           now: NowDep) -> Booking:
    """Cancel a booking that has not started, with a reason (409 ``changed_meanwhile`` when
    it changed since the caller read ``version``)."""
    booking = _booking(session, access, booking_id, "booking.cancel")
    service.cancel_booking(session, booking=booking, reason=body.reason, version=body.version,
                           actor=access.principal.username, now=now)
    session.commit()
    return booking


@router.post("/{booking_id}/check-in", response_model=BookingOut)
def check_in(booking_id: RowId, access: AccessDep, session: SessionDep, now: NowDep) -> Booking:
    """The customer has arrived."""
    booking = _booking(session, access, booking_id, "booking.check_in")
    service.check_in(session, booking=booking, actor=access.principal.username, now=now)
    session.commit()
    return booking


@router.post("/{booking_id}/no-show", response_model=BookingOut)
def no_show(booking_id: RowId, access: AccessDep, session: SessionDep, now: NowDep) -> Booking:
    """The customer did not come."""
    booking = _booking(session, access, booking_id, "booking.no_show")
    service.mark_no_show(session, booking=booking, actor=access.principal.username, now=now)
    session.commit()
    return booking


@router.post("/{booking_id}/complete", response_model=BookingOut)
def complete(booking_id: RowId, body: CompleteIn, access: AccessDep, session: SessionDep,
             now: NowDep) -> Booking:
    """Record the realised start and end of the visit."""
    booking = _booking(session, access, booking_id, "booking.complete")
    service.complete(session, booking=booking, realised_start=body.realised_start,
                     realised_end=body.realised_end, actor=access.principal.username, now=now)
    session.commit()
    return booking


# --- lists ----------------------------------------------------------------------------------

@router.get("/sites/{site}/day", response_model=list[BookingOut])
def day_list(site: Code, access: AccessDep, session: SessionDep, now: NowDep,
             registry: RegistryDep, day: ApiDay | None = None) -> list[Booking]:
    """The advisor's view: a site's bookings of one local day (today by default)."""
    access.require("site.day_list", site=site, resource=f"site:{site}")
    zone = site_zone(registry, site)
    start, end = day_window(day or now.astimezone(zone).date(), zone)
    return service.bookings_between(session, start=start, end=end, site=site,
                                    include_cancelled=True)


@router.get("/authorities/{authority}", response_model=list[BookingOut])
def authority_list(authority: Code, first: ApiDay, last: ApiDay, access: AccessDep,
                   session: SessionDep) -> list[Booking]:
    """The expert's list: the authority's bookings at every site between two local days."""
    access.require("authority.list", authority=authority, resource=f"authority:{authority}")
    _range(first, last)
    return service.bookings_between(session, start=day_window(first).start,
                                    end=day_window(last).end, authority=authority)


# --- rooms and buildings --------------------------------------------------------------------

@router.post("/sites/{site}/rooms/{room}/closures", status_code=201)
def close_room(site: Code, room: Code, body: ClosureIn, access: AccessDep, session: SessionDep,
               rules: RulesDep, now: NowDep) -> dict:
    """Take a room out of use (at most a year, within two years of now); the answer lists
    the bookings to move."""
    access.require("room.close", site=site, resource=f"room:{site}/{room}")
    check_span(body.start, body.end, now=now, longest=MAX_CLOSURE, horizon=CLOSURE_HORIZON,
               what="closure")
    closure = service.close_room(session, rules, site=site, room=room, start=body.start,
                                 end=body.end, reason=body.reason, incident=body.incident,
                                 actor=access.principal.username)
    session.commit()
    hit = service.affected_bookings(session, site=site, room=room, start=body.start,
                                    end=body.end)
    return {"closure": closure.id, "affected": [b.id for b in hit]}


@router.delete("/sites/{site}/rooms/{room}/closures/{closure_id}", status_code=204)
def end_closure(site: Code, room: Code, closure_id: RowId, access: AccessDep,
                session: SessionDep, now: NowDep) -> None:
    """Put a closed room back in use now (a closure not yet begun is removed)."""
    access.require("room.close", site=site, resource=f"room:{site}/{room}")
    if not service.end_room_closure(session, site=site, room=room, closure_id=closure_id,
                                    now=now):
        raise not_found("closure")
    session.commit()


@router.get("/sites/{site}/rooms/{room}/affected", response_model=AffectedOut)
def affected(site: Code, room: Code, start: ApiInstant, access: AccessDep,
             session: SessionDep, end: ApiInstant | None = None) -> AffectedOut:
    """How many and which live bookings a room's unusability from ``start`` to ``end`` hits
    (ids and times only)."""
    access.require("room.affected", site=site, resource=f"room:{site}/{room}")
    hit = service.affected_bookings(session, site=site, room=room, start=start, end=end)
    return AffectedOut(count=len(hit), bookings=[AffectedVisit.model_validate(b) for b in hit])


@router.put("/sites/{site}/exceptions/{day}")
def building_exception(site: Code, day: ApiDay, body: ExceptionIn, access: AccessDep,
                       session: SessionDep, rules: RulesDep) -> dict:
    """Set the building's hours of one day (an empty list closes it)."""
    from cloud.bookings.catalogue import parse_span

    access.require("building.exception", site=site, resource=f"site:{site}")
    if site not in rules.registry.sites:
        raise not_found("site")
    try:
        spans = [parse_span(text)[:2] for text in body.hours]
    except ValueError:
        raise invalid("building hours are written hh:mm-hh:mm") from None
    sites.set_building_exception(session, site=site, day=day, spans=spans, reason=body.reason)
    session.commit()
    return {"site": site, "day": day, "hours": body.hours}


@router.post("/purge")
def purge(access: AccessDep, session: SessionDep, now: NowDep,
          settings: BookingSettingsDep) -> dict:
    """Remove personal data past retention now (it also runs on a schedule)."""
    access.require("bookings.purge", resource="bookings")
    retention = settings.retention
    purged = purge_personal_data(session, now=now, retention=retention)
    session.commit()
    return {"purged": purged}

