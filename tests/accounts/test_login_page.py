"""The staff's login page in a real browser: Finnish by default, Swedish and English on a tap,
a wrong password said plainly, and each role sent on to its own console."""
from __future__ import annotations

import pytest

from tests.accounts.conftest import PASSWORD
from tests.pages import assert_accessible, at_both_widths, browser_page, log_in, served

pytestmark = pytest.mark.browser


def test_the_login_page_speaks_finnish_first_and_remembers_a_chosen_language(chromium, app):
    with served(app) as base, browser_page(chromium) as page:
        page.goto(f"{base}/console")
        assert page.url.startswith(f"{base}/login?next=/console")
        assert page.locator("html").get_attribute("lang") == "fi"
        assert page.get_by_label("Käyttäjätunnus").is_visible()
        for lang, label in (("fi", "Käyttäjätunnus"), ("sv", "Användarnamn"), ("en", "Username")):
            page.get_by_role("link", name={"fi": "Suomeksi", "sv": "På svenska",
                                           "en": "In English"}[lang]).click()
            assert page.locator("html").get_attribute("lang") == lang
            assert page.get_by_label(label).is_visible()
            at_both_widths(page, f"login-{lang}")
            assert_accessible(page)
        page.goto(f"{base}/login")  # the cookie keeps the last choice
        assert page.locator("html").get_attribute("lang") == "en"


def test_a_wrong_password_is_said_plainly_and_keeps_the_username(chromium, app):
    with served(app) as base, browser_page(chromium) as page:
        log_in(page, base, "adv-porvoo", "not the password")
        alert = page.get_by_role("alert")
        assert "Käyttäjätunnus tai salasana on väärin" in alert.inner_text()
        assert page.locator("#username").input_value() == "adv-porvoo"
        assert_accessible(page)
        at_both_widths(page, "login-refused-fi")


def test_after_login_the_page_asked_for_opens_and_logout_ends_the_session(chromium, app):
    with served(app) as base, browser_page(chromium) as page:
        log_in(page, base, "admin", PASSWORD, path="/console")
        assert page.url == f"{base}/"  # the admin's console is the fleet status page
        page.goto(f"{base}/console")
        assert page.url == f"{base}/"  # still logged in
        page.context.clear_cookies()
        page.goto(f"{base}/console")
        assert "/login" in page.url


def test_a_role_without_a_console_is_told_so(chromium, app):
    with served(app) as base, browser_page(chromium) as page:
        log_in(page, base, "tel-kela", PASSWORD)
        assert page.get_by_role("heading", name="Ei näkymää tälle roolille").is_visible()
        page.get_by_role("button", name="Kirjaudu ulos").click()
        page.wait_for_url(f"{base}/login")
        page.goto(f"{base}/console")
        assert "/login" in page.url


def test_a_login_link_cannot_send_anyone_to_another_site(chromium, app):
    with served(app) as base, browser_page(chromium) as page:
        page.goto(f"{base}/login?next=//example.invalid/steal")
        page.locator("#username").fill("admin")
        page.locator("#password").fill(PASSWORD)
        page.locator("form[action='/login'] button[type=submit]").click()
        page.wait_for_load_state()
        assert page.url.startswith(base)
