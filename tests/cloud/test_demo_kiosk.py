"""The demo keeps production's broker grants for the cloud: the room terminal's "call the
advisor" button, which the cloud publishes as a press of the room's call button, rings the
advisor's console in ``etapalvelu demo`` as it does in production."""
from __future__ import annotations

import pytest

from cloud.sessions.service import room_token
from cloud.sessions.settings import DEVELOPMENT_TERMINAL_SECRET, SessionSettings
from etapalvelu.demo import DEMO_PASSWORD
from tests.cloud.test_demo import running_demo
from tests.pages import browser_page, checked, staff_page

pytestmark = pytest.mark.browser


def test_the_kiosks_call_button_rings_demo_advisors_console_in_the_demo(chromium, tmp_path):
    # the demo's terminals prove their room with the development secret
    token = room_token(SessionSettings(terminal_secret=DEVELOPMENT_TERMINAL_SECRET),
                       site="porvoo", room="r1")
    with running_demo(tmp_path) as demo:
        demo.wait_rooms_online()
        base = f"http://127.0.0.1:{demo.web}"
        with staff_page(chromium, base, "demo-advisor", DEMO_PASSWORD) as advisor, \
                browser_page(chromium) as kiosk:
            advisor.locator("#link-status[data-state=live]").wait_for(timeout=10_000)
            kiosk.goto(f"{base}/sessions/terminal?site=porvoo&room=r1#token={token}")
            kiosk.get_by_role("button", name="Kutsu palveluneuvoja").click()
            kiosk.get_by_text("Palveluneuvoja on kutsuttu.").wait_for()
            checked(kiosk, "demo-kiosk-called")
            banner = advisor.locator("#call-list li[data-reason=customer]")
            banner.wait_for(timeout=10_000)
            assert "Porvoo" in banner.inner_text()
            checked(advisor, "demo-advisor-rung-by-the-kiosk")
