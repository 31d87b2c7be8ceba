"""A seeded month (November 2026) through the project's own service functions, and the
figures it must give, worked out by hand from the seed (not from the code under test).

Porvoo's room r1 gets: six Kela visits booked by phone and completed (three realised through
a video session that names the booking), one no-show, one visit moved by the advisor, three
cancellations (service number by the advisor, phone service by two phone agents), two
walk-ins, one session without a booking; occupancy, two incidents, calls, feedback and task
entries. Imatra gets one escalated incident. Facts just outside the month (local time) must
not count.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from cloud.accounts import service as accounts
from cloud.bookings import service as bookings
from cloud.bookings.service import BookingRules, Customer
from cloud.incidents.models import Incident
from cloud.sites.hours import HELSINKI
from cloud.twin.models import DeviceEvent
from tests.stats import seams

PASSWORD = "correct horse battery staple"
STAFF = {  # username: (role, organisation, sites)
    "adv-porvoo": ("advisor", "porvoo", ["porvoo"]),
    "adv-imatra": ("advisor", "imatra", ["imatra"]),
    "tel-kela": ("phone_agent", "kela", []),
    "tel-dvv": ("phone_agent", "dvv", []),
    "exp-kela": ("expert", "kela", []),
    "coord": ("coordinator", None, []),
    "admin": ("admin", None, []),
}
CUSTOMER = Customer(name="Seppo Seedinen", phone="+358 40 1234567", language="fi")


def at(day: int, hh: int, mm: int = 0, month: int = 11) -> datetime:
    """A Helsinki wall time of 2026."""
    return datetime(2026, month, day, hh, mm, tzinfo=HELSINKI)


def seed_month(sessions, registry) -> None:
    """Write the month through the services (and the seams' test tables)."""
    engine = sessions.kw["bind"]
    seams.metadata.create_all(engine)
    rules = BookingRules.load(registry)
    with sessions() as s:
        for username, (role, org, sites) in STAFF.items():
            accounts.create_staff(s, registry, username=username, display_name=username,
                                  role=role, organisation=org, sites=sites, password=PASSWORD,
                                  now=at(20, 8, month=10))
        s.commit()
    with sessions() as s:
        _bookings(s, rules)
        s.commit()
        _incidents(s)
        _occupancy(s)
        s.commit()


def _book(s, rules, start, service, channel, actor):
    return bookings.create_booking(s, rules, site="porvoo", service=service, start=start,
                                   minutes=30, channel=channel, customer=CUSTOMER, actor=actor,
                                   now=at(20, 9, month=10))


def _bookings(s, rules) -> None:
    early = at(2, 8)  # Monday 2.11. 08:00: the changes of the month are made here
    for i in range(6):  # 09:00 .. 11:30, realised 25 min, checked in 5 min before
        start = at(2, 9) + timedelta(minutes=30 * i)
        b = _book(s, rules, start, "kela-benefits", "phone_service", "tel-kela")
        bookings.check_in(s, booking=b, actor="adv-porvoo", now=start - timedelta(minutes=5))
        if i < 3:
            bookings.complete(s, booking=b, realised_start=start + timedelta(minutes=2),
                              realised_end=start + timedelta(minutes=27), actor="adv-porvoo",
                              now=start + timedelta(minutes=30))
        else:  # the session's times win over the times the visit was completed with
            bookings.complete(s, booking=b, realised_start=start,
                              realised_end=start + timedelta(minutes=30), actor="adv-porvoo",
                              now=start + timedelta(minutes=30))
            s.execute(insert(seams.SESSIONS).values(
                site="porvoo", room="r1", authority="kela", service="kela-benefits",
                booking_id=b.id, started_at=start + timedelta(minutes=2),
                ended_at=start + timedelta(minutes=27)))
    no_show = _book(s, rules, at(3, 9), "kela-benefits", "on_site", "adv-porvoo")
    bookings.mark_no_show(s, booking=no_show, actor="adv-porvoo", now=at(3, 9, 20))
    moved = _book(s, rules, at(3, 10), "kela-benefits", "on_site", "adv-porvoo")
    bookings.move_booking(s, rules, booking=moved, start=at(4, 10), actor="adv-porvoo",
                          now=early)
    bookings.check_in(s, booking=moved, actor="adv-porvoo", now=at(4, 9, 55))
    bookings.complete(s, booking=moved, realised_start=at(4, 10), realised_end=at(4, 10, 30),
                      actor="adv-porvoo", now=at(4, 10, 30))
    for start, service, channel, actor in (
            (at(5, 9), "kela-benefits", "service_number", "adv-porvoo"),
            (at(5, 10), "dvv-population", "phone_service", "tel-dvv"),
            (at(6, 9), "kela-benefits", "phone_service", "tel-kela")):
        b = _book(s, rules, start, service, channel, actor)
        bookings.cancel_booking(s, booking=b, reason="customer asked", actor=actor, now=early)
    for hh in (9, 11):  # walk-ins at 09:10 and 11:10, realised to the half hour
        b = bookings.walk_in(s, rules, site="porvoo", service="dvv-population", minutes=30,
                             customer=CUSTOMER, actor="adv-porvoo", now=at(9, hh, 10))
        bookings.complete(s, booking=b, realised_start=at(9, hh, 10),
                          realised_end=at(9, hh, 30), actor="adv-porvoo", now=at(9, hh, 30))
    _book(s, rules, at(1, 9, month=12), "kela-benefits", "phone_service", "tel-kela")  # December
    s.execute(insert(seams.SESSIONS).values(  # no booking: use of the room all the same
        site="porvoo", room="r1", authority="vero", service="vero-taxes", booking_id=None,
        started_at=at(10, 13), ended_at=at(10, 13, 40)))
    for i, ack_s in enumerate((30, 60, 90, 120, 150)):
        pressed = at(2, 9, 5 + 10 * i)
        s.execute(insert(seams.CALLS).values(
            site="porvoo", room="r1", pressed_at=pressed,
            acknowledged_at=pressed + timedelta(seconds=ack_s), escalation_level=0,
            cleared_at=pressed + timedelta(minutes=5), clear_reason="served"))
    for pressed, ack in ((datetime(2026, 10, 31, 22, 30, tzinfo=UTC), None),  # 1.11. 00:30
                         (datetime(2026, 11, 30, 22, 30, tzinfo=UTC), 20)):  # 1.12. 00:30
        s.execute(insert(seams.CALLS).values(
            site="porvoo", room="r1", pressed_at=pressed, escalation_level=1 if ack is None
            else 0, acknowledged_at=None if ack is None else pressed + timedelta(seconds=ack),
            cleared_at=None, clear_reason=None))
    for i, (giver, score) in enumerate([("customer", 5), ("customer", 5), ("customer", 4),
                                        ("customer", 4), ("customer", 3), ("customer", 5),
                                        ("expert", 4), ("expert", 5)]):
        s.execute(insert(seams.FEEDBACK).values(giver=giver, score=score, site="porvoo",
                                                authority="kela",
                                                given_at=at(2 + i, 12)))
    s.execute(insert(seams.FEEDBACK).values(giver="customer", score=1, site="porvoo",
                                            authority="kela", given_at=at(1, 9, month=12)))
    # three text messages asked, two answered (a 5 and a 2); one of December's is not counted
    for day, answered in ((3, True), (4, True), (5, False)):
        s.execute(insert(seams.ASKS).values(site="porvoo", authority="kela", giver="customer",
                                            channel="sms", answered=answered, at=at(day, 14)))
    s.execute(insert(seams.ASKS).values(site="porvoo", authority="kela", giver="customer",
                                        channel="sms", answered=True, at=at(1, 9, month=12)))
    for day, score in ((3, 5), (5, 2)):
        s.execute(insert(seams.FEEDBACK).values(giver="customer", score=score, site="porvoo",
                                                authority="kela", channel="sms",
                                                given_at=at(day, 16)))
    for day, task, minutes in ((date(2026, 11, 2), "meeting", 60),
                               (date(2026, 11, 3), "meeting", 30),
                               (date(2026, 11, 2), "bookings", 45),
                               (date(2026, 11, 16), "equipment", 20),
                               (date(2026, 12, 1), "equipment", 99)):
        s.execute(insert(seams.TASKS).values(site="porvoo", advisor_id=1, task=task, day=day,
                                             minutes=minutes))


def _incidents(s) -> None:
    rows = [  # site, room, party, category, severity, opened, notified, due, ack, resolved, esc
        ("porvoo", "r1", "supplier", "equipment", "critical", at(16, 14), at(16, 14, 1),
         at(16, 14, 31), at(16, 14, 21), at(17, 9, 30), None),
        ("porvoo", "r1", "valtori", "terminal_network", "major", at(18, 10), at(18, 10),
         at(18, 10, 30), at(18, 10, 45), at(18, 12), None),
        ("imatra", "r1", "supplier", "system", "major", at(19, 9), at(19, 9), at(19, 9, 30),
         None, None, at(19, 9, 31)),
    ]
    for site, room, party, category, severity, opened, notified, due, ack, res, esc in rows:
        s.add(Incident(site=site, room=room, device="terminal", condition=None, rule="seeded",
                       category=category, owner="host", party=party, severity=severity,
                       state="resolved" if res else "escalated", opened_at=opened,
                       notified_at=notified, due_at=due, acknowledged_at=ack, resolved_at=res,
                       escalated_at=esc, updated_at=res or opened, manual=True))


def _occupancy(s) -> None:
    changes = [(at(2, 8, 55), True), (at(2, 12, 5), False), (at(10, 12, 50), True),
               (at(10, 13, 45), False), (at(12, 14, 30), True), (at(12, 15, 30), False)]
    for seq, (when, occupied) in enumerate(changes, start=1):
        ms = int(when.timestamp() * 1000)
        s.add(DeviceEvent(id=f"occ-{seq:04d}", site="porvoo", room="r1", device="occupancy",
                          type="occupancy", data={"type": "occupancy", "occupied": occupied},
                          seq=seq, device_ts=ms, synced=True,
                          received_at=when + timedelta(seconds=1)))


# --- what the month must give, by hand ---------------------------------------------------------

MONTH = {"first": "2026-11-01", "last": "2026-11-30"}
# open minutes: Porvoo Mon-Fri 09-15 (21 weekdays x 360); Imatra 09-15 Mon-Thu (17 x 360)
# and 09-14 on Fridays (4 x 300); Nurmes 10-15 Mon-Thu (17 x 300), 10-14 Fri (4 x 240)
UTILISATION = {
    ("porvoo", "r1"): {"open_min": 7560.0, "booked_min": 300.0, "realised_min": 260.0,
                       "occupied_min": 270.0, "unavailable_min": 90.0, "booked_pct": 4.0,
                       "realised_pct": 3.4, "occupied_pct": 3.6},
    ("imatra", "r1"): {"open_min": 7320.0, "booked_min": 0.0, "realised_min": 0.0,
                       "occupied_min": 0.0, "unavailable_min": 0.0, "booked_pct": 0.0,
                       "realised_pct": 0.0, "occupied_pct": 0.0},
    ("nurmes", "r1"): {"open_min": 6060.0, "booked_min": 0.0, "realised_min": 0.0,
                       "occupied_min": 0.0, "unavailable_min": 0.0, "booked_pct": 0.0,
                       "realised_pct": 0.0, "occupied_pct": 0.0},
}
# realised: 6 x 25 (three of them by their sessions) + 30 (moved) + 2 x 20 (walk-ins) = 220
# waits: 6 x 7 (checked in 5 min early, begun 2 min late), 5 (moved), 0, 0 (walk-ins) = 47
VISITS_PORVOO = {"visits": 10, "booked": 8, "walk_ins": 2, "completed": 9, "no_shows": 1,
                 "cancelled": 3, "moved": 1, "booked_min": 300.0, "realised_count": 9,
                 "realised_min": 220.0, "realised_avg_min": 24.4, "realised_p50_min": 25.0,
                 "realised_p90_min": 30.0, "wait_count": 9, "wait_avg_min": 5.2,
                 "wait_p50_min": 7.0, "wait_p90_min": 7.0, "wait_min": 47.0}
VISITS_KELA = {"visits": 8, "booked": 8, "walk_ins": 0, "completed": 7, "no_shows": 1,
               "cancelled": 2, "moved": 1, "booked_min": 240.0, "realised_count": 7,
               "realised_min": 180.0, "realised_avg_min": 25.7, "realised_p50_min": 25.0,
               "realised_p90_min": 30.0, "wait_count": 7, "wait_avg_min": 6.7,
               "wait_p50_min": 7.0, "wait_p90_min": 7.0, "wait_min": 47.0}
CHANGES = {("on_site", "advisor", "moved"): 1, ("service_number", "advisor", "cancelled"): 1,
           ("phone_service", "phone_agent", "cancelled"): 2}
NOT_ASKED = {"asked": 0, "answered": 0, "response_pct": None}
FEEDBACK = {("customer", "terminal"): {"count": 6, "avg_score": 4.33, "score_1": 0,
                                       "score_2": 0, "score_3": 1, "score_4": 2, "score_5": 3,
                                       **NOT_ASKED, "score_sum": 26},
            ("customer", "sms"): {"count": 2, "avg_score": 3.5, "score_1": 0, "score_2": 1,
                                  "score_3": 0, "score_4": 0, "score_5": 1, "asked": 3,
                                  "answered": 2, "response_pct": 66.7, "score_sum": 7},
            ("expert", "terminal"): {"count": 2, "avg_score": 4.5, "score_1": 0, "score_2": 0,
                                     "score_3": 0, "score_4": 1, "score_5": 1, **NOT_ASKED,
                                     "score_sum": 9}}
CALLS = {"calls": 6, "acknowledged": 5, "ack_p50_s": 90.0, "ack_p90_s": 150.0,
         "ack_max_s": 150.0, "escalated": 1, "ack_s_sum": 450.0}
# the critical one stopped r1 from 16.11. 14:00 to 17.11. 09:30: 60 + 30 minutes open
INCIDENTS = {
    ("porvoo", "supplier"): {"opened": 1, "acknowledged": 1, "respond_avg_min": 20.0,
                             "respond_p90_min": 20.0, "resolved": 1, "resolve_avg_min": 1170.0,
                             "resolve_p90_min": 1170.0, "sla_breaches": 0,
                             "unavailable_min": 90.0, "respond_min_sum": 20.0,
                             "resolve_min_sum": 1170.0},
    ("porvoo", "valtori"): {"opened": 1, "acknowledged": 1, "respond_avg_min": 45.0,
                            "respond_p90_min": 45.0, "resolved": 1, "resolve_avg_min": 120.0,
                            "resolve_p90_min": 120.0, "sla_breaches": 1,
                            "unavailable_min": 0.0, "respond_min_sum": 45.0,
                            "resolve_min_sum": 120.0},
    ("imatra", "supplier"): {"opened": 1, "acknowledged": 0, "respond_avg_min": None,
                             "respond_p90_min": None, "resolved": 0, "resolve_avg_min": None,
                             "resolve_p90_min": None, "sla_breaches": 1,
                             "unavailable_min": 0.0, "respond_min_sum": 0.0,
                             "resolve_min_sum": 0.0},
}
TASKS = {"equipment": 20, "bookings": 45, "meeting": 90}
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
