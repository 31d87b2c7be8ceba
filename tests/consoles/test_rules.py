"""The consoles' pure rules: what the day list says of a visit, what the expert sees of the
customer's arrival, how an instant is shown."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cloud.consoles.day import when
from cloud.consoles.rules import arrival, visit_status

START = datetime(2026, 11, 16, 8, 30, tzinfo=UTC)  # 10:30 in Helsinki
END = START + timedelta(minutes=30)


def _status(booked: str, *, occupied: bool, now: datetime) -> str:
    return visit_status(booked, start=START, end=END, occupied=occupied, now=now)


def test_a_visit_is_due_until_checked_in_and_in_session_while_its_room_is_occupied():
    before, during = START - timedelta(minutes=10), START + timedelta(minutes=5)
    assert _status("booked", occupied=True, now=during) == "due"  # someone else in the room
    assert _status("checked_in", occupied=False, now=during) == "checked_in"  # still waiting
    assert _status("checked_in", occupied=True, now=before) == "checked_in"  # the last visit
    assert _status("checked_in", occupied=True, now=during) == "in_session"
    assert _status("checked_in", occupied=True, now=END) == "checked_in"
    assert [_status(s, occupied=False, now=during)
            for s in ("completed", "no_show", "cancelled")] == ["done", "no_show", "cancelled"]


def test_the_expert_sees_a_customer_in_session_as_in_the_room():
    during = START + timedelta(minutes=5)
    assert arrival("checked_in", start=START, end=END, occupied=True, now=during) == "in_room"
    assert arrival("booked", start=START, end=END, occupied=False, now=during) == "due"


def test_an_instant_shows_its_day_only_when_it_is_not_today():
    assert when(START, START) == "10:30"
    assert when(START + timedelta(days=1), START) == "17.11. 10:30"
