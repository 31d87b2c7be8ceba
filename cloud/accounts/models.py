"""Tables of staff accounts, their login sessions and the audit log of access decisions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, Instant


class Staff(Base):
    """A member of staff. ``organisation`` is the authority (expert, phone agent), the support
    party (support) or the host municipality (advisor); ``sites`` lists an advisor's sites."""

    __tablename__ = "accounts_staff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    organisation: Mapped[str | None] = mapped_column(String(32))
    sites: Mapped[list] = mapped_column(JSON, default=list)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    oidc_issuer: Mapped[str | None] = mapped_column(String(200))
    oidc_subject: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(Instant)

    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject",
                                       name="uq_accounts_staff_oidc"),)


class StaffSession(Base):
    """A login session; only the SHA-256 of its token is stored."""

    __tablename__ = "accounts_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("accounts_staff.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(Instant)
    last_seen_at: Mapped[datetime] = mapped_column(Instant)
    expires_at: Mapped[datetime] = mapped_column(Instant)  # absolute limit
    client: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))  # password | oidc

    __table_args__ = (Index("ix_accounts_session_staff", "staff_id"),)


class AuditEntry(Base):
    """One access decision or login: who, what, when (UTC), from where. No secrets, no customer
    data: ``resource`` names the thing (``booking:42``), never its content."""

    __tablename__ = "accounts_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Instant)
    actor: Mapped[str] = mapped_column(String(64))  # username, or what was tried at a login
    action: Mapped[str] = mapped_column(String(32))
    resource: Mapped[str | None] = mapped_column(String(120))
    outcome: Mapped[str] = mapped_column(String(16))  # allowed | refused | failed | ok
    client: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (Index("ix_accounts_audit_actor_action", "actor", "action", "at"),
                      Index("ix_accounts_audit_client_action", "client", "action", "at"))
