"""While the ingest has lost the rooms' broker, the advisor's console and the status page say
so, with the time, and show no room as online from the twin's stale picture."""
from __future__ import annotations

from datetime import timedelta

import pytest

from cloud.runtime.broker import record_link
from tests.accounts.conftest import PASSWORD
from tests.consoles.conftest import NOW
from tests.pages import checked, served, staff_page

pytestmark = pytest.mark.browser
LOST = {"fi": "menettänyt yhteyden huoneiden välittäjään klo 10.05",
        "sv": "förlorat kontakten med rummens förmedlare sedan kl. 10.05",
        "en": "lost contact with the rooms' broker since 10.05"}


def lose_the_broker(app) -> None:
    """The ingest worker recorded its link lost at 10:05 in Helsinki, and still runs."""
    with app.state.sessionmaker() as session:
        record_link(session, name="ingest-1", connected=True,
                    changed_at=NOW - timedelta(hours=1), now=NOW - timedelta(hours=1))
        record_link(session, name="ingest-1", connected=False,
                    changed_at=NOW - timedelta(minutes=5), now=NOW)
        session.commit()


def test_the_advisor_console_says_the_cloud_has_lost_the_broker_instead_of_rooms_online(
        chromium, app):
    lose_the_broker(app)
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                         path="/console/advisor") as page:
        for lang in ("fi", "sv", "en"):
            page.goto(f"{base}/console/advisor?lang={lang}")
            banner = page.locator("#broker-lost")
            assert LOST[lang] in banner.inner_text().replace(":", ".")
            assert page.locator("#room-r1").get_attribute("data-condition") == "unknown"
        checked(page, "consoles-advisor-broker-lost")


def test_the_status_page_says_the_cloud_has_lost_the_broker_and_no_room_is_online(
        chromium, app):
    lose_the_broker(app)
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                         path="/?lang=en") as page:
        assert LOST["en"] in page.locator("#broker-lost").inner_text().replace(":", ".")
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
        assert page.locator("#broker-lost").count() == 0
        assert page.locator("#room-r1").get_attribute("data-condition") != "unknown"
