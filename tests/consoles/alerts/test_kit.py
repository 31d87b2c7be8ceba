"""The front-end kit (cloud/web/static/kit.js) in a real browser against API replicas as
production runs them: the one live indicator's watchdog (a frozen replica's stream falls
silent: "reconnecting", then "live" once it answers again), a refused request told in the
page's language, and the fleet status page in Finnish, Swedish and English kept current by
the live stream instead of polling."""
from __future__ import annotations

import signal
import time

import httpx
import paho.mqtt.client as mqtt
import pytest

from edge import messages
from tests.consoles.alerts.test_call_alerts import PASSWORD, ROOM, live, ringing_in_swedish
from tests.pages import LAPTOP, assert_accessible, staff_page

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("background")]
NARROW = {"width": 375, "height": 740}


def publish_health(broker, device: str, state: str, code: str | None = None) -> None:
    """A device's health as the room agent publishes it (retained, QoS 1)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    now = int(time.time() * 1000)
    client.publish(f"etp/v1/porvoo/r1/{device}/health",
                   messages.health(ts=now, seq=now, state=state, code=code), qos=1,
                   retain=True).wait_for_publish(5)
    client.loop_stop()
    client.disconnect()


def test_a_silent_stream_says_reconnecting_and_live_again_when_it_answers(
        chromium, start_replicas, staff, broker):
    [replica] = start_replicas(1)
    with staff_page(chromium, replica.url, "adv-porvoo-1", PASSWORD) as page:
        live(page)
        # a frozen replica: the connection stays open, but no keepalive comes (every 0.5 s
        # in these tests, so the page's watchdog waits 1 s)
        replica.process.send_signal(signal.SIGSTOP)
        try:
            page.locator("#link-status[data-state=reconnecting]").wait_for(timeout=10_000)
            assert page.locator("#link-status").inner_text() == \
                "Yhteys katkesi, yhdistetään uudelleen…"
        finally:
            replica.process.send_signal(signal.SIGCONT)
        live(page)
        assert page.locator("#link-status").inner_text() == "Yhteys toimii"


def test_a_call_someone_else_took_first_is_told_in_the_page_language(
        chromium, start_replicas, staff, broker):
    [replica] = start_replicas(1)
    with ringing_in_swedish(chromium, replica, broker) as page:

        def first_the_other_advisor(route):
            # the other advisor's tap reaches the server first: this one is refused (409)
            call_id = route.request.url.split("/")[-2]
            taken = httpx.post(f"{replica.url}/api/calls/{call_id}/acknowledge", timeout=10,
                               headers={"Authorization": f"Bearer {staff['adv-porvoo-1'][1]}"})
            assert taken.status_code == 200
            route.continue_()

        page.route("**/api/calls/*/acknowledge", first_the_other_advisor)
        page.locator("#call-list button.call-go").click()
        alerts = page.locator("[data-call-alerts][data-refusal]")
        alerts.wait_for(state="attached", timeout=5_000)
        assert alerts.get_attribute("data-refusal") == "En annan rådgivare har redan tagit den här kallelsen."
        page.locator("#call-announcer", has_text="En annan rådgivare har redan tagit den här kallelsen.").wait_for(
            state="attached", timeout=5_000)  # read out, in Swedish, never the server's English
        page.locator("#call-list .call-taken").wait_for(timeout=5_000)
        assert "Aino Neuvoja" in page.locator("#call-list .call-taken").inner_text()
        assert ROOM not in (alerts.get_attribute("data-refusal") or "")


@pytest.mark.parametrize("lang, title, missing, updated", [
    ("fi", "Laitteiden tila", "puuttuu (unplugged)", "Päivitetty klo"),
    ("sv", "Utrustningens status", "saknas (unplugged)", "Uppdaterad kl."),
    ("en", "Equipment status", "missing (unplugged)", "Updated at"),
], ids=["fi", "sv", "en"])
def test_status_page_is_live(
        chromium, start_replicas, staff, broker, lang, title, missing, updated):
    [replica] = start_replicas(1)
    publish_health(broker, "doccam", "ok")
    with staff_page(chromium, replica.url, "adv-porvoo-1", PASSWORD,
                    path=f"/?lang={lang}") as page:
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url) if "/api/live/" not in r.url else None)
        assert page.locator("h1").inner_text() == title
        live(page)
        room = page.locator('[data-room="porvoo/r1"]')
        room.locator('tr[data-device="doccam"][data-state="ok"]').wait_for(timeout=10_000)
        assert page.locator('[data-room^="imatra/"]').count() == 0  # not this advisor's
        assert page.get_by_role("button", name={"fi": "Kirjaudu ulos", "sv": "Logga ut",
                                                "en": "Log out"}[lang]).is_visible()
        assert page.locator('nav a[href="/console/advisor"]').is_visible()
        before = len(asked)

        publish_health(broker, "doccam", "missing", "unplugged")
        card = room.locator('tr[data-device="doccam"][data-state="missing"]')
        card.wait_for(timeout=10_000)
        assert missing in card.inner_text()
        assert updated in page.locator("#updated").inner_text()
        fetched = [url for url in asked[before:] if "/status/" in url or "/api/fleet" in url]
        assert [url.split(replica.url)[1] for url in fetched] == ["/status/rooms/porvoo/r1"]
        assert not [url for url in asked if "/api/fleet" in url]  # no polling
        for viewport, width in ((LAPTOP, "laptop"), (NARROW, "375")):
            page.set_viewport_size(viewport)
            page.screenshot(path=_artefact(f"status-live-{lang}-{width}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert_accessible(page)


def _artefact(name: str):
    from tests.pages import ARTEFACTS

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS / name


def test_a_console_whose_login_ended_elsewhere_goes_to_the_login_page(
        chromium, start_replicas, staff, broker):
    [replica] = start_replicas(1)
    with staff_page(chromium, replica.url, "adv-porvoo-1", PASSWORD) as page:
        live(page)
        token = next(c["value"] for c in page.context.cookies() if c["name"] == "etp_session")
        answer = httpx.post(f"{replica.url}/api/accounts/logout",
                            headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 204
        # the stream hears it at its next keepalive (0.5 s here) and the page follows
        page.wait_for_url("**/login?next=*", timeout=10_000)
        assert "next=%2Fconsole%2Fadvisor" in page.url
        page.get_by_label("Käyttäjätunnus").wait_for()
