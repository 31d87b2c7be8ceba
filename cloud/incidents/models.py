"""Tables of the incident engine: incidents, their audit trail, silences, action links and the
engine's durable cursor over the twin's transition log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, Instant


class Incident(Base):
    """A fault of a room, routed to the party responsible for it.

    ``condition`` names the detected condition (``site/room/device/rule``); manual incidents
    have none. ``notified_at`` is when the party's channel accepted the notification: the SLA
    clock starts there; ``due_at`` is when the response is due by that clock."""

    __tablename__ = "incident"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(32))
    room: Mapped[str | None] = mapped_column(String(32))
    device: Mapped[str | None] = mapped_column(String(32))
    condition: Mapped[str | None] = mapped_column(String(140))
    rule: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(40))
    summary: Mapped[str | None] = mapped_column(String(500))
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(Instant)
    notified_at: Mapped[datetime | None] = mapped_column(Instant)
    due_at: Mapped[datetime | None] = mapped_column(Instant)
    acknowledged_at: Mapped[datetime | None] = mapped_column(Instant)
    resolved_at: Mapped[datetime | None] = mapped_column(Instant)
    closed_at: Mapped[datetime | None] = mapped_column(Instant)
    escalated_at: Mapped[datetime | None] = mapped_column(Instant)
    updated_at: Mapped[datetime] = mapped_column(Instant)

    __table_args__ = (
        Index("ix_incident_state", "state", "site", "room"),
        Index("ix_incident_condition", "condition", "state"),
        Index("ix_incident_party_opened", "party", "opened_at"),
    )


class IncidentEvent(Base):
    """One entry of an incident's audit trail: every change, comment and notification."""

    __tablename__ = "incident_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(Instant)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_incident_event_incident", "incident_id", "id"),)


class SilenceRow(Base):
    """A maintenance window or silence: no incident opens for what it covers."""

    __tablename__ = "incident_silence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(32))
    room: Mapped[str | None] = mapped_column(String(32))
    device: Mapped[str | None] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(Instant)
    ends_at: Mapped[datetime] = mapped_column(Instant)
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Instant)

    __table_args__ = (Index("ix_incident_silence_ends", "ends_at"),)


class ActionLink(Base):
    """A single-purpose, expiring link that lets a party act without an account.

    Only the SHA-256 of the token is stored: a database leak does not leak usable links."""

    __tablename__ = "incident_link"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(Instant)
    expires_at: Mapped[datetime] = mapped_column(Instant)
    used_at: Mapped[datetime | None] = mapped_column(Instant)


class EngineCursor(Base):
    """How far the engine has read the twin's transition log, and which engine holds the
    lease to work the database (``holder`` until ``lease_until``)."""

    __tablename__ = "incident_cursor"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(Instant)
    holder: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(Instant)
