"""One response clock, read the same on every page: the advisor's console and the support
party's incident page show the same time left, in the same words for a duration, in real
browsers, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from tests.accounts.conftest import PASSWORD
from tests.pages import assert_accessible, at_both_widths, served, staff_page
from tests.support_console.conftest import helsinki, incident

pytestmark = pytest.mark.browser


def test_the_advisor_and_the_support_party_read_the_same_time_left_on_a_paused_clock(
        chromium, app):
    # Porvoo's property service (Mon-Fri 08:00-15:30, 240 min) was told on Friday at 15:30;
    # on Sunday evening its clock stands still with all four hours left (due Monday 12:00),
    # though 16 wall-clock hours remain
    opened = incident(app, category="space", opened=helsinki(7, 15, 30),
                      notified=helsinki(7, 15, 30), summary="Ovi ei lukitu")
    app.state.clock.now = helsinki(9, 20, 0)
    with served(app) as base:
        with staff_page(chromium, base, "adv-porvoo", PASSWORD,
                        path="/console/advisor?site=porvoo") as page:
            advisor = page.locator(f"#incident-{opened} .sla").inner_text()
            at_both_widths(page, "consoles-advisor-paused-clock-fi")
            assert_accessible(page)
        with staff_page(chromium, base, "sup-property", PASSWORD,
                        path=f"/console/support/incidents/{opened}") as page:
            support = page.locator(".clock").inner_text()
        with staff_page(chromium, base, "adv-porvoo", PASSWORD,
                        path="/console/advisor?site=porvoo&lang=sv") as page:
            advisor_sv = page.locator(f"#incident-{opened} .sla").inner_text()
        with staff_page(chromium, base, "sup-property", PASSWORD,
                        path=f"/console/support/incidents/{opened}?lang=en") as page:
            support_en = page.locator(".clock").inner_text()
    assert advisor.startswith("4 t 0 min jäljellä, kello seis")
    assert support.startswith("4 t 0 min jäljellä, kello seis")
    assert advisor_sv.startswith("4 h 0 min kvar, klockan står")
    assert support_en.startswith("4 h 0 min left, paused")
