"""The pilot's monthly report: the task-time entries and the booking figures of a site's
month as XLSX and CSV, from the console and from the command line; every total matches the
entries it sums, nothing of another site or month counts."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from cloud.bookings import service as bookings
from cloud.consoles import service as tasks
from etapalvelu.cli import cli
from tests.accounts.conftest import PASSWORD
from tests.consoles.conftest import NOW
from tests.consoles.helpers import logged_in
from tests.pages import assert_accessible, at_both_widths, checked, served, staff_page

# (site, advisor id, day, task, minutes): the last two are outside Porvoo's November
ENTRIES = [("porvoo", 1, date(2026, 11, 2), "meeting", 35),
           ("porvoo", 1, date(2026, 11, 16), "meeting", 10),
           ("porvoo", 2, date(2026, 11, 16), "equipment", 45),
           ("porvoo", 2, date(2026, 11, 30), "safety", 5),
           ("porvoo", 1, date(2026, 12, 1), "meeting", 500),
           ("imatra", 3, date(2026, 11, 16), "meeting", 700)]


@pytest.fixture
def month_of_work(app):
    with app.state.sessionmaker() as db:
        for site, advisor, day, task, minutes in ENTRIES:
            tasks.add_minutes(db, site=site, advisor_id=advisor, day=day, task=task,
                              minutes=minutes, now=NOW)
        ids = app.state.booking_ids
        asiakas_a = bookings.booking_by_id(db, booking_id=ids["Asiakas A"])
        bookings.check_in(db, booking=asiakas_a, actor="adv-porvoo", now=NOW)
        bookings.complete(db, booking=asiakas_a, realised_start=NOW + timedelta(minutes=20),
                          realised_end=NOW + timedelta(minutes=45), actor="adv-porvoo",
                          now=NOW + timedelta(hours=1))
        bookings.cancel_booking(db, booking=bookings.booking_by_id(
            db, booking_id=ids["Asiakas B"]), reason="customer asked", actor="adv-porvoo",
            now=NOW)
        db.commit()
    return app


def _tables_of_csv(body: bytes) -> list[tuple[str, list[str], list[list[str]]]]:
    """The CSV's tables in order: each one's title, column headings and rows."""
    tables, current = [], None
    for row in list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]:
        if not row:
            current = None
        elif current is None:
            current = [row[0], None, []]
            tables.append(current)
        elif current[1] is None:
            current[1] = row
        else:
            current[2].append(row)
    return [tuple(table) for table in tables]


def _sheets_of_csv(body: bytes) -> dict[str, list[list[str]]]:
    """The rows of the tables by what they hold (the titles are in the reader's language)."""
    return {key: rows for key, (_, _, rows) in zip(SHEETS, _tables_of_csv(body), strict=True)}


SHEETS = ("task_totals", "task_entries", "bookings")


def _check_totals(entries, totals, figures) -> None:
    porvoo_november = [e for e in ENTRIES if e[0] == "porvoo" and e[2].month == 11]
    assert [(r[0], r[1], r[2], int(r[4])) for r in entries[:-1]] == [
        (e[2].isoformat(), str(e[1]), e[3], e[4]) for e in porvoo_november]
    assert int(entries[-1][4]) == sum(e[4] for e in porvoo_november) == 95
    by_task = {r[0]: int(r[2]) for r in totals[:-1]}
    assert by_task["meeting"] == 45 and by_task["equipment"] == 45 and by_task["safety"] == 5
    assert int(totals[-1][2]) == sum(by_task.values()) == 95
    rows = {r[0]: [int(v) for v in r[1:]] for r in figures[:-1]}
    rows["total"] = [int(v) for v in figures[-1][1:]]
    # bookings, walk_ins, completed, no_shows, cancelled, moves, booked_minutes, realised
    assert rows["kela"] == [1, 0, 1, 0, 0, 0, 30, 25]
    assert rows["dvv"] == [1, 0, 0, 0, 1, 0, 0, 0]
    assert rows["vero"] == [1, 0, 0, 0, 0, 0, 60, 0]
    assert rows["total"] == [sum(col) for col in zip(*(rows[a] for a in ("dvv", "kela", "vero")))]


def test_the_monthly_csv_and_xlsx_totals_match_the_entries(month_of_work):
    with TestClient(month_of_work) as client:
        logged_in(client, "adv-porvoo")
        answer = client.get("/console/advisor/exports?month=2026-11&format=csv")
        assert answer.status_code == 200
        assert answer.headers["content-disposition"] == \
            'attachment; filename="etapalvelu-porvoo-2026-11.csv"'
        sheets = _sheets_of_csv(answer.content)
        _check_totals(sheets["task_entries"], sheets["task_totals"], sheets["bookings"])
        assert sheets["task_totals"][0][1] == "Asiakkaan vastaanotto"

        answer = client.get("/console/advisor/exports?month=2026-11&format=xlsx&lang=en")
        book = load_workbook(io.BytesIO(answer.content))
        assert book.sheetnames == ["Time by task", "Time entries", "Bookings"]
        rows = {key: [[("" if v is None else str(v)) for v in row]
                      for row in book[name].iter_rows(min_row=2, values_only=True)]
                for key, name in zip(SHEETS, book.sheetnames, strict=True)}
        _check_totals(rows["task_entries"], rows["task_totals"], rows["bookings"])
        assert rows["task_totals"][0][1] == "Meeting the customer"


def test_an_advisor_cannot_export_another_sites_month(month_of_work):
    with TestClient(month_of_work) as client:
        logged_in(client, "adv-imatra")
        assert client.get("/console/advisor/exports?site=porvoo&month=2026-11&format=csv"
                          ).status_code == 403


def test_the_command_line_writes_the_same_report(month_of_work, tmp_path, monkeypatch):
    monkeypatch.setenv("ETP_DATABASE_URL", month_of_work.state.settings.database_url)
    target = tmp_path / "porvoo.csv"
    result = CliRunner().invoke(cli, ["consoles", "export", "--month", "2026-11", "--site",
                                      "porvoo", "--format", "csv", "--output", str(target)])
    assert result.exit_code == 0, result.output
    sheets = _sheets_of_csv(target.read_bytes())
    _check_totals(sheets["task_entries"], sheets["task_totals"], sheets["bookings"])
    refused = CliRunner().invoke(cli, ["consoles", "export", "--month", "November",
                                       "--site", "porvoo"])
    assert refused.exit_code == 2 and "yyyy-mm" in refused.output


@pytest.mark.browser
def test_the_reports_page_asks_for_a_month_and_says_plainly_when_it_is_not_one(chromium, app):
    with served(app) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                         path="/console/advisor/exports") as page:
        # the current month: a new demo's month has data, last month has none
        assert page.get_by_label("Kuukausi (vvvv-kk)").input_value() == "2026-11"
        page.get_by_label("Kuukausi (vvvv-kk)").fill("marraskuu")
        page.get_by_role("button", name="Lataa CSV").click()
        page.wait_for_load_state()
        assert "muodossa vvvv-kk" in page.locator(".error-summary").inner_text()
        assert_accessible(page)
        at_both_widths(page, "consoles-exports-error-fi")
        page.get_by_label("Kuukausi (vvvv-kk)").fill("2026-11")
        with page.expect_download() as download:
            page.get_by_role("button", name="Lataa Excel (XLSX)").click()
        assert download.value.suggested_filename == "etapalvelu-porvoo-2026-11.xlsx"


@pytest.fixture
def small_taps(app):
    """Three tasks of five minutes each in Porvoo's November: 0.08 h each as shown."""
    with app.state.sessionmaker() as db:
        for task in ("meeting", "equipment", "safety"):
            tasks.add_minutes(db, site="porvoo", advisor_id=1, day=date(2026, 11, 16),
                              task=task, minutes=5, now=NOW)
        db.commit()
    return app


def _download(page, button: str) -> bytes:
    with page.expect_download() as download:
        page.get_by_role("button", name=button).click()
    return Path(download.value.path()).read_bytes()


@pytest.mark.browser
def test_the_reports_speak_the_pages_language_and_their_totals_are_the_sums_of_their_rows(
        chromium, small_taps):
    with served(small_taps) as base, staff_page(chromium, base, "adv-porvoo", PASSWORD,
                                                path="/console/advisor/exports?lang=sv") as page:
        assert page.get_by_label("Månad (åååå-mm)").input_value() == "2026-11"
        tables = _tables_of_csv(_download(page, "Ladda ner CSV"))
        assert [(title, header) for title, header, _ in tables] == [
            ("Arbetstid per uppgift", ["Uppgift (kod)", "Uppgift", "Minuter", "Timmar"]),
            ("Arbetstidsposter", ["Dag", "Rådgivarens id", "Uppgift (kod)", "Uppgift", "Minuter"]),
            ("Bokningar", ["Myndighet", "Bokade besök", "Utan bokning", "Genomförda", "Kom inte",
                           "Avbokade", "Flyttningar", "Bokade minuter", "Genomförda minuter"])]
        *shown, total = tables[0][2]
        assert total[:3] == ["Totalt", "", "15"]
        # every figure as shown sums to the total row: 3 x 0.08 h is 0.24 h, not 0.25
        assert Decimal(total[3]) == sum(Decimal(row[3]) for row in shown) == Decimal("0.24")
        assert int(total[2]) == sum(int(row[2]) for row in shown)
        checked(page, "consoles-exports-sv")

        page.goto(f"{base}/console/advisor/exports?lang=en")
        assert page.get_by_label("Month (yyyy-mm)").input_value() == "2026-11"
        book = load_workbook(io.BytesIO(_download(page, "Download Excel (XLSX)")))
        assert book.sheetnames == ["Time by task", "Time entries", "Bookings"]
        header, *shown, total = book["Time by task"].iter_rows(values_only=True)
        assert header == ("Task (code)", "Task", "Minutes", "Hours")
        assert total[0] == "Total"
        assert total[2] == sum(row[2] for row in shown) == 15
        assert round(total[3], 2) == round(sum(row[3] for row in shown), 2) == 0.24
        assert next(book["Bookings"].iter_rows(values_only=True))[0] == "Authority"
