"""While the ingest has lost the rooms' broker, every staff page that shows rooms or devices
says so, with the time, and shows no room as online from the twin's stale picture; the pages
that hold the live stream show and hide the banner as the link drops and returns, without a
reload, and say too when their own server has lost the broker (their live pushes stop)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from cloud.accounts import service as accounts
from cloud.runtime.broker import record_link
from cloud.sessions import service as sessions
from tests.accounts.conftest import PASSWORD
from tests.consoles.conftest import NOW
from tests.pages import checked, served, staff_page

pytestmark = pytest.mark.browser
LOST = {"fi": "menettänyt yhteyden huoneiden välittäjään klo 10.05",
        "sv": "förlorat kontakten med rummens förmedlare sedan kl. 10.05",
        "en": "lost contact with the rooms' broker since 10.05"}


BACK = {"fi": "Pilvipalvelu on menettänyt", "sv": "Molntjänsten har förlorat"}
REPLICA_LOST = {"fi": "palvelin on menettänyt yhteyden välittäjään",
                "sv": "servern har förlorat kontakten med förmedlaren"}


def lose_the_broker(app) -> None:
    """The ingest worker recorded its link lost at 10:05 in Helsinki, and still runs."""
    with app.state.sessionmaker() as session:
        record_link(session, name="ingest-1", connected=True,
                    changed_at=NOW - timedelta(hours=1), now=NOW - timedelta(hours=1))
        record_link(session, name="ingest-1", connected=False,
                    changed_at=NOW - timedelta(minutes=5), now=NOW)
        session.commit()


def regain_the_broker(app) -> None:
    """The ingest worker's link is up again (at the app's clock)."""
    with app.state.sessionmaker() as session:
        record_link(session, name="ingest-1", connected=True, changed_at=NOW, now=NOW)
        session.commit()


@pytest.fixture
def linked_app(broker, monkeypatch, request):
    """The consoles' app whose replica has a live bus on the test's broker."""
    monkeypatch.setenv("ETP_BROKER_URL", broker.url)
    return request.getfixturevalue("app")


def says_lost(page, lang: str) -> bool:
    """Whether the page's banner says, in ``lang``, that the broker is lost since 10:05."""
    return LOST[lang] in page.locator("#broker-lost").inner_text().replace(":", ".")


def live(page) -> None:
    page.locator("#link-status[data-state=live]").wait_for(timeout=15_000)


def test_the_advisor_console_says_the_cloud_has_lost_the_broker_instead_of_rooms_online(
        chromium, app):
    lose_the_broker(app)
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                         path="/console/advisor") as page:
        for lang in ("fi", "sv", "en"):
            page.goto(f"{base}/console/advisor?lang={lang}")
            assert says_lost(page, lang)
            assert page.locator("#room-r1").get_attribute("data-condition") == "unknown"
        checked(page, "consoles-advisor-broker-lost")


def test_the_status_page_says_the_cloud_has_lost_the_broker_and_no_room_is_online(
        chromium, app):
    lose_the_broker(app)
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                         path="/?lang=en") as page:
        assert says_lost(page, "en")
        card = page.locator("[data-room='porvoo/r1']")
        assert "unknown" in card.locator(".agent").inner_text()
        assert "online" not in card.inner_text()
        checked(page, "status-broker-lost")


def test_the_advisor_console_shows_the_rooms_when_the_broker_link_holds(chromium, app):
    with app.state.sessionmaker() as session:
        record_link(session, name="ingest-1", connected=True, changed_at=NOW, now=NOW)
        session.commit()
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                         path="/console/advisor?lang=en") as page:
        assert page.locator("#broker-lost").is_hidden()
        assert page.locator("#room-r1").get_attribute("data-condition") != "unknown"


def test_the_open_advisor_console_shows_the_lost_broker_and_its_return_without_a_reload(
        chromium, linked_app):
    regain_the_broker(linked_app)
    with served(linked_app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                                path="/console/advisor?lang=fi") as page:
        live(page)
        page.evaluate("window.notReloaded = true")
        banner, room = page.locator("#broker-lost"), page.locator("#room-r1")
        assert banner.is_hidden() and room.get_attribute("data-condition") != "unknown"
        lose_the_broker(linked_app)
        banner.wait_for(state="visible", timeout=10_000)
        assert says_lost(page, "fi")
        page.locator("#room-r1[data-condition=unknown]").wait_for(timeout=10_000)
        checked(page, "consoles-advisor-broker-lost-live-fi")
        regain_the_broker(linked_app)
        banner.wait_for(state="hidden", timeout=10_000)
        page.locator("#room-r1:not([data-condition=unknown])").wait_for(timeout=10_000)
        assert page.evaluate("window.notReloaded") is True


def test_a_console_whose_server_lost_the_broker_says_its_live_pushes_stopped(
        chromium, linked_app, broker):
    with served(linked_app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                                path="/console/advisor?lang=sv") as page:
        live(page)
        banner = page.locator("#broker-lost")
        broker.stop()
        banner.wait_for(state="visible", timeout=20_000)
        assert REPLICA_LOST["sv"] in banner.inner_text()
        assert BACK["sv"] not in banner.inner_text()  # the twin itself is not stale
        checked(page, "consoles-advisor-replica-lost-sv")
        broker.start()
        banner.wait_for(state="hidden", timeout=40_000)


def test_the_experts_day_and_session_page_show_the_lost_broker_on_load(chromium, app):
    lose_the_broker(app)
    with app.state.sessionmaker() as session:
        opened = sessions.open_session(
            db=session, settings=app.state.session_settings, site="porvoo", room="r1",
            authority="kela", service="kela-benefits", slot_start=NOW,
            slot_end=NOW + timedelta(minutes=30), created_by="exp-kela", now=NOW)
        session.commit()
        session_id = opened.id
    with served(app) as base, staff_page(chromium, base, "exp-kela", PASSWORD,
                                         path="/console/expert?lang=sv") as page:
        assert says_lost(page, "sv")
        checked(page, "consoles-expert-broker-lost-sv")
        page.goto(f"{base}/sessions/{session_id}?lang=fi")
        assert says_lost(page, "fi")
        checked(page, "sessions-expert-broker-lost-fi")


def test_the_support_console_shows_the_lost_broker_on_load(chromium, app):
    lose_the_broker(app)
    with app.state.sessionmaker() as session:
        accounts.create_staff(session, app.state.registry, username="sup-desk",
                              display_name="sup-desk", role="support", organisation="supplier",
                              sites=[], password=PASSWORD, now=NOW)
        session.commit()
    with served(app) as base, staff_page(chromium, base, "sup-desk", PASSWORD,
                                         path="/console/support?lang=fi") as page:
        assert says_lost(page, "fi")
        page.goto(f"{base}/console/support?lang=sv")
        assert says_lost(page, "sv")
        checked(page, "support-broker-lost-sv")


def test_the_room_terminal_shows_no_broker_banner(chromium, app):
    lose_the_broker(app)
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD) as page:
        page.goto(f"{base}/sessions/terminal?site=porvoo&room=r1")
        assert page.locator("#broker-lost").count() == 0
