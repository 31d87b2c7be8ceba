"""The consoles' pure rules: what the day list says of a visit, what the expert sees of the
customer's arrival, how an instant is shown."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cloud.consoles.rules import arrival, terminal_missing, visit_status
from cloud.formats import when

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


def test_a_visit_with_a_video_session_is_in_session_exactly_while_the_session_is_live():
    during = START + timedelta(minutes=5)

    def status(booked: str, video: str, occupied: bool = True) -> str:
        return visit_status(booked, start=START, end=END, occupied=occupied, now=during,
                            video=video)
    assert status("checked_in", "not_started") == "checked_in"  # occupancy says nothing now
    assert status("checked_in", "live", occupied=False) == "in_session"
    assert status("booked", "live") == "in_session"  # went straight in, not checked in
    assert status("checked_in", "ended") == "checked_in"  # until the flow completes it
    assert status("completed", "ended") == "done"


def test_the_advisor_is_told_when_the_slot_began_and_the_terminal_never_joined():
    during = START + timedelta(minutes=2)
    assert terminal_missing("due", start=START, now=during, terminal_joined=False)
    assert terminal_missing("checked_in", start=START, now=during, terminal_joined=False)
    assert not terminal_missing("due", start=START, now=START - timedelta(minutes=1),
                                terminal_joined=False)  # not yet due
    assert not terminal_missing("due", start=START, now=during, terminal_joined=True)
    assert not terminal_missing("due", start=START, now=during, terminal_joined=None)
    assert not terminal_missing("no_show", start=START, now=during, terminal_joined=False)


def test_the_expert_sees_a_customer_in_session_as_in_the_room():
    assert [arrival(s) for s in ("in_session", "checked_in", "due", "done")] == [
        "in_room", "checked_in", "due", "done"]


def test_an_instant_shows_its_day_only_when_it_is_not_today():
    assert when(START, START) == "10:30"
    assert when(START + timedelta(days=1), START) == "17.11. 10:30"
