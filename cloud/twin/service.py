"""Writes a ``TwinBatch`` to the SQL store in one transaction; reads for the API.

Every statement is safe with several ingest workers: aggregates merge with min/max/sum,
health applies only when newer than what is stored, events insert once per id.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Connection, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cloud.twin.batch import TwinBatch
from cloud.twin.models import AgentPresence, DeviceEvent, DeviceState, Transition

DEVICE = DeviceState.__table__
AGENT = AgentPresence.__table__
EVENT = DeviceEvent.__table__
TRANSITION = Transition.__table__


def utc(ms: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as aware UTC (SQLite gives back naive datetimes)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def existing_event_ids(conn: Connection, ids: list[str]) -> set[str]:
    """Which of ``ids`` are stored already."""
    if not ids:
        return set()
    return set(conn.scalars(select(EVENT.c.id).where(EVENT.c.id.in_(ids))))


def apply_batch(conn: Connection, batch: TwinBatch) -> None:
    """Apply one batch; the caller commits."""
    _apply_status(conn, batch)
    _apply_health(conn, batch)
    _merge_seen(conn, batch)
    _insert_events(conn, batch)


def _insert(conn: Connection, table):
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _greatest(conn: Connection):
    return (func.greatest, func.least) if conn.dialect.name == "postgresql" else (func.max, func.min)


def _merge_seen(conn: Connection, batch: TwinBatch) -> None:
    if not batch.seen:
        return
    rows = [
        {"site": s, "room": r, "device": d, "last_seen_at": utc(seen.last_seen_ms),
         "device_ts": seen.device_ts if seen.device_ts >= 0 else None, "skew_ms": seen.skew_ms,
         "seq_first": seen.seq_min, "seq_last": seen.seq_max, "seq_count": seen.seq_count,
         "duplicates": seen.duplicates}
        for (s, r, d), seen in batch.seen.items()
    ]
    greatest, least = _greatest(conn)
    stmt = _insert(conn, DEVICE)
    new, old = stmt.excluded, DEVICE.c
    newer = func.coalesce(new.device_ts, -1) >= func.coalesce(old.device_ts, -1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["site", "room", "device"],
        set_={
            "last_seen_at": greatest(func.coalesce(old.last_seen_at, new.last_seen_at),
                                     new.last_seen_at),
            "skew_ms": _case(newer, new.skew_ms, old.skew_ms),
            "device_ts": greatest(func.coalesce(old.device_ts, new.device_ts),
                                  func.coalesce(new.device_ts, old.device_ts)),
            "seq_first": least(func.coalesce(old.seq_first, new.seq_first), new.seq_first),
            "seq_last": greatest(func.coalesce(old.seq_last, new.seq_last), new.seq_last),
            "seq_count": old.seq_count + new.seq_count,
            "duplicates": old.duplicates + new.duplicates,
        },
    )
    conn.execute(stmt, rows)


def _case(condition, then, otherwise):
    from sqlalchemy import case

    return case((condition, then), else_=otherwise)


def _apply_health(conn: Connection, batch: TwinBatch) -> None:
    for (site, room, device), (health, received_ms) in batch.health.items():
        key = and_(DEVICE.c.site == site, DEVICE.c.room == room, DEVICE.c.device == device)
        query = select(DEVICE.c.state, DEVICE.c.code).where(key)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        current = conn.execute(query).first()
        at = utc(received_ms)
        if current is None:
            conn.execute(_insert(conn, DEVICE).values(
                site=site, room=room, device=device, seq_count=0, duplicates=0
            ).on_conflict_do_nothing())
        newer = or_(DEVICE.c.health_seq.is_(None), DEVICE.c.health_seq < health.seq,
                    DEVICE.c.device_ts < health.ts)
        changed = current is None or (current.state, current.code) != (health.state, health.code)
        values = {"state": health.state, "code": health.code, "detail": health.detail,
                  "health_seq": health.seq}
        if changed:
            values["state_since"] = at
        result = conn.execute(update(DEVICE).where(key, newer).values(**values))
        if result.rowcount and changed:
            conn.execute(TRANSITION.insert().values(
                site=site, room=room, device=device, from_state=current.state if current else None,
                to_state=health.state, code=health.code, at=at))


def _apply_status(conn: Connection, batch: TwinBatch) -> None:
    for (site, room), (status, received_ms) in batch.status.items():
        at = utc(received_ms)
        online = status.state == "online"
        key = and_(AGENT.c.site == site, AGENT.c.room == room)
        current = conn.execute(select(AGENT.c.online).where(key)).first()
        if current is None:
            conn.execute(AGENT.insert().values(site=site, room=room, online=online, since=at,
                                               version=status.version, updated_at=at))
        else:
            values = {"online": online, "updated_at": at}
            if status.version is not None:
                values["version"] = status.version
            if current.online != online:
                values["since"] = at
            conn.execute(update(AGENT).where(key).values(**values))
        if current is None or current.online != online:
            conn.execute(TRANSITION.insert().values(
                site=site, room=room, device="agent",
                from_state=None if current is None else ("online" if current.online else "offline"),
                to_state=status.state, code=None, at=at))


def _insert_events(conn: Connection, batch: TwinBatch) -> None:
    if not batch.events:
        return
    rows = [
        {"id": event_id, "site": s, "room": r, "device": d, "type": event.data.type,
         "data": event.data.model_dump(mode="json"), "seq": event.seq, "device_ts": event.ts,
         "synced": event.synced, "received_at": utc(received_ms)}
        for event_id, ((s, r, d), event, received_ms) in batch.events.items()
    ]
    conn.execute(_insert(conn, EVENT).on_conflict_do_nothing(index_elements=["id"]), rows)
