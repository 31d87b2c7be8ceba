"""The monthly pilot report for the steering group: one self-contained HTML file (tables, and
inline SVG charts where a reader would rather look than read), the XLSX of the same tables, and
a PDF when a PDF tool (Chromium) is installed. Finnish by default, Swedish and English on
request. The steering group is outside the sites' own staff: small counts are suppressed."""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, partial
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from cloud import formats
from cloud.bookings.interpretation import LANGUAGES as INTERPRETING
from cloud.registry import Registry
from cloud.sites.hours import WEEKDAYS
from cloud.stats import export, figures
from cloud.stats.charts import bar_chart
from cloud.stats.facts import Sources
from cloud.stats.service import answer
from etapalvelu.logs import event_log

log = event_log(__name__)
HERE = Path(__file__).parent
LANGUAGES = ("fi", "sv", "en")
# table key -> (family, grouping); the report's tables, in order
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "utilisation": ("utilisation", ("site", "room")),
    "utilisation_by_weekday": ("utilisation", ("site", "room")),
    "visits": ("visits", ("site", "authority")),
    "changes": ("changes", ("site", "channel", "by", "action")),
    "feedback": ("feedback", ("site", "authority", "giver", "channel")),
    "calls": ("calls", ("site", "room")),
    "incidents": ("incidents", ("site", "party", "category")),
    "tasks": ("tasks", ("site", "task")),
    "interpretation": ("interpretation", ("site", "language", "mode")),
}
SHOWN = {  # the columns of each table in the HTML (the XLSX has them all)
    "utilisation": ("open_min", "booked_min", "realised_min", "occupied_min",
                    "unavailable_min", "booked_pct", "realised_pct", "occupied_pct"),
    "visits": ("visits_col", "walk_ins", "completed", "no_shows", "cancelled", "moved",
               "booked_min", "realised_min", "realised_avg_min", "wait_avg_min"),
    "changes": ("count",),
    "feedback": ("count", "avg_score", "score_1", "score_2", "score_3", "score_4", "score_5",
                 "asked", "response_pct"),
    "calls": ("calls_col", "acknowledged", "ack_p50_s", "ack_p90_s", "ack_max_s", "escalated"),
    "incidents": ("opened", "acknowledged", "respond_avg_min", "resolved", "resolve_avg_min",
                  "sla_breaches", "unavailable_min"),
    "tasks": ("minutes",),
    "interpretation": ("visits_col",),
}
PCT = ("booked_pct", "realised_pct", "occupied_pct")  # the utilisation chart's shares
WHOLE_MINUTES = ("open_min", "booked_min", "realised_min", "occupied_min", "unavailable_min",
                 "minutes")  # sums of minutes, read as whole minutes
NO_DATA = "–"
FIELD_OF = {"visits_col": "visits", "calls_col": "calls"}  # heading key -> field


@cache
def texts() -> dict:
    """The report's texts (``texts.yaml``, the pages' format, keys ``stats.*``): key without
    its prefix -> language -> text."""
    found = yaml.safe_load((HERE / "texts.yaml").read_text(encoding="utf-8"))
    return {key.removeprefix("stats."): versions for key, versions in found.items()}


def month_days(month: str) -> tuple[date, date]:
    """``2026-11`` -> the first and last day of that month."""
    try:
        first = datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"a month is YYYY-MM, not {month!r}") from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


@dataclass(frozen=True)
class MonthTables:
    """The report's rows (suppressed), per table key."""

    first: date
    last: date
    rows: Mapping[str, list[dict]]


def month_tables(session: Session, *, registry: Registry, sources: Sources, month: str,
                 now: datetime) -> MonthTables:
    """Every table of the month's report, with small counts suppressed."""
    first, last = month_days(month)
    rows = {}
    for key, (family, by) in TABLES.items():
        period = "weekday" if key == "utilisation_by_weekday" else "month"
        found = answer(session, registry=registry, sources=sources, family=family,
                       first=first, last=last, period=period, by=by, now=now)
        rows[key] = figures.suppress(family, found)
    return MonthTables(first, last, rows)


def _cell(row: dict, field: str, lang: str) -> str:
    """A table cell as the reader reads it: a number in the language's style (minutes summed
    as whole minutes, ``7 380``; averages and shares to a tenth, ``27,8``), ``..`` for a
    hidden value, a dash for none."""
    value = _value(row, field)
    if value is None or isinstance(value, str) and value == export.HIDDEN:
        return value or NO_DATA
    if isinstance(value, int | float) and not isinstance(value, bool):
        if field in WHOLE_MINUTES:
            return formats.number(lang, round(value))
        return formats.number(lang, value)
    return str(value)


def _value(row: dict, field: str):
    """A row's value for a chart or a cell: ``..`` when hidden, ``None`` when there is none."""
    return export.HIDDEN if field in row.get("suppressed", ()) else row.get(field)


def _charts(tables: MonthTables, registry: Registry, lang: str) -> dict[str, Markup]:
    t = {k: v[lang] for k, v in texts().items()}
    number = partial(formats.number, lang)
    charts: dict[str, Markup] = {}
    weekday_rows = tables.rows["utilisation_by_weekday"]
    parts = []
    for site, entry in registry.sites.items():
        for room in entry.rooms:
            by_day = {r["period"]: r for r in weekday_rows if (r["site"], r["room"]) ==
                      (site, room)}
            days = [d for d in WEEKDAYS if by_day.get(d, {}).get("open_min")]
            if not any(by_day[d][f] for d in days for f in PCT):
                continue  # nothing to draw: the table says it
            parts.append(bar_chart(
                f"{room_name(registry, site, room, lang)}: {t['utilisation_by_weekday']}",
                [t[f"weekday.{d}"] for d in days],
                [(t[f], [by_day[d][f] for d in days]) for f in PCT], unit=" %",
                number=number))
    charts["utilisation"] = Markup("".join(parts))
    feedback = tables.rows["feedback"]
    givers = [g for g in ("customer", "expert") if any(r["giver"] == g for r in feedback)]
    if givers:
        def score(giver, s):
            values = [_value(r, f"score_{s}") for r in feedback if r["giver"] == giver]
            return export.HIDDEN if export.HIDDEN in values else sum(values)
        charts["feedback"] = Markup(bar_chart(
            t["feedback_distribution"], [str(s) for s in figures.SCORES],
            [(t[g], [score(g, s) for s in figures.SCORES]) for g in givers], number=number))
    calls = tables.rows["calls"]
    if calls:
        charts["calls"] = Markup(bar_chart(
            t["calls_response"], [room_name(registry, r["site"], r["room"], lang)
                                  for r in calls],
            [(t[f], [_value(r, f) for r in calls]) for f in ("ack_p50_s", "ack_p90_s",
                                                              "ack_max_s")],
            unit=" s", number=number))
    incidents = tables.rows["incidents"]
    if incidents:
        parties = sorted({r["party"] for r in incidents})

        def opened(party):
            values = [_value(r, "opened") for r in incidents if r["party"] == party]
            return export.HIDDEN if export.HIDDEN in values else sum(values)
        party_names = display_names(registry, lang)["party"]
        charts["incidents"] = Markup(bar_chart(
            t["incidents_by_party"], [party_names.get(p, p) for p in parties],
            [(t["opened"], [opened(p) for p in parties])], number=number))
    return charts


def room_name(registry: Registry, site: str, room: str, lang: str) -> str:
    """A room as a reader names it: its site's name and its own, ``Porvoo-info ·
    Porvoo-infon neuvotteluhuone``."""
    entry = registry.sites[site]
    found = entry.rooms.get(room)
    return f"{getattr(entry.name, lang)} · {found.local_name(lang) if found else room}"


def display_names(registry: Registry, lang: str) -> dict[str, dict[str, str]]:
    """What a reader calls the report's codes, per column: sites and authorities from the
    registry, the advisors' tasks as the task-time log names them, support parties as the
    responsibility matrix names them, interpreting languages as the bookings name them."""
    from cloud.incidents.settings import IncidentSettings
    from cloud.texts import localized
    from cloud.texts import texts as page_texts

    prefix = "tasktime.task."
    matrix = IncidentSettings().matrix(registry)
    return {
        "site": {s: getattr(e.name, lang) for s, e in registry.sites.items()},
        "authority": {a: getattr(e.name, lang) for a, e in registry.authorities.items()},
        "task": {k.removeprefix(prefix): v[lang] for k, v in page_texts().items()
                 if k.startswith(prefix)},
        "party": {p: localized(party.shown_name, lang)
                  for p, party in matrix.data.parties.items()},
        "language": {code: names[lang] for code, names in INTERPRETING.items()},
    }


def render_html(tables: MonthTables, *, registry: Registry, lang: str, now: datetime) -> str:
    """The report as one self-contained HTML page in ``lang``."""
    if lang not in LANGUAGES:
        raise ValueError(f"language is one of {LANGUAGES}")
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html"]))
    t = {k: v[lang] for k, v in texts().items()}
    names = display_names(registry, lang)
    sections = []
    for key, shown in SHOWN.items():
        by = TABLES[key][1]
        heads = [t[d] for d in by] + [t[c] + (" %" if c.endswith("_pct") else "")
                                      for c in shown]
        body = [[_name(r, d, names, registry, lang) for d in by]
                + [_cell(r, FIELD_OF.get(c, c), lang) for c in shown]
                for r in tables.rows[key]]
        sections.append({"key": key, "title": t[key], "heads": heads, "rows": body,
                         "numeric_from": len(by)})
    return env.get_template("stats_report.html").render(
        t=t, lang=lang, sections=sections, charts=_charts(tables, registry, lang),
        first=tables.first, period=f"{formats.day_text(tables.first)} – "
                                   f"{formats.day_text(tables.last)}",
        generated=formats.moment(now))


def _name(row: dict, dim: str, names: Mapping[str, Mapping[str, str]], registry: Registry,
          lang: str) -> str:
    """A dimension's value as a reader names it: a room by its own name, a site, authority,
    task or party by the registry's or the matrix's, other codes by the report's texts."""
    if dim == "room":
        found = registry.sites[row["site"]].rooms.get(row["room"])
        return found.local_name(lang) if found else row["room"]
    if dim in names:
        return names[dim].get(row[dim], row[dim])
    return texts().get(f"code_{row[dim]}", {}).get(lang, row[dim])


def workbook(tables: MonthTables) -> bytes:
    """The XLSX of the report's tables, every column of each family."""
    return export.xlsx_bytes({key: export.family_table(TABLES[key][0], TABLES[key][1], rows)
                              for key, rows in tables.rows.items()})


def pdf_tool() -> str | None:
    """The installed PDF tool (headless Chromium), if any."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def write_report(session: Session, *, registry: Registry, sources: Sources, month: str,
                 lang: str, out_dir: Path, now: datetime) -> dict[str, Path]:
    """Write ``report-<month>-<lang>.html``, ``.xlsx`` and, with a PDF tool, ``.pdf`` into
    ``out_dir``; returns the files written by kind."""
    tables = month_tables(session, registry=registry, sources=sources, month=month, now=now)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"report-{month}-{lang}"
    written = {"html": stem.with_suffix(".html"), "xlsx": stem.with_suffix(".xlsx")}
    written["html"].write_text(render_html(tables, registry=registry, lang=lang, now=now),
                               encoding="utf-8")
    written["xlsx"].write_bytes(workbook(tables))
    tool = pdf_tool()
    if tool is None:
        log.info("stats.report_pdf_skipped", pdf="skipped", reason="no PDF tool (chromium) installed")
        return written
    pdf = stem.with_suffix(".pdf")
    subprocess.run([tool, "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    written["html"].resolve().as_uri()], check=True, timeout=120,
                   capture_output=True)
    written["pdf"] = pdf
    log.info("stats.report_written", month=month, lang=lang, files=len(written))
    return written
