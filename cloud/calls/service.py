"""Service functions over the calls' tables; keyword-only, the caller commits.

Every change that the consoles must see returns the ``CallChange`` it wrote: its id is the
live cursor the change is published with. Changes are conditional updates, so two advisors
acknowledging at once, or a clear racing an acknowledgement, each decide once.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cloud.calls.models import ACKNOWLEDGED, CLEARED, ESCALATED, PRESSED, Call, CallChange
from cloud.calls.rules import ARRIVED, CLEAR_REASONS, CUSTOMER, IDENTITY, VERIFIED, CallTimes


class CallNotFound(LookupError):
    """No call has this id."""


@dataclass(frozen=True)
class Changed:
    """A call after a change, and the change (its id is the live cursor)."""

    call: Call
    change: CallChange


@dataclass(frozen=True)
class Acknowledgement:
    """The outcome of an acknowledgement: the call, and the change when this caller took it
    (None: someone else had, ``call.acknowledged_by`` says who, or the call was cleared)."""

    call: Call
    change: CallChange | None

    @property
    def taken(self) -> bool:
        """Whether this caller now holds the call."""
        return self.change is not None


def times_of(call: Call) -> CallTimes:
    """The instants of ``call`` the pure rules read."""
    return CallTimes(call.pressed_at, call.escalated_at, call.sms_at, call.acknowledged_at,
                     call.cleared_at, call.reason)


def _record(db: Session, call: Call, kind: str, at: datetime) -> Changed:
    change = CallChange(call_id=call.id, kind=kind, at=at)
    db.add(change)
    db.flush()
    return Changed(call, change)


def open_call_of_room(*, db: Session, site: str, room: str) -> Call | None:
    """The room's open call, if any."""
    return db.scalar(select(Call).where(Call.site == site, Call.room == room,
                                        Call.cleared_at.is_(None)))


def rooms_with_open_call(*, db: Session) -> set[tuple[str, str]]:
    """The (site, room) of every open call: a handful across the fleet at any moment."""
    return set(db.execute(select(Call.site, Call.room).where(Call.cleared_at.is_(None))))


def open_call(*, db: Session, site: str, room: str, press_event_id: str, at: datetime,
              reason: str = CUSTOMER, session_id: int | None = None) -> Changed | None:
    """Open a call for a press received at ``at`` (or the expert's request of
    ``session_id``); None when the room's call is open already (a second press joins it:
    whoever comes, comes for both) or this press was seen before."""
    seen = db.scalar(select(Call.id).where(Call.press_event_id == press_event_id))
    if seen is not None or open_call_of_room(db=db, site=site, room=room) is not None:
        return None
    call = Call(site=site, room=room, press_event_id=press_event_id, pressed_at=at,
                escalation_level=1, reason=reason, session_id=session_id)
    db.add(call)
    db.flush()
    return _record(db, call, PRESSED, at)


def _conditional(db: Session, call_id: int, *conditions, **values) -> bool:
    result = db.execute(update(Call).where(Call.id == call_id, Call.cleared_at.is_(None),
                                           *conditions).values(**values)
                        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _reloaded(db: Session, call_id: int) -> Call:
    call = db.get(Call, call_id, populate_existing=True)
    if call is None:
        raise CallNotFound(call_id)
    return call


def clear_call(*, db: Session, site: str, room: str, reason: str,
               at: datetime) -> Changed | None:
    """Clear the room's open call for ``reason`` (cancelled, arrived, timeout); None when
    no call of the room is open."""
    if reason not in CLEAR_REASONS:
        raise ValueError(f"clear reason {reason!r} is not one of {', '.join(CLEAR_REASONS)}")
    call = open_call_of_room(db=db, site=site, room=room)
    if call is None:
        return None
    return clear_by_id(db=db, call_id=call.id, reason=reason, at=at)


def clear_by_id(*, db: Session, call_id: int, reason: str, at: datetime) -> Changed | None:
    """Clear an open call by id; None when it was cleared already."""
    values = {"cleared_at": at, "clear_reason": reason}
    if reason == ARRIVED:
        values["arrived_at"] = at
    if not _conditional(db, call_id, **values):
        return None
    return _record(db, _reloaded(db, call_id), CLEARED, at)


def acknowledge(*, db: Session, call_id: int, staff_id: int, at: datetime) -> Acknowledgement:
    """``staff_id`` takes the call, unless someone else has (or it was cleared); taking it
    again by the same person changes nothing. Raises ``CallNotFound``."""
    taken = _conditional(db, call_id, Call.acknowledged_at.is_(None),
                         acknowledged_at=at, acknowledged_by=staff_id)
    call = _reloaded(db, call_id)
    if not taken:
        return Acknowledgement(call, None)
    return Acknowledgement(call, _record(db, call, ACKNOWLEDGED, at).change)


def confirm_identity(*, db: Session, call_id: int, staff_id: int, at: datetime
                     ) -> Changed | None:
    """The advisor has checked the customer's identity: the open identity call is cleared as
    verified (and counted as taken by them if nobody had taken it); None when it is not an
    open identity call. Raises ``CallNotFound``."""
    get_call(db=db, call_id=call_id)
    _conditional(db, call_id, Call.reason == IDENTITY, Call.acknowledged_at.is_(None),
                 acknowledged_at=at, acknowledged_by=staff_id)
    if not _conditional(db, call_id, Call.reason == IDENTITY, cleared_at=at,
                        clear_reason=VERIFIED):
        return None
    return _record(db, _reloaded(db, call_id), CLEARED, at)


def escalate(*, db: Session, call_id: int, at: datetime) -> Changed | None:
    """Raise an unanswered call to level 2 (the second alert); None when it was answered,
    cleared or escalated meanwhile."""
    if not _conditional(db, call_id, Call.acknowledged_at.is_(None),
                        Call.escalated_at.is_(None), escalated_at=at, escalation_level=2):
        return None
    return _record(db, _reloaded(db, call_id), ESCALATED, at)


def mark_sms_sent(*, db: Session, call_id: int, at: datetime) -> bool:
    """Note that the SMS to the backup number went into the outbox; False when another
    round did it, or the call was answered or cleared meanwhile."""
    return _conditional(db, call_id, Call.acknowledged_at.is_(None), Call.sms_at.is_(None),
                        sms_at=at)


def get_call(*, db: Session, call_id: int) -> Call:
    """One call; raises ``CallNotFound``."""
    call = db.get(Call, call_id)
    if call is None:
        raise CallNotFound(call_id)
    return call


def open_calls(*, db: Session, sites: Collection[str] | None = None) -> list[Call]:
    """The open calls (of ``sites``), oldest press first."""
    query = select(Call).where(Call.cleared_at.is_(None)).order_by(Call.pressed_at, Call.id)
    if sites is not None:
        query = query.where(Call.site.in_(list(sites)))
    return list(db.scalars(query))


def list_calls(*, db: Session, site: str, open_only: bool = False,
               limit: int = 200) -> list[Call]:
    """A site's calls, newest press first (only the open ones with ``open_only``)."""
    query = select(Call).where(Call.site == site).order_by(Call.pressed_at.desc(),
                                                           Call.id.desc()).limit(limit)
    if open_only:
        query = query.where(Call.cleared_at.is_(None))
    return list(db.scalars(query))


def cleared_since(*, db: Session, sites: Collection[str], cursor: int) -> list[Call]:
    """Calls of ``sites`` cleared by a change after ``cursor``."""
    cleared = select(CallChange.call_id).where(CallChange.id > cursor, CallChange.kind == CLEARED)
    return list(db.scalars(select(Call).where(Call.id.in_(cleared), Call.site.in_(list(sites)))
                           .order_by(Call.pressed_at, Call.id)))


def latest_cursor(*, db: Session) -> int:
    """The id of the newest change (0 before the first)."""
    return db.scalar(select(func.max(CallChange.id))) or 0


def unfinished_calls(*, db: Session, limit: int = 500) -> list[Call]:
    """Open calls for the escalation round, oldest first."""
    return list(db.scalars(select(Call).where(Call.cleared_at.is_(None))
                           .order_by(Call.pressed_at).limit(limit)))


def calls_between(*, db: Session, start: datetime, end: datetime,
                  reason: str = CUSTOMER) -> list[Call]:
    """Calls (the customers' by default) pressed in ``[start, end)``, oldest first: the
    statistics' source (times and outcome only, no personal data)."""
    return list(db.scalars(select(Call).where(Call.pressed_at >= start, Call.pressed_at < end,
                                              Call.reason == reason)
                           .order_by(Call.pressed_at, Call.id)))
