"""Counters of the ingest workers, persisted so the API (another process) can show them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, Instant


class IngestCounter(Base):
    """How many messages one worker accepted or dropped, by outcome (``accepted`` or a reason)."""

    __tablename__ = "ingest_counter"
    worker: Mapped[str] = mapped_column(String(64), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(Instant)
