"""Tables of the device twin: the last known state of every agent and device, the log of state
transitions (what the incident engine reads), each room's occupancy, and the events received
(deduplicated by id)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cloud.db import Base, Instant


class AgentPresence(Base):
    """Whether a room's agent is connected, and since when (cloud time)."""

    __tablename__ = "twin_agent"
    site: Mapped[str] = mapped_column(String(32), primary_key=True)
    room: Mapped[str] = mapped_column(String(32), primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[datetime] = mapped_column(Instant)
    version: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(Instant)
    # the connection generation of the status applied; None for agents that send none
    gen: Mapped[int | None] = mapped_column(BigInteger)


class DeviceState(Base):
    """The twin of one device. Times ``*_at`` are cloud time; ``device_ts`` is device time.

    ``seq_first``/``seq_last``/``seq_count`` are commutative aggregates, so any number of
    ingest workers can update them; the gap count is derived from them.
    """

    __tablename__ = "twin_device"
    site: Mapped[str] = mapped_column(String(32), primary_key=True)
    room: Mapped[str] = mapped_column(String(32), primary_key=True)
    device: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(String(200))
    state_since: Mapped[datetime | None] = mapped_column(Instant)
    health_seq: Mapped[int | None] = mapped_column(BigInteger)
    last_seen_at: Mapped[datetime | None] = mapped_column(Instant)
    device_ts: Mapped[int | None] = mapped_column(BigInteger)
    # cloud receive time - device time of the least-delayed recent message (``lower_skew``),
    # and when (cloud time, epoch ms) a message last confirmed it
    skew_ms: Mapped[int | None] = mapped_column(BigInteger)
    skew_confirmed_ms: Mapped[int | None] = mapped_column(BigInteger)
    seq_first: Mapped[int | None] = mapped_column(BigInteger)
    seq_last: Mapped[int | None] = mapped_column(BigInteger)
    seq_count: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)

    @property
    def seq_gaps(self) -> int:
        """Messages that never arrived, judged from the sequence numbers seen."""
        if self.seq_first is None or self.seq_last is None:
            return 0
        return max(0, self.seq_last - self.seq_first + 1 - self.seq_count)


class Transition(Base):
    """An append-only log of state changes of devices and agents (agent: online/offline)."""

    __tablename__ = "twin_transition"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site: Mapped[str] = mapped_column(String(32))
    room: Mapped[str] = mapped_column(String(32))
    device: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(Instant)

    __table_args__ = (Index("ix_twin_transition_room", "site", "room", "id"),)


class RoomOccupancy(Base):
    """Whether a room is occupied now and since when (cloud time), kept from its occupancy
    events so that nothing reads the event log to know it. The newest event by the device's
    ``seq`` (or, after a reset of the device's counter, its ``device_ts``) wins."""

    __tablename__ = "twin_occupancy"
    site: Mapped[str] = mapped_column(String(32), primary_key=True)
    room: Mapped[str] = mapped_column(String(32), primary_key=True)
    occupied: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[datetime] = mapped_column(Instant)
    seq: Mapped[int] = mapped_column(BigInteger)
    device_ts: Mapped[int] = mapped_column(BigInteger)


class RoomLink(Base):
    """A room's link as its last WebRTC link probe measured it (``protocol.LinkFigures``);
    ``measured_at`` is cloud time. The newest probe by the network device's ``seq`` (or,
    after a reset of its counter, ``device_ts``) wins."""

    __tablename__ = "twin_link"
    site: Mapped[str] = mapped_column(String(32), primary_key=True)
    room: Mapped[str] = mapped_column(String(32), primary_key=True)
    rtt_ms: Mapped[float] = mapped_column(Float)
    jitter_ms: Mapped[float] = mapped_column(Float)
    loss_up_pct: Mapped[float] = mapped_column(Float)
    loss_down_pct: Mapped[float] = mapped_column(Float)
    bitrate_kbps: Mapped[float] = mapped_column(Float)
    setup_ms: Mapped[float] = mapped_column(Float)
    measured_at: Mapped[datetime] = mapped_column(Instant)
    seq: Mapped[int] = mapped_column(BigInteger)
    device_ts: Mapped[int] = mapped_column(BigInteger)


class DeviceEvent(Base):
    """A discrete event (button press, occupancy change), stored once per unique id and kept
    for the configured retention (``twin_event_retention_days``)."""

    __tablename__ = "twin_event"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(32))
    room: Mapped[str] = mapped_column(String(32))
    device: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict] = mapped_column(JSON)
    seq: Mapped[int] = mapped_column(BigInteger)
    device_ts: Mapped[int] = mapped_column(BigInteger)
    synced: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(Instant)

    __table_args__ = (Index("ix_twin_event_room_time", "site", "room", "received_at"),
                      Index("ix_twin_event_received_at", "received_at"))
