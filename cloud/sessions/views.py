"""The session API: open a visit's session, join it (staff, the room terminal, a third party
through the invitation and strong authentication), the signalling socket, the end and the
feedback. A refusal of the rules (``SessionRefused``) comes back as every refusal does, in
the one problem shape (``cloud.api.problems``)."""
from __future__ import annotations

import hmac
from datetime import timedelta

from fastapi import APIRouter, Request, Response, WebSocket
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from cloud.accounts.access import ADVISOR, EXPERT
from cloud.accounts.deps import AccessDep
from cloud.api.deps import NowDep, RegistryDep, SessionDep
from cloud.api.inputs import Code, RowId, Token
from cloud.api.refusals import Refusal, invalid, not_found
from cloud.bookings import service as bookings
from cloud.bookings.service import BookingRefused
from cloud.bookings.views import RulesDep
from cloud.flows import interpretation, summon, terminal
from cloud.flows.sessions import session_ended
from cloud.sessions import service, thirdparty
from cloud.sessions.models import VideoSession
from cloud.sessions.rules import BY_EXPERT, SessionRefused, terminal_may_join
from cloud.sessions.schemas import (
    AffirmIn,
    FeedbackIn,
    InvitationOut,
    JoinOut,
    NextVisitOut,
    OpenIn,
    ParticipantOut,
    SessionOut,
    TerminalIn,
)
from cloud.sessions.settings import SessionSettings
from cloud.sessions.signalling import (
    Signalling,
    peer_view,
    session_channel,
    superseded_event,
)

router = APIRouter(prefix="/sessions", tags=["sessions"])


def session_settings(app) -> SessionSettings:
    """The session settings the app factory loaded."""
    return app.state.session_settings


def signalling(app) -> Signalling:
    """The signalling of this replica, on the platform's live bus."""
    existing = getattr(app.state, "signalling", None)
    if existing is None:
        bus = app.state.live_bus
        clock = app.state.clock
        existing = app.state.signalling = Signalling(
            sessionmaker=app.state.sessionmaker, settings=session_settings(app), bus=bus,
            clock=clock, on_ended=lambda session_id, now: session_ended(
                app.state.sessionmaker, session_id=session_id, now=now))
    return existing


def _out(db, video_session: VideoSession) -> SessionOut:
    people = [ParticipantOut(**peer_view(p)) for p in service.participants(
        db=db, session_id=video_session.id)]
    return SessionOut(id=video_session.id, booking_id=video_session.booking_id,
                      site=video_session.site, room=video_session.room,
                      authority=video_session.authority, service=video_session.service,
                      slot_start=video_session.slot_start, slot_end=video_session.slot_end,
                      ends_at=video_session.ends_at, started_at=video_session.started_at,
                      ended_at=video_session.ended_at, ended_by=video_session.ended_by,
                      participants=people)


def _joined(participant, credential: str, video_session: VideoSession) -> JoinOut:
    return JoinOut(session_id=video_session.id, participant_id=participant.id,
                   role=participant.role, state=participant.state, credential=credential,
                   signal_path=f"/api/sessions/{video_session.id}/signal",
                   ends_at=video_session.ends_at)


def _session(db, session_id: int) -> VideoSession:
    video_session = service.get(db=db, session_id=session_id)
    if video_session is None:
        raise not_found("session")
    return video_session


@router.post("", status_code=201)
def open_session(body: OpenIn, request: Request, db: SessionDep, access: AccessDep,
                 registry: RegistryDep, rules: RulesDep, now: NowDep) -> SessionOut:
    """Open the video session of a booking, or of a walk-in in a room now."""
    if body.booking_id is not None:
        booking = bookings.booking_by_id(db, booking_id=body.booking_id)
        if booking is None:
            raise not_found("booking")
        visit = {"site": booking.site, "room": booking.room, "authority": booking.authority,
                 "service": booking.service, "slot_start": booking.start,
                 "slot_end": booking.end, "booking_id": booking.id}
    else:
        site = registry.sites.get(body.site or "")
        if site is None or body.room not in site.rooms or not body.service:
            raise invalid("a walk-in names a site, its room and a service")
        try:
            authority = rules.service(body.site, body.service).authority
        except BookingRefused as refusal:
            raise invalid(refusal.detail) from None
        if body.authority not in (None, authority):
            raise invalid("the service is another authority's")
        visit = {"site": body.site, "room": body.room, "authority": authority,
                 "service": body.service, "slot_start": now,
                 "slot_end": now + timedelta(minutes=body.minutes)}
    access.require("session.open", site=visit["site"], authority=visit["authority"],
                   hidden="booking" if body.booking_id is not None else None,
                   seen_by="booking.read")
    video_session = service.open_session(db=db, settings=session_settings(request.app),
                                         created_by=access.principal.username, now=now,
                                         **visit)
    db.commit()
    return _out(db, video_session)


@router.get("/no-show-candidates")
def no_show_candidates(site: Code, db: SessionDep, access: AccessDep, now: NowDep) -> dict:
    """The site's bookings whose session began with no room terminal ever joined: the
    advisor decides whether the customer did not come."""
    access.require("session.read", site=site)
    return {"booking_ids": service.no_show_candidates(db=db, site=site, now=now)}


@router.get("/{session_id:int}")
def read_session(session_id: RowId, db: SessionDep, access: AccessDep) -> SessionOut:
    """A session and its participants."""
    video_session = _session(db, session_id)
    access.require("session.read", site=video_session.site,
                   authority=video_session.authority, resource=f"session:{session_id}",
                   hidden="session")
    return _out(db, video_session)


@router.post("/{session_id:int}/join")
def join_as_staff(session_id: RowId, db: SessionDep, access: AccessDep, now: NowDep
                  ) -> JoinOut:
    """The expert of the session's authority joins (in at once); the site's advisor joins
    when asked to verify the customer's identity (waits to be admitted)."""
    video_session = _session(db, session_id)
    access.require("session.join", site=video_session.site,
                   authority=video_session.authority, resource=f"session:{session_id}",
                   hidden="session")
    role = {EXPERT: "expert", ADVISOR: "advisor"}[access.principal.role]
    participant, credential = service.join(db=db, video_session=video_session, role=role,
                                           now=now, staff_id=access.principal.staff_id)
    db.commit()
    return _joined(participant, credential, video_session)


def check_room(settings: SessionSettings, *, site: str, room: str, token: str) -> None:
    """Refuse unless ``token`` is the room's terminal token."""
    expected = service.room_token(settings, site=site, room=room).encode()
    if not hmac.compare_digest(expected, token.encode("utf-8", "replace")):
        raise SessionRefused("bad_room_token", "this terminal's room token is not valid")


@router.post("/terminal/join")
def join_as_terminal(body: TerminalIn, request: Request, db: SessionDep, now: NowDep
                     ) -> JoinOut:
    """The room terminal joins its room's current session (the one named, or the current
    one when none is named)."""
    settings = session_settings(request.app)
    check_room(settings, site=body.site, room=body.room, token=body.room_token)
    video_session = service.get(db=db, session_id=body.session_id) if body.session_id \
        else service.current_session(db=db, settings=settings, site=body.site,
                                     room=body.room, now=now)
    if video_session is None:
        raise SessionRefused("not_current", "the room has no session now")
    terminal_may_join(session_room=(video_session.site, video_session.room),
                      terminal_room=(body.site, body.room),
                      window=service.window(video_session=video_session, settings=settings),
                      ended=video_session.ended_at is not None, now=now)
    participant, credential = service.join(db=db, video_session=video_session,
                                           role="terminal", now=now)
    db.commit()
    return _joined(participant, credential, video_session)


@router.post("/terminal/next")
def next_visit(body: TerminalIn, request: Request, db: SessionDep, now: NowDep
               ) -> NextVisitOut:
    """The room's current session, if any, and the start of its next booked visit today."""
    settings = session_settings(request.app)
    check_room(settings, site=body.site, room=body.room, token=body.room_token)
    current = service.current_session(db=db, settings=settings, site=body.site,
                                      room=body.room, now=now)
    upcoming = [b for b in bookings.bookings_between(db, start=now - timedelta(minutes=30),
                                                     end=now + timedelta(hours=12),
                                                     site=body.site)
                if b.room == body.room and b.end > now and b.status in ("booked",
                                                                       "checked_in")]
    return NextVisitOut(session_id=current.id if current else None,
                        next_visit=upcoming[0].start if upcoming else None,
                        call=terminal.room_call_state(db, site=body.site, room=body.room))


@router.post("/terminal/arrived")
async def advisor_arrived(body: TerminalIn, request: Request, db: SessionDep,
                          now: NowDep) -> dict:
    """The advisor taps "I am here" on the room terminal: the customer's call ends as
    answered, with the arrival's time (when the occupancy sensor cannot tell: the customer
    is in the room already)."""
    settings = session_settings(request.app)
    check_room(settings, site=body.site, room=body.room, token=body.room_token)

    def arrive():
        event = terminal.advisor_arrived(db, site=body.site, room=body.room, now=now)
        db.commit()
        return event
    event = await run_in_threadpool(arrive)
    if event is not None:
        await request.app.state.live_bus.publish(*event)
    return {"arrived": event is not None}


@router.post("/terminal/call", status_code=202)
async def call_advisor(body: TerminalIn, request: Request, now: NowDep) -> dict:
    """The room terminal's "call the advisor" button: a press of the room's call button."""
    settings = session_settings(request.app)
    check_room(settings, site=body.site, room=body.room, token=body.room_token)
    if not await run_in_threadpool(terminal.call_advisor, request.app.state.live_bus,
                                   site=body.site, room=body.room, now=now):
        raise Refusal(503, "unavailable", "the call could not be sent: tell the staff at the "
                      "desk")
    return {"called": True}


@router.post("/{session_id:int}/invitations", status_code=201)
def invite(session_id: RowId, request: Request, db: SessionDep, access: AccessDep,
           now: NowDep) -> InvitationOut:
    """The expert invites a third party: a link to strong authentication and the lobby."""
    video_session = _session(db, session_id)
    access.require("session.manage", site=video_session.site,
                   authority=video_session.authority, resource=f"session:{session_id}",
                   hidden="session", seen_by="session.read")
    settings = session_settings(request.app)
    thirdparty.configured(settings)
    token = service.invite(db=db, settings=settings, video_session=video_session,
                           created_by=access.principal.username, now=now)
    db.commit()
    expires = min(video_session.ends_at, now + timedelta(hours=settings.invite_hours))
    return InvitationOut(url=str(request.url_for("open_invitation", token=token)),
                         expires_at=expires)


@router.get("/invite/callback")
def invitation_callback(request: Request, db: SessionDep, now: NowDep,
                        code: Token | None = None, state: Token | None = None) -> Response:
    """The identity provider's answer: on success the person is asked to affirm."""
    settings = session_settings(request.app)
    pending = thirdparty.finish_login(db=db, settings=settings, now=now, code=code,
                                      state=state,
                                      flow_cookie=request.cookies.get(thirdparty.FLOW_COOKIE, ""))
    db.commit()
    response = RedirectResponse("/sessions/invite/affirm", 303)
    response.delete_cookie(thirdparty.FLOW_COOKIE, path="/")
    response.set_cookie(thirdparty.PENDING_COOKIE, pending, max_age=thirdparty.PENDING_SECONDS,
                        httponly=True, secure=settings.cookie_secure, samesite="lax", path="/")
    return response


@router.get("/invite/affirm", name="affirmation")
def affirmation(request: Request) -> dict:
    """Who is about to affirm (the page asks; the answer goes to POST)."""
    who = thirdparty.pending(session_settings(request.app),
                             request.cookies.get(thirdparty.PENDING_COOKIE, ""))
    return {"session_id": who["session"], "name": who["name"]}


def replaced_elsewhere(app, participant, *, now) -> None:
    """Close and tell the page of an earlier login of the same third party, if it is open:
    the new login has its place (after the commit)."""
    app.state.live_bus.publish_threadsafe(session_channel(participant.session_id),
                                          superseded_event(participant.id, at=now))


@router.post("/invite/affirm")
def affirm(body: AffirmIn, request: Request, db: SessionDep, now: NowDep) -> JoinOut:
    """The affirmation: the third party enters the lobby and gets its credential."""
    settings = session_settings(request.app)
    participant, credential = thirdparty.affirm(
        db=db, settings=settings, affirmed=body.affirmed, now=now,
        cookie=request.cookies.get(thirdparty.PENDING_COOKIE, ""))
    db.commit()
    replaced_elsewhere(request.app, participant, now=now)
    return _joined(participant, credential, service.get(db=db,
                                                        session_id=participant.session_id))


@router.get("/invite/{token}", name="open_invitation")
def open_invitation(token: Token, request: Request, db: SessionDep, now: NowDep
                    ) -> RedirectResponse:
    """Opening the invitation link starts strong authentication (a booking's interpreter
    invitation before its session's window: 409 ``not_yet_open`` with ``opens_at``)."""
    settings = session_settings(request.app)
    thirdparty.configured(settings)
    interpretation.open_invitation(db, settings, token=token, now=now)
    db.commit()
    return start_login(settings, token)


def start_login(settings: SessionSettings, token: str) -> RedirectResponse:
    """The redirect to the identity provider, with the signed flow cookie of ``token``."""
    url, cookie = thirdparty.start_login(settings, invitation=token)
    response = RedirectResponse(url, 302)
    response.set_cookie(thirdparty.FLOW_COOKIE, cookie, max_age=thirdparty.FLOW_SECONDS,
                        httponly=True, secure=settings.cookie_secure, samesite="lax", path="/")
    return response


@router.post("/{session_id:int}/identity-check", status_code=202)
async def ask_identity_check(session_id: RowId, request: Request, db: SessionDep,
                             access: AccessDep) -> dict:
    """The expert asks the site's advisor to come and check the customer's identity: the
    site's consoles ring as for the call button. ``asked`` is False when the room's call was
    open already (the customer pressed, or the expert asked before): that call stands."""
    def ask():
        video_session = _session(db, session_id)
        access.require("session.manage", site=video_session.site,
                       authority=video_session.authority, resource=f"session:{session_id}",
                       hidden="session", seen_by="session.read")
        if video_session.ended_at is not None or access.now >= video_session.ends_at:
            raise Refusal(409, "ended", "the session has ended")
        call, event = summon.ask_for_identity_check(
            db, site=video_session.site, room=video_session.room, session_id=session_id,
            now=access.now)
        db.commit()
        return summon.calls_json(db, [call])[0], event

    shown, event = await run_in_threadpool(ask)
    if event is not None:
        await request.app.state.live_bus.publish(*event)
    return {"asked": event is not None, "call": shown}


@router.post("/{session_id:int}/end")
async def end(session_id: RowId, request: Request, db: SessionDep, access: AccessDep) -> dict:
    """The expert closes the session: every peer is disconnected."""
    video_session = _session(db, session_id)
    access.require("session.manage", site=video_session.site,
                   authority=video_session.authority, resource=f"session:{session_id}",
                   hidden="session", seen_by="session.read")
    ended = await signalling(request.app).end(session_id, by=BY_EXPERT)
    return {"ended": ended}


@router.post("/{session_id:int}/feedback", status_code=201)
def feedback(session_id: RowId, body: FeedbackIn, db: SessionDep, now: NowDep) -> dict:
    """The customer's five faces (with the room's credential) or the expert's short form,
    up to half an hour after the end."""
    participant = service.authenticate(db=db, session_id=session_id,
                                       credential=body.credential, now=now,
                                       after_end=timedelta(minutes=service.FEEDBACK_MINUTES))
    row = service.record_feedback(db=db, participant=participant, score=body.score, now=now,
                                  media_ok=body.media_ok,
                                  matter_resolved=body.matter_resolved)
    db.commit()
    return {"source": row.source, "score": row.score}


@router.websocket("/{session_id:int}/signal")
async def signal(websocket: WebSocket, session_id: RowId) -> None:
    """The signalling channel of one participant (see ``cloud.sessions.signalling``)."""
    await signalling(websocket.app).serve(websocket, session_id)

