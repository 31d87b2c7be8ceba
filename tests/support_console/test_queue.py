"""The support party's console in a real browser, on SQLite and PostgreSQL: the queue with
each incident's SLA clock, acknowledge (the clock stops, and the API and the database agree),
resolve with a comment (the room closed for the incident reopens), the filters, the
self-refresh, and nothing of another party."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from cloud.accounts.models import AuditEntry
from cloud.bookings.models import RoomClosure
from cloud.bookings.rules import BookingRules
from cloud.bookings.service import close_room
from cloud.incidents import service
from cloud.incidents.models import Incident
from tests.accounts.conftest import PASSWORD
from tests.pages import log_in, served, staff_page
from tests.support_console.conftest import NOW, advance, helsinki, incident

pytestmark = pytest.mark.browser
QUEUE = "/console/support"


def supplier_queue(app) -> dict[str, int]:
    """The supplier's desk's queue on Monday 08:10: one incident with 20 minutes left, one
    overdue since Friday; and one of the Porvoo property service, not the desk's."""
    return {
        "fresh": incident(app, category="equipment", opened=helsinki(10, 7, 50),
                          notified=helsinki(10, 7, 55), summary="Dokumenttikamera ei käynnisty"),
        "overdue": incident(app, category="system", site="imatra", opened=helsinki(7, 15, 0),
                            notified=helsinki(7, 15, 0), summary="Videoyhteys katkeilee"),
        "foreign": incident(app, category="space", opened=helsinki(10, 7, 0),
                            notified=helsinki(10, 7, 0), summary="Ovi ei lukitu"),
    }


def card(page, incident_id: int):
    return page.locator(f"#incident-{incident_id}")


def test_a_support_agent_acknowledges_from_the_queue_and_the_clock_stops(chromium, app):
    ids = supplier_queue(app)
    with served(app) as base, staff_page(chromium, base, "sup-desk", PASSWORD) as page:
        assert page.url == f"{base}{QUEUE}"  # /console sends a support agent here
        assert card(page, ids["fresh"]).locator(".clock").inner_text() == \
            "20 min jäljellä (viimeistään 10.11.2025 08:30)"
        assert card(page, ids["overdue"]).locator(".clock").inner_text().startswith(
            "Vasteaika ylittynyt 64 t 40 min")
        assert "Imatran kaupungintalo, Asiakaspalveluhuone" in card(page, ids["overdue"]).inner_text()
        assert page.locator("#count-breached").inner_text() == "1"
        assert page.locator(".incident-card").first.get_attribute("id") == \
            f"incident-{ids['overdue']}"  # the most urgent first

        card(page, ids["fresh"]).get_by_role("button", name="Kuittaa vastaanotetuksi").click()
        page.wait_for_url(re.compile(r"done=acknowledge"))
        assert f"Tapaus #{ids['fresh']} on kuitattu" in page.get_by_role("status").inner_text()
        assert card(page, ids["fresh"]).locator(".clock").inner_text() == \
            "Pysähtyi kuittaukseen ajassa 10 min"

        advance(app, timedelta(minutes=25))  # past the old due time: the clock stays stopped
        page.goto(f"{base}{QUEUE}/incidents/{ids['fresh']}")
        assert page.locator(".clock").inner_text() == "Pysähtyi kuittaukseen ajassa 10 min"
        assert page.get_by_role("button", name="Kuittaa vastaanotetuksi").count() == 0
        api = page.request.get(f"{base}/api/incidents/{ids['fresh']}").json()
        assert api["state"] == "acknowledged"
        assert api["acknowledged_at"].startswith("2025-11-10T06:10:00")
        assert api["events"][-1] == {"at": api["acknowledged_at"], "kind": "acknowledged",
                                     "actor": "sup-desk", "detail": None}
    with app.state.sessionmaker() as session:
        stored = session.get(Incident, ids["fresh"])
        assert (stored.state, stored.acknowledged_at) == ("acknowledged", NOW)


def test_a_support_agent_resolves_with_a_comment_and_the_room_closed_for_it_reopens(
        chromium, app):
    ids = supplier_queue(app)
    with app.state.sessionmaker() as session:
        close_room(session, BookingRules.load(app.state.registry), site="imatra", room="r1",
                   start=helsinki(7, 15, 5), end=helsinki(14, 15, 0), reason="vika",
                   actor="adv-imatra", incident=str(ids["overdue"]))
        session.commit()
    with served(app) as base, staff_page(chromium, base, "sup-desk", PASSWORD,
                                         path=f"{QUEUE}/incidents/{ids['overdue']}") as page:
        page.get_by_label("Mitä tehtiin (valinnainen)").fill("Kytkin vaihdettu.")
        page.get_by_role("button", name="Merkitse korjatuksi").click()
        page.wait_for_url(re.compile(r"done=resolve"))
        assert page.locator(".facts .state").inner_text() == "Korjattu"
        history = page.locator(".history").inner_text()
        assert "Korjattu" in history and "Kytkin vaihdettu." in history
        assert page.get_by_role("button", name="Merkitse korjatuksi").count() == 0

        page.get_by_label("Kommentti", exact=True).fill("Seurataan vielä huomiseen.")
        page.get_by_role("button", name="Lähetä kommentti").click()
        page.wait_for_url(re.compile(r"done=comment"))
        assert "Seurataan vielä huomiseen." in page.locator(".history").inner_text()
    with app.state.sessionmaker() as session:
        stored = session.get(Incident, ids["overdue"])
        assert (stored.state, stored.resolved_at) == ("resolved", NOW)
        closure = session.scalars(select(RoomClosure)).one()
        assert closure.end == NOW  # the journey's resolve reopened the room


def test_an_empty_comment_comes_back_with_an_error_summary(chromium, app):
    ids = supplier_queue(app)
    with served(app) as base, staff_page(chromium, base, "sup-desk", PASSWORD,
                                         path=f"{QUEUE}/incidents/{ids['fresh']}") as page:
        page.get_by_role("button", name="Lähetä kommentti").click()
        summary = page.get_by_role("alert")
        assert "Kirjoita kommentti." in summary.inner_text()
        summary.get_by_role("link", name="Kirjoita kommentti.").click()
        assert page.evaluate("document.activeElement.id") == "comment-text"
        assert page.locator("#comment-text").get_attribute("aria-invalid") == "true"


def test_the_filters_show_only_what_they_ask_for(chromium, app):
    ids = supplier_queue(app)
    acknowledged = incident(app, category="equipment", site="nurmes", opened=helsinki(10, 6, 0),
                            notified=helsinki(10, 6, 0))
    with app.state.sessionmaker() as session:
        session.get(Incident, acknowledged).state = "acknowledged"
        session.get(Incident, acknowledged).acknowledged_at = helsinki(10, 8, 5)
        session.commit()

    def shown(page) -> set[int]:
        return {int(i.get_attribute("id").split("-")[1])
                for i in page.locator(".incident-card").all()}

    with served(app) as base, staff_page(chromium, base, "sup-desk", PASSWORD) as page:
        assert shown(page) == {ids["fresh"], ids["overdue"], acknowledged}
        page.get_by_label("Vain vasteajan ylittäneet").check()
        page.get_by_role("button", name="Näytä").click()
        page.wait_for_url(re.compile(r"breached=1"))
        assert shown(page) == {ids["overdue"]}
        assert page.get_by_label("Vain vasteajan ylittäneet").is_checked()  # the form keeps it

        page.get_by_label("Vain vasteajan ylittäneet").uncheck()
        page.get_by_label("Tila").select_option("acknowledged")
        page.get_by_role("button", name="Näytä").click()
        page.wait_for_url(re.compile(r"state=acknowledged"))
        assert shown(page) == {acknowledged}

        page.get_by_label("Tila").select_option("active")
        page.get_by_label("Palvelupiste").select_option("porvoo")
        page.get_by_role("button", name="Näytä").click()
        page.wait_for_url(re.compile(r"site=porvoo"))
        assert shown(page) == {ids["fresh"]}

        page.get_by_label("Palvelupiste").select_option("")
        page.get_by_label("Vian luokka").select_option("system")
        page.get_by_role("button", name="Näytä").click()
        page.wait_for_url(re.compile(r"category=system"))
        assert shown(page) == {ids["overdue"]}
        card(page, ids["overdue"]).get_by_role("button").click()  # acknowledge: filters kept
        page.wait_for_url(re.compile(r"done=acknowledge"))
        assert "category=system" in page.url and shown(page) == {ids["overdue"]}
        assert page.get_by_label("Vian luokka").input_value() == "system"


def test_the_queue_refreshes_itself_and_says_when(chromium, app):
    supplier_queue(app)
    with served(app) as base, staff_page(chromium, base, "sup-desk", PASSWORD) as page:
        assert page.locator("#refreshed").inner_text() == "Päivitetty klo 08:10:00"
        advance(app, timedelta(minutes=1))
        newcomer = incident(app, category="equipment", opened=NOW + timedelta(minutes=1),
                            notified=NOW + timedelta(minutes=1))
        card(page, newcomer).wait_for(timeout=10_000)  # the app refreshes every second here
        assert page.locator("#refreshed").inner_text() == "Päivitetty klo 08:11:00"
        assert page.locator("#count-open").inner_text() == "3"
        page.context.clear_cookies()  # the session is gone: the next refresh says it failed
        page.get_by_text("Päivitys epäonnistui. Lataa sivu uudelleen.").wait_for(timeout=10_000)
        assert card(page, newcomer).is_visible()  # what was shown stays


def test_a_support_agent_sees_and_touches_no_other_partys_incidents(chromium, app):
    ids = supplier_queue(app)
    with served(app) as base, staff_page(chromium, base, "sup-property", PASSWORD) as page:
        assert {c.get_attribute("id") for c in page.locator(".incident-card").all()} == {
            f"incident-{ids['foreign']}"}
        page.goto(f"{base}{QUEUE}/incidents/{ids['fresh']}")
        assert page.get_by_role("heading", name="Sivua ei löydy").is_visible()
        assert "Dokumenttikamera" not in page.content()
        answer = page.request.post(f"{base}{QUEUE}/incidents/{ids['fresh']}/acknowledge",
                                   headers={"Origin": base}, form={"from": "queue"})
        assert answer.status == 404
        missing = page.request.get(f"{base}{QUEUE}/incidents/999999")
        assert missing.status == 404  # a foreign incident is told as a missing one
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                         path=QUEUE) as page:
        assert page.get_by_role("heading", name="Ei käyttöoikeutta").is_visible()
    with app.state.sessionmaker() as session:
        assert session.get(Incident, ids["fresh"]).state == "notified"
        refused = {(e.actor, e.action) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.outcome == "refused"))}
    assert refused >= {("sup-property", "incident.read"), ("sup-property", "incident.act"),
                       ("adv-porvoo", "incident.read")}


def test_acknowledging_what_a_colleague_already_took_says_so_and_changes_nothing(chromium,
                                                                              sqlite_app):
    ids = supplier_queue(sqlite_app)
    with served(sqlite_app) as base, staff_page(chromium, base, "sup-desk", PASSWORD) as page:
        with sqlite_app.state.sessionmaker() as session:  # a colleague, a moment earlier
            service.acknowledge(session, incident=session.get(Incident, ids["fresh"]),
                                actor="sup-colleague", now=NOW - timedelta(minutes=1))
            session.commit()
        card(page, ids["fresh"]).get_by_role("button", name="Kuittaa vastaanotetuksi").click()
        assert "Tapausta ei voi enää kuitata" in page.get_by_role("alert").inner_text()
        assert page.locator(".clock").inner_text() == "Pysähtyi kuittaukseen ajassa 9 min"
    with sqlite_app.state.sessionmaker() as session:
        stored = session.get(Incident, ids["fresh"])
        assert stored.acknowledged_at == NOW - timedelta(minutes=1)


def test_the_admin_sees_every_partys_queue_with_the_party_named(chromium, sqlite_app):
    ids = supplier_queue(sqlite_app)
    with served(sqlite_app) as base, staff_page(chromium, base, "admin", PASSWORD,
                                                path=QUEUE) as page:
        assert page.locator(".incident-card").count() == len(ids)
        assert card(page, ids["foreign"]).locator(".lead").inner_text() == \
            "Porvoon kaupungin kiinteistöpalvelut"


def test_the_console_works_without_script(chromium, sqlite_app):
    ids = supplier_queue(sqlite_app)
    context = chromium.new_context(java_script_enabled=False)
    try:
        with served(sqlite_app) as base:
            page = context.new_page()
            log_in(page, base, "sup-desk", PASSWORD)
            card(page, ids["fresh"]).get_by_role("button", name="Kuittaa vastaanotetuksi").click()
            page.wait_for_url(re.compile(r"done=acknowledge"))
            assert card(page, ids["fresh"]).locator(".clock").inner_text() == \
                "Pysähtyi kuittaukseen ajassa 10 min"
            page.goto(f"{base}{QUEUE}/incidents/{ids['fresh']}")
            page.get_by_role("button", name="Merkitse korjatuksi").click()
            page.wait_for_url(re.compile(r"done=resolve"))
            assert page.locator(".facts .state").inner_text() == "Korjattu"
    finally:
        context.close()
