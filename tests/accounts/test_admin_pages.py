"""The administrator's pages in a real browser: from the status page's links the admin adds a
member of staff, finds them by search, resets their password (the new one logs in, the old
one does not, the open session ends), disables them (their login refused, their session
ended), then reads the audit log filtered by person and outcome and downloads it as CSV.
Every page in Finnish, Swedish and English at both widths; anyone else is refused."""
from __future__ import annotations

import csv
import re

import pytest
from sqlalchemy import select

from cloud.accounts.admin.pages import cell
from cloud.accounts.models import AuditEntry
from tests.accounts.conftest import PASSWORD
from tests.pages import checked, log_in, served, staff_page

pytestmark = pytest.mark.browser
FIRST, SECOND = "first password of uusi", "second password of uusi"


def add_member(page) -> None:
    """The admin's form, filled as a person would, for a new advisor of Porvoo."""
    page.get_by_role("link", name="Lisää henkilö").click()
    page.locator("#username").fill("adv-uusi")
    page.locator("#display_name").fill("Uusi Neuvoja")
    page.locator("#email").fill("uusi@example.invalid")
    page.locator("#role").select_option("advisor")
    page.locator("#organisation").select_option("porvoo")
    page.locator("#site-porvoo").check()
    page.locator("#password").fill(FIRST)
    page.get_by_role("button", name="Lisää henkilö").click()
    page.wait_for_url(re.compile(r"/admin/staff/\d+\?done=created"))


def logs_in(chromium, base: str, password: str):
    """A new browser of the new member logging in; returns (page, context) when it worked."""
    context = chromium.new_context()
    page = context.new_page()
    log_in(page, base, "adv-uusi", password)
    return page, context


def test_the_admin_adds_finds_resets_and_disables_a_member_and_reads_the_audit(
        chromium, app, tmp_path):
    with served(app) as base, staff_page(chromium, base, "admin", PASSWORD) as admin:
        assert admin.url == f"{base}/"
        admin.get_by_role("link", name="Henkilökunta", exact=True).click()
        admin.wait_for_url(f"{base}/admin/staff")
        add_member(admin)
        assert admin.get_by_role("status").inner_text() == "Henkilö on lisätty."
        assert FIRST not in admin.content()
        member_page = admin.url.split("?")[0]

        admin.get_by_role("link", name="Henkilökunta", exact=True).click()
        admin.locator("#q").fill("UUSI")
        admin.get_by_role("button", name="Hae").click()
        assert admin.locator(".staff-card").count() == 1
        assert admin.locator("#staff-adv-uusi .state").inner_text() == "Käytössä"

        member, context = logs_in(chromium, base, FIRST)
        assert member.url == f"{base}/console/advisor"

        admin.goto(member_page)
        admin.locator("#password").fill(SECOND)
        admin.get_by_role("button", name="Vaihda salasana").click()
        admin.wait_for_url(re.compile(r"done=password"))
        assert SECOND not in admin.content()
        member.reload()
        assert "/login" in member.url  # the reset ended the open session
        log_in(member, base, "adv-uusi", FIRST)
        assert member.get_by_role("alert").is_visible()  # the old password is refused
        log_in(member, base, "adv-uusi", SECOND)
        assert member.url == f"{base}/console/advisor"

        admin.get_by_role("button", name="Poista käytöstä").click()
        admin.wait_for_url(re.compile(r"done=disabled"))
        assert admin.locator("dd.state").inner_text() == "Poistettu käytöstä"
        member.reload()
        assert "/login" in member.url  # the live session ended at once
        log_in(member, base, "adv-uusi", SECOND)
        assert member.get_by_role("alert").is_visible()  # and the login is refused
        context.close()

        admin.get_by_role("link", name="Tapahtumaloki").click()
        admin.locator("#actor").fill("adv-uusi")
        admin.locator("#outcome").select_option("failed")
        admin.get_by_role("button", name="Näytä").click()
        assert admin.locator("#found").inner_text() == "2 tapahtumaa"
        assert set(admin.locator(".audit-entry .outcome").all_inner_texts()) == {"Epäonnistui"}
        with admin.expect_download() as download:
            admin.locator("#export").click()
        path = tmp_path / "audit.csv"
        download.value.save_as(path)
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        assert len(rows) == 2
        assert {(r["actor"], r["action"], r["outcome"]) for r in rows} == \
            {("adv-uusi", "login", "failed")}

    with app.state.sessionmaker() as session:  # each change is audited as what it was
        changes = session.scalars(select(AuditEntry.action).where(
            AuditEntry.resource == "staff:adv-uusi", AuditEntry.outcome == "ok")).all()
    assert sorted(changes) == ["staff.create", "staff.disable", "staff.password"]


TITLES = {"fi": ("Henkilökunta", "Tapahtumaloki"), "sv": ("Personal", "Händelselogg"),
          "en": ("Staff", "Audit log")}


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_the_admin_pages_are_accessible_in_each_language_at_both_widths(chromium, app, lang):
    staff_title, audit_title = TITLES[lang]
    with served(app) as base, staff_page(chromium, base, "admin", PASSWORD,
                                         path=f"/admin/staff?lang={lang}") as page:
        assert page.get_by_role("heading", level=1).inner_text() == staff_title
        checked(page, f"admin-staff-{lang}")
        page.goto(f"{base}/admin/staff/new")
        page.locator("form.staff-form button[type=submit]").click()
        page.wait_for_load_state()
        assert page.get_by_role("alert").is_visible()
        assert page.locator("#error-summary li").count() >= 3  # username, name, sites
        checked(page, f"admin-staff-new-errors-{lang}")
        page.goto(f"{base}/admin/staff?q=adv-porvoo")
        page.locator("#staff-adv-porvoo a").click()
        checked(page, f"admin-staff-one-{lang}")
        page.goto(f"{base}/admin/audit?from=2025-11-31")
        assert page.get_by_role("alert").is_visible()  # a day that does not exist
        page.goto(f"{base}/admin/audit")
        assert page.get_by_role("heading", level=1).inner_text() == audit_title
        checked(page, f"admin-audit-{lang}")


def test_anyone_but_the_admin_is_refused_the_admin_pages(chromium, app):
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD) as page:
        for path in ("/admin/staff", "/admin/staff/new", "/admin/audit", "/admin/audit.csv"):
            answer = page.goto(f"{base}{path}")
            assert answer.status == 403, path
            assert page.get_by_role("heading", level=1).inner_text() == "Ei käyttöoikeutta"
        answer = page.goto(f"{base}/admin/staff/1")
        assert answer.status == 404  # as if the member did not exist
        checked(page, "admin-refused-fi")
    with app.state.sessionmaker() as session:
        refused = session.scalars(select(AuditEntry.action).where(
            AuditEntry.actor == "adv-porvoo", AuditEntry.outcome == "refused")).all()
    assert {"staff.manage", "audit.read"} <= set(refused)


def test_a_cell_that_would_start_a_formula_is_kept_as_text():
    assert cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert cell("@sum") == "'@sum" and cell("adv-porvoo") == "adv-porvoo"
    assert cell(None) == ""
