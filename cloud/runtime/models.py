"""The heartbeat table: one row per running process component, written by that process only."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, Instant


class ProcessBeat(Base):
    """The last sign of life of one component of a cloud process (an ingest worker, the
    engine, a notify worker, the schedule, an API replica)."""

    __tablename__ = "runtime_heartbeat"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)  # e.g. ``engine@host``
    kind: Mapped[str] = mapped_column(String(20))  # ingest, engine, notify, schedule, api
    host: Mapped[str] = mapped_column(String(100))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(Instant)
    beat_at: Mapped[datetime] = mapped_column(Instant)
    ready: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(200), default="")  # no personal data
    stopped_at: Mapped[datetime | None] = mapped_column(Instant, nullable=True)


class BrokerLinkRow(Base):
    """Whether one ingest worker holds its link to the rooms' broker, and since when; written
    by that worker on connect and loss and refreshed while it runs (``cloud.runtime.broker``).
    The engine and the API replicas read it: while a link is lost the twin is a stale picture."""

    __tablename__ = "runtime_broker_link"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)  # the ingest worker
    connected: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[datetime] = mapped_column(Instant)  # when ``connected`` last changed
    # when its last loss began (None: no loss since the worker started): a link back from a
    # loss gives the agents time to reconnect, a worker's first connect does not
    lost_at: Mapped[datetime | None] = mapped_column(Instant, nullable=True)
    beat_at: Mapped[datetime] = mapped_column(Instant)  # refreshed while the worker runs
    stopped_at: Mapped[datetime | None] = mapped_column(Instant, nullable=True)
