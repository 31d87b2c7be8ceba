"""Interpretation in the booking: a visit booked with a Finnish Sign Language interpreter by
video sends the session's invitation by e-mail at once (the notify worker to aiosmtpd); its
link says "not yet open" before the session's window, then leads through strong
authentication and the affirmation to the lobby; the advisor's day, the expert's day and
the expert's session page say who interprets, how, and that they joined; the statistics
count the visit by language and mode. The window's opening is tested on SQLite and
PostgreSQL through the phone service's booking API."""
from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from cloud.bookings import service as bookings
from cloud.notify.models import OutboxMessage
from cloud.notify.settings import NotifySettings
from cloud.notify.worker import NotifyWorker
from cloud.sessions import service
from cloud.stats import figures
from cloud.stats import service as stats
from cloud.stats.sources import installed_sources
from etapalvelu.localservers import wait_for
from tests.accounts.conftest import PASSWORD
from tests.notify.receivers import SmtpReceiver
from tests.pages import browser_page, checked, log_in
from tests.sessions.conftest import NOW, with_identity
from tests.sessions.test_journeys import _guest_waits

EMAIL = "tulkki@example.invalid"
START = NOW + timedelta(minutes=30)  # Monday 10 November 2025, 10:30 in Helsinki
LINK = re.compile(r"https?://\S+/sessions/interpreter/\S+")


def _book_by_phone(live, **interpreter) -> dict:
    """The authority's phone service books a visit with an interpreter through the API."""
    with live.client() as client:
        answer = client.post("/api/bookings", headers=live.staff("tel-kela"), json={
            "site": "porvoo", "service": "kela-benefits", "start": START.isoformat(),
            "channel": "phone_service", "customer": {"name": "A. A.", "language": "sv"},
            "interpreter": {"language": "fse", "mode": "video", "email": EMAIL,
                            **interpreter}})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _invitation_link(live, booking_id: int) -> tuple[str, OutboxMessage]:
    with live.app.state.sessionmaker() as db:
        (message,) = db.query(OutboxMessage).filter(
            OutboxMessage.reference == f"booking:{booking_id}",
            OutboxMessage.template == "interpreter_invitation").all()
        db.expunge(message)
    return LINK.search(message.context["link"]).group(0), message


def test_the_invitation_opens_with_the_sessions_window_and_not_before(live_db, identity):
    with_identity(live_db, identity)
    live_db.clock.jump_to(NOW)
    booking = _book_by_phone(live_db, invite_language="en")
    assert (booking["interpreter_language"], booking["interpreter_mode"]) == ("fse", "video")
    link, message = _invitation_link(live_db, booking["id"])
    assert (message.channel, message.recipient, message.language) == ("email", EMAIL, "en")
    assert message.context["language"] == "Finnish Sign Language"
    with httpx.Client(timeout=10) as browser:
        early = browser.get(link.replace("/sessions/interpreter/", "/api/sessions/invite/"))
        assert early.status_code == 409
        assert early.json()["reason"] == "not_yet_open"
        assert early.json()["opens_at"].startswith("2025-11-10T08:20")  # 10:20 in Helsinki
        live_db.clock.jump_to(START - timedelta(minutes=10, seconds=1))
        assert browser.get(link).status_code == 409  # a second before the window
        live_db.clock.jump_to(START - timedelta(minutes=10))
        to_provider = browser.get(link)
    assert to_provider.status_code == 302
    assert to_provider.headers["location"].startswith(identity.issuer)
    with live_db.app.state.sessionmaker() as db:
        opened = service.booking_session(db=db, booking_id=booking["id"])
        assert opened is not None and opened.slot_start == START


def test_an_interpreter_in_the_room_gets_no_invitation(live):
    live.clock.jump_to(NOW)
    with live.client() as client:
        refused = client.post("/api/bookings", headers=live.staff("tel-kela"), json={
            "site": "porvoo", "service": "kela-benefits", "start": START.isoformat(),
            "channel": "phone_service", "customer": {"name": "A. A."},
            "interpreter": {"language": "fse", "mode": "room", "email": EMAIL}})
        unknown = client.post("/api/bookings", headers=live.staff("tel-kela"), json={
            "site": "porvoo", "service": "kela-benefits", "start": START.isoformat(),
            "channel": "phone_service", "customer": {"name": "A. A."},
            "interpreter": {"language": "xx1", "mode": "video"}})
    assert refused.status_code == 422 and unknown.status_code == 422


def test_the_interpreters_email_is_forgotten_with_the_bookings_personal_data(live):
    from cloud.flows.purge import purge_personal_data

    live.clock.jump_to(NOW)
    booking = _book_by_phone(live)
    with live.app.state.sessionmaker() as db:
        purge_personal_data(db, now=START + timedelta(days=40), retention=timedelta(days=30))
        db.commit()
        kept = bookings.booking_by_id(db, booking_id=booking["id"])
        message = db.query(OutboxMessage).filter(
            OutboxMessage.template == "interpreter_invitation").one()
        assert kept.interpreter_email is None and kept.interpreter_language == "fse"
        assert message.recipient == "" and message.context == {}


def test_a_moved_visit_sends_a_new_invitation_and_the_old_link_stops(live_db, identity):
    with_identity(live_db, identity)
    live_db.clock.jump_to(NOW)
    booking = _book_by_phone(live_db, invite_language="en")
    old_link, _ = _invitation_link(live_db, booking["id"])
    later = START + timedelta(days=1)  # Tuesday, 10:30 in Helsinki
    with live_db.client() as client:
        moved = client.post(f"/api/bookings/{booking['id']}/move", headers=live_db.staff("tel-kela"),
                            json={"start": later.isoformat(), "version": booking["version"]})
    assert moved.status_code == 200, moved.text
    with live_db.app.state.sessionmaker() as db:
        first, second = db.query(OutboxMessage).filter(
            OutboxMessage.reference == f"booking:{booking['id']}",
            OutboxMessage.template == "interpreter_invitation").order_by(OutboxMessage.id).all()
    assert second.language == first.language == "en"  # as the first one went
    assert second.context["date"] != first.context["date"]  # the interpreter reads the new day
    new_link = LINK.search(second.context["link"]).group(0)
    with httpx.Client(timeout=10) as browser:
        old = browser.get(old_link.replace("/sessions/interpreter/", "/api/sessions/invite/"))
        new = browser.get(new_link.replace("/sessions/interpreter/", "/api/sessions/invite/"))
    assert old.json()["reason"] == "bad_invitation"
    assert new.status_code == 409 and new.json()["opens_at"].startswith("2025-11-11T08:20")


@pytest.fixture
def mail(live):
    """aiosmtpd as the organisation's relay and a notify worker sending the app's outbox."""
    receiver = SmtpReceiver().start()
    worker = NotifyWorker(live.app.state.sessionmaker, NotifySettings(
        smtp_host="127.0.0.1", smtp_port=receiver.port, poll_interval_s=0.1)).start()
    yield receiver
    worker.stop()
    receiver.stop()


def _book_at_the_desk(page, live) -> int:
    """The advisor books 10:30 with a Finnish Sign Language interpreter by video."""
    log_in(page, live.base, "adv-porvoo", PASSWORD, path="/console/advisor")
    form = page.locator("form[action='/console/advisor/bookings']")
    form.get_by_label("Palvelu").select_option("kela-benefits")
    form.get_by_label("Asiakkaan nimi tai nimikirjaimet").fill("A. A.")
    form.get_by_label("Tulkkaus").select_option("fse")
    form.get_by_label("Tulkki osallistuu").select_option("video")
    form.get_by_label("Videotulkin sähköposti").fill(EMAIL)
    form.get_by_label("Aika (tt:mm)").fill("10:30")
    form.get_by_role("button", name="Tee varaus").click()
    page.wait_for_url(re.compile(r"done=created"))
    return int(re.search(r"booking=(\d+)", page.url).group(1))


@pytest.mark.browser
def test_a_sign_language_interpreter_is_invited_by_email_and_joins_after_strong_login(
        chromium, live, identity, mail):
    with_identity(live, identity)
    live.clock.jump_to(NOW)
    with browser_page(chromium) as advisor:
        booking_id = _book_at_the_desk(advisor, live)
        need = advisor.locator(f"#visit-{booking_id} [data-interpreter]")
        assert need.inner_text() == "Tulkki: suomalainen viittomakieli, videolla, " \
                                    "ei vielä liittynyt"
    wait_for(lambda: mail.received, 20, "the invitation e-mail")
    (letter,) = mail.received
    assert letter.to == EMAIL and letter.subject.startswith("Tulkkauskutsu")
    assert "suomalainen viittomakieli" in letter.body and "klo 10:20" in letter.body
    link = LINK.search(letter.body).group(0)
    with browser_page(chromium) as interpreter, browser_page(chromium) as expert:
        interpreter.goto(link)
        interpreter.get_by_role("heading", name="Tapaaminen ei ole vielä auki").wait_for()
        assert "10.11.2025 klo 10:20" in interpreter.locator(".not-yet-opens").inner_text()
        checked(interpreter, "interpreter-invitation-not-yet-open")
        live.clock.jump_to(START + timedelta(minutes=1))
        identity.claims["iat"] = int(live.clock().timestamp())  # the login at the app's time
        identity.subject, identity.claims["name"] = "subject-fse", "Viittoja Tulkki"
        _guest_waits(interpreter, link)  # strong login, the affirmation, the lobby
        with live.app.state.sessionmaker() as db:
            session_id = service.booking_session(db=db, booking_id=booking_id).id
        log_in(expert, live.base, "exp-kela", PASSWORD, path=f"/sessions/{session_id}?lang=en")
        expert.get_by_role("button", name="Join the meeting").click()
        lobby = expert.locator("[data-lobby-list] li").filter(has_text="Viittoja Tulkki")
        lobby.get_by_role("button", name="Admit").click()
        expert.locator("[data-interpreter-state=joined]").wait_for(timeout=10_000)
        said = expert.locator(".session-interpreter").inner_text()
        assert "Finnish Sign Language, by video, joined" in said, said
        checked(expert, "interpreter-expert-session-joined")
        for username, path in (("adv-porvoo", "/console/advisor?lang=en"),
                               ("exp-kela", "/console/expert?lang=en")):
            with browser_page(chromium) as day:
                log_in(day, live.base, username, PASSWORD, path=path)
                need = day.locator(f"#visit-{booking_id} [data-interpreter]")
                assert need.inner_text() == \
                    "Interpreter: Finnish Sign Language, by video, joined"
                checked(day, f"interpreter-{username}-day-joined")
    with live.app.state.sessionmaker() as db:
        (guest,) = [p for p in service.participants(db=db, session_id=session_id)
                    if p.role == "third_party"]
        assert guest.interpreter and guest.assurance and guest.affirmed_at
        rows = stats.answer(db, registry=live.app.state.registry, sources=installed_sources(),
                            family="interpretation", first=NOW.date(), last=NOW.date(),
                            period="day", by=["site", "language", "mode"], now=live.clock())
    assert [(r["site"], r["language"], r["mode"], r["visits"]) for r in rows] == [
        ("porvoo", "fse", "video", 1)]
    assert figures.suppress("interpretation", rows)[0]["visits"] is None  # one: hidden
