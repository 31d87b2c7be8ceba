"""The session service over the real store (SQLite and PostgreSQL): events without content and
with durations, the realised times fed to the booking, the figures for the statistics, the
feedback and the no-show candidates."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cloud.bookings import service as bookings
from cloud.bookings.service import BookingRules, Customer
from cloud.db import Base, make_engine, make_sessionmaker
from cloud.flows.sessions import end_overdue_sessions, session_ended
from cloud.registry import load_registry
from cloud.sessions import service
from cloud.sessions.rules import SessionRefused
from cloud.sessions.settings import SessionSettings

BOOKED_AT = datetime(2025, 11, 7, 8, 0, tzinfo=UTC)
VISIT = datetime(2025, 11, 10, 8, 0, tzinfo=UTC)  # Monday 10:00 in Helsinki
SETTINGS = SessionSettings()


@pytest.fixture
def store(database):
    engine = make_engine(database)
    yield make_sessionmaker(engine)
    engine.dispose()


def _booked_session(db, *, minute: int = 0):
    rules = BookingRules.load(load_registry())
    booking = bookings.create_booking(
        db, rules, site="porvoo", service="kela-benefits", start=VISIT + timedelta(
            minutes=minute), minutes=30, channel="on_site", customer=Customer(name="A. A."),
        actor="adv", now=BOOKED_AT)
    video_session = service.open_session(
        db=db, settings=SETTINGS, site=booking.site, room=booking.room,
        authority=booking.authority, service=booking.service, slot_start=booking.start,
        slot_end=booking.end, booking_id=booking.id, created_by="adv", now=BOOKED_AT)
    db.commit()
    return booking, video_session


def test_a_session_records_its_events_and_durations_and_completes_the_booking(store):
    with store() as db:
        booking, video_session = _booked_session(db)
        terminal, _ = service.join(db=db, video_session=video_session, role="terminal",
                                   now=VISIT)
        expert, _ = service.join(db=db, video_session=video_session, role="expert", now=VISIT,
                                 staff_id=7)
        service.connected(db=db, participant=terminal, now=VISIT)
        service.connected(db=db, participant=expert, now=VISIT + timedelta(minutes=1))
        service.dropped(db=db, participant=terminal, now=VISIT + timedelta(minutes=5))
        service.connected(db=db, participant=terminal, now=VISIT + timedelta(minutes=5,
                                                                            seconds=20))
        assert service.end_session(db=db, session_id=video_session.id, by="expert",
                                   now=VISIT + timedelta(minutes=25), actor=expert)
        assert not service.end_session(db=db, session_id=video_session.id, by="expert",
                                       now=VISIT + timedelta(minutes=26), actor=expert)
        db.commit()
        events = [(e.kind, e.role, e.seconds) for e in service.events_of(
            db=db, session_id=video_session.id)]
    assert events == [("joined", "terminal", None), ("joined", "expert", None),
                      ("reconnecting", "terminal", None), ("reconnected", "terminal", 20),
                      ("left", "terminal", 1500), ("left", "expert", 1500),
                      ("ended", None, 24 * 60)]
    assert session_ended(store, session_id=video_session.id, now=VISIT + timedelta(hours=1))
    with store() as db:
        done = bookings.booking_by_id(db, booking_id=booking.id)
        assert (done.status, done.realised_start, done.realised_end) == (
            "completed", VISIT + timedelta(minutes=1), VISIT + timedelta(minutes=25))
        (record,) = service.sessions_between(db=db, start=VISIT, end=VISIT + timedelta(days=1))
    assert (record.booking_id, record.site, record.room, record.authority, record.service,
            record.started_at, record.ended_by) == (
        booking.id, "porvoo", "r1", "kela", "kela-benefits", VISIT + timedelta(minutes=1),
        "expert")


def test_feedback_is_kept_with_session_authority_and_site_and_nothing_personal(store):
    with store() as db:
        _, video_session = _booked_session(db)
        terminal, _ = service.join(db=db, video_session=video_session, role="terminal",
                                   now=VISIT)
        expert, _ = service.join(db=db, video_session=video_session, role="expert", now=VISIT,
                                 staff_id=7)
        service.record_feedback(db=db, participant=terminal, score=5, now=VISIT)
        service.record_feedback(db=db, participant=terminal, score=4, now=VISIT)  # changed
        service.record_feedback(db=db, participant=expert, score=3, media_ok=False,
                                matter_resolved=True, now=VISIT)
        with pytest.raises(SessionRefused):
            service.record_feedback(db=db, participant=terminal, score=6, now=VISIT)
        db.commit()
        answers = service.feedback_between(db=db, start=VISIT, end=VISIT + timedelta(hours=1))
    assert [(a.giver, a.score, a.site, a.authority, a.media_ok, a.matter_resolved)
            for a in answers] == [("customer", 4, "porvoo", "kela", None, None),
                                  ("expert", 3, "porvoo", "kela", False, True)]
    columns = set(Base.metadata.tables["sessions_feedback"].columns.keys())
    assert not columns & {"customer_name", "name", "staff_id", "phone", "email"}


def test_a_booking_whose_terminal_never_joined_is_a_no_show_candidate(store):
    with store() as db:
        missed, _ = _booked_session(db)
        _, kept_session = _booked_session(db, minute=30)
        terminal, _ = service.join(db=db, video_session=kept_session, role="terminal",
                                   now=VISIT + timedelta(minutes=30))
        service.connected(db=db, participant=terminal, now=VISIT + timedelta(minutes=30))
        db.commit()
        assert service.no_show_candidates(db=db, site="porvoo",
                                          now=VISIT + timedelta(minutes=45)) == [missed.id]


def test_a_session_no_one_watched_is_ended_by_the_schedule_at_its_slots_end(store):
    with store() as db:
        booking, video_session = _booked_session(db)
        both = [service.join(db=db, video_session=video_session, role=role, now=VISIT,
                             staff_id=7 if role == "expert" else None)[0]
                for role in ("terminal", "expert")]
        for participant in both:
            service.connected(db=db, participant=participant, now=VISIT)
        for participant in both:  # everyone gone before the end: no replica watches it
            service.dropped(db=db, participant=participant, now=VISIT + timedelta(minutes=20))
        db.commit()
    assert end_overdue_sessions(store, now=video_session.ends_at - timedelta(seconds=1)) == 0
    assert end_overdue_sessions(store, now=video_session.ends_at + timedelta(minutes=3)) == 1
    with store() as db:
        ended = service.get(db=db, session_id=video_session.id)
        assert (ended.ended_by, ended.ended_at) == ("slot_end", video_session.ends_at)
        assert bookings.booking_by_id(db, booking_id=booking.id).status == "completed"


def test_a_room_cannot_have_two_sessions_at_once(store):
    with store() as db:
        _booked_session(db)
        with pytest.raises(SessionRefused) as refused:
            service.open_session(db=db, settings=SETTINGS, site="porvoo", room="r1",
                                 authority="vero", service="vero-taxes", slot_start=VISIT,
                                 slot_end=VISIT + timedelta(minutes=30), created_by="adv",
                                 now=BOOKED_AT)
    assert refused.value.reason == "room_busy"


def test_the_expert_cannot_admit_a_fifth_participant_into_the_mesh(store):
    with store() as db:
        _, video_session = _booked_session(db)
        join = lambda role, staff=None: service.join(
            db=db, video_session=video_session, role=role, now=VISIT, staff_id=staff)[0]
        expert, _ = join("expert", 7), join("terminal")
        waiting = [join("third_party") for _ in range(3)]
        for guest in waiting[:2]:
            service.decide(db=db, actor=expert, action="admit", participant_id=guest.id,
                           now=VISIT)
        with pytest.raises(SessionRefused) as refused:
            service.decide(db=db, actor=expert, action="admit", participant_id=waiting[2].id,
                           now=VISIT)
    assert refused.value.reason == "session_full"
