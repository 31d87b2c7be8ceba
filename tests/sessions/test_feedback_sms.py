"""Feedback by text message, end to end (``cloud/flows/feedback_sms.py``): a booking made with
the customer's consent -> its video session ends -> the schedule's round -> the notify worker
hands one SMS to a real HTTP gateway -> the link opened and answered in Chromium on a phone's
width -> the answer in the statistics with its channel. And what must not happen: no message
without consent or after an answer on the room's terminal, a used or late link never an
error. On SQLite and PostgreSQL: the 72 hours and the schedule's waits are time."""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from cloud.bookings.models import Booking
from cloud.bookings.settings import BookingSettings
from cloud.flows.schedule import tick
from cloud.notify.settings import NotifySettings
from cloud.notify.worker import NotifyWorker
from cloud.sessions.models import VideoSession
from tests.accounts.conftest import ADMIN_TOKEN
from tests.notify.receivers import HttpReceiver
from tests.pages import PHONE, browser_page, checked
from tests.servers import wait_for
from tests.sessions.conftest import NOW

PHONE_NUMBER = "+358 40 123 4567"
LINK = re.compile(r"(http://\S+/feedback/[A-Za-z0-9_-]+)")


@pytest.fixture
def gateway():
    """The SMS gateway: a real HTTP server recording what it accepted."""
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def sender(live_db, gateway):
    """The notification worker sending SMS to the test gateway."""
    worker = NotifyWorker(live_db.app.state.sessionmaker, NotifySettings(
        sms_url=f"{gateway.url}/sms", poll_interval_s=0.05, retry_base_s=0.2,
        retry_cap_s=1.0, http_timeout_s=3)).start()
    yield worker
    worker.stop()


def book(live, *, consent: bool = True, language: str = "sv", minutes_ahead: int = 30) -> int:
    """A visit booked by the authority's phone service, with or without the consent."""
    live.clock.jump_to(NOW)  # a Monday morning: inside the booking rules' hours
    customer = {"name": "A. A.", "phone": PHONE_NUMBER, "language": language}
    if consent:
        customer["feedback_sms"] = True
    with live.client() as client:
        answer = client.post("/api/bookings", headers=live.staff("tel-kela"), json={
            "site": "porvoo", "service": "kela-benefits", "channel": "phone_service",
            "start": (NOW + timedelta(minutes=minutes_ahead)).isoformat(), "room": "r1",
            "customer": customer})
    assert answer.status_code == 201, answer.text
    assert (answer.json()["feedback_consent_at"] is not None) == consent
    return answer.json()["id"]


def session_of(live, booking_id: int, *, started: datetime) -> int:
    """The booking's video session, the room and the expert both in from ``started`` (the
    media's part is the session tests'; here it only has to have run)."""
    with live.client() as client:
        opened = client.post("/api/sessions", json={"booking_id": booking_id},
                             headers=live.staff("adv-porvoo"))
    assert opened.status_code == 201, opened.text
    session_id = opened.json()["id"]
    with live.app.state.sessionmaker() as db:
        db.execute(update(VideoSession).where(VideoSession.id == session_id)
                   .values(started_at=started))
        db.commit()
    return session_id


def end_session(live, session_id: int, at: datetime) -> None:
    """The expert closes the session at ``at``: the booking is completed by its end."""
    live.clock.jump_to(at)
    with live.client() as client:
        answer = client.post(f"/api/sessions/{session_id}/end", headers=live.staff("exp-kela"))
    assert answer.status_code == 200 and answer.json()["ended"], answer.text


def mark_done(live, booking_id: int, at: datetime) -> None:
    """The advisor's "done" for a visit without a session."""
    live.clock.jump_to(at)
    with live.client() as client:
        answer = client.post(f"/api/bookings/{booking_id}/complete",
                             headers=live.staff("adv-porvoo"), json={
                                 "realised_start": (NOW + timedelta(minutes=30)).isoformat(),
                                 "realised_end": at.isoformat()})
    assert answer.status_code == 200, answer.text


def schedule_round(live, now: datetime) -> dict:
    """One round of the booking schedule at ``now``, its links to the served app."""
    sessions = live.app.state.sessionmaker
    settings = BookingSettings(public_url=live.base)
    return tick(sessions, settings.rules(live.app.state.registry), settings, now=now)


def feedback_messages(gateway) -> list:
    """The feedback SMS the gateway accepted (the booking's confirmation goes there too)."""
    return [r for r in gateway.received if r.key.endswith(":feedback_ask")]


def asked_links(live) -> int:
    from cloud.sessions.models import FeedbackLink

    with live.app.state.sessionmaker() as db:
        return len(db.scalars(select(FeedbackLink)).all())


def feedback_figures(live, day: datetime) -> list[dict]:
    with live.client() as client:
        answer = client.get("/api/stats/feedback", headers={
            "Authorization": f"Bearer {ADMIN_TOKEN}"}, params={
            "first": day.date().isoformat(), "last": day.date().isoformat(),
            "by": ["site", "giver", "channel"]})
    assert answer.status_code == 200, answer.text
    return answer.json()["rows"]


def test_a_consenting_customer_answers_the_one_text_message_and_the_answer_is_counted(
        live_db, gateway, sender, chromium):
    live = live_db
    booking_id = book(live)
    session_id = session_of(live, booking_id, started=NOW + timedelta(minutes=31))
    ended = NOW + timedelta(minutes=55)
    end_session(live, session_id, ended)
    # the terminal's five faces are still up: nothing is asked yet
    assert schedule_round(live, ended + timedelta(seconds=30))["feedback_asked"] == 0
    assert schedule_round(live, ended + timedelta(minutes=3))["feedback_asked"] == 1
    assert schedule_round(live, ended + timedelta(minutes=4))["feedback_asked"] == 0
    wait_for(lambda: len(feedback_messages(gateway)) == 1, 10, "the SMS at the gateway")
    (sms,) = feedback_messages(gateway)
    assert sms.to == PHONE_NUMBER
    assert sms.body.startswith("Tack för besöket: Borgå-info.")  # the booking's language
    (link,) = LINK.findall(sms.body)
    assert link.startswith(live.base) and len(sms.body) <= 160  # one message's worth

    live.clock.jump_to(ended + timedelta(minutes=10))
    with browser_page(chromium, viewport=PHONE) as page:
        page.goto(link)
        assert page.url.endswith("?lang=sv")
        assert page.locator("h1").inner_text() == "Hur gick ditt besök vid distansservicepunkten?"
        assert page.locator("script").count() == 0  # works on a browser without script
        checked(page, "feedback-sms-question")
        page.get_by_label("Bra", exact=True).check()
        page.get_by_label("Ja", exact=True).check()
        page.locator("#feedback-submit").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Tack för responsen!"
        checked(page, "feedback-sms-thanks")
        page.goto(link)  # the same link again: thanked, not asked, not an error
        assert "redan använts" in page.locator("main").inner_text()
        checked(page, "feedback-sms-already")

    (row,) = [r for r in feedback_figures(live, ended) if r["channel"] == "sms"]
    assert (row["site"], row["giver"], row["count"], row["score_4"]) == (
        "porvoo", "customer", 1, 1)
    assert (row["asked"], row["answered"], row["response_pct"]) == (1, 1, 100.0)
    assert len(feedback_messages(gateway)) == 1


def test_no_message_goes_without_the_consent(live_db, gateway, sender):
    live = live_db
    booking_id = book(live, consent=False)
    done = NOW + timedelta(minutes=50)
    mark_done(live, booking_id, done)
    assert schedule_round(live, done + timedelta(minutes=3))["feedback_asked"] == 0
    assert asked_links(live) == 0 and feedback_messages(gateway) == []


def test_no_message_goes_when_the_customer_answered_on_the_terminal(live_db, gateway, sender):
    live = live_db
    booking_id = book(live)
    session_id = session_of(live, booking_id, started=NOW + timedelta(minutes=31))
    live.clock.jump_to(NOW + timedelta(minutes=31))
    joined = live.join_terminal(session_id)
    assert joined.status_code == 200, joined.text
    ended = NOW + timedelta(minutes=55)
    end_session(live, session_id, ended)
    live.clock.jump_to(ended + timedelta(seconds=20))  # a face tapped as the kiosk asks
    with live.client() as client:
        answer = client.post(f"/api/sessions/{session_id}/feedback", json={
            "credential": joined.json()["credential"], "score": 5})
    assert answer.status_code == 201, answer.text
    assert schedule_round(live, ended + timedelta(minutes=3))["feedback_asked"] == 0
    assert asked_links(live) == 0 and feedback_messages(gateway) == []


def test_a_late_or_unknown_link_gets_a_clear_page_in_the_language(live_db, gateway, sender,
                                                                   chromium):
    live = live_db
    booking_id = book(live, language="en")
    done = NOW + timedelta(minutes=50)
    mark_done(live, booking_id, done)  # a visit without a session: the advisor's "done"
    assert schedule_round(live, done + timedelta(minutes=3))["feedback_asked"] == 1
    wait_for(lambda: len(feedback_messages(gateway)) == 1, 10, "the SMS at the gateway")
    (link,) = LINK.findall(feedback_messages(gateway)[0].body)
    live.clock.jump_to(done + timedelta(minutes=3, hours=72, seconds=1))
    with live.client() as client:
        late = client.get(link, follow_redirects=True, headers={"Accept": "text/html"})
        answered = client.post(f"{link}?lang=en", data={"score": "5"},
                               headers={"Accept": "text/html", "Origin": live.base})
        unknown = client.get(f"{live.base}/feedback/not-a-link?lang=fi",
                             headers={"Accept": "text/html"})
    assert late.status_code == 410 and "The link has expired" in late.text
    assert answered.status_code == 410 and "The link has expired" in answered.text
    assert unknown.status_code == 404 and "Linkkiä ei löydy" in unknown.text
    assert feedback_figures(live, done)[0]["answered"] == 0
    with browser_page(chromium, viewport=PHONE) as page:
        page.goto(link)
        assert page.locator("h1").inner_text() == "The link has expired"
        checked(page, "feedback-sms-expired")


def test_the_phone_number_reaches_no_log_and_is_forgotten_with_the_booking(live_db, caplog):
    from cloud.flows.purge import purge_personal_data
    from cloud.notify.models import OutboxMessage
    from etapalvelu.logs import LogfmtFormatter

    live = live_db
    caplog.set_level(logging.DEBUG)
    booking_id = book(live)
    done = NOW + timedelta(minutes=50)
    mark_done(live, booking_id, done)
    assert schedule_round(live, done + timedelta(minutes=3))["feedback_asked"] == 1
    # without a gateway the SMS is logged (the demo): its text, never its number
    logged = NotifyWorker(live.app.state.sessionmaker, NotifySettings(
        poll_interval_s=0.05)).start()
    try:
        wait_for(lambda: "feedback_ask" in caplog.text, 10, "the SMS logged")
    finally:
        logged.stop()
    lines = "\n".join(LogfmtFormatter("test").format(r) for r in caplog.records)
    assert "/feedback/" in lines
    assert all(number not in lines for number in (PHONE_NUMBER, PHONE_NUMBER.replace(" ", ""),
                                                  "123 4567", "1234567"))

    with live.app.state.sessionmaker() as db:
        purge_personal_data(db, now=done + timedelta(days=31), retention=timedelta(days=30))
        db.commit()
        messages = db.scalars(select(OutboxMessage).where(
            OutboxMessage.reference == f"booking:{booking_id}")).all()
    assert {m.template for m in messages} == {"booking_confirmation", "feedback_ask"}
    assert all(m.recipient == "" and m.context == {} for m in messages)
    with live.app.state.sessionmaker() as db:
        assert db.get(Booking, booking_id).customer_phone is None
