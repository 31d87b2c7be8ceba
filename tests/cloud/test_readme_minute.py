"""The README's "minute in the demo", followed step by step as a newcomer would, in Finnish
and in Swedish, at whatever hour the suite runs (the demo's points are open round the clock):
log in as demo-advisor, the call button from the command line rings and clears, the room
terminal's address the README names calls the advisor, a session started at /sessions/new is
opened by demo-expert from the expert's console, the expert's identity request rings the
advisor, who confirms it, and the public page of the point reads without a login."""
from __future__ import annotations

import subprocess
import sys

import pytest

from cloud.texts import translate
from etapalvelu.demo import DEMO_PASSWORD
from tests.cloud.test_demo import demo_env, running_demo
from tests.pages import browser_page, checked, log_in

pytestmark = pytest.mark.browser
SECOND = 10_000  # ms: what a person waits for a live page


def cli(*args: str) -> str:
    """One of the README's commands from a second terminal, as it is written there."""
    done = subprocess.run([sys.executable, "-m", "etapalvelu.cli", *args], env=demo_env(),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_the_readmes_minute_in_the_demo_works_as_written(chromium, tmp_path, lang):
    def t(key: str, **values) -> str:
        return translate(lang, key, **values)

    with running_demo(tmp_path) as demo:
        demo.wait_rooms_online()
        base = f"http://127.0.0.1:{demo.web}"
        api = ("--api", base)
        with browser_page(chromium) as advisor, browser_page(chromium) as expert, \
                browser_page(chromium) as kiosk:
            # open /console and log in as demo-advisor: Porvoo's day, live
            log_in(advisor, base, "demo-advisor", DEMO_PASSWORD, path=f"/console?lang={lang}")
            advisor.locator("#link-status[data-state=live]").wait_for(timeout=SECOND)
            assert advisor.locator("html").get_attribute("lang") == lang  # kept through login
            assert advisor.locator("tr.visit").count() >= 1  # the demo's booked visits
            checked(advisor, f"readme-1-advisor-{lang}")
            # the call button from a second terminal rings, the long press clears it
            cli("sim", "press", "porvoo", "r1", *api)
            banner = advisor.locator("#call-list li[data-reason=customer]")
            banner.wait_for(timeout=SECOND)
            checked(advisor, f"readme-2-rung-{lang}")
            cli("sim", "cancel", "porvoo", "r1", *api)
            banner.wait_for(state="detached", timeout=SECOND)
            # the room terminal's address, as the README says to print it
            address = cli("sessions", "terminal-url", "porvoo", "r1", "--base", base)
            kiosk.goto(address.replace("/sessions/terminal?", f"/sessions/terminal?lang={lang}&"))
            kiosk.get_by_role("button", name=t("sessions.call_advisor")).click()
            kiosk.get_by_text(t("sessions.called")).wait_for(timeout=SECOND)
            banner.wait_for(timeout=SECOND)
            checked(kiosk, f"readme-3-kiosk-{lang}")
            cli("sim", "cancel", "porvoo", "r1", *api)
            banner.wait_for(state="detached", timeout=SECOND)
            # a video session: the advisor starts one at /sessions/new (a Kela service)
            advisor.goto(f"{base}/sessions/new?lang={lang}")
            advisor.get_by_label(t("sessions.start_service")).select_option("kela-benefits")
            advisor.get_by_role("button", name=t("sessions.start_button")).click()
            advisor.get_by_role("heading", name=t("sessions.title")).wait_for()
            # demo-expert opens it from the expert's console and joins
            log_in(expert, base, "demo-expert", DEMO_PASSWORD,
                   path=f"/console/expert?lang={lang}")
            started = expert.get_by_role("region", name=t("expertday.started"))
            assert expert.locator("html").get_attribute("lang") == lang
            started.get_by_role("link").first.click()
            expert.get_by_role("button", name=t("sessions.join")).click()
            checked(expert, f"readme-4-expert-{lang}")
            # the identity request rings the advisor's console; the advisor confirms it
            expert.get_by_role("button", name=t("sessions.ask_identity")).click()
            advisor.goto(f"{base}/console?lang={lang}")
            check = advisor.locator("#call-list li[data-reason=identity]")
            check.wait_for(timeout=SECOND)
            check.get_by_role("button", name=t("callalert.go")).click()  # "I'll go"
            check.get_by_role("button", name=t("callalert.confirm")).click()
            check.wait_for(state="detached", timeout=SECOND)
            expert.get_by_text(t("sessions.identity_checked", by="", time="")
                               .split("(")[0].strip()).wait_for(timeout=SECOND)
            checked(expert, f"readme-5-identity-checked-{lang}")
        # the point's public page, without a login
        with browser_page(chromium) as citizen:
            citizen.goto(f"{base}/points/porvoo?lang={lang}")
            assert ("Borgå" if lang == "sv" else "Porvoo") in citizen.get_by_role(
                "heading", level=1).inner_text()
            checked(citizen, f"readme-6-point-{lang}")
