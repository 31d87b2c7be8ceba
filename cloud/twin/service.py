"""Writes a ``TwinBatch`` to the SQL store in one transaction; reads for the API.

Every statement is safe with several ingest workers: aggregates merge with min/max/sum,
health and occupancy apply only when newer than what is stored, agent status only when of a
later connection (``status_supersedes``), events insert once per id.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import (
    Connection,
    Row,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cloud.twin.batch import (
    SKEW_TOLERANCE_MS,
    SKEW_WINDOW_MS,
    TwinBatch,
    is_newer,
    status_supersedes,
)
from cloud.twin.models import (
    AgentPresence,
    DeviceEvent,
    DeviceState,
    RoomLink,
    RoomOccupancy,
    Transition,
)

DEVICE = DeviceState.__table__
AGENT = AgentPresence.__table__
EVENT = DeviceEvent.__table__
TRANSITION = Transition.__table__
OCCUPANCY = RoomOccupancy.__table__
LINK = RoomLink.__table__


def utc(ms: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, UTC)


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
    _apply_occupancy(conn, batch)
    _apply_links(conn, batch)


def _insert(dialect_name: str, table):
    return (postgresql if dialect_name == "postgresql" else sqlite).insert(table)


def _greatest(dialect_name: str):
    return (func.greatest, func.least) if dialect_name == "postgresql" else (func.max, func.min)


SEEN_COLUMNS = ("site", "room", "device", "last_seen_at", "device_ts", "skew_ms",
                "skew_confirmed_ms", "seq_first", "seq_last", "seq_count", "duplicates")


def _merge_seen(conn: Connection, batch: TwinBatch) -> None:
    if not batch.seen:
        return
    if conn.dialect.name == "sqlite":  # the hot path: tuples straight to the driver
        rows = [(s, r, d, _sqlite_time(seen.last_seen_ms),
                 seen.device_ts if seen.device_ts >= 0 else None, seen.skew_ms,
                 seen.skew_confirmed_ms, seen.seq_min, seen.seq_max, seen.seq_count,
                 seen.duplicates)
                for (s, r, d), seen in batch.seen.items()]
        conn.exec_driver_sql(_seen_sql(conn.dialect), rows)
        return
    rows = [dict(zip(SEEN_COLUMNS, (
        s, r, d, utc(seen.last_seen_ms), seen.device_ts if seen.device_ts >= 0 else None,
        seen.skew_ms, seen.skew_confirmed_ms, seen.seq_min, seen.seq_max, seen.seq_count,
        seen.duplicates)))
        for (s, r, d), seen in batch.seen.items()]
    conn.execute(_seen_upsert(conn.dialect.name), rows)


def _seen_upsert(dialect_name: str):
    """Insert a device's aggregates, or merge them into its row (min, max, sum)."""
    greatest, least = _greatest(dialect_name)
    columns = {name: bindparam(name) for name in SEEN_COLUMNS}
    stmt = _insert(dialect_name, DEVICE).values(columns)
    new, old = stmt.excluded, DEVICE.c
    replaced, confirmed = _skew_merge(new, old)
    return stmt.on_conflict_do_update(
        index_elements=["site", "room", "device"],
        set_={
            "last_seen_at": greatest(func.coalesce(old.last_seen_at, new.last_seen_at),
                                     new.last_seen_at),
            "skew_ms": case((replaced, new.skew_ms), else_=old.skew_ms),
            "skew_confirmed_ms": case(
                (replaced, new.skew_confirmed_ms),
                (confirmed, greatest(old.skew_confirmed_ms, new.skew_confirmed_ms)),
                else_=old.skew_confirmed_ms),
            "device_ts": greatest(func.coalesce(old.device_ts, new.device_ts),
                                  func.coalesce(new.device_ts, old.device_ts)),
            "seq_first": least(func.coalesce(old.seq_first, new.seq_first), new.seq_first),
            "seq_last": greatest(func.coalesce(old.seq_last, new.seq_last), new.seq_last),
            "seq_count": old.seq_count + new.seq_count,
            "duplicates": old.duplicates + new.duplicates,
        },
    )


def _skew_merge(new, old):
    """``lower_skew`` in SQL, a batch's reading taken as one sample: whether it replaces the
    stored reading, and whether it confirms it."""
    replaced = new.skew_ms.is_not(None) & (
        old.skew_ms.is_(None) | old.skew_confirmed_ms.is_(None)
        | (new.skew_ms <= old.skew_ms)
        | (new.skew_confirmed_ms - old.skew_confirmed_ms > literal_column(str(SKEW_WINDOW_MS))))
    confirmed = new.skew_ms <= old.skew_ms + literal_column(str(SKEW_TOLERANCE_MS))
    return replaced, confirmed


@lru_cache(maxsize=4)
def _seen_sql(dialect) -> str:
    """The upsert as the driver's SQL, parameters in ``SEEN_COLUMNS`` order (SQLite)."""
    compiled = _seen_upsert(dialect.name).compile(dialect=dialect)
    assert tuple(compiled.positiontup) == SEEN_COLUMNS, compiled.positiontup
    return compiled.string


def _sqlite_time(ms: int) -> str:
    """Epoch ms in ``cloud.db.SQLITE_INSTANT``, the form ``Instant`` stores on SQLite."""
    seconds, millis = divmod(ms, 1000)
    return f"{_utc_second(seconds)}.{millis:03d}000"


@lru_cache(maxsize=1024)
def _utc_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def _rows_of(conn: Connection, table, key_names: tuple[str, ...], keys: list[tuple],
             columns: list) -> dict:
    """The stored rows of ``table`` whose ``key_names`` columns are one of ``keys``, by key;
    locked on PostgreSQL, in key order, so two workers never wait on each other crosswise.

    PostgreSQL joins the keys as arrays unnested into a table: one statement and an index
    lookup per key. A row-value ``IN`` list of 500 keys cost it a plan of 500 branches, and
    at 10,000 rooms these reads were four fifths of a broker restart's ingest time
    (decision 87)."""
    key_columns = [table.c[name] for name in key_names]
    if conn.dialect.name == "postgresql":
        arrays = [bindparam(f"k_{name}", [key[i] for key in keys],
                            type_=postgresql.ARRAY(table.c[name].type))
                  for i, name in enumerate(key_names)]
        wanted = func.unnest(*arrays).table_valued(*key_names).render_derived(name="wanted")
        query = (select(*key_columns, *columns)
                 .join(wanted, and_(*(column == wanted.c[column.name]
                                      for column in key_columns)))
                 .order_by(*key_columns).with_for_update(of=table))
        return {tuple(row[:len(key_names)]): row for row in conn.execute(query)}
    found = {}
    for start in range(0, len(keys), 500):
        query = select(*key_columns, *columns).where(
            tuple_(*key_columns).in_(keys[start:start + 500]))
        found.update({tuple(row[:len(key_names)]): row for row in conn.execute(query)})
    return found


def _current(conn: Connection, keys: list[tuple[str, str, str]]) -> dict:
    """Stored state, code, health_seq and device_ts of the given devices (locked on PostgreSQL)."""
    return _rows_of(conn, DEVICE, ("site", "room", "device"), sorted(keys),
                    [DEVICE.c.state, DEVICE.c.code, DEVICE.c.health_seq, DEVICE.c.device_ts])


_HEALTH_UPDATE = update(DEVICE).where(
    DEVICE.c.site == bindparam("k_site"), DEVICE.c.room == bindparam("k_room"),
    DEVICE.c.device == bindparam("k_device"),
).values(state=bindparam("state"), code=bindparam("code"), detail=bindparam("detail"),
         health_seq=bindparam("health_seq"),
         state_since=func.coalesce(bindparam("since", type_=DEVICE.c.state_since.type),
                                   DEVICE.c.state_since))


def _is_newer(stored, health) -> bool:
    if stored is None:
        return True
    return is_newer(health.seq, health.ts, stored.health_seq, stored.device_ts)


def _apply_health(conn: Connection, batch: TwinBatch) -> None:
    if not batch.health:
        return
    stored = _current(conn, list(batch.health))
    missing = [{"site": s, "room": r, "device": d, "seq_count": 0, "duplicates": 0}
               for (s, r, d) in batch.health if (s, r, d) not in stored]
    if missing:
        conn.execute(_insert(conn.dialect.name, DEVICE).on_conflict_do_nothing(), missing)
    updates, transitions = [], []
    for (site, room, device), (health, received_ms) in batch.health.items():
        before = stored.get((site, room, device))
        if not _is_newer(before, health):
            continue  # an older reading arrived late
        changed = before is None or (before.state, before.code) != (health.state, health.code)
        at = utc(received_ms)
        updates.append({"k_site": site, "k_room": room, "k_device": device,
                        "state": health.state, "code": health.code, "detail": health.detail,
                        "health_seq": health.seq, "since": at if changed else None})
        if changed:
            batch.changed_rooms.add((site, room))
            transitions.append({"site": site, "room": room, "device": device,
                                "from_state": before.state if before else None,
                                "to_state": health.state, "code": health.code, "at": at})
    if updates:
        conn.execute(_HEALTH_UPDATE, updates)
    if transitions:
        conn.execute(TRANSITION.insert(), transitions)


_STATUS_UPDATE = update(AGENT).where(
    AGENT.c.site == bindparam("k_site"), AGENT.c.room == bindparam("k_room"),
).values(online=bindparam("online"), updated_at=bindparam("updated_at"), gen=bindparam("gen"),
         version=func.coalesce(bindparam("version", type_=AGENT.c.version.type),
                               AGENT.c.version),
         since=func.coalesce(bindparam("since", type_=AGENT.c.since.type), AGENT.c.since))


def _presence(conn: Connection, rooms: list[tuple[str, str]]) -> dict:
    """Stored online and gen of the given rooms (locked on PostgreSQL)."""
    return _rows_of(conn, AGENT, ("site", "room"), rooms, [AGENT.c.online, AGENT.c.gen])


def _first_contacts(conn: Connection, batch: TwinBatch, rooms: list[tuple[str, str]]) -> set:
    """Insert the rooms never heard from; return those this batch inserted (another worker may
    have inserted some meanwhile: those are compared as stored rooms)."""
    if not rooms:
        return set()
    rows = []
    for site, room in rooms:
        status, received_ms = batch.status[(site, room)]
        at = utc(received_ms)
        rows.append({"site": site, "room": room, "online": status.state == "online",
                     "since": at, "version": status.version, "updated_at": at,
                     "gen": status.gen})
    insert = (_insert(conn.dialect.name, AGENT).on_conflict_do_nothing(
        index_elements=["site", "room"]).returning(AGENT.c.site, AGENT.c.room))
    return {(row.site, row.room) for row in conn.execute(insert, rows)}


def _apply_status(conn: Connection, batch: TwinBatch) -> None:
    """Apply each room's latest status in a few statements for the whole batch: read the
    stored rows, insert first contacts, update those a status supersedes, log transitions."""
    if not batch.status:
        return
    rooms = sorted(batch.status)
    stored = _presence(conn, rooms)
    inserted = _first_contacts(conn, batch, [r for r in rooms if r not in stored])
    raced = [r for r in rooms if r not in stored and r not in inserted]
    if raced:  # first contact from another worker at the same moment
        stored.update(_presence(conn, raced))
    updates, transitions = [], []
    for key in rooms:
        status, received_ms = batch.status[key]
        before = stored.get(key)
        if before is not None and not status_supersedes(status, before.gen, before.online):
            continue  # a late Last Will of an earlier connection, or a repeat
        online, at = status.state == "online", utc(received_ms)
        if before is not None:
            changed = before.online != online
            updates.append({"k_site": key[0], "k_room": key[1], "online": online,
                            "updated_at": at, "gen": status.gen, "version": status.version,
                            "since": at if changed else None})
            if not changed:
                continue
        transitions.append({"site": key[0], "room": key[1], "device": "agent",
                            "from_state": None if before is None else
                            ("online" if before.online else "offline"),
                            "to_state": status.state, "code": None, "at": at})
        batch.presence.append((key, status.state, received_ms))
        batch.changed_rooms.add(key)
    if updates:
        conn.execute(_STATUS_UPDATE, updates)
    if transitions:
        conn.execute(TRANSITION.insert(), transitions)


@lru_cache(maxsize=4)
def _occupancy_upsert(dialect_name: str):
    """Insert a room's occupancy, or replace it when the event is newer (``is_newer``)."""
    columns = ("site", "room", "occupied", "since", "seq", "device_ts")
    stmt = _insert(dialect_name, OCCUPANCY).values({c: bindparam(c) for c in columns})
    new, old = stmt.excluded, OCCUPANCY.c
    return stmt.on_conflict_do_update(
        index_elements=["site", "room"],
        set_={"occupied": new.occupied, "seq": new.seq, "device_ts": new.device_ts,
              "since": case((old.occupied == new.occupied, old.since), else_=new.since)},
        where=(new.seq > old.seq) | (new.device_ts > old.device_ts))


def _apply_occupancy(conn: Connection, batch: TwinBatch) -> None:
    if not batch.occupancy:
        return
    rows = [{"site": site, "room": room, "occupied": event.data.occupied,
             "since": utc(received_ms), "seq": event.seq, "device_ts": event.ts}
            for (site, room), (event, received_ms) in batch.occupancy.items()]
    conn.execute(_occupancy_upsert(conn.dialect.name), rows)


LINK_COLUMNS = {"probe_rtt_ms": "rtt_ms", "probe_jitter_ms": "jitter_ms",
                "probe_loss_up_pct": "loss_up_pct", "probe_loss_down_pct": "loss_down_pct",
                "probe_bitrate_kbps": "bitrate_kbps", "probe_setup_ms": "setup_ms"}


@lru_cache(maxsize=4)
def _link_upsert(dialect_name: str):
    """Insert a room's link, or replace it when the probe is newer (``is_newer``)."""
    columns = ("site", "room", *LINK_COLUMNS.values(), "measured_at", "seq", "device_ts")
    stmt = _insert(dialect_name, LINK).values({c: bindparam(c) for c in columns})
    new, old = stmt.excluded, LINK.c
    return stmt.on_conflict_do_update(
        index_elements=["site", "room"],
        set_={c: getattr(new, c) for c in columns[2:]},
        where=(new.seq > old.seq) | (new.device_ts > old.device_ts))


def _apply_links(conn: Connection, batch: TwinBatch) -> None:
    if not batch.links:
        return
    rows = [{"site": site, "room": room, "measured_at": utc(received_ms), "seq": seq,
             "device_ts": ts, **{LINK_COLUMNS[k]: v for k, v in figures.model_dump().items()}}
            for (site, room), (figures, seq, ts, received_ms) in batch.links.items()]
    conn.execute(_link_upsert(conn.dialect.name), rows)


def room_links(*, db: Session, site: str | None = None, room: str | None = None
               ) -> dict[tuple[str, str], RoomLink]:
    """Each room's link as its last probe measured it (one room when named); a room never
    probed is absent."""
    query = select(RoomLink)
    if site is not None:
        query = query.where(RoomLink.site == site, RoomLink.room == room)
    return {(link.site, link.room): link for link in db.scalars(query)}


def room_occupancy(*, db: Connection | Session) -> list[tuple[str, str, bool, datetime]]:
    """Every room's occupancy now, as ``(site, room, occupied, since)``: one row per room that
    ever reported it, read from the occupancy table, not from the event log."""
    rows = db.execute(select(OCCUPANCY.c.site, OCCUPANCY.c.room, OCCUPANCY.c.occupied,
                             OCCUPANCY.c.since))
    return [(r.site, r.room, r.occupied, r.since) for r in rows]


def purge_events(*, db: Connection | Session, before: datetime, limit: int = 10_000) -> int:
    """Delete at most ``limit`` events received before ``before``; return how many. The caller
    commits and calls again while it returns ``limit``, so ingest never waits long behind it."""
    old = select(EVENT.c.id).where(EVENT.c.received_at < before).limit(limit)
    return db.execute(EVENT.delete().where(EVENT.c.id.in_(old))).rowcount


def _insert_events(conn: Connection, batch: TwinBatch) -> None:
    if not batch.events:
        return
    rows = [
        {"id": event_id, "site": s, "room": r, "device": d, "type": event.data.type,
         "data": event.data.model_dump(mode="json"), "seq": event.seq, "device_ts": event.ts,
         "synced": event.synced, "received_at": utc(received_ms)}
        for event_id, ((s, r, d), event, received_ms) in batch.events.items()
    ]
    insert = _insert(conn.dialect.name, EVENT)
    conn.execute(insert.on_conflict_do_nothing(index_elements=["id"]), rows)


def room_state(session: Session, *, site: str, room: str
               ) -> tuple[bool | None, dict[str, str | None]]:
    """The room's agent presence (None: never heard from) and each device's health state."""
    agent = session.get(AgentPresence, (site, room))
    states = dict(session.execute(select(DeviceState.device, DeviceState.state).where(
        DeviceState.site == site, DeviceState.room == room)).all())
    return (agent.online if agent else None), states


# -- reads for the incident engine and the metrics: plain rows, statements the engine pages
# -- by id (the log's primary key), so a round costs the same whoever reads

_TRANSITION_COLUMNS = (TRANSITION.c.id, TRANSITION.c.site, TRANSITION.c.room,
                       TRANSITION.c.device, TRANSITION.c.to_state, TRANSITION.c.code,
                       TRANSITION.c.at)


def last_transition_id(*, db: Connection | Session) -> int:
    """The id of the newest transition logged (0 when the log is empty)."""
    return db.scalar(select(func.max(TRANSITION.c.id))) or 0


def transitions_after(*, db: Connection | Session, after_id: int, limit: int) -> list[Row]:
    """At most ``limit`` transitions with ids above ``after_id``, oldest first, as rows of
    ``(id, site, room, device, to_state, code, at)``."""
    return db.execute(select(*_TRANSITION_COLUMNS).where(TRANSITION.c.id > after_id)
                      .order_by(TRANSITION.c.id).limit(limit)).all()


def transitions_back(*, db: Connection | Session, before_id: int, limit: int) -> list[Row]:
    """At most ``limit`` transitions with ids below ``before_id``, newest first (rows as
    ``transitions_after``): the log read backwards."""
    return db.execute(select(*_TRANSITION_COLUMNS).where(TRANSITION.c.id < before_id)
                      .order_by(TRANSITION.c.id.desc()).limit(limit)).all()


def transitions_by_id(*, db: Connection | Session, ids: list[int]) -> list[Row]:
    """The transitions of these ids that exist (rows as ``transitions_after``); an id a
    writer has taken but not yet committed turns up here later."""
    if not ids:
        return []
    return db.execute(select(*_TRANSITION_COLUMNS).where(TRANSITION.c.id.in_(ids))).all()


def presences(*, db: Connection | Session) -> list[Row]:
    """Every room's agent presence, as rows of ``(site, room, online, since)``."""
    return db.execute(select(AGENT.c.site, AGENT.c.room, AGENT.c.online, AGENT.c.since)).all()


def device_health(*, db: Connection | Session) -> list[Row]:
    """Every device with a health state, as rows of ``(site, room, device, state, code,
    since)``; ``since`` is when the state began, else when the device was last seen."""
    return db.execute(select(
        DEVICE.c.site, DEVICE.c.room, DEVICE.c.device, DEVICE.c.state, DEVICE.c.code,
        func.coalesce(DEVICE.c.state_since, DEVICE.c.last_seen_at).label("since"))
        .where(DEVICE.c.state.is_not(None))).all()


def device_states(*, db: Connection | Session) -> list[Row]:
    """Every device's twin, as rows of ``(site, room, device, state, last_seen_at, skew_ms,
    seq_gaps)``; ``seq_gaps`` counts the messages that never arrived, judged from the
    sequence numbers seen (as ``DeviceState.seq_gaps``)."""
    c = DEVICE.c
    missing = c.seq_last - c.seq_first + 1 - c.seq_count
    gaps = case((c.seq_first.is_(None) | c.seq_last.is_(None) | (missing < 0), 0),
                else_=missing).label("seq_gaps")
    return db.execute(select(c.site, c.room, c.device, c.state, c.last_seen_at, c.skew_ms,
                             gaps)).all()


def occupancy_events_between(*, db: Connection | Session, start: datetime, end: datetime
                             ) -> list[tuple[str, str, bool, datetime]]:
    """The occupancy changes of every room in ``[start, end)`` as ``(site, room, occupied,
    at)``, oldest first; ``at`` is the device's time when it was synchronised, else the
    cloud's receive time (what statistics read before the event log's retention ends)."""
    rows = db.execute(select(EVENT.c.site, EVENT.c.room, EVENT.c.data, EVENT.c.device_ts,
                             EVENT.c.synced, EVENT.c.received_at).where(
        # received up to two days late (an agent's replay after an outage) still counts
        EVENT.c.type == "occupancy", EVENT.c.received_at >= start - timedelta(hours=1),
        EVENT.c.received_at < end + timedelta(days=2)))
    out = []
    for r in rows:
        at = utc(r.device_ts) if r.synced else r.received_at
        if start <= at < end:
            out.append((r.site, r.room, bool(r.data.get("occupied")), at))
    return sorted(out, key=lambda e: e[3])

