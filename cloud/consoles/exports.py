"""The pilot's monthly report of a site: the advisors' time by task and the booking figures,
as XLSX (openpyxl) and CSV, its titles, column headings and task names in the reader's
language. Every total is the sum of the rows above it as they are shown, computed here once:
hours are rounded once, per row (to the hundredth, half up), and their total is the sum of
those rounded hours, so a reader's own sum of the column gives the total row. The month is a
Helsinki calendar month; the report holds no personal data (advisors by staff id, bookings by
counts)."""
from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.orm import Session

from cloud.bookings import service as bookings
from cloud.consoles import service as tasks
from cloud.consoles.rules import TASKS
from cloud.registry import Registry
from cloud.sites.hours import day_window
from cloud.texts import translate

FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "csv": "text/csv; charset=utf-8"}
TASK_COLUMNS = ("task", "task_name", "minutes", "hours")
ENTRY_COLUMNS = ("day", "advisor_id", "task", "task_name", "minutes")
BOOKING_COLUMNS = ("authority", "bookings", "walk_ins", "completed", "no_shows", "cancelled",
                   "moves", "booked_minutes", "realised_minutes")
HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class Sheet:
    """One table of the report: a title, a header and rows (the last is the total), each in
    the reader's language."""

    title: str
    header: tuple[str, ...]
    rows: list[tuple]


def sheet(lang: str, key: str, columns: tuple[str, ...], rows: list[tuple]) -> Sheet:
    """A table whose title and column headings are the texts ``export.sheet.<key>`` and
    ``export.col.<column>`` in ``lang``."""
    return Sheet(translate(lang, f"export.sheet.{key}"),
                 tuple(translate(lang, f"export.col.{column}") for column in columns), rows)


def hours(minutes: int) -> Decimal:
    """Minutes as hours to the hundredth, rounded half up: the one rounding of the report."""
    return (Decimal(minutes) / 60).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class MonthlyReport:
    """A site's report of one month."""

    site: str
    month: date
    lang: str
    sheets: tuple[Sheet, ...]


def parse_month(text: str) -> date | None:
    """``2026-11`` as the first day of the month; None when it is not a month."""
    match = re.fullmatch(r"(20\d\d)-(0[1-9]|1[0-2])", text or "")
    return date(int(match[1]), int(match[2]), 1) if match else None


def next_month(month: date) -> date:
    """The first day of the month after ``month``."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def task_sheets(session: Session, *, site: str, month: date,
                lang: str) -> tuple[Sheet, Sheet]:
    """The month's entries (day, advisor, task, minutes) and the minutes and hours per task."""
    entries = tasks.task_entries_between(db=session, start=month, end=next_month(month),
                                         site=site)
    names = {task: translate(lang, f"tasktime.task.{task}") for task in TASKS}
    total = translate(lang, "export.total")
    rows = [(e.day.isoformat(), e.advisor_id, e.task, names.get(e.task, e.task), e.minutes)
            for e in entries]
    rows.append((total, "", "", "", sum(e.minutes for e in entries)))
    per_task = Counter()
    for entry in entries:
        per_task[entry.task] += entry.minutes
    summary = [(task, names[task], per_task[task], hours(per_task[task])) for task in TASKS]
    summary.append((total, "", sum(r[2] for r in summary), sum(r[3] for r in summary)))
    return (sheet(lang, "task_entries", ENTRY_COLUMNS, rows),
            sheet(lang, "task_totals", TASK_COLUMNS, summary))


def booking_sheet(session: Session, *, site: str, month: date, lang: str) -> Sheet:
    """Per authority: visits of the month by outcome, their moves, booked and realised
    minutes (a visit counts in the month it was booked for)."""
    start, _ = day_window(month)
    end, _ = day_window(next_month(month))
    figures: dict[str, Counter] = defaultdict(Counter)
    for booking in bookings.bookings_between(session, start=start, end=end, site=site,
                                             include_cancelled=True):
        row = figures[booking.authority]
        row["bookings"] += 1
        row["walk_ins"] += booking.channel == "walk_in"
        row["completed"] += booking.status == "completed"
        row["no_shows"] += booking.status == "no_show"
        row["cancelled"] += booking.status == "cancelled"
        row["moves"] += booking.moves
        if booking.status != "cancelled":
            row["booked_minutes"] += booking.minutes
        if booking.realised_start and booking.realised_end:
            row["realised_minutes"] += int(
                (booking.realised_end - booking.realised_start).total_seconds() // 60)
    rows = [(authority, *(figures[authority][c] for c in BOOKING_COLUMNS[1:]))
            for authority in sorted(figures)]
    rows.append((translate(lang, "export.total"),
                 *(sum(figures[a][c] for a in figures) for c in BOOKING_COLUMNS[1:])))
    return sheet(lang, "bookings", BOOKING_COLUMNS, rows)


def monthly_report(session: Session, *, registry: Registry, site: str, month: date,
                   lang: str = "fi") -> MonthlyReport:
    """The site's report of ``month`` in ``lang`` (titles, headings, task names)."""
    if site not in registry.sites:
        raise ValueError(f"no site {site!r}")
    entries, totals = task_sheets(session, site=site, month=month, lang=lang)
    return MonthlyReport(site, month, lang, (totals, entries,
                                             booking_sheet(session, site=site, month=month,
                                                           lang=lang)))


def to_csv(report: MonthlyReport) -> bytes:
    """The report as one CSV: each table under a line naming it, a blank line between."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow((translate(report.lang, "export.col.site"), report.site,
                     translate(report.lang, "export.col.month"), f"{report.month:%Y-%m}"))
    for sheet in report.sheets:
        writer.writerow(())
        writer.writerow((sheet.title,))
        writer.writerow(sheet.header)
        writer.writerows(sheet.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM: Excel reads it as UTF-8


def to_xlsx(report: MonthlyReport) -> bytes:
    """The report as a workbook, one worksheet per table, the total row in bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for sheet in report.sheets:
        page = book.create_sheet(sheet.title)
        page.append(sheet.header)
        for row in sheet.rows:
            page.append(row)
        for cell in (*page[1], *page[page.max_row]):
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def encode(report: MonthlyReport, format: str) -> tuple[bytes, str]:
    """The report in ``format`` (``xlsx`` or ``csv``) and its media type."""
    body = to_xlsx(report) if format == "xlsx" else to_csv(report)
    return body, FORMATS[format]
