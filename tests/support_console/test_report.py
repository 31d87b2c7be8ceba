"""The advisor's manual incident report in a real browser: the responsibility matrix routes
it (furniture to the municipality, or to Senaatti for what the state brought; a threat to the
site's security practice; an equipment fault to the supplier's desk), the confirmation names
the party and its response target, mistakes come back with an error summary, and an advisor
reports only for their own site."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from cloud.incidents.models import Incident
from tests.accounts.conftest import PASSWORD
from tests.pages import served, staff_page

pytestmark = pytest.mark.browser
REPORT = "/incidents/report?site=porvoo"


def stored(app, incident_id: int) -> Incident:
    with app.state.sessionmaker() as session:
        return session.get(Incident, incident_id)


def send_report(page, *, category: str, summary: str, state_owned: bool = False) -> int:
    """Fill and send the form as an advisor would; the id of the incident it opened."""
    page.get_by_label(category, exact=True).check()
    if state_owned:
        page.get_by_label("Kalusteen tai opasteen on tuonut valtio").check()
    page.get_by_label("Huone", exact=True).select_option(label="Porvoo-infon neuvotteluhuone")
    page.get_by_label("Kuvaus").fill(summary)
    page.get_by_role("button", name="Lähetä ilmoitus").click()
    page.wait_for_url(re.compile(r"/incidents/report/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


@pytest.mark.parametrize(("category", "state_owned", "party", "routed_to", "target"), [
    ("Kalusteet", False, "porvoo-property", "Porvoon kaupungin kiinteistöpalvelut",
     "Vasteaikatavoite: 4 t 0 min palveluaikana (ma–pe 08:00–15:30, ei arkipyhinä)."),
    ("Kalusteet", True, "senaatti", "Senaatti-kiinteistöt",
     "Vasteaikatavoite: 8 t 0 min palveluaikana (ma–pe 08:00–16:00, ei arkipyhinä)."),
    ("Uhka tai väkivalta", False, "porvoo-security", "Porvoo-infon turvallisuusyhteys",
     "Vasteaikatavoite: 15 min palveluaikana (ympäri vuorokauden)."),
    ("Palveluneuvojan työaseman verkko", False, "porvoo-it",
     "Porvoon kaupungin IT-yhteyshenkilö",
     "Vasteaikatavoite: 1 t 0 min palveluaikana (ma–pe 08:00–16:00, ei arkipyhinä)."),
    ("Laitevika", False, "supplier", "Videoratkaisun toimittajan palvelupiste",
     "Vasteaikatavoite: 30 min palveluaikana (ma–pe 08:00–16:15, ei arkipyhinä)."),
])
def test_an_advisors_report_goes_to_the_party_of_the_matrix_and_says_so(
        chromium, sqlite_app, category, state_owned, party, routed_to, target):
    with served(sqlite_app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                                path=REPORT) as page:
        incident_id = send_report(page, category=category, summary="Tuolin jalka irti",
                                  state_owned=state_owned)
        assert page.locator("#routed-to").inner_text() == \
            f"Tapaus #{incident_id} välitettiin taholle {routed_to}."
        assert page.locator("#response-target").inner_text() == target
    row = stored(sqlite_app, incident_id)
    assert (row.party, row.site, row.room, row.manual) == (party, "porvoo", "r1", True)
    assert row.summary == "Tuolin jalka irti"


def test_the_state_owned_box_changes_nothing_for_a_category_with_one_owner(chromium, sqlite_app):
    with served(sqlite_app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                                path=REPORT) as page:
        incident_id = send_report(page, category="Tilan vika", summary="Ovi jumittaa",
                                  state_owned=True)
    assert (stored(sqlite_app, incident_id).party,
            stored(sqlite_app, incident_id).owner) == ("porvoo-property", "host")


def test_a_report_with_mistakes_comes_back_with_an_error_summary_and_keeps_the_input(
        chromium, sqlite_app):
    with served(sqlite_app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                                path=REPORT) as page:
        page.get_by_label("Kuvaus").fill("x")
        page.get_by_role("button", name="Lähetä ilmoitus").click()
        summary = page.get_by_role("alert")
        assert [a.inner_text() for a in summary.get_by_role("link").all()] == [
            "Valitse, mikä on vialla.", "Kirjoita kuvaus (3–500 merkkiä)."]
        summary.get_by_role("link", name="Kirjoita kuvaus (3–500 merkkiä).").click()
        assert page.evaluate("document.activeElement.id") == "summary"
        assert page.locator("#summary").input_value() == "x"
        send_report(page, category="Opasteet", summary="Opaste puuttuu")
    with sqlite_app.state.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1


def test_an_advisor_reports_only_for_their_own_site(chromium, sqlite_app):
    with served(sqlite_app) as base, staff_page(chromium, base, "adv-imatra", PASSWORD,
                                                path=REPORT) as page:
        assert page.get_by_role("heading", name="Ei käyttöoikeutta").is_visible()
        answer = page.request.post(f"{base}/incidents/report", headers={"Origin": base}, form={
            "site": "porvoo", "category": "threat", "severity": "major", "summary": "vieras"})
        assert answer.status == 403
        page.goto(f"{base}/incidents/report")  # no site named: the advisor's own
        assert page.get_by_role("heading", name="Ilmoita viasta: Imatran kaupungintalo").is_visible()
    with served(sqlite_app) as base, staff_page(chromium, base, "sup-desk", PASSWORD,
                                                path=REPORT) as page:
        assert page.get_by_role("heading", name="Ei käyttöoikeutta").is_visible()
    with sqlite_app.state.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 0
