"""Feedback about a visit by text message: the single-use link a message carries, and the
answer given through it, stored as the terminal's five faces are (``sessions_feedback``) with
the channel ``sms``. Keyword-only service functions in the caller's transaction; the raw
token leaves only in the answer of ``open_link`` (only its SHA-256 is kept).

A link is ``open`` until answered or ``LINK_VALID`` has passed; an answer is taken by one
conditional update of the link, so a link used twice at once stores one answer.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session

from cloud.sessions.models import SMS_CHANNEL, Feedback, FeedbackLink, VideoSession
from cloud.sessions.service import digest

LINK_VALID = timedelta(hours=72)
OPEN, ANSWERED, EXPIRED, UNKNOWN = "open", "answered", "expired", "unknown"
SCORES = range(1, 6)


@dataclass(frozen=True)
class LinkState:
    """What a link is at a moment: ``open``, ``answered``, ``expired`` or ``unknown``, and
    the language of its message (None for an unknown link)."""

    state: str
    language: str | None = None


@dataclass(frozen=True)
class FeedbackAsk:
    """One text message asking about a visit, for the statistics: when it was sent, where,
    and whether it was answered (nothing personal)."""

    site: str
    authority: str
    service: str
    at: datetime
    answered: bool
    giver: str = "customer"
    channel: str = SMS_CHANNEL


def customer_answered(*, db: Session, booking_id: int) -> bool:
    """Whether the customer already answered about this visit: on the terminal of one of its
    sessions, or by a link."""
    sessions = select(VideoSession.id).where(VideoSession.booking_id == booking_id)
    return db.scalar(select(exists().where(
        Feedback.source == "customer",
        (Feedback.session_id.in_(sessions)) | (Feedback.booking_id == booking_id)))) or False


def asked(*, db: Session, booking_ids: list[int]) -> set[int]:
    """Those of ``booking_ids`` whose customer has been sent a link already."""
    if not booking_ids:
        return set()
    return set(db.scalars(select(FeedbackLink.booking_id).where(
        FeedbackLink.booking_id.in_(booking_ids))))


def open_link(*, db: Session, booking_id: int, site: str, authority: str, service: str,
              language: str, now: datetime) -> str:
    """Make the visit's one link, valid ``LINK_VALID`` from ``now``; returns its token (a
    second link of the same booking is refused by the table's key)."""
    token = secrets.token_urlsafe(16)
    last = db.scalar(select(VideoSession.id).where(VideoSession.booking_id == booking_id)
                     .order_by(VideoSession.id.desc()).limit(1))
    db.add(FeedbackLink(token_hash=digest(token), booking_id=booking_id, session_id=last,
                        site=site, authority=authority, service=service, language=language,
                        created_at=now, expires_at=now + LINK_VALID))
    db.flush()
    return token


def _link(db: Session, token: str) -> FeedbackLink | None:
    return db.scalar(select(FeedbackLink).where(FeedbackLink.token_hash == digest(token)))


def link_state(*, db: Session, token: str, now: datetime) -> LinkState:
    """What the link of ``token`` is at ``now``."""
    link = _link(db, token)
    if link is None:
        return LinkState(UNKNOWN)
    if link.answered_at is not None:
        return LinkState(ANSWERED, link.language)
    return LinkState(EXPIRED if now >= link.expires_at else OPEN, link.language)


def answer(*, db: Session, token: str, score: int, use_again: bool | None,
           now: datetime) -> LinkState:
    """Store the answer given through the link of ``token`` (a face 1-5 and the optional
    second question); returns ``open`` when it was taken, else why not (used, late,
    unknown), storing nothing."""
    if score not in SCORES:
        raise ValueError("a score is from 1 to 5")
    link = _link(db, token)
    if link is None:
        return LinkState(UNKNOWN)
    taken = db.execute(update(FeedbackLink).where(
        FeedbackLink.id == link.id, FeedbackLink.answered_at.is_(None),
        FeedbackLink.expires_at > now).values(answered_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        db.refresh(link)
        return link_state(db=db, token=token, now=now)
    db.add(Feedback(session_id=link.session_id, booking_id=link.booking_id, source="customer",
                    channel=SMS_CHANNEL, site=link.site, authority=link.authority,
                    service=link.service, score=score, use_again=use_again, at=now))
    db.flush()
    return LinkState(OPEN, link.language)


def asks_between(*, db: Session, start: datetime, end: datetime) -> list[FeedbackAsk]:
    """The text messages asking about a visit made in [start, end), each with whether it
    has been answered (the response rate's denominator and numerator)."""
    rows = db.scalars(select(FeedbackLink).where(FeedbackLink.created_at >= start,
                                                 FeedbackLink.created_at < end)
                      .order_by(FeedbackLink.created_at, FeedbackLink.id))
    return [FeedbackAsk(r.site, r.authority, r.service, r.created_at,
                        r.answered_at is not None) for r in rows]
