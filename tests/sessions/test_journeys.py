"""The people's journeys through the session pages in Chromium: a third party is one
participant however often they log in, the affirmation counts once, the expert's lobby holds
only the undecided on every expert page and a denial reaches only the denied and the experts;
the expert's page shows the visit and the room terminal and asks before it ends the meeting,
the warning names the configured minutes, a session an advisor starts reaches the expert's
day, and ``/sessions/new`` offers only what the person may open."""
from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import httpx
import pytest

from cloud.accounts import service as accounts
from cloud.bookings import service as bookings
from cloud.sessions import service
from cloud.sessions.peer import SessionPeer
from cloud.sessions.thirdparty import PENDING_COOKIE
from etapalvelu.demo_terminal import SimulatedTerminals
from tests.accounts.conftest import PASSWORD
from tests.pages import browser_page, checked, log_in
from tests.sessions.conftest import with_identity
from tests.sessions.test_api import _booking
from tests.sessions.test_pages import _expert_admits_the_waiting

pytestmark = pytest.mark.browser
JOIN, ADMIT, DENY = "Liity tapaamiseen", "Päästä sisään", "Älä päästä"


def _invitation(live, session_id: int) -> str:
    with live.client() as client:
        answer = client.post(f"/api/sessions/{session_id}/invitations",
                             headers=live.staff("exp-kela"))
    assert answer.status_code == 201, answer.text
    return answer.json()["url"]


def _third_parties(live, session_id: int) -> list:
    with live.app.state.sessionmaker() as db:
        return [p for p in service.participants(db=db, session_id=session_id)
                if p.role == "third_party"]


def _guest_waits(page, link: str) -> None:
    """Log in through the invitation, affirm and join the lobby, as the person does."""
    page.goto(link)  # the provider approves at once and sends the browser back
    page.get_by_label("Vakuutan olevani paikassa").check()
    page.get_by_role("button", name="Siirry odotushuoneeseen").click()
    page.get_by_role("button", name=JOIN).click()
    page.get_by_text("Odota – asiantuntija päästää sinut tapaamiseen.").wait_for()


def test_a_repeat_login_of_the_same_person_takes_the_place_of_the_first_and_tells_its_page(
        chromium, live, identity):
    with_identity(live, identity)
    session = live.open_walk_in()
    admitted, stop = threading.Event(), threading.Event()
    expert = threading.Thread(target=_expert_admits_the_waiting,
                              args=(live, session["id"], admitted, stop), daemon=True)
    expert.start()
    try:
        with browser_page(chromium) as first, browser_page(chromium) as second:
            first.goto(_invitation(live, session["id"]))
            first.get_by_label("Vakuutan olevani paikassa").check()
            first.get_by_role("button", name="Siirry odotushuoneeseen").click()
            first.get_by_role("button", name=JOIN).click()
            assert admitted.wait(60)
            first.get_by_role("status").get_by_text("Yhdistetty").wait_for()
            # the same person again, on another device, through the same invitation
            second.goto(_invitation(live, session["id"]))
            second.get_by_label("Vakuutan olevani paikassa").check()
            second.get_by_role("button", name="Siirry odotushuoneeseen").click()
            first.get_by_text("Tapaaminen avattiin toisessa ikkunassa tai laitteessa").wait_for(
                timeout=10_000)
            checked(first, "session-third-party-replaced")
            second.get_by_role("button", name=JOIN).click()
            second.get_by_role("status").get_by_text("Yhdistetty").wait_for(timeout=10_000)
    finally:
        stop.set()
    (guest,) = _third_parties(live, session["id"])  # one person, one participant
    assert guest.state == "admitted"


def test_the_affirmation_of_one_login_is_taken_once(live, identity):
    with_identity(live, identity)
    session = live.open_walk_in()
    with httpx.Client(timeout=10) as browser:
        to_provider = browser.get(_invitation(live, session["id"]))
        back = browser.get(to_provider.headers["location"])
        callback = browser.get(back.headers["location"])
        assert callback.status_code == 303
        pending = browser.cookies[PENDING_COOKIE]
        form = {"affirmed": "yes"}
        first = browser.post(f"{live.base}/sessions/invite/affirm", data=form)
        assert first.status_code == 200
        browser.cookies.set(PENDING_COOKIE, pending)  # the same signed cookie, sent again
        again = [browser.post(f"{live.base}/sessions/invite/affirm", data=form,
                              headers={"accept": "text/html"}) for _ in range(3)]
    assert [a.status_code for a in again] == [403] * 3
    assert "Tätä tunnistautumista on jo käytetty" in again[0].text
    assert len(_third_parties(live, session["id"])) == 1


def _listen(live, session_id: int, messages: list, ready: threading.Event,
            stop: threading.Event) -> None:
    """The room terminal in the session, keeping every message it hears."""
    async def run() -> None:
        credential = live.join_terminal(session_id).json()["credential"]
        terminal = SessionPeer(live.ws, session_id, credential)
        await terminal.join()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        messages.extend(terminal.messages)
        await terminal.close()
    asyncio.run(run())


def _second_expert(live) -> None:
    with live.app.state.sessionmaker() as db:
        accounts.create_staff(db, live.app.state.registry, username="exp-kela-2",
                              display_name="exp-kela-2", role="expert", organisation="kela",
                              password=PASSWORD, now=live.clock())
        db.commit()


def test_the_lobby_holds_only_the_undecided_on_every_expert_page_and_a_denial_stays_private(
        chromium, live, identity):
    with_identity(live, identity)
    _second_expert(live)
    session = live.open_walk_in()
    heard, ready, stop = [], threading.Event(), threading.Event()
    terminal = threading.Thread(target=_listen, args=(live, session["id"], heard, ready, stop),
                                daemon=True)
    terminal.start()
    assert ready.wait(20)
    link = _invitation(live, session["id"])
    path = f"/sessions/{session['id']}"
    with browser_page(chromium) as deciding, browser_page(chromium) as other, \
            browser_page(chromium) as welcome, browser_page(chromium) as turned_away:
        for page, who in ((deciding, "exp-kela"), (other, "exp-kela-2")):
            log_in(page, live.base, who, PASSWORD, path=path)
            page.get_by_role("button", name=JOIN).click()
            page.get_by_role("status").get_by_text("Yhdistetty").first.wait_for()
        identity.subject, identity.claims["name"] = "subject-1", "Tulkki Testinen"
        _guest_waits(welcome, link)
        identity.subject, identity.claims["name"] = "subject-2", "Avustaja Esimerkki"
        _guest_waits(turned_away, link)
        for page in (deciding, other):
            page.locator("[data-lobby-list] li").nth(1).wait_for(timeout=10_000)
        lobby = deciding.locator("[data-lobby-list] li")
        lobby.filter(has_text="Tulkki Testinen").get_by_role("button", name=ADMIT).click()
        lobby.filter(has_text="Avustaja Esimerkki").get_by_role("button", name=DENY).click()
        turned_away.get_by_text("Et päässyt tapaamiseen.").wait_for(timeout=10_000)
        for page in (deciding, other):
            page.locator("[data-lobby]").wait_for(state="hidden", timeout=10_000)
            assert page.locator("[data-lobby-list] li").count() == 0
        checked(deciding, "session-expert-lobby-decided")
    stop.set()
    terminal.join(20)
    assert heard and not any("Avustaja Esimerkki" in str(m) for m in heard)
    assert any(m.get("event") == "admitted" and m["peer"]["name"] == "Tulkki Testinen"
               for m in heard)
    denied = [p for p in _third_parties(live, session["id"]) if p.state == "denied"]
    assert [(p.shown_name, p.connected) for p in denied] == [("Avustaja Esimerkki", False)]


VISIT = {"fi": {"service": "Kelan etuusasiat", "site": "Porvoo-info", "not_yet": "ei vielä liittynyt",
                "joined": "liittynyt", "end": "Päätä tapaaminen",
                "ask": "Päätetäänkö tapaaminen?", "cancel": "Peruuta",
                "yes": "Kyllä, päätä tapaaminen", "join": "Liity tapaamiseen",
                "feedback": "Lyhyt palaute tapaamisesta"},
         "sv": {"service": "FPA:s förmånsärenden", "site": "Borgå-info", "not_yet": "inte ansluten ännu",
                "joined": "ansluten", "end": "Avsluta mötet", "ask": "Ska mötet avslutas?",
                "cancel": "Avbryt", "yes": "Ja, avsluta mötet", "join": "Gå med i mötet",
                "feedback": "Kort respons om mötet"}}


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_experts_page_shows_the_visit_and_the_room_terminal_and_asks_before_ending(
        chromium, live, lang):
    words = VISIT[lang]
    booking_id = _booking(live)  # kela-benefits in Porvoo r1 for "A. A."
    with live.client() as client:
        opened = client.post("/api/sessions", json={"booking_id": booking_id},
                             headers=live.staff("adv-porvoo"))
    with live.app.state.sessionmaker() as db:
        booking = bookings.booking_by_id(db, booking_id=booking_id)
    live.clock.jump_to(booking.start + timedelta(minutes=2))
    session_id = opened.json()["id"]
    with browser_page(chromium) as page:
        log_in(page, live.base, "exp-kela", PASSWORD, path=f"/sessions/{session_id}?lang={lang}")
        facts = page.locator(".session-visit")
        text = facts.inner_text()
        for fact in ("10:30–11:00", words["service"],
                     "A. A.", words["site"], words["not_yet"]):
            assert fact in text, (fact, text)
        checked(page, f"session-expert-visit-{lang}")
        terminals = SimulatedTerminals(live.base, [("porvoo", "r1")], settings=live.settings,
                                       period_s=0.2).start()
        try:
            page.get_by_role("button", name=words["join"]).click()
            page.locator("[data-terminal-state=joined]").wait_for(timeout=20_000)
            assert facts.get_by_text(words["joined"], exact=True).is_visible()
            page.get_by_role("button", name=words["end"], exact=True).click()
            dialog = page.get_by_role("dialog", name=words["ask"])
            dialog.wait_for()
            checked(page, f"session-expert-end-confirm-{lang}")
            dialog.get_by_role("button", name=words["cancel"]).click()
            dialog.wait_for(state="hidden")
            with live.app.state.sessionmaker() as db:
                assert service.get(db=db, session_id=session_id).ended_at is None
            page.get_by_role("button", name=words["end"], exact=True).click()
            dialog.get_by_role("button", name=words["yes"]).click()
            page.get_by_role("heading", name=words["feedback"]).wait_for(timeout=10_000)
        finally:
            terminals.stop()
    with live.app.state.sessionmaker() as db:
        assert service.get(db=db, session_id=session_id).ended_by == "expert"


def test_the_warning_names_the_configured_minutes(chromium, live):
    live.app.state.session_settings = live.settings = live.settings.model_copy(
        update={"warning_minutes": 7})
    session = live.open_walk_in(minutes=30)  # ends 30 + 10 (grace) minutes from now
    with browser_page(chromium) as page:
        log_in(page, live.base, "exp-kela", PASSWORD, path=f"/sessions/{session['id']}")
        page.get_by_role("button", name=JOIN).click()
        page.get_by_role("status").get_by_text("Yhdistetty").first.wait_for()
        live.clock.jump_to(live.clock() + timedelta(minutes=34))
        page.get_by_text("Tapaaminen päättyy 7 min kuluttua.").wait_for(timeout=10_000)


def test_a_session_an_advisor_starts_shows_in_the_experts_day(chromium, live):
    with browser_page(chromium) as advisor:
        log_in(advisor, live.base, "adv-porvoo", PASSWORD, path="/sessions/new")
        advisor.get_by_label("Palvelu").select_option("kela-benefits")
        advisor.get_by_role("button", name="Aloita tapaaminen").click()
        advisor.get_by_role("heading", name="Videotapaaminen").wait_for()
    with browser_page(chromium) as expert:
        log_in(expert, live.base, "exp-kela", PASSWORD, path="/console/expert")
        started = expert.get_by_role("region", name="Huoneessa aloitetut tapaamiset")
        row = started.get_by_role("row").filter(has_text="adv-porvoo")
        assert "Kelan etuusasiat" in row.inner_text() and "Porvoo-info" in row.inner_text()
        checked(expert, "consoles-expert-started-session")
        row.get_by_role("link", name="Avaa istunto").click()
        expert.get_by_role("button", name=JOIN).wait_for()


def test_the_start_page_offers_only_what_the_person_may_open_with_a_fitting_one_chosen(
        chromium, live):
    booking_id = _booking(live)  # kela-benefits in Porvoo r1, due in half an hour
    with browser_page(chromium) as page:
        log_in(page, live.base, "exp-vero", PASSWORD, path="/sessions/new")
        offered = page.locator("#service option").evaluate_all("os => os.map(o => o.value)")
        assert offered and all(s.startswith("vero") for s in offered), offered
        assert page.locator("#service").input_value().startswith("vero")
    with browser_page(chromium) as page:
        log_in(page, live.base, "adv-porvoo", PASSWORD, path="/sessions/new")
        assert page.locator("#service").input_value() == "kela-benefits"
        assert page.locator("#room").input_value() == "porvoo/r1"
        checked(page, "session-start-fitting")
    with live.app.state.sessionmaker() as db:
        bookings.cancel_booking(db, booking=bookings.booking_by_id(db, booking_id=booking_id),
                                reason="test", actor="adv-porvoo", now=live.clock())
        db.commit()
    with browser_page(chromium) as page:
        log_in(page, live.base, "adv-porvoo", PASSWORD, path="/sessions/new")
        assert page.locator("#service").input_value() == ""  # the advisor chooses
