"""Feedback by text message, a journey across domains: a visit ends (bookings: completed by
its session's end, ``flows.sessions``, or by the advisor's "done") -> when its customer agreed
to be asked and has not answered on the room's terminal, one single-use link (sessions) ->
one SMS in the booking's language through the notify outbox -> the customer answers on the
public page (``cloud.sessions.feedback_pages``) -> the answer counts in the statistics with
the channel ``sms``.

The schedule's round asks (``ask_after_visits``), not the visit's end itself: the room
terminal's five faces stay up for ``ETP_SESSIONS_FEEDBACK_S`` (60 s) after the end, and a
customer who answers there is not asked again, so the message waits ``ASK_AFTER``. One link
per booking (the table's key) and one outbox key per booking make it one message, however
many schedules run. The message's reference is the booking's, so the purge forgets its
number with the booking's other personal data (``flows.purge``).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cloud.bookings import service as bookings
from cloud.bookings import templates  # noqa: F401  (registers the message templates)
from cloud.bookings.models import Booking
from cloud.bookings.reminders import message_reference
from cloud.bookings.rules import BookingRules
from cloud.notify import enqueue
from cloud.sessions import feedback
from etapalvelu.logs import event_log

log = event_log(__name__)
ASK_AFTER = timedelta(minutes=2)  # past the terminal's five faces (60 s) and a round
LATEST = timedelta(hours=24)  # a visit that ended longer ago is not asked (schedule was down)
LINK_PATH = "/feedback/"


def ask_after_visits(session: Session, rules: BookingRules, *, now: datetime,
                     public_url: str) -> int:
    """Send the one feedback message of every visit that ended between ``LATEST`` and
    ``ASK_AFTER`` ago, was agreed to and is not answered yet (the caller commits); returns
    how many were queued."""
    ended = bookings.ended_with_feedback_consent(session, ended_from=now - LATEST,
                                                 ended_before=now - ASK_AFTER)
    done = feedback.asked(db=session, booking_ids=[b.id for b in ended])
    sent = 0
    for booking in ended:
        if booking.id in done or feedback.customer_answered(db=session, booking_id=booking.id):
            continue
        _ask(session, rules, booking, now=now, public_url=public_url)
        sent += 1
    if sent:
        log.info("feedback.asked", messages=sent)
    return sent


def _ask(session: Session, rules: BookingRules, booking: Booking, *, now: datetime,
         public_url: str) -> None:
    token = feedback.open_link(db=session, booking_id=booking.id, site=booking.site,
                               authority=booking.authority, service=booking.service,
                               language=booking.language, now=now)
    place = getattr(rules.registry.sites[booking.site].name, booking.language)
    enqueue(session, channel="sms", to=booking.customer_phone, template="feedback_ask",
            language=booking.language, now=now, reference=message_reference(booking.id),
            context={"place": place, "link": f"{public_url.rstrip('/')}{LINK_PATH}{token}"},
            idempotency_key=f"booking:{booking.id}:feedback_ask")
