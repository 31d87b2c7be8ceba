"""Tables of video sessions. Nothing of the content: a session row says which visit and room,
when it was meant to run and when it really ran; a participant row says in which role someone
took part and when; events say what happened when. Of a third party only the name shown to
the expert, the assurance level and the times are kept, never an identity code; while the
session runs, a keyed hash of the login's subject tells the same person again."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, Instant

TERMINAL_CHANNEL, SMS_CHANNEL = "terminal", "sms"  # where a customer's feedback was given


class VideoSession(Base):
    """The video call of one visit (a booking, or a walk-in without one) in one room."""

    __tablename__ = "sessions_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    booking_id: Mapped[int | None] = mapped_column(Integer)  # None: a walk-in without booking
    site: Mapped[str] = mapped_column(String(32))
    room: Mapped[str] = mapped_column(String(32))
    authority: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(64))
    slot_start: Mapped[datetime] = mapped_column(Instant)
    slot_end: Mapped[datetime] = mapped_column(Instant)
    ends_at: Mapped[datetime] = mapped_column(Instant)  # slot end + grace: the latest end
    created_at: Mapped[datetime] = mapped_column(Instant)
    created_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(Instant)  # room and expert both in
    ended_at: Mapped[datetime | None] = mapped_column(Instant)
    ended_by: Mapped[str | None] = mapped_column(String(16))  # expert | slot_end
    warned_at: Mapped[datetime | None] = mapped_column(Instant)

    __table_args__ = (Index("ix_sessions_session_room", "site", "room", "slot_start"),
                      Index("ix_sessions_session_started", "started_at"))


class Participant(Base):
    """One taking part in a session: the room terminal, the expert, a third party or the
    site's advisor. Only the SHA-256 of the participant's credential is stored."""

    __tablename__ = "sessions_participant"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions_session.id",
                                                       ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    credential_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int | None] = mapped_column(Integer)  # the expert or advisor
    shown_name: Mapped[str | None] = mapped_column(String(100))  # what the expert sees
    assurance: Mapped[str | None] = mapped_column(String(64))  # the acr of a third party
    # HMAC(server secret, issuer and subject) of a third party: the same person logging in
    # again replaces their participant; cleared when the session ends
    identity_hash: Mapped[str | None] = mapped_column(String(64))
    authenticated_at: Mapped[datetime | None] = mapped_column(Instant)
    affirmed_at: Mapped[datetime | None] = mapped_column(Instant)  # the place is confidential
    joined_at: Mapped[datetime] = mapped_column(Instant)
    admitted_at: Mapped[datetime | None] = mapped_column(Instant)
    left_at: Mapped[datetime | None] = mapped_column(Instant)
    connected: Mapped[bool] = mapped_column(default=False)
    connected_at: Mapped[datetime | None] = mapped_column(Instant)  # last (re)connection
    # a third party who came through the booking's interpreter invitation
    interpreter: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_sessions_participant_session", "session_id", "role"),)


class SessionEvent(Base):
    """What happened in a session, without content: joined, admitted, denied, left,
    reconnecting, reconnected, removed, warned, ended, advisor_asked, identity_checked;
    ``seconds`` is a duration (how long a peer was in, or was away) where the event closes
    one."""

    __tablename__ = "sessions_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions_session.id",
                                                       ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(Instant)
    seconds: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_sessions_event_session", "session_id", "id"),)


class Invitation(Base):
    """A link the expert gave a third party, or the link a booking's video interpreter got
    when the visit was booked (``booking_id``; its session is the booking's, opened when the
    link opens in time); only the SHA-256 of its token is stored."""

    __tablename__ = "sessions_invitation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions_session.id",
                                                              ondelete="CASCADE"))
    booking_id: Mapped[int | None] = mapped_column(Integer, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(Instant)
    expires_at: Mapped[datetime] = mapped_column(Instant)
    created_by: Mapped[str] = mapped_column(String(64))


class SeenIdToken(Base):
    """An ID token a third party was admitted to the lobby with, by the SHA-256 of its text:
    the same token presented again is a replay. Kept until ``expires_at``."""

    __tablename__ = "sessions_seen_token"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(Instant)


class Feedback(Base):
    """A quick answer about a visit, from the customer (the five faces) or the expert (the
    short form). ``channel`` says where the customer answered: on the room's ``terminal`` or
    by the link of a text message (``sms``, which may follow a visit without a session, so
    ``session_id`` may be None and ``booking_id`` names the visit). Kept with site, authority
    and service, never with anything personal."""

    __tablename__ = "sessions_feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions_session.id",
                                                              ondelete="CASCADE"))
    booking_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # customer | expert
    channel: Mapped[str] = mapped_column(String(16), default=TERMINAL_CHANNEL,
                                         server_default=TERMINAL_CHANNEL)
    site: Mapped[str] = mapped_column(String(32))
    authority: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(64))
    score: Mapped[int] = mapped_column(SmallInteger)  # 1 (worst face) .. 5 (best)
    media_ok: Mapped[bool | None] = mapped_column()  # the expert: sound and picture worked
    matter_resolved: Mapped[bool | None] = mapped_column()  # the expert: handled remotely
    use_again: Mapped[bool | None] = mapped_column()  # the text message's second question
    at: Mapped[datetime] = mapped_column(Instant)

    __table_args__ = (Index("ix_sessions_feedback_source", "session_id", "source", "channel",
                            unique=True),
                      Index("ix_sessions_feedback_at", "at"))


class FeedbackLink(Base):
    """The one text message asking a customer about a visit: its single-use link's token
    (only the SHA-256 kept), valid until ``expires_at``, ``answered_at`` once used. One per
    booking; no phone number (the booking keeps it, and its purge forgets it)."""

    __tablename__ = "sessions_feedback_link"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    booking_id: Mapped[int] = mapped_column(Integer, unique=True)
    session_id: Mapped[int | None] = mapped_column(Integer)
    site: Mapped[str] = mapped_column(String(32))
    authority: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(Instant)
    expires_at: Mapped[datetime] = mapped_column(Instant)
    answered_at: Mapped[datetime | None] = mapped_column(Instant)

    __table_args__ = (Index("ix_sessions_feedback_link_created", "created_at"),)
