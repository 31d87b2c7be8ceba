"""Tables of the notification outbox: one row per message to send, one row per send attempt."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, Instant

PENDING, SENT, FAILED = "pending", "sent", "failed"


class OutboxMessage(Base):
    """A notification written in the caller's transaction and sent later by the worker.

    ``idempotency_key`` is unique: enqueueing the same key twice yields one message, and the
    receiver gets the key with every attempt so it can drop a repeat. ``claimed_until`` is the
    lease of the worker sending it; a worker that dies mid-send lets the lease run out and another
    one sends again (at least once, with the same key).
    """

    __tablename__ = "notify_message"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    template: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    context: Mapped[dict] = mapped_column(JSON)
    reference: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(Instant)
    next_attempt_at: Mapped[datetime] = mapped_column(Instant)
    claimed_until: Mapped[datetime | None] = mapped_column(Instant)
    sent_at: Mapped[datetime | None] = mapped_column(Instant)
    last_error: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        Index("ix_notify_message_due", "state", "next_attempt_at"),
        Index("ix_notify_message_reference", "reference"),
    )


class Attempt(Base):
    """One try to hand a message to its channel, successful or not."""

    __tablename__ = "notify_attempt"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("notify_message.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(Instant)
    worker: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # sent | retry | failed
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_notify_attempt_message", "message_id"),)
