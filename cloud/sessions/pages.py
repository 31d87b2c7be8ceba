"""The video session pages: the expert's session view (``/sessions/{id}``, its body the
``session-view.html`` block a console can include), the room terminal's kiosk page
(``/sessions/terminal``), starting a session (``/sessions/new``), the third party's
affirmation and lobby, and the customer's feedback page behind a text message's link
(``/feedback/{token}``). The media and the signalling run in the browser (``static/``); every
decision is the API's and the signalling's, through the same service functions and access
rules."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from cloud.accounts.access import EXPERT, may
from cloud.accounts.deps import Access
from cloud.accounts.pages import PageAccess
from cloud.api.deps import NowDep, RegistryDep, SessionDep
from cloud.api.forms import read_form
from cloud.api.inputs import RowId, Token
from cloud.api.refusals import Refusal, invalid, not_found
from cloud.bookings import service as bookings
from cloud.bookings.interpretation import LANGUAGES, VIDEO
from cloud.bookings.views import RulesDep
from cloud.flows import interpretation
from cloud.live.brokerlink import broker_notice
from cloud.sessions import feedback, service, thirdparty
from cloud.sessions.rules import SessionRefused
from cloud.sessions.views import replaced_elsewhere, session_settings, start_login
from cloud.sites.hours import site_zone
from cloud.web.templating import render

router = APIRouter(include_in_schema=False)
# the texts the pages' scripts read (kit.js), besides the kit's own
VIEW_TEXTS = tuple(f"sessions.{key}" for key in (
    "room_camera", "document_camera", "someone", "assurance", "admit", "deny", "connected",
    "reconnecting", "ended", "joining", "no_camera", "thanks", "terminal", "expert",
    "third_party", "advisor", "joined", "admitted", "reconnected", "left", "lobby_wait",
    "denied", "identity_asked", "identity_already", "identity_coming", "identity_checked",
    "identity_failed", "identity_timeout", "superseded", "terminal_joined",
    "terminal_not_yet", "terminal_reconnecting")) + tuple(
    f"interpreter.state.{state}" for state in ("not_yet", "waiting", "joined", "away"))
TERMINAL_TEXTS = tuple(f"sessions.{key}" for key in (
    "next_visit", "no_visit", "offline", "called", "advisor_coming", "call_failed",
    "expert_joins_soon", "expert_reconnecting"))


@router.get("/sessions/terminal")
def terminal_page(request: Request, registry: RegistryDep, site: str = "", room: str = ""
                  ) -> Response:
    """The room terminal's kiosk page; the room's token follows in the URL's fragment
    (``#token=...``), which the browser never sends to the server. A kiosk: no link on it
    leads to the staff's pages."""
    if site not in registry.sites or room not in registry.sites[site].rooms:
        raise not_found("room")
    feedback_ms = round(session_settings(request.app).feedback_s * 1000)
    return render(request, "session-terminal.html", site=site, room=room, kiosk=True,
                  feedback_ms=feedback_ms, script_keys=TERMINAL_TEXTS,
                  warning_minutes=session_settings(request.app).warning_minutes,
                  site_name=registry.sites[site].name.model_dump())


def _rooms(access: Access, registry) -> list[tuple[str, str, dict]]:
    principal = access.principal
    return [(site_id, room_id, site.name.model_dump())
            for site_id, site in registry.sites.items()
            for room_id in site.rooms
            if principal.role == "admin" or site_id in principal.sites
            or (principal.role == EXPERT and principal.organisation in site.authorities)]


def _openable(access: Access, registry, rules, rooms) -> list[str]:
    """The services the person may open a session of in one of ``rooms``: an expert only
    their own authority's, an advisor those offered at their sites."""
    return sorted({service_id for site, _, _ in rooms
                   for service_id, offered in rules.catalogue.offered_at(registry, site).items()
                   if may(access.principal, "session.open", site=site,
                          authority=offered.authority)})


def _fitting(db, rooms, services: list[str], principal, now) -> tuple[str | None, str | None]:
    """The room and service to preselect: those of a visit due in one of the rooms now
    (its slot began or begins within half an hour), else an expert's first service; an
    advisor with no such visit chooses (no silent guess of another authority)."""
    listed = {(site, room) for site, room, _ in rooms}
    for booking in bookings.bookings_between(db, start=now - timedelta(minutes=60),
                                             end=now + timedelta(minutes=30)):
        if ((booking.site, booking.room) in listed and booking.service in services
                and booking.end > now and booking.status in ("booked", "checked_in")):
            return f"{booking.site}/{booking.room}", booking.service
    return None, services[0] if services and principal.role == EXPERT else None


@router.get("/sessions/new")
def start_page(request: Request, db: SessionDep, access: PageAccess, registry: RegistryDep,
               rules: RulesDep, now: NowDep) -> Response:
    """The form to start a session in a room now (a walk-in, or a visit without booking):
    the rooms and services the person may open, the visit due now preselected."""
    rooms = _rooms(access, registry)
    services = _openable(access, registry, rules, rooms)
    room, chosen = _fitting(db, rooms, services, access.principal, now)
    return render(request, "session-start.html", principal=access.principal, rooms=rooms,
                  broker=broker_notice(request, db, now), services=services,
                  catalogue=rules.catalogue.services,
                  authorities=registry.authorities, chosen_room=room, chosen_service=chosen)


@router.post("/sessions/new")
async def start(request: Request, db: SessionDep, access: PageAccess, rules: RulesDep,
                registry: RegistryDep, now: NowDep) -> Response:
    """Start the session; its page follows."""
    form = await read_form(request)
    site, _, room = form.get("room", "").partition("/")
    if site not in registry.sites or room not in registry.sites[site].rooms:
        raise invalid("choose a room")
    offered = rules.service(site, form.get("service", ""))
    access.require("session.open", site=site, authority=offered.authority)
    video_session = service.open_session(
        db=db, settings=session_settings(request.app), site=site, room=room,
        authority=offered.authority, service=form["service"], slot_start=now,
        slot_end=now + timedelta(minutes=30), created_by=access.principal.username, now=now)
    db.commit()
    return RedirectResponse(f"/sessions/{video_session.id}", 303)


@router.post("/sessions/booking/{booking_id:int}")
def booking_session(booking_id: RowId, request: Request, db: SessionDep, access: PageAccess,
                    now: NowDep) -> Response:
    """The video session of a booked visit, opened on first use (the expert's day and the
    advisor's come here); its page follows."""
    booking = bookings.booking_by_id(db, booking_id=booking_id)
    if booking is None:
        raise not_found("booking")
    access.require("session.open", site=booking.site, authority=booking.authority,
                   resource=f"booking:{booking_id}", hidden="booking",
                   seen_by="booking.read")
    video_session = service.open_session(
        db=db, settings=session_settings(request.app), site=booking.site, room=booking.room,
        authority=booking.authority, service=booking.service, slot_start=booking.start,
        slot_end=booking.end, created_by=access.principal.username, now=now,
        booking_id=booking.id)
    db.commit()
    return RedirectResponse(f"/sessions/{video_session.id}", 303)


@router.get("/sessions/{session_id:int}")
def session_page(session_id: RowId, request: Request, db: SessionDep, access: PageAccess,
                 registry: RegistryDep, rules: RulesDep, now: NowDep) -> Response:
    """The expert's session view; for the site's staff, who is in the session."""
    video_session = service.get(db=db, session_id=session_id)
    if video_session is None:
        raise not_found("session")
    access.require("session.read", site=video_session.site,
                   authority=video_session.authority, resource=f"session:{session_id}",
                   hidden="session")
    if access.principal.role != EXPERT:
        return render(request, "session-overview.html", principal=access.principal,
                      session=video_session, broker=broker_notice(request, db, now),
                      participants=service.participants(db=db, session_id=session_id))
    return render(request, "session-page.html", principal=access.principal,
                  session=video_session, mode="expert", credential=None,
                  broker=broker_notice(request, db, now),
                  visit=visit_facts(db, registry, rules, video_session),
                  warning_minutes=session_settings(request.app).warning_minutes,
                  script_keys=VIEW_TEXTS)


def visit_facts(db, registry, rules, video_session) -> dict:
    """What the expert's view says of the visit: its site's zone, the service, site and
    room by their names in every language, the customer's shown name (None: a walk-in
    without a booking) and what the room terminal is doing."""
    site = registry.sites[video_session.site]
    room = site.rooms.get(video_session.room)
    offered = rules.catalogue.services.get(video_session.service)
    booking = bookings.booking_by_id(db, booking_id=video_session.booking_id) \
        if video_session.booking_id is not None else None
    return {"zone": site.zone, "site": site.name.model_dump(),
            "room": {lang: room.local_name(lang) for lang in ("fi", "sv", "en")}
            if room else video_session.room,
            "service": offered.name.model_dump() if offered else video_session.service,
            "customer": booking.customer_name if booking else None,
            "terminal": service.terminal_state(db=db, session_id=video_session.id),
            "interpreter": _interpreter(db, booking)}


def _interpreter(db, booking) -> dict | None:
    """The interpreter the booked visit needs: the language by its names, the mode and,
    for one by video, where they stand in the session."""
    if booking is None or booking.interpreter_language is None:
        return None
    state = None
    if booking.interpreter_mode == VIDEO:
        state = service.interpreter_states(db=db, booking_ids=[booking.id]).get(
            booking.id, service.INTERPRETER_NOT_YET)
    return {"language": LANGUAGES.get(booking.interpreter_language,
                                      booking.interpreter_language),
            "mode": booking.interpreter_mode, "state": state}


@router.get("/sessions/invite/affirm", name="affirmation_page")
def affirmation_page(request: Request) -> Response:
    """After strong authentication: the affirmation that the place is fit."""
    who = thirdparty.pending(session_settings(request.app),
                             request.cookies.get(thirdparty.PENDING_COOKIE, ""))
    return render(request, "session-affirm.html", who=who["name"], error=False)


@router.post("/sessions/invite/affirm")
async def affirm(request: Request, db: SessionDep, now: NowDep) -> Response:
    """The affirmation given: the lobby and, once admitted, the session."""
    form = await read_form(request)
    settings = session_settings(request.app)
    cookie = request.cookies.get(thirdparty.PENDING_COOKIE, "")
    try:
        participant, credential = thirdparty.affirm(
            db=db, settings=settings, cookie=cookie, now=now,
            affirmed=form.get("affirmed") == "yes")
    except SessionRefused as refusal:
        if refusal.reason != "no_affirmation":
            raise
        return render(request, "session-affirm.html", status_code=422, error=True,
                      who=thirdparty.pending(settings, cookie)["name"])
    db.commit()
    replaced_elsewhere(request.app, participant, now=now)
    response = render(request, "session-page.html", principal=None, mode="guest",
                      session=service.get(db=db, session_id=participant.session_id),
                      credential=credential, visit=None,
                      warning_minutes=settings.warning_minutes, script_keys=VIEW_TEXTS)
    response.delete_cookie(thirdparty.PENDING_COOKIE, path="/")
    response.headers["cache-control"] = "no-store"  # the page holds the credential
    return response


@router.get("/sessions/interpreter/{token}", name="interpreter_invitation")
def interpreter_invitation(token: Token, request: Request, db: SessionDep,
                           registry: RegistryDep, now: NowDep) -> Response:
    """The link of a booking's interpreter invitation (the e-mail's): before the session's
    window a page says when it opens; in it, strong authentication starts."""
    settings = session_settings(request.app)
    thirdparty.configured(settings)
    try:
        interpretation.open_invitation(db, settings, token=token, now=now)
    except interpretation.NotYetOpen as early:
        return render(request, "session-not-yet.html", status_code=early.status,
                      opens_at=early.opens_at, zone=site_zone(registry, early.site))
    db.commit()
    return start_login(settings, token)

# --- the customer's feedback page behind a text message ------------------------------------
# Public, without login: one question (five faces, each with its words) and an optional
# second one, in a plain form that works without script on a small old phone's browser, in
# the message's language (the link's first opening adds ``?lang=``). A used link says thank
# you; a late or unknown one gets the refusal page in the reader's language, never an error.
# The token is a credential: the page is not cached and sends no referrer elsewhere.

AGAIN = {"yes": True, "no": False, "unsure": None}  # the second question's answers


def _closed(request: Request, state: feedback.LinkState) -> Response:
    """The page of a link that takes no answer: thanks for a used one, else the refusal."""
    if state.state == feedback.ANSWERED:
        return _private(render(request, "feedback-thanks.html", already=True))
    if state.state == feedback.EXPIRED:
        raise Refusal(410, "feedback_link_expired", "the feedback link has expired")
    raise Refusal(404, "feedback_link_unknown", "no such feedback link")


def _private(response: Response) -> Response:
    response.headers["cache-control"] = "no-store"
    # the token is in the address: no other site reads it in a Referer (same-origin still
    # sends Origin with the form, which the cross-site check needs)
    response.headers["referrer-policy"] = "same-origin"
    return response


def _in_language(request: Request, state: feedback.LinkState) -> Response | None:
    """Send the link's first opening to the page in the message's language."""
    if "lang" in request.query_params or state.language is None:
        return None
    return RedirectResponse(f"{request.url.path}?{urlencode({'lang': state.language})}", 303)


@router.get("/feedback/{token}")
def feedback_page(token: Token, request: Request, db: SessionDep, now: NowDep) -> Response:
    """The question, when the link is open; else what became of it."""
    state = feedback.link_state(db=db, token=token, now=now)
    moved = _in_language(request, state)
    if moved is not None:
        return moved
    if state.state != feedback.OPEN:
        return _closed(request, state)
    return _private(render(request, "feedback-ask.html", token=token, form={}, errors=[]))


@router.post("/feedback/{token}")
async def feedback_answer(token: Token, request: Request, db: SessionDep,
                          now: NowDep) -> Response:
    """Take the answer once; a form without a face is asked again with the error named."""
    form = await read_form(request)
    score = form.get("score", "")
    if score not in {str(s) for s in feedback.SCORES}:
        state = feedback.link_state(db=db, token=token, now=now)
        if state.state != feedback.OPEN:
            return _closed(request, state)
        return _private(render(request, "feedback-ask.html", status_code=422, token=token,
                               form=form, errors=[("face-5", "feedback.error_score")]))
    state = feedback.answer(db=db, token=token, score=int(score),
                            use_again=AGAIN.get(form.get("again", "")), now=now)
    if state.state != feedback.OPEN:
        return _closed(request, state)
    db.commit()
    return _private(render(request, "feedback-thanks.html", already=False))
