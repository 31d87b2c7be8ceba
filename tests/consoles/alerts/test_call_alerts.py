"""The call-button alert at the advisors' consoles in a real browser, end to end with the
summon loop as production runs it: a press published at the broker (as the button does)
reaches the consoles of both Porvoo advisors, connected to two different API replicas (their
own processes), with a banner naming the room, and not Imatra's; one advisor takes it and the
other's console says who; an unanswered call alerts louder at level 2; a console whose
replica goes away says so at once, and once it is back shows the call it missed."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import paho.mqtt.client as mqtt
import pytest

from edge import messages
from tests.pages import ARTEFACTS, LAPTOP, assert_accessible, at_both_widths, checked, staff_page
from tests.servers import http_ok, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("background")]
PASSWORD = "correct horse battery staple"  # the summon loop's advisors'
ROOM = "Porvoo-infon neuvotteluhuone"
NARROW = {"width": 375, "height": 740}


def press(broker, room: str = "r1") -> None:
    """A press of Porvoo's call button as the firmware publishes it (QoS 1)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    now = int(time.time() * 1000)
    client.publish(f"etp/v1/porvoo/{room}/callbutton/event", messages.event(
        ts=now, seq=now, id=messages.new_event_id(), data={"type": "button_press"}),
        qos=1).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def live(page) -> None:
    page.locator("#link-status[data-state=live]").wait_for(timeout=10_000)


def test_a_press_alerts_both_porvoo_advisors_on_two_replicas_and_shows_who_took_it(
        chromium, start_replicas, staff, broker):
    replica_a, replica_b = start_replicas(2)
    with staff_page(chromium, replica_a.url, "adv-porvoo-1", PASSWORD) as first, \
            staff_page(chromium, replica_b.url, "adv-porvoo-2", PASSWORD) as second, \
            staff_page(chromium, replica_b.url, "adv-imatra", PASSWORD) as imatra:
        for page in (first, second, imatra):
            live(page)
        press(broker)
        for page in (first, second):
            banner = page.locator("#call-list li")
            banner.wait_for(timeout=5_000)
            assert f"Kutsu: {ROOM}, Porvoo-info" in banner.inner_text()
            page.locator("#call-announcer", has_text=f"Kutsu: {ROOM}").wait_for(
                state="attached", timeout=5_000)  # read out by a screen reader
            assert page.locator("[data-call-alerts]").get_attribute("data-rang") == "1"
        assert imatra.locator("#call-list li").count() == 0
        at_both_widths(first, "consoles-alert-fi")
        assert_accessible(first)

        first.get_by_role("button", name=f"Minä menen: {ROOM}").click()
        first.locator("#call-list .call-taken").wait_for(timeout=5_000)
        assert first.locator(".call-taken").inner_text() == "Sinä olet menossa"
        taken = second.locator("#call-list .call-taken")
        taken.wait_for(timeout=5_000)
        assert taken.inner_text() == "Aino Neuvoja on menossa"
        assert second.get_by_role("button", name=f"Minä menen: {ROOM}").count() == 0
        at_both_widths(second, "consoles-alert-taken-fi")
        assert imatra.locator("#call-list li").count() == 0


@contextmanager
def ringing_in_swedish(chromium, replica, broker):
    """A Swedish-speaking advisor's console, live, with the room's call ringing on it."""
    with staff_page(chromium, replica.url, "adv-porvoo-2", PASSWORD,
                    path="/console/advisor?lang=sv") as page:
        live(page)
        press(broker)
        page.locator("#call-list li").wait_for(timeout=5_000)
        yield page


def test_an_unanswered_call_alerts_louder_at_level_two_in_swedish(chromium, start_replicas,
                                                                  staff, broker):
    [replica] = start_replicas(1)
    with ringing_in_swedish(chromium, replica, broker) as page:
        assert "Kallelse: Borgå-infos mötesrum, Borgå-info" in page.locator(
            "#call-list").inner_text()
        page.locator("#call-list li.call-urgent").wait_for(timeout=15_000)  # second alert: 3 s
        assert "BRÅDSKANDE" in page.locator("#call-list").inner_text()
        at_both_widths(page, "consoles-alert-urgent-sv")
        assert_accessible(page)


def test_a_console_whose_replica_goes_away_says_so_and_shows_the_missed_call_when_back(
        chromium, start_replicas, staff, broker, cloud_env, tmp_path):
    [replica] = start_replicas(1)
    with staff_page(chromium, replica.url, "adv-porvoo-1", PASSWORD) as page:
        live(page)
        replica.process.send_signal(signal.SIGKILL)
        replica.process.wait(10)
        page.locator("#link-status[data-state=reconnecting]").wait_for(timeout=5_000)
        assert page.locator("#link-status").inner_text() == \
            "Yhteys katkesi, yhdistetään uudelleen…"
        at_both_widths(page, "consoles-alert-link-lost-fi")
        press(broker)  # while the console is cut off

        env = {k: v for k, v in os.environ.items() if not k.startswith("ETP_")} | cloud_env
        back = subprocess.Popen([sys.executable, "-m", "etapalvelu.cli", "cloud", "api",
                                 "--port", str(replica.port), "--name", "api-back"], env=env,
                                stdout=(tmp_path / "back.log").open("wb"),
                                stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: http_ok(f"{replica.url}/healthz"), 30, "the replica back")
            live(page)  # the browser reconnected by itself
            page.locator("#call-list li").wait_for(timeout=10_000)  # from the hello snapshot
            assert ROOM in page.locator("#call-list").inner_text()
        finally:
            page.goto("about:blank")  # the stream closes: the replica stops at once
            back.send_signal(signal.SIGTERM)
            back.wait(20)


def _wait_shown(page) -> str:
    return page.locator("#call-list .call-wait").inner_text()


def _banner_and_form(page, field: str) -> dict:
    """Scroll ``field`` of the booking form to the top as a link or focus would; where the
    banner and the field then are on screen."""
    return page.evaluate("""async field => {
        // a frame first: the banner's new size (a new width, an escalation) is measured then
        await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
        document.getElementById(field).scrollIntoView({block: "start"});
        const banner = document.querySelector("[data-call-alerts]").getBoundingClientRect();
        const input = document.getElementById(field).getBoundingClientRect();
        return {scrolled: window.scrollY, height: window.innerHeight, top: banner.top,
                bottom: banner.bottom, field: input.top, fieldBottom: input.bottom};
    }""", field)


def test_a_call_banner_counts_the_wait_and_stays_on_screen_above_the_booking_form(
        chromium, start_replicas, staff, broker):
    [replica] = start_replicas(1)
    with ringing_in_swedish(chromium, replica, broker) as page:
        first = _wait_shown(page)
        assert re.fullmatch(r"har väntat \d+ s(ek)?\.?", first), first  # the page's language
        page.wait_for_function(  # it counts on by itself, every second
            "shown => document.querySelector('#call-list .call-wait').textContent !== shown",
            arg=first, timeout=5_000)
        assert int(re.search(r"\d+", _wait_shown(page))[0]) > int(re.search(r"\d+", first)[0])

        page.locator("#call-list li.call-urgent").wait_for(timeout=15_000)  # its full size
        for viewport in (LAPTOP, NARROW):
            page.set_viewport_size(viewport)
            for field in ("create-name", "create-submit"):
                seen = _banner_and_form(page, field)
                assert seen["scrolled"] > 0, seen  # the form is below the first screen
                assert 0 <= seen["top"] < seen["bottom"] <= seen["height"], seen  # on screen
                assert seen["field"] >= seen["bottom"], seen  # not over the form's control
                assert seen["fieldBottom"] <= seen["height"], seen
            page.get_by_role("button", name=re.compile("Jag går")).wait_for()  # still usable
            page.screenshot(path=ARTEFACTS / f"consoles-alert-scrolled-{viewport['width']}.png")
        page.evaluate("window.scrollTo(0, 0)")
        checked(page, "consoles-alert-waiting-sv")
