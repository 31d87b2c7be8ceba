"""The room terminal's kiosk page as a citizen who has never used a touchscreen walks it, in
Chromium with fake media: call the advisor, the session (the expert's tile says what is
happening until the expert's picture comes), the end, the five faces left unanswered giving
way to the waiting screen, and the next session joined; "call the advisor" in sight without
scrolling on a landscape 1366x800 and a portrait 1080x1920 screen; the language switch keeping
the room's token and the faces; no link to the staff's pages."""
from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import urlparse

import pytest

from cloud.sessions import service
from cloud.sessions.service import room_token
from cloud.texts import translate
from etapalvelu.localservers import wait_for
from tests.pages import ARTEFACTS, browser_page, checked
from tests.sessions.conftest import make_live
from tests.sessions.test_call_button import listen_to_events
from tests.sessions.test_pages import PLAYING, _expert_ends_when_the_room_is_seen

pytestmark = pytest.mark.browser
LANDSCAPE, PORTRAIT = {"width": 1366, "height": 800}, {"width": 1080, "height": 1920}
FEEDBACK_S = 8  # the faces' time in these tests (60 s in service): long enough for axe


@pytest.fixture
def kiosk_live(sqlite_url, broker):
    """The app on SQLite with the faces' time short."""
    served, stop = make_live(sqlite_url, broker, feedback_s=FEEDBACK_S)
    yield served
    stop()


def kiosk_url(live, lang: str = "fi") -> str:
    """The kiosk's address for Porvoo's room r1, its token in the fragment."""
    token = room_token(live.settings, site="porvoo", room="r1")
    return f"{live.base}/sessions/terminal?site=porvoo&room=r1&lang={lang}#token={token}"


def call_button_in_sight(page, name: str) -> None:
    """At a landscape and a portrait kiosk's size, "call the advisor" is on the screen without
    scrolling; a screenshot of what the citizen sees at each."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("landscape", LANDSCAPE), ("portrait", PORTRAIT)):
        page.set_viewport_size(size)
        page.evaluate("window.scrollTo(0, 0)")
        box = page.locator("[data-call]").bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= size["height"], (label, box)
        page.screenshot(path=ARTEFACTS / f"{name}-{label}.png")
    page.set_viewport_size(LANDSCAPE)


def staff_links(page) -> list[str]:
    """The page's links that lead to the staff's pages."""
    paths = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    return [p for p in paths if urlparse(p).path.startswith(("/console", "/login"))]


def terminal_connected(live, session_id: int) -> bool:
    """Whether the room terminal is in the session now."""
    with live.app.state.sessionmaker() as db:
        return any(p.role == "terminal" and p.connected
                   for p in service.participants(db=db, session_id=session_id))


def expert_ends_when_told(live, session_id: int) -> threading.Event:
    """An expert's peer that joins, waits for the room's picture, and ends the session once
    the returned event is set."""
    may_end, done = threading.Event(), threading.Event()
    threading.Thread(target=_expert_ends_when_the_room_is_seen,
                     args=(live, session_id, may_end, done), daemon=True).start()
    return may_end


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_a_whole_visit_on_the_kiosk_ends_on_the_waiting_screen_and_the_next_session_joins(
        chromium, kiosk_live, broker, lang):
    live, say = kiosk_live, lambda key: translate(lang, f"sessions.{key}")
    listener, presses = listen_to_events(broker)
    try:
        with browser_page(chromium, viewport=LANDSCAPE) as page:
            page.goto(kiosk_url(live, lang))
            page.locator("[data-next-visit]").filter(has_text=" ").wait_for()
            assert staff_links(page) == []
            checked(page, f"kiosk-waiting-{lang}")

            page.get_by_role("button", name=say("call_advisor")).click()
            page.get_by_text(say("called")).wait_for()
            assert presses.get(timeout=10).topic == "etp/v1/porvoo/r1/callbutton/event"

            first = live.open_walk_in()
            page.locator("[data-screen=session]").wait_for(timeout=20000)
            page.get_by_text(say("expert_joins_soon")).wait_for()
            call_button_in_sight(page, f"kiosk-expert-soon-{lang}")
            may_end = expert_ends_when_told(live, first["id"])
            page.wait_for_function(PLAYING, arg="[data-remote-video]", timeout=20000)
            page.locator("[data-tile-note]").wait_for(state="hidden")
            call_button_in_sight(page, f"kiosk-session-{lang}")
            checked(page, f"kiosk-session-{lang}")

            may_end.set()
            page.get_by_role("heading", name=say("feedback_question")).wait_for(timeout=30000)
            checked(page, f"kiosk-feedback-{lang}")
            # nobody answers: the faces give way to the waiting screen by themselves
            page.get_by_role("heading", name=say("welcome")).wait_for(timeout=FEEDBACK_S * 3000)

            second = live.open_walk_in()
            page.locator("[data-screen=session]").wait_for(timeout=20000)
            wait_for(lambda: terminal_connected(live, second["id"]), 20, "the next session")
            assert staff_links(page) == []
    finally:
        listener.loop_stop()
    with live.app.state.sessionmaker() as db:
        assert service.get(db=db, session_id=first["id"]).ended_at is not None


def test_the_language_switch_keeps_the_rooms_token_and_the_faces(chromium, kiosk_live):
    live = kiosk_live
    live.app.state.session_settings = live.settings = live.settings.model_copy(
        update={"feedback_s": 60})
    with browser_page(chromium, viewport=LANDSCAPE) as page:
        page.goto(kiosk_url(live, "fi"))
        page.locator("[data-next-visit]").filter(has_text=" ").wait_for()
        session = live.open_walk_in()
        may_end = expert_ends_when_told(live, session["id"])
        page.wait_for_function(PLAYING, arg="[data-remote-video]", timeout=20000)
        may_end.set()
        page.get_by_role("heading", name="Miten asiointi onnistui?").wait_for(timeout=30000)

        page.get_by_role("link", name="På svenska").click()
        page.get_by_role("heading", name="Hur gick ärendet?").wait_for()
        assert "#token=" in page.url
        # the room's token came along: the service answers ("no connection" without it)
        page.wait_for_function("""() => document.querySelector('[data-next-visit]')
            .textContent === 'Inga bokade tider just nu.'""")
        assert staff_links(page) == []
        checked(page, "kiosk-feedback-after-switch")
        page.get_by_role("button", name="Mycket bra").click()
        page.get_by_role("heading", name="Tack för responsen!").wait_for()
    with live.app.state.sessionmaker() as db:
        answers = service.feedback_between(db=db, start=session_start(db, session["id"]),
                                           end=live.clock() + timedelta(minutes=1))
    assert [(a.giver, a.score) for a in answers] == [("customer", 5)]


def test_the_kiosks_masthead_leads_nowhere_near_the_staffs_pages(chromium, kiosk_live):
    with browser_page(chromium, viewport=PORTRAIT) as page:
        page.goto(kiosk_url(kiosk_live, "en"))
        page.locator("[data-next-visit]").filter(has_text=" ").wait_for()
        assert staff_links(page) == []
        assert page.locator(".wordmark").inner_text().strip() != ""  # the brand stays
        page.goto(f"{kiosk_live.base}/login")  # a staff page keeps its link to the console
        assert page.locator("a.wordmark").get_attribute("href") == "/console"


def session_start(db, session_id: int):
    """When the session was opened."""
    return service.get(db=db, session_id=session_id).created_at

