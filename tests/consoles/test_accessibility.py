"""Every console page in Finnish, Swedish and English passes axe-core (WCAG 2.1 A and AA, no
serious or critical violation) at a laptop's and a phone's width, with names from the
registry in the chosen language; a screenshot of each at both widths."""
from __future__ import annotations

import pytest

from tests.accounts.conftest import PASSWORD
from tests.pages import checked, served, staff_page

pytestmark = pytest.mark.browser
PAGES = [("adv-porvoo", "/console/advisor", "advisor"),
         ("adv-porvoo", "/console/advisor/tasks", "tasks"),
         ("adv-porvoo", "/console/advisor/exports", "exports"),
         ("adv-both", "/console/advisor?site=imatra", "advisor-two-sites"),
         ("exp-kela", "/console/expert", "expert")]
SITE_NAME = {"fi": "Porvoo-info", "sv": "Borgå-info", "en": "Porvoo Info"}


@pytest.mark.parametrize("username,path,name", PAGES, ids=[p[2] for p in PAGES])
def test_the_console_page_is_accessible_in_every_language_at_both_widths(chromium, app,
                                                                         username, path, name):
    with served(app) as base, staff_page(chromium, base, username, PASSWORD,
                                         path=path) as page:
        for lang in ("fi", "sv", "en"):
            separator = "&" if "?" in path else "?"
            page.goto(f"{base}{path}{separator}lang={lang}")
            assert page.locator("html").get_attribute("lang") == lang
            if name in ("advisor", "tasks", "exports", "expert"):
                assert SITE_NAME[lang] in page.locator("main").inner_text()
            checked(page, f"consoles-{name}-{lang}")
