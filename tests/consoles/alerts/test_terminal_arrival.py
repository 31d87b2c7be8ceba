"""The customer calls from the room terminal's kiosk page and the advisor's arrival is told by a
tap on the same terminal, end to end as production runs it: the kiosk's button publishes a
press, the ingest opens the call, the advisor's console rings and takes it, the terminal says
help is coming, and the advisor's "I am here" on the terminal ends the call as arrived, with
its time, when the room is occupied anyway and the sensor cannot tell."""
from __future__ import annotations

import pytest

from cloud.calls import service as calls
from cloud.sessions.service import room_token
from cloud.sessions.settings import SessionSettings
from tests.pages import browser_page, checked, staff_page

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("background")]
PASSWORD = "correct horse battery staple"  # the summon loop's advisors'
SECRET = "terminal-secret-of-the-arrival-test"


def test_a_call_from_the_kiosk_is_answered_and_the_advisors_tap_there_ends_it_as_arrived(
        chromium, cloud_env, start_replicas, sessions, staff):
    cloud_env["ETP_SESSIONS_TERMINAL_SECRET"] = SECRET
    (replica,) = start_replicas(1)
    token = room_token(SessionSettings(terminal_secret=SECRET), site="porvoo", room="r1")
    with staff_page(chromium, replica.url, "adv-porvoo-1", PASSWORD) as advisor, \
            browser_page(chromium) as kiosk:
        advisor.locator("#link-status[data-state=live]").wait_for(timeout=10_000)
        kiosk.goto(f"{replica.url}/sessions/terminal?site=porvoo&room=r1#token={token}")
        kiosk.get_by_role("button", name="Kutsu palveluneuvoja").click()
        kiosk.get_by_text("Palveluneuvoja on kutsuttu.").wait_for()
        banner = advisor.locator("#call-list li[data-reason=customer]")
        banner.wait_for(timeout=10_000)
        advisor.get_by_role("button", name="Minä menen: Porvoo-infon neuvotteluhuone").click()
        here = kiosk.get_by_role("button", name="Palveluneuvoja: olen paikalla")
        here.wait_for(timeout=15_000)  # the terminal looks every 5 s
        kiosk.get_by_text("Palveluneuvoja on tulossa.").wait_for(timeout=15_000)
        checked(kiosk, "session-terminal-advisor-coming")
        here.click()
        banner.wait_for(state="detached", timeout=10_000)
        here.wait_for(state="hidden")
    with sessions() as db:
        [call] = calls.list_calls(db=db, site="porvoo")
    assert call.clear_reason == "arrived" and call.arrived_at is not None
    assert call.acknowledged_at <= call.arrived_at
