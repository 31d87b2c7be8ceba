"""The calls' store: one call per room, one taker per call, times for statistics; on SQLite
and PostgreSQL."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from cloud.calls import service
from cloud.calls.models import Call, CallChange
from tests.store import schema_differences

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_migrations_create_exactly_the_calls_models(database):
    assert schema_differences(database, *(f"'{t}'" for t in (Call.__tablename__,
                                                        CallChange.__tablename__))) == []


def test_a_redelivered_press_or_a_second_press_opens_no_second_call(sessions):
    with sessions() as db:
        first = service.open_call(db=db, site="porvoo", room="r1", press_event_id="ev-1", at=AT)
        assert first is not None and first.change.id > 0
        assert service.open_call(db=db, site="porvoo", room="r1", press_event_id="ev-1",
                                 at=AT) is None
        assert service.open_call(db=db, site="porvoo", room="r1", press_event_id="ev-2",
                                 at=AT + timedelta(seconds=3)) is None
        other_room = service.open_call(db=db, site="imatra", room="r1", press_event_id="ev-3",
                                       at=AT)
        db.commit()
        assert [c.id for c in service.open_calls(db=db)] == [first.call.id, other_room.call.id]


def test_two_advisors_acknowledging_at_once_give_the_call_to_exactly_one(sessions):
    with sessions() as db:
        call_id = service.open_call(db=db, site="porvoo", room="r1", press_event_id="ev-1",
                                    at=AT).call.id
        db.commit()
    barrier, outcomes = threading.Barrier(2), {}

    def take(staff_id: int) -> None:
        with sessions() as db:
            barrier.wait(5)
            outcome = service.acknowledge(db=db, call_id=call_id, staff_id=staff_id,
                                          at=AT + timedelta(seconds=5))
            db.commit()
            outcomes[staff_id] = outcome

    threads = [threading.Thread(target=take, args=(staff_id,)) for staff_id in (11, 12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [staff for staff, outcome in outcomes.items() if outcome.taken]
    assert len(outcomes) == 2 and len(winners) == 1
    loser = outcomes[({11, 12} - set(winners)).pop()]
    assert loser.call.acknowledged_by == winners[0]
    with sessions() as db:
        kinds = [c.kind for c in db.query(CallChange).order_by(CallChange.id)]
    assert kinds == ["pressed", "acknowledged"]


def test_a_cleared_call_cannot_be_taken_and_a_clear_happens_once(sessions):
    with sessions() as db:
        service.open_call(db=db, site="porvoo", room="r1", press_event_id="ev-1", at=AT)
        cleared = service.clear_call(db=db, site="porvoo", room="r1", reason="cancelled",
                                     at=AT + timedelta(seconds=2))
        assert service.clear_call(db=db, site="porvoo", room="r1", reason="cancelled",
                                  at=AT + timedelta(seconds=3)) is None
        late = service.acknowledge(db=db, call_id=cleared.call.id, staff_id=11,
                                   at=AT + timedelta(seconds=4))
        assert not late.taken and late.call.acknowledged_at is None
        with pytest.raises(ValueError):
            service.clear_call(db=db, site="porvoo", room="r1", reason="bored", at=AT)


def test_calls_between_gives_each_calls_times_and_outcome_for_statistics(sessions):
    with sessions() as db:
        for minute, event in ((0, "ev-a"), (10, "ev-b"), (70, "ev-c")):
            opened = service.open_call(db=db, site="porvoo", room="r1", press_event_id=event,
                                       at=AT + timedelta(minutes=minute))
            service.acknowledge(db=db, call_id=opened.call.id, staff_id=7,
                                at=AT + timedelta(minutes=minute, seconds=20))
            service.clear_by_id(db=db, call_id=opened.call.id, reason="arrived",
                                at=AT + timedelta(minutes=minute, seconds=90))
        db.commit()
        found = service.calls_between(db=db, start=AT, end=AT + timedelta(hours=1))
    assert [c.press_event_id for c in found] == ["ev-a", "ev-b"]
    first = found[0]
    assert (first.acknowledged_at - first.pressed_at) == timedelta(seconds=20)
    assert first.arrived_at == first.cleared_at == AT + timedelta(seconds=90)
    assert first.clear_reason == "arrived" and first.pressed_at.tzinfo is not None
