"""The service functions of video sessions, the one place other domains and the flows call.

Keyword-only, over this domain's tables; each takes the database session as ``db`` and
``now`` where time matters, and writes in the caller's transaction: the caller commits.
Credentials and invitation tokens are random; only their SHA-256 is stored.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cloud.sessions import rules
from cloud.sessions.models import (
    TERMINAL_CHANNEL,
    Feedback,
    Invitation,
    Participant,
    SeenIdToken,
    SessionEvent,
    VideoSession,
)
from cloud.sessions.rules import (
    ADMITTED,
    BY_SLOT_END,
    DENIED,
    EXPERT,
    LEFT,
    REMOVED,
    TERMINAL,
    WAITING,
    SessionRefused,
    Window,
)
from cloud.sessions.settings import SessionSettings

FEEDBACK_MINUTES = 30  # the room and the expert may answer the feedback this long after


def digest(secret: str) -> str:
    """The SHA-256 under which a credential or token is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def room_token(settings: SessionSettings, *, site: str, room: str) -> str:
    """The token with which a room's terminal proves its room (provisioned to the terminal)."""
    return hmac.new(settings.terminal_secret.get_secret_value().encode(),
                    f"{site}/{room}".encode(), hashlib.sha256).hexdigest()


def window(*, video_session: VideoSession, settings: SessionSettings) -> Window:
    """When ``video_session`` may be joined and when it ends."""
    return Window(video_session.slot_start, video_session.slot_end,
                  video_session.ends_at - video_session.slot_end,
                  timedelta(minutes=settings.early_minutes),
                  timedelta(minutes=settings.warning_minutes))


# --- opening and reading sessions ------------------------------------------------------------

def open_session(*, db: Session, settings: SessionSettings, site: str, room: str,
                 authority: str, service: str, slot_start: datetime, slot_end: datetime,
                 created_by: str, now: datetime, booking_id: int | None = None
                 ) -> VideoSession:
    """Open the video session of a visit (``booking_id``; None: a walk-in without one); the
    booking's session is answered again when it is already open."""
    if not slot_start < slot_end:
        raise SessionRefused("bad_times", "a session's slot ends after it starts")
    ends_at = slot_end + timedelta(minutes=settings.grace_minutes)
    if now >= ends_at:
        raise SessionRefused("slot_over", "the visit's slot is over")
    if booking_id is not None:
        existing = db.scalar(select(VideoSession).where(
            VideoSession.booking_id == booking_id, VideoSession.ended_at.is_(None)))
        if existing is not None:
            return existing
    # slots may not overlap; the grace of one may run into the next visit's slot
    clash = db.scalar(select(VideoSession.id).where(
        VideoSession.site == site, VideoSession.room == room,
        VideoSession.ended_at.is_(None), VideoSession.slot_start < slot_end,
        VideoSession.slot_end > slot_start))
    if clash is not None:
        raise SessionRefused("room_busy", "the room has another session at that time")
    video_session = VideoSession(
        booking_id=booking_id, site=site, room=room, authority=authority, service=service,
        slot_start=slot_start, slot_end=slot_end, ends_at=ends_at, created_at=now,
        created_by=created_by)
    db.add(video_session)
    db.flush()
    return video_session


def get(*, db: Session, session_id: int) -> VideoSession | None:
    """One session by its id."""
    return db.get(VideoSession, session_id)


def current_session(*, db: Session, settings: SessionSettings, site: str, room: str,
                    now: datetime) -> VideoSession | None:
    """The room's session that may be joined now, if any."""
    early = timedelta(minutes=settings.early_minutes)
    return db.scalar(select(VideoSession).where(
        VideoSession.site == site, VideoSession.room == room,
        VideoSession.ended_at.is_(None), VideoSession.slot_start <= now + early,
        VideoSession.ends_at > now).order_by(VideoSession.slot_start))


def participants(*, db: Session, session_id: int) -> list[Participant]:
    """Everyone who joined the session, in the order they came."""
    return list(db.scalars(select(Participant).where(
        Participant.session_id == session_id).order_by(Participant.id)))


TERMINAL_JOINED, TERMINAL_NOT_YET, TERMINAL_RECONNECTING = "joined", "not_yet", "reconnecting"


def terminal_state(*, db: Session, session_id: int) -> str:
    """What the room terminal is doing in the session: ``joined`` (connected),
    ``reconnecting`` (was in, its link dropped) or ``not_yet`` (never in, or left)."""
    terminal = db.scalar(select(Participant).where(
        Participant.session_id == session_id, Participant.role == TERMINAL)
        .order_by(Participant.id.desc()).limit(1))
    if terminal is None or terminal.state != ADMITTED or terminal.connected_at is None:
        return TERMINAL_NOT_YET
    return TERMINAL_JOINED if terminal.connected else TERMINAL_RECONNECTING


def events_of(*, db: Session, session_id: int) -> list[SessionEvent]:
    """The session's events, oldest first."""
    return list(db.scalars(select(SessionEvent).where(
        SessionEvent.session_id == session_id).order_by(SessionEvent.id)))


def _event(db: Session, video_session_id: int, kind: str, now: datetime,
           participant: Participant | None = None, seconds: float | None = None) -> None:
    db.add(SessionEvent(session_id=video_session_id, kind=kind, at=now,
                        participant_id=participant.id if participant else None,
                        role=participant.role if participant else None,
                        seconds=None if seconds is None else round(seconds)))


ADVISOR_ASKED, IDENTITY_VERIFIED = "advisor_asked", "identity_checked"  # String(16)


def note_advisor(*, db: Session, session_id: int, kind: str, now: datetime) -> None:
    """The expert asked the site's advisor to check the customer's identity, or the advisor
    confirmed the check: an event of the session (the advisor is no participant of it)."""
    if kind not in (ADVISOR_ASKED, IDENTITY_VERIFIED):
        raise ValueError(f"not an advisor's event: {kind!r}")
    db.add(SessionEvent(session_id=session_id, kind=kind, at=now, role=rules.ADVISOR))


# --- joining, the lobby and leaving ----------------------------------------------------------

def join(*, db: Session, video_session: VideoSession, role: str, now: datetime,
         staff_id: int | None = None, shown_name: str | None = None,
         assurance: str | None = None, authenticated_at: datetime | None = None,
         affirmed_at: datetime | None = None, identity_hash: str | None = None,
         interpreter: bool = False) -> tuple[Participant, str]:
    """Enter ``video_session`` as ``role``; returns the participant and its credential, the
    only copy. The room and the expert are in at once, others wait in the lobby. The room's
    terminal, a member of staff who joined before and a third party logging in again as the
    same person (``identity_hash``) get a new credential for the same place: the old one
    stops working, and the old page is closed when the new one connects or is told
    (``superseded_event``). ``interpreter``: a third party who came through the booking's
    interpreter invitation."""
    if video_session.ended_at is not None or now >= video_session.ends_at:
        raise SessionRefused("ended", "the session has ended")
    credential = secrets.token_urlsafe(32)
    existing = _returning(db, video_session.id, role, staff_id, identity_hash)
    if existing is not None:
        if existing.state in (DENIED, REMOVED):
            raise SessionRefused("removed", "the expert has removed this participant")
        existing.credential_hash = digest(credential)
        if role == rules.THIRD_PARTY:  # the new login's name, level and times
            existing.shown_name, existing.assurance = shown_name, assurance
            existing.authenticated_at, existing.affirmed_at = authenticated_at, affirmed_at
            existing.interpreter = existing.interpreter or interpreter
        db.flush()
        return existing, credential
    participant = Participant(
        session_id=video_session.id, role=role, state=rules.first_state(role),
        credential_hash=digest(credential), staff_id=staff_id, shown_name=shown_name,
        assurance=assurance, authenticated_at=authenticated_at, affirmed_at=affirmed_at,
        identity_hash=identity_hash, joined_at=now, connected=False,
        interpreter=interpreter)
    if participant.state == ADMITTED:
        participant.admitted_at = now
    db.add(participant)
    db.flush()
    _event(db, video_session.id, "joined" if participant.state == ADMITTED else "waiting",
           now, participant)
    return participant, credential


def _returning(db: Session, session_id: int, role: str, staff_id: int | None,
               identity_hash: str | None) -> Participant | None:
    query = select(Participant).where(Participant.session_id == session_id,
                                      Participant.role == role)
    if role == rules.THIRD_PARTY:
        if identity_hash is None:
            return None
        query = query.where(Participant.identity_hash == identity_hash)
    elif role != TERMINAL:
        if staff_id is None:
            return None
        query = query.where(Participant.staff_id == staff_id)
    return db.scalar(query.order_by(Participant.id.desc()).limit(1))


def authenticate(*, db: Session, session_id: int, credential: str, now: datetime,
                 after_end: timedelta = timedelta(0)) -> Participant:
    """The participant whose credential this is, while the session runs (``after_end``:
    also this long after its end, for the feedback); refused otherwise."""
    participant = db.scalar(select(Participant).where(
        Participant.credential_hash == digest(credential or ""),
        Participant.session_id == session_id))
    if participant is None:
        raise SessionRefused("bad_credential", "this credential is not of this session")
    video_session = db.get(VideoSession, session_id)
    ended = video_session.ended_at or video_session.ends_at
    if now >= min(ended, video_session.ends_at) + after_end:
        raise SessionRefused("ended", "the session has ended")
    if participant.state in (DENIED, REMOVED):
        raise SessionRefused("removed", "the expert has removed this participant")
    return participant


def decide(*, db: Session, actor: Participant, action: str, participant_id: int,
           now: datetime) -> Participant:
    """The expert admits, denies or removes another participant of the session."""
    rules.require(actor.role, action, state=actor.state)
    target = db.get(Participant, participant_id)
    if target is None or target.session_id != actor.session_id or target.id == actor.id:
        raise SessionRefused("no_participant", "no such participant in this session")
    state = rules.next_state(target.state, action)
    if state == ADMITTED:
        rules.check_room_for_one_more(sum(p.state == ADMITTED for p in participants(
            db=db, session_id=target.session_id)))
    target.state = state
    if target.state == ADMITTED:
        target.admitted_at = now
    else:  # turned away or removed: the signalling closes their socket
        target.connected = False
    _event(db, target.session_id, {"admit": "admitted", "deny": "denied",
                                   "remove": "removed"}[action], now, target,
           _in_for(target, now) if action == "remove" else None)
    db.flush()
    return target


def _in_for(participant: Participant, now: datetime) -> float | None:
    since = participant.admitted_at
    return None if since is None else (now - since).total_seconds()


def leave(*, db: Session, participant: Participant, now: datetime) -> Participant:
    """The participant leaves the session (it may rejoin with its credential in the slot)."""
    rules.require(participant.role, "leave", state=participant.state)
    participant.state = rules.next_state(participant.state, "leave")
    participant.left_at, participant.connected = now, False
    _event(db, participant.session_id, "left", now, participant, _in_for(participant, now))
    db.flush()
    return participant


def connected(*, db: Session, participant: Participant, now: datetime) -> str:
    """The participant's signalling channel is open: ``joined`` the first time,
    ``reconnected`` after a drop or a leave; also marks the session's realised start once
    the room and the expert are both in."""
    if participant.state == LEFT:
        participant.state = rules.rejoin_state(
            admitted_before=participant.admitted_at is not None)
    kind = "reconnected" if participant.connected_at is not None else "joined"
    away = None
    if kind == "reconnected":
        away = (now - (participant.left_at or participant.connected_at)).total_seconds()
    participant.connected, participant.connected_at, participant.left_at = True, now, None
    if kind == "reconnected":
        _event(db, participant.session_id, kind, now, participant, away)
    _mark_started(db, participant.session_id, now)
    db.flush()
    return kind


def _mark_started(db: Session, session_id: int, now: datetime) -> None:
    roles = set(db.scalars(select(Participant.role).where(
        Participant.session_id == session_id, Participant.connected.is_(True),
        Participant.state == ADMITTED)))
    if {TERMINAL, EXPERT} <= roles:  # the first of concurrent replicas sets it
        db.execute(update(VideoSession).where(VideoSession.id == session_id,
                                              VideoSession.started_at.is_(None))
                   .values(started_at=now))
        db.expire(db.get(VideoSession, session_id), ["started_at"])


def dropped(*, db: Session, participant: Participant, now: datetime) -> None:
    """The participant's channel closed without leaving: the others see it reconnecting."""
    if not participant.connected:
        return
    participant.connected, participant.left_at = False, now
    _event(db, participant.session_id, "reconnecting", now, participant)
    db.flush()


# --- the end ---------------------------------------------------------------------------------

def warn(*, db: Session, session_id: int, now: datetime) -> bool:
    """Record the warning before the end; True for the one caller that recorded it."""
    done = db.execute(update(VideoSession).where(
        VideoSession.id == session_id, VideoSession.warned_at.is_(None),
        VideoSession.ended_at.is_(None)).values(warned_at=now)).rowcount
    db.expire(db.get(VideoSession, session_id), ["warned_at"])
    if done:
        _event(db, session_id, "warned", now)
    return bool(done)


def end_session(*, db: Session, session_id: int, by: str, now: datetime,
                actor: Participant | None = None) -> bool:
    """End the session: by the expert (``actor``), or at the slot's end plus the grace
    (``by`` ``slot_end``). True for the one caller that ended it; every credential of the
    session stops working for the signalling."""
    if actor is not None:
        rules.require(actor.role, "end", state=actor.state)
    video_session = db.get(VideoSession, session_id)
    at = min(now, video_session.ends_at) if by == BY_SLOT_END else now
    done = db.execute(update(VideoSession).where(
        VideoSession.id == session_id, VideoSession.ended_at.is_(None))
        .values(ended_at=at, ended_by=by)).rowcount
    db.expire(video_session, ["ended_at", "ended_by"])
    if not done:
        return False
    for participant in participants(db=db, session_id=session_id):
        if participant.state == ADMITTED and participant.left_at is None:
            _event(db, session_id, "left", at, participant, _in_for(participant, at))
        participant.connected = False
        participant.identity_hash = None  # nobody joins any more: forget who was who
    started = video_session.started_at
    _event(db, session_id, "ended", at,
           seconds=None if started is None else (at - started).total_seconds())
    db.flush()
    return True


def overdue(*, db: Session, now: datetime) -> list[int]:
    """The sessions not yet ended whose slot and grace are over (e.g. everyone had dropped
    when the time came, so no replica's watch ended them)."""
    return list(db.scalars(select(VideoSession.id).where(VideoSession.ended_at.is_(None),
                                                         VideoSession.ends_at <= now)))


# --- third parties ----------------------------------------------------------------------------

def invite(*, db: Session, settings: SessionSettings, video_session: VideoSession,
           created_by: str, now: datetime) -> str:
    """An invitation token for a third party (the expert's); lapses with the session at the
    latest."""
    if video_session.ended_at is not None:
        raise SessionRefused("ended", "the session has ended")
    token = secrets.token_urlsafe(32)
    expires = min(video_session.ends_at, now + timedelta(hours=settings.invite_hours))
    db.add(Invitation(session_id=video_session.id, token_hash=digest(token), created_at=now,
                      expires_at=expires, created_by=created_by))
    db.flush()
    return token


def invite_to_booking(*, db: Session, booking_id: int, expires_at: datetime,
                      created_by: str, now: datetime) -> str:
    """An invitation token for a booking's video interpreter, made when the visit is
    booked: it names the booking, not a session, and opens the booking's session only from
    the session's window on (``flows.interpretation``)."""
    token = secrets.token_urlsafe(32)
    db.add(Invitation(session_id=None, booking_id=booking_id, token_hash=digest(token),
                      created_at=now, expires_at=expires_at, created_by=created_by))
    db.flush()
    return token


def revoke_booking_invitations(*, db: Session, booking_id: int, now: datetime) -> int:
    """End every still valid invitation of a booking (its visit moved: a new one goes out);
    how many were ended."""
    return db.execute(update(Invitation).where(Invitation.booking_id == booking_id,
                                               Invitation.expires_at > now)
                      .values(expires_at=now)).rowcount


def invitation_of(*, db: Session, token: str, now: datetime) -> Invitation:
    """The invitation of ``token``, refused when there is none or it has lapsed."""
    invitation = db.scalar(select(Invitation).where(Invitation.token_hash == digest(token)))
    if invitation is None or now >= invitation.expires_at:
        raise SessionRefused("bad_invitation", "this invitation is not valid (any more)")
    return invitation


def booking_session(*, db: Session, booking_id: int) -> VideoSession | None:
    """The booking's session not yet ended, if one is open."""
    return db.scalar(select(VideoSession).where(VideoSession.booking_id == booking_id,
                                                VideoSession.ended_at.is_(None)))


def invited_session(*, db: Session, token: str, now: datetime) -> VideoSession:
    """The session an invitation token opens, refused once lapsed or the session over; a
    booking's invitation opens its booking's session once that is open."""
    invitation = invitation_of(db=db, token=token, now=now)
    if invitation.session_id is None:
        video_session = booking_session(db=db, booking_id=invitation.booking_id)
        if video_session is None:
            raise SessionRefused("not_yet_open", "the session is not open yet")
    else:
        video_session = db.get(VideoSession, invitation.session_id)
    if video_session.ended_at is not None:
        raise SessionRefused("ended", "the session has ended")
    return video_session


INTERPRETER_NOT_YET, INTERPRETER_WAITING, INTERPRETER_JOINED, INTERPRETER_AWAY = (
    "not_yet", "waiting", "joined", "away")


def interpreter_states(*, db: Session, booking_ids: list[int]) -> dict[int, str]:
    """Where the video interpreter of each booking stands in its session: ``waiting`` (in
    the lobby), ``joined`` (admitted and connected), ``away`` (admitted, link dropped or
    left); a booking whose interpreter has not come is not listed (``not_yet``)."""
    if not booking_ids:
        return {}
    rows = db.execute(select(VideoSession.booking_id, Participant).join(
        Participant, Participant.session_id == VideoSession.id).where(
        VideoSession.booking_id.in_(booking_ids), Participant.interpreter.is_(True))
        .order_by(Participant.id)).all()
    return {booking_id: interpreter_state(p) for booking_id, p in rows}


def interpreter_state(participant: Participant) -> str:
    """A participant who came as the interpreter, as the staff's views say it."""
    if participant.state == WAITING:
        return INTERPRETER_WAITING
    if participant.state == ADMITTED:
        return INTERPRETER_JOINED if participant.connected else INTERPRETER_AWAY
    return INTERPRETER_AWAY if participant.state == LEFT else INTERPRETER_NOT_YET


def claim_id_token(*, db: Session, id_token: str, expires_at: datetime, now: datetime) -> None:
    """Accept an ID token once: the same token again is refused as a replay."""
    claim_once(db=db, key=id_token, expires_at=expires_at, now=now)


def claim_once(*, db: Session, key: str, expires_at: datetime, now: datetime) -> None:
    """Accept ``key`` (an ID token, a pending affirmation) once until ``expires_at``: the
    same again is refused as a replay, also on another replica."""
    db.query(SeenIdToken).filter(SeenIdToken.expires_at < now).delete()
    try:
        with db.begin_nested():
            db.execute(insert(SeenIdToken).values(token_hash=digest(key),
                                                  expires_at=expires_at))
    except IntegrityError:
        raise SessionRefused("replayed_token", "this login was already used") from None


def identity_key(settings: SessionSettings, *, issuer: str, subject: str) -> str:
    """The keyed hash by which a third party's login is told again in one session: never
    the subject itself, and nothing to match against without the server's secret."""
    return hmac.new(settings.state_secret.get_secret_value().encode(),
                    f"third-party\n{issuer}\n{subject}".encode(), hashlib.sha256).hexdigest()


def lobby(*, db: Session, session_id: int) -> list[Participant]:
    """Those waiting for the expert to admit them."""
    return [p for p in participants(db=db, session_id=session_id) if p.state == WAITING]


# --- feedback and figures --------------------------------------------------------------------

def record_feedback(*, db: Session, participant: Participant, score: int, now: datetime,
                    media_ok: bool | None = None, matter_resolved: bool | None = None
                    ) -> Feedback:
    """The customer's five-face answer (from the room) or the expert's short form; one of
    each per session (a second answer replaces the first)."""
    if participant.role not in (TERMINAL, EXPERT):
        raise SessionRefused("not_allowed", "only the room and the expert give feedback")
    if not 1 <= score <= 5:
        raise SessionRefused("bad_score", "the score is from 1 to 5")
    source = "customer" if participant.role == TERMINAL else "expert"
    video_session = db.get(VideoSession, participant.session_id)
    row = db.scalar(select(Feedback).where(Feedback.session_id == video_session.id,
                                           Feedback.source == source,
                                           Feedback.channel == TERMINAL_CHANNEL))
    if row is None:
        row = Feedback(session_id=video_session.id, source=source, site=video_session.site,
                       authority=video_session.authority, service=video_session.service)
        db.add(row)
    row.score, row.at = score, now
    if source == "expert":
        row.media_ok, row.matter_resolved = media_ok, matter_resolved
    db.flush()
    return row


@dataclass(frozen=True)
class SessionRecord:
    """A realised session for the statistics: when it really ran, nothing personal."""

    session_id: int
    booking_id: int | None
    site: str
    room: str
    authority: str
    service: str
    started_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    third_parties: int


@dataclass(frozen=True)
class FeedbackRecord:
    """One feedback answer for the statistics; ``giver`` is ``customer`` or ``expert``,
    ``channel`` ``terminal`` or ``sms`` (an answer by text message may follow a visit
    without a session: ``session_id`` None)."""

    session_id: int | None
    giver: str
    site: str
    authority: str
    service: str
    score: int
    media_ok: bool | None
    matter_resolved: bool | None
    at: datetime
    channel: str = TERMINAL_CHANNEL


def sessions_between(*, db: Session, start: datetime, end: datetime) -> list[SessionRecord]:
    """Sessions that really started (room and expert both in) in [start, end)."""
    thirds = (select(Participant.session_id, func.count().label("n"))
              .where(Participant.role == rules.THIRD_PARTY, Participant.admitted_at.is_not(None))
              .group_by(Participant.session_id).subquery())
    rows = db.execute(select(VideoSession, func.coalesce(thirds.c.n, 0))
                      .outerjoin(thirds, thirds.c.session_id == VideoSession.id)
                      .where(VideoSession.started_at >= start, VideoSession.started_at < end)
                      .order_by(VideoSession.started_at)).all()
    return [SessionRecord(s.id, s.booking_id, s.site, s.room, s.authority, s.service,
                          s.started_at, s.ended_at, s.ended_by, n) for s, n in rows]


def feedback_between(*, db: Session, start: datetime, end: datetime) -> list[FeedbackRecord]:
    """Feedback answers given in [start, end)."""
    rows = db.scalars(select(Feedback).where(Feedback.at >= start, Feedback.at < end)
                      .order_by(Feedback.at, Feedback.id))
    return [FeedbackRecord(f.session_id, f.source, f.site, f.authority, f.service, f.score,
                           f.media_ok, f.matter_resolved, f.at, f.channel) for f in rows]


NOT_STARTED, LIVE, ENDED = "not_started", "live", "ended"


@dataclass(frozen=True)
class BookingVideo:
    """Where a booking's video session stands: ``not_started`` (opened; the room and the
    expert not both in yet), ``live`` or ``ended``; and whether the room terminal ever
    joined."""

    state: str
    terminal_joined: bool


def booking_videos(*, db: Session, booking_ids: list[int]) -> dict[int, BookingVideo]:
    """The video sessions of ``booking_ids`` that exist, by booking id."""
    if not booking_ids:
        return {}
    found = list(db.scalars(select(VideoSession).where(
        VideoSession.booking_id.in_(booking_ids))))
    joined = set(db.scalars(select(Participant.session_id).where(
        Participant.session_id.in_([s.id for s in found]), Participant.role == TERMINAL,
        Participant.connected_at.is_not(None)))) if found else set()
    return {s.booking_id: BookingVideo(
        ENDED if s.ended_at else LIVE if s.started_at else NOT_STARTED, s.id in joined)
        for s in found}


def without_booking(*, db: Session, authority: str | None, start: datetime, end: datetime
                    ) -> list[VideoSession]:
    """The sessions opened in [start, end) without a booking (started in a room now, e.g.
    by the site's advisor), of ``authority`` (None: every authority), by their slot."""
    query = select(VideoSession).where(VideoSession.booking_id.is_(None),
                                       VideoSession.slot_start >= start,
                                       VideoSession.slot_start < end)
    if authority is not None:
        query = query.where(VideoSession.authority == authority)
    return list(db.scalars(query.order_by(VideoSession.slot_start, VideoSession.id)))


def no_show_candidates(*, db: Session, site: str, now: datetime) -> list[int]:
    """Bookings of the site whose session's slot began with no room terminal ever joined: the
    advisor decides whether the customer did not come."""
    joined = select(Participant.session_id).where(Participant.role == TERMINAL,
                                                  Participant.connected_at.is_not(None))
    return list(db.scalars(select(VideoSession.booking_id).where(
        VideoSession.site == site, VideoSession.booking_id.is_not(None),
        VideoSession.slot_start <= now, VideoSession.id.not_in(joined))
        .order_by(VideoSession.slot_start)))
