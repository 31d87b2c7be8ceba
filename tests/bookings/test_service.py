"""The booking service on a real SQLite store."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from cloud.bookings import service
from cloud.bookings.models import BookedSlot
from cloud.bookings.service import BookingRefused, Customer
from cloud.notify.models import OutboxMessage
from cloud.sites import service as site_service
from tests.bookings.conftest import CUSTOMER, at

NOW = at(2025, 11, 10, 8)  # a Monday morning


def book(session, rules, start, *, site="porvoo", service_id="kela-benefits", minutes=30,
         room=None, now=NOW):
    return service.create_booking(session, rules, site=site, service=service_id, start=start,
                                  minutes=minutes, channel="phone_service", customer=CUSTOMER,
                                  actor="tester", now=now, room=room)


def test_availability_offers_pilot_hours_and_drops_a_booked_slot(store, rules):
    with store() as s:
        free = service.availability(s, rules, site="porvoo", service="dvv-population",
                                    first=date(2025, 11, 10), last=date(2025, 11, 10), now=NOW)
        assert [v.start for v in free][:2] == [at(2025, 11, 10, 9), at(2025, 11, 10, 9, 30)]
        assert len(free) == 12
        book(s, rules, at(2025, 11, 10, 9, 30), service_id="vero-taxation", minutes=60)
        free = service.availability(s, rules, site="porvoo", service="dvv-population",
                                    first=date(2025, 11, 10), last=date(2025, 11, 10), now=NOW)
        assert len(free) == 10
        assert at(2025, 11, 10, 10) not in [v.start for v in free]


def test_nurmes_building_opens_at_ten_and_holidays_close(store, rules):
    with store() as s:
        free = service.availability(s, rules, site="nurmes", service="kela-benefits",
                                    minutes=30, first=date(2025, 12, 5), last=date(2025, 12, 8),
                                    now=NOW)
        days = sorted({v.start.astimezone(at(2025, 1, 1, 0).tzinfo).date() for v in free})
        assert days == [date(2025, 12, 5), date(2025, 12, 8)]  # 6.12. Independence Day, weekend
        assert min(v.start for v in free) == at(2025, 12, 5, 10)


@pytest.mark.parametrize("kwargs, reason", [
    ({"start": at(2025, 11, 10, 15)}, "outside_hours"),
    ({"start": at(2025, 12, 25, 10)}, "holiday"),
    ({"start": at(2025, 11, 14, 14), "site": "imatra"}, "building_closed"),
    ({"start": at(2025, 11, 11, 10), "service_id": "poliisi-permits"}, "service_not_offered"),
    ({"start": at(2025, 11, 11, 10), "service_id": "dvv-population", "minutes": 60},
     "bad_length"),
    ({"start": at(2025, 11, 10, 7)}, "in_the_past"),
])
def test_refused_bookings_say_why(store, rules, kwargs, reason):
    with store() as s, pytest.raises(BookingRefused) as refusal:
        book(s, rules, **kwargs)
    assert refusal.value.reason == reason


def test_a_taken_slot_is_a_conflict_and_the_change_log_records_moves(store, rules):
    with store() as s:
        first = book(s, rules, at(2025, 11, 11, 10))
        with pytest.raises(BookingRefused) as refusal:
            book(s, rules, at(2025, 11, 11, 9, 30), minutes=60)
        assert (refusal.value.reason, refusal.value.status) == ("slot_taken", 409)
        service.move_booking(s, rules, booking=first, start=at(2025, 11, 11, 11), actor="a2",
                             now=NOW)
        book(s, rules, at(2025, 11, 11, 9, 30), minutes=60)  # freed by the move
        changes = service.changes_of(s, booking_id=first.id)
        assert [c.action for c in changes] == ["created", "moved"]
        assert datetime.fromisoformat(changes[1].before["start"]) == at(2025, 11, 11, 10)
        assert changes[1].actor == "a2" and "name" not in str(changes[1].after)


def test_expert_capacity_limits_one_authority_across_sites(store, rules):
    with store() as s:  # DVV has one expert at a time
        book(s, rules, at(2025, 11, 12, 10), service_id="dvv-population", site="porvoo")
        with pytest.raises(BookingRefused) as refusal:
            book(s, rules, at(2025, 11, 12, 10), service_id="dvv-population", site="imatra")
        assert refusal.value.reason == "no_expert"
        book(s, rules, at(2025, 11, 12, 10), service_id="kela-benefits", site="imatra")


def test_cancel_frees_the_slot_and_too_late_to_move_once_started(store, rules):
    with store() as s:
        booking = book(s, rules, at(2025, 11, 10, 10))
        with pytest.raises(BookingRefused) as refusal:
            service.move_booking(s, rules, booking=booking, start=at(2025, 11, 10, 11),
                                 actor="a", now=at(2025, 11, 10, 10, 5))
        assert refusal.value.reason == "too_late"
        service.cancel_booking(s, booking=booking, reason="customer called", actor="a", now=NOW)
        assert s.scalar(select(func.count()).select_from(BookedSlot)) == 0
        book(s, rules, at(2025, 11, 10, 10))


def test_visit_life_walk_in_check_in_no_show_complete(store, rules):
    with store() as s:
        now = at(2025, 11, 10, 11, 10)
        walk = service.walk_in(s, rules, site="imatra", service="vero-taxation", minutes=30,
                               customer=Customer(name="B"), actor="adv", now=now)
        assert walk.start == at(2025, 11, 10, 11) and walk.status == "checked_in"
        with pytest.raises(BookingRefused):
            service.walk_in(s, rules, site="imatra", service="vero-taxation", minutes=30,
                            customer=Customer(name="C"), actor="adv", now=now)
        later = book(s, rules, at(2025, 11, 10, 12), site="imatra")
        service.check_in(s, booking=later, actor="adv", now=at(2025, 11, 10, 11, 50))
        service.complete(s, booking=later, realised_start=at(2025, 11, 10, 12, 2),
                         realised_end=at(2025, 11, 10, 12, 25), actor="exp",
                         now=at(2025, 11, 10, 12, 30))
        gone = book(s, rules, at(2025, 11, 10, 13), site="imatra")
        service.mark_no_show(s, booking=gone, actor="adv", now=at(2025, 11, 10, 13, 15))
        assert (later.status, gone.status) == ("completed", "no_show")


def test_affected_bookings_lists_live_bookings_in_an_unusable_window(store, rules):
    with store() as s:
        a = book(s, rules, at(2025, 11, 13, 9))
        b = book(s, rules, at(2025, 11, 13, 10), minutes=60)
        c = book(s, rules, at(2025, 11, 13, 13))
        service.cancel_booking(s, booking=c, reason="x", actor="a", now=NOW)
        hit = service.affected_bookings(s, site="porvoo", room="r1",
                                        start=at(2025, 11, 13, 9, 15), end=at(2025, 11, 13, 10, 5))
        assert [x.id for x in hit] == [a.id, b.id]
        assert [x.id for x in service.affected_bookings(
            s, site="porvoo", room="r1", start=at(2025, 11, 13, 10, 45))] == [b.id]
        service.close_room(s, rules, site="porvoo", room="r1", start=at(2025, 11, 13, 11),
                           end=at(2025, 11, 13, 12), reason="maintenance", actor="adv")
        with pytest.raises(BookingRefused) as refusal:
            book(s, rules, at(2025, 11, 13, 11, 30))
        assert refusal.value.reason == "room_unavailable"


def test_building_exception_closes_a_day(store, rules):
    with store() as s:
        site_service.set_building_exception(s, site="porvoo", day=date(2025, 11, 14), spans=[],
                                            reason="staff day")
        with pytest.raises(BookingRefused) as refusal:
            book(s, rules, at(2025, 11, 14, 10))
        assert refusal.value.reason == "building_closed"


def test_confirmation_goes_to_the_outbox_in_the_customers_language(store, rules):
    from cloud.flows.reminders import confirm

    with store() as s:
        booking = book(s, rules, at(2025, 11, 12, 10))
        # the booking domain writes no message: the journey across to notify does
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert confirm(s, rules, booking=booking, now=NOW)
        message = s.scalar(select(OutboxMessage))
        assert (message.channel, message.language, message.template) == \
            ("sms", "sv", "booking_confirmation")
        assert message.context == {"date": "12.11.2025", "time": "10:00", "place": "Borgå-info",
                                   "service": "FPA:s förmånsärenden"}
        assert message.reference == f"booking:{booking.id}"
        from cloud.flows.reminders import send_due_reminders
        assert send_due_reminders(s, rules, now=at(2025, 11, 11, 11, 59)) == 0
        assert send_due_reminders(s, rules, now=at(2025, 11, 11, 12)) == 1
        send_due_reminders(s, rules, now=at(2025, 11, 11, 13))  # once only
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_a_room_closed_for_an_incident_reopens_when_it_is_resolved(store, rules):
    with store() as s:
        service.close_room(s, rules, site="nurmes", room="r1", start=at(2025, 11, 11, 10),
                           end=at(2026, 11, 11, 10), reason="doccam fault", actor="incidents",
                           incident="42")
        with pytest.raises(BookingRefused):
            book(s, rules, at(2025, 11, 12, 11), site="nurmes")
        assert service.end_incident_closures(s, incident="42", end=at(2025, 11, 12, 9)) == 1
        book(s, rules, at(2025, 11, 12, 11), site="nurmes")


def test_with_a_reminder_lead_the_reminder_goes_out_that_long_before_the_visit(store, rules):
    from datetime import timedelta

    from cloud.flows.reminders import send_due_reminders

    lead = timedelta(hours=2)
    with store() as s:
        book(s, rules, at(2025, 11, 12, 10))
        assert send_due_reminders(s, rules, now=at(2025, 11, 12, 7, 59), lead=lead) == 0
        assert send_due_reminders(s, rules, now=at(2025, 11, 12, 8), lead=lead) == 1
