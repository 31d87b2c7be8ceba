"""A booking's interpreter, a journey across bookings, sessions and notify: a visit booked
with a video interpreter -> the session's invitation for the booking (sessions) -> an e-mail
with its link to the interpreter at once (the notify outbox, in the language asked or the
booking's) -> the link opened before the session's window: "not yet open, opens at HH:MM";
in the window: the booking's session opened (if nobody has yet) and strong authentication,
the affirmation and the lobby as for every third party (``cloud.sessions.thirdparty``).

The message's context holds place, time, service, the language and the link; the address is
the outbox's until the purge (``flows.purge``), which forgets it with the booking's other
personal data. The caller commits.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud import formats
from cloud.api.refusals import Refusal
from cloud.bookings import service as bookings
from cloud.bookings import templates  # noqa: F401  (registers the message templates)
from cloud.bookings.interpretation import VIDEO, language_name
from cloud.bookings.models import LIVE, Booking
from cloud.bookings.reminders import message_reference
from cloud.bookings.rules import BookingRules
from cloud.notify import enqueue
from cloud.notify.models import OutboxMessage
from cloud.sessions import service as sessions
from cloud.sessions.models import VideoSession
from cloud.sessions.rules import SessionRefused
from cloud.sessions.settings import SessionSettings
from cloud.sites.hours import site_zone

TEMPLATE = "interpreter_invitation"
OPENED_BY = "interpreter-invitation"  # the session's opener when the interpreter came first


class NotYetOpen(Refusal):
    """The invitation's session does not open before ``opens_at`` (at ``site``)."""

    def __init__(self, opens_at: datetime, site: str) -> None:
        super().__init__(409, "not_yet_open", "the session is not open yet",
                         opens_at=opens_at.isoformat())
        self.opens_at, self.site = opens_at, site


def opens_at(booking: Booking, settings: SessionSettings) -> datetime:
    """When the booking's session may be joined: its window, as for the room terminal."""
    return booking.start - timedelta(minutes=settings.early_minutes)


def invite_interpreter(session: Session, rules: BookingRules, settings: SessionSettings, *,
                       booking: Booking, link: Callable[[str], str], actor: str,
                       now: datetime, language: str | None = None) -> bool:
    """Make the booking's interpreter invitation and queue its e-mail (``link(token)`` is
    the address the token opens); False when the booking has no video interpreter with an
    e-mail."""
    if booking.interpreter_mode != VIDEO or not booking.interpreter_email:
        return False
    token = sessions.invite_to_booking(
        db=session, booking_id=booking.id, created_by=actor, now=now,
        expires_at=booking.end + timedelta(minutes=settings.grace_minutes))
    lang = language or booking.language
    zone = site_zone(rules.registry, booking.site)
    site = rules.registry.sites[booking.site]
    enqueue(session, channel="email", to=booking.interpreter_email, template=TEMPLATE,
            language=lang, reference=message_reference(booking.id), now=now,
            idempotency_key=f"booking:{booking.id}:{TEMPLATE}:{sessions.digest(token)[:24]}",
            context={"date": formats.day_text(booking.start, zone),
                     "time": formats.clock(booking.start, zone),
                     "opens": formats.clock(opens_at(booking, settings), zone),
                     "place": getattr(site.name, lang),
                     "service": getattr(rules.catalogue.services[booking.service].name, lang),
                     "language": language_name(booking.interpreter_language, lang),
                     "link": link(token)})
    return True


def reinvite_after_move(session: Session, rules: BookingRules, settings: SessionSettings, *,
                        booking: Booking, link: Callable[[str], str], actor: str,
                        now: datetime) -> bool:
    """A moved visit's video interpreter: the earlier links stop working and a new invitation
    with the new time goes out, in the first one's language (the interpreter would otherwise
    come at the old time, and the old link lapse before the new one); False without a video
    interpreter."""
    if booking.interpreter_mode != VIDEO or not booking.interpreter_email:
        return False
    sessions.revoke_booking_invitations(db=session, booking_id=booking.id, now=now)
    first = session.scalar(select(OutboxMessage.language).where(
        OutboxMessage.reference == message_reference(booking.id),
        OutboxMessage.template == TEMPLATE).order_by(OutboxMessage.id).limit(1))
    return invite_interpreter(session, rules, settings, booking=booking, link=link,
                              actor=actor, now=now, language=first)


def open_invitation(session: Session, settings: SessionSettings, *, token: str,
                    now: datetime) -> VideoSession:
    """The session an invitation opens now: an expert's invitation's own; a booking's, once
    its window has begun (``NotYetOpen`` before), opening the booking's session if nobody
    has (the expert still admits from the lobby)."""
    invitation = sessions.invitation_of(db=session, token=token, now=now)
    if invitation.booking_id is None:
        return sessions.invited_session(db=session, token=token, now=now)
    booking = bookings.booking_by_id(session, booking_id=invitation.booking_id)
    if booking is None or booking.status not in LIVE:
        raise SessionRefused("bad_invitation", "this invitation is not valid (any more)")
    if now < opens_at(booking, settings):
        raise NotYetOpen(opens_at(booking, settings), booking.site)
    return sessions.open_session(
        db=session, settings=settings, site=booking.site, room=booking.room,
        authority=booking.authority, service=booking.service, slot_start=booking.start,
        slot_end=booking.end, created_by=OPENED_BY, now=now, booking_id=booking.id)
