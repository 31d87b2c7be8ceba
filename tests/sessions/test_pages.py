"""The session pages in Chromium with fake media devices: the expert's view receives the room
terminal's camera and document camera; the room terminal's kiosk page asks the five-face
question at the end and stores the answer; the third party's affirmation page; axe-core finds
nothing serious on any of them, in Finnish, Swedish and English; screenshots at both widths."""
from __future__ import annotations

import asyncio
import re
import threading

import pytest
from aiortc.mediastreams import AudioStreamTrack

from cloud.bookings import service as bookings
from cloud.sessions import service
from cloud.sessions.peer import GeneratedVideo, SessionPeer
from cloud.sessions.service import room_token
from etapalvelu.demo_terminal import SimulatedTerminals
from tests.accounts.conftest import PASSWORD
from tests.pages import browser_page, checked, log_in

pytestmark = pytest.mark.browser
PLAYING = """selector => { const v = document.querySelector(selector);
  return v && v.videoWidth > 0 && v.currentTime > 0.5; }"""


def test_the_expert_in_a_browser_receives_the_terminals_camera_and_document_camera(chromium,
                                                                                 live):
    terminals = SimulatedTerminals(live.base, [("porvoo", "r1")], settings=live.settings,
                                   period_s=0.2).start()
    try:
        session = live.open_walk_in()
        with browser_page(chromium) as page:
            log_in(page, live.base, "exp-kela", PASSWORD, path=f"/sessions/{session['id']}")
            checked(page, "session-expert-before-join")
            page.get_by_role("button", name="Liity tapaamiseen").click()
            page.wait_for_function(PLAYING, arg="[data-main-video]", timeout=20000)
            page.wait_for_function(PLAYING, arg="[data-side-video]", timeout=20000)
            main, side = page.evaluate("""() => [...document.querySelectorAll(
                '[data-main-video], [data-side-video]')].map(v => v.srcObject.id)""")
            assert main != side  # two pictures: the camera and the document camera
            page.get_by_role("button", name="Vaihda pääkuva").click()
            assert page.get_by_text("Dokumenttikamera").first.is_visible()
            checked(page, "session-expert")
            page.get_by_role("button", name="Päätä tapaaminen").click()
            page.get_by_role("button", name="Kyllä, päätä tapaaminen").click()
            page.get_by_role("heading", name="Lyhyt palaute tapaamisesta").wait_for()
            checked(page, "session-expert-feedback")
            page.get_by_label("4").check()
            page.locator("input[name=media_ok][value=yes]").check()
            page.get_by_role("button", name="Lähetä").click()
            page.get_by_text("Kiitos palautteesta!").wait_for()
    finally:
        terminals.stop()
    with live.app.state.sessionmaker() as db:
        (answer,) = service.feedback_between(db=db, start=service.get(
            db=db, session_id=session["id"]).created_at, end=live.clock() + _MINUTE)
    assert (answer.giver, answer.score, answer.media_ok) == ("expert", 4, True)


TRACK_OF = """selector => { const v = document.querySelector(selector);
  return v && v.srcObject && v.srcObject.getVideoTracks().map(t => t.id).join(); }"""
NEW_TRACK_PLAYING = """([selector, old]) => { const v = document.querySelector(selector);
  const ids = v && v.srcObject ? v.srcObject.getVideoTracks().map(t => t.id).join() : "";
  return ids && ids !== old && v.videoWidth > 0 && !v.paused; }"""


def test_the_experts_view_comes_back_by_itself_when_its_signalling_link_drops(chromium, live):
    terminals = SimulatedTerminals(live.base, [("porvoo", "r1")], settings=live.settings,
                                   period_s=0.2).start()
    sockets = []  # the page's signalling sockets, each routed through to the server

    def route(ws) -> None:
        sockets.append((ws, ws.connect_to_server()))
    try:
        session = live.open_walk_in()
        with browser_page(chromium) as page:
            page.route_web_socket("**/signal", route)
            log_in(page, live.base, "exp-kela", PASSWORD, path=f"/sessions/{session['id']}")
            page.get_by_role("button", name="Liity tapaamiseen").click()
            page.wait_for_function(PLAYING, arg="[data-main-video]", timeout=20000)
            before = page.evaluate(TRACK_OF, "[data-main-video]")
            page_side, server_side = sockets[0]
            server_side.close(code=1012)  # the replica restarts (or the link blips)
            page_side.close(code=1012)
            page.get_by_role("status").get_by_text("yhdistetään uudelleen").wait_for()
            page.wait_for_function(NEW_TRACK_PLAYING, arg=["[data-main-video]", before],
                                   timeout=30000)
            assert len(sockets) == 2
    finally:
        terminals.stop()
    with live.app.state.sessionmaker() as db:
        kinds = [(e.kind, e.role) for e in service.events_of(db=db, session_id=session["id"])]
    assert ("reconnecting", "expert") in kinds and ("reconnected", "expert") in kinds
    assert ("left", "expert") not in kinds


def test_the_expert_asks_the_advisor_to_check_the_identity_and_sees_it_checked(chromium, live):
    terminals = SimulatedTerminals(live.base, [("porvoo", "r1")], settings=live.settings,
                                   period_s=0.2).start()
    try:
        session = live.open_walk_in()
        with browser_page(chromium) as expert, browser_page(chromium) as advisor:
            # the advisor works in Swedish, the expert in Finnish
            log_in(advisor, live.base, "adv-porvoo", PASSWORD, path="/console/advisor?lang=sv")
            advisor.locator("#link-status[data-state=live]").wait_for(timeout=10_000)
            log_in(expert, live.base, "exp-kela", PASSWORD, path=f"/sessions/{session['id']}")
            expert.get_by_role("button", name="Liity tapaamiseen").click()
            expert.wait_for_function(PLAYING, arg="[data-main-video]", timeout=20000)

            expert.get_by_role("button", name="Pyydä neuvojaa tarkistamaan henkilöllisyys").click()
            expert.get_by_text("Pyyntö lähetetty palveluneuvojalle").wait_for()
            banner = advisor.locator("#call-list li[data-reason=identity]")
            banner.wait_for(timeout=10_000)
            assert banner.inner_text().startswith("Identitetskontroll: ")
            assert "kontrollera kundens identitet" in banner.inner_text()
            advisor.get_by_role("button", name=re.compile("^Jag går: ")).click()
            expert.get_by_text("adv-porvoo on tulossa huoneeseen").wait_for(timeout=10_000)
            checked(advisor, "consoles-identity-check")
            checked(expert, "session-expert-identity-coming")

            advisor.get_by_role("button", name=re.compile("^Identiteten är kontrollerad: ")).click()
            banner.wait_for(state="detached", timeout=10_000)
            expert.get_by_text(re.compile(r"Henkilöllisyys tarkistettu \(adv-porvoo, klo "
                                          r"\d\d\.\d\d\)")).wait_for(timeout=10_000)
            checked(expert, "session-expert-identity-checked")
    finally:
        terminals.stop()
    with live.app.state.sessionmaker() as db:
        kinds = [(e.kind, e.role) for e in service.events_of(db=db, session_id=session["id"])]
    assert ("advisor_asked", "advisor") in kinds and ("identity_checked", "advisor") in kinds


def test_the_advisors_day_shows_a_missing_terminal_then_the_visit_in_session(chromium, live):
    from tests.sessions.test_api import _booking

    booking_id = _booking(live)  # half an hour ahead, on a Monday morning
    with live.client() as client:
        opened = client.post("/api/sessions", json={"booking_id": booking_id},
                             headers=live.staff("adv-porvoo"))
        assert opened.status_code == 201, opened.text
    with live.app.state.sessionmaker() as db:
        start = bookings.booking_by_id(db, booking_id=booking_id).start
    live.clock.jump_to(start + _MINUTE * 2)  # the slot has begun; no terminal has joined
    with browser_page(chromium) as advisor, browser_page(chromium) as expert:
        log_in(advisor, live.base, "adv-porvoo", PASSWORD, path="/console/advisor")
        row = advisor.locator(f"#visit-{booking_id}")
        assert row.get_attribute("data-status") == "due"
        assert "Asiakaspääte ei ole liittynyt" in row.inner_text()
        checked(advisor, "consoles-terminal-missing")
        terminals = SimulatedTerminals(live.base, [("porvoo", "r1")], settings=live.settings,
                                       period_s=0.2).start()
        try:
            log_in(expert, live.base, "exp-kela", PASSWORD,
                   path=f"/sessions/{opened.json()['id']}")
            expert.get_by_role("button", name="Liity tapaamiseen").click()
            expert.wait_for_function(PLAYING, arg="[data-main-video]", timeout=20000)
            advisor.reload()
            assert row.get_attribute("data-status") == "in_session"
            assert "Istunnossa" in row.inner_text()
            assert row.locator("[data-terminal-missing]").count() == 0
        finally:
            terminals.stop()


def _expert_ends_when_the_room_is_seen(live, session_id: int, may_end: threading.Event,
                                       done: threading.Event) -> None:
    async def run() -> None:
        expert = SessionPeer(live.ws, session_id, live.join_staff(session_id)["credential"],
                             tracks=[GeneratedVideo(shade=30), AudioStreamTrack()])
        await expert.join()
        await expert.wait_until(lambda: any(v > 10 for (_, kind), v in expert.frames.items()
                                            if kind.startswith("video")), timeout=30)
        await asyncio.to_thread(may_end.wait, 30)
        await expert.send({"type": "end"})
        await expert.wait_for(lambda m: m["type"] == "closed")
        await expert.close()
        done.set()
    asyncio.run(run())


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_terminal_page_asks_the_five_faces_at_the_end_and_stores_the_answer(chromium,
                                                                              live, lang):
    token = room_token(live.settings, site="porvoo", room="r1")
    with browser_page(chromium) as page:
        page.goto(f"{live.base}/sessions/terminal?site=porvoo&room=r1&lang={lang}#token={token}")
        page.locator("[data-next-visit]").filter(has_text=" ").wait_for()
        checked(page, f"session-terminal-waiting-{lang}")
        session = live.open_walk_in()
        may_end, done = threading.Event(), threading.Event()
        expert = threading.Thread(target=_expert_ends_when_the_room_is_seen,
                                  args=(live, session["id"], may_end, done), daemon=True)
        expert.start()
        page.locator("[data-screen=session]").wait_for(timeout=20000)
        page.wait_for_function(PLAYING, arg="[data-remote-video]", timeout=20000)
        checked(page, f"session-terminal-session-{lang}")
        may_end.set()
        page.locator("[data-screen=feedback]").wait_for(timeout=30000)
        assert done.wait(10)
        checked(page, f"session-terminal-feedback-{lang}")
        faces = page.locator("[data-face]")
        assert faces.count() == 5
        box = faces.first.bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44  # WCAG 2.5.5 target size
        faces.nth(4).click()
        page.locator("[data-screen=thanks]").wait_for()
    with live.app.state.sessionmaker() as db:
        answers = service.feedback_between(db=db, start=session_start(live, session["id"]),
                                           end=live.clock() + _MINUTE)
    assert [(a.giver, a.score, a.site) for a in answers] == [("customer", 5, "porvoo")]


def session_start(live, session_id: int):
    """When the session was opened."""
    with live.app.state.sessionmaker() as db:
        return service.get(db=db, session_id=session_id).created_at


_MINUTE = __import__("datetime").timedelta(minutes=1)


def _expert_admits_the_waiting(live, session_id: int, admitted: threading.Event,
                               stop: threading.Event) -> None:
    async def run() -> None:
        expert = SessionPeer(live.ws, session_id, live.join_staff(session_id)["credential"])
        await expert.join()
        # the guest may reach the lobby before the expert's socket is up: then the welcome
        # names it instead of a "waiting" event
        message = await expert.wait_for(_names_the_waiting, timeout=60)
        waiting = message["lobby"][0] if message["type"] == "welcome" else message["peer"]
        await expert.send({"type": "admit", "participant": waiting["id"]})
        admitted.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await expert.close()
    asyncio.run(run())


def _names_the_waiting(message: dict) -> bool:
    return (message["type"] == "welcome" and bool(message["lobby"])) or (
        message["type"] == "peer" and message["event"] == "waiting")


def test_a_third_party_authenticates_affirms_waits_and_once_admitted_sees_the_room(
        chromium, live, identity):
    from tests.sessions.conftest import with_identity

    with_identity(live, identity)
    terminals = SimulatedTerminals(live.base, [("porvoo", "r1")], settings=live.settings,
                                   period_s=0.2).start()
    admitted, stop = threading.Event(), threading.Event()
    try:
        session = live.open_walk_in()
        with live.client() as client:
            link = client.post(f"/api/sessions/{session['id']}/invitations",
                               headers=live.staff("exp-kela")).json()["url"]
        expert = threading.Thread(target=_expert_admits_the_waiting,
                                  args=(live, session["id"], admitted, stop), daemon=True)
        expert.start()
        with browser_page(chromium) as page:
            page.goto(link)  # the provider approves at once and sends the browser back
            page.get_by_role("heading", name="Vahvista luottamuksellisuus").wait_for()
            assert page.get_by_text("Tulkki Testinen").is_visible()
            checked(page, "session-third-party-affirm")
            page.get_by_label("Vakuutan olevani paikassa").check()
            page.get_by_role("button", name="Siirry odotushuoneeseen").click()
            page.get_by_role("button", name="Liity tapaamiseen").click()
            assert admitted.wait(60)
            page.wait_for_function(PLAYING, arg="[data-main-video]", timeout=20000)
            checked(page, "session-third-party")
    finally:
        stop.set()
        terminals.stop()
    (guest,) = [p for p in _participants(live, session["id"]) if p.role == "third_party"]
    assert (guest.state, guest.shown_name) == ("admitted", "Tulkki Testinen")


def _participants(live, session_id: int) -> list:
    with live.app.state.sessionmaker() as db:
        return service.participants(db=db, session_id=session_id)


def test_an_advisor_starts_a_session_in_a_room_from_the_page(chromium, live):
    with browser_page(chromium) as page:
        log_in(page, live.base, "adv-porvoo", PASSWORD, path="/sessions/new")
        checked(page, "session-start")
        page.get_by_label("Palvelu").select_option("kela-benefits")
        page.get_by_role("button", name="Aloita tapaaminen").click()
        page.get_by_role("heading", name="Videotapaaminen").wait_for()
        checked(page, "session-started")
    with live.app.state.sessionmaker() as db:
        started = service.current_session(db=db, settings=live.settings, site="porvoo",
                                          room="r1", now=live.clock())
    assert (started.authority, started.service, started.created_by) == (
        "kela", "kela-benefits", "adv-porvoo")
