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
from functools import cache
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy.orm import Session

from cloud import formats
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
    "feedback": ("feedback", ("site", "authority", "giver")),
    "calls": ("calls", ("site", "room")),
    "incidents": ("incidents", ("site", "party", "category")),
    "tasks": ("tasks", ("site", "task")),
}
SHOWN = {  # the columns of each table in the HTML (the XLSX has them all)
    "utilisation": ("open_min", "booked_min", "realised_min", "occupied_min",
                    "unavailable_min", "booked_pct", "realised_pct", "occupied_pct"),
    "visits": ("visits_col", "walk_ins", "completed", "no_shows", "cancelled", "moved",
               "booked_min", "realised_min", "realised_avg_min", "wait_avg_min"),
    "changes": ("count",),
    "feedback": ("count", "avg_score", "score_1", "score_2", "score_3", "score_4", "score_5"),
    "calls": ("calls_col", "acknowledged", "ack_p50_s", "ack_p90_s", "ack_max_s", "escalated"),
    "incidents": ("opened", "acknowledged", "respond_avg_min", "resolved", "resolve_avg_min",
                  "sla_breaches", "unavailable_min"),
    "tasks": ("minutes",),
}
PCT = ("booked_pct", "realised_pct", "occupied_pct")
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
    """A table cell as the reader reads it: a number in the language's style, ``<5`` for a
    suppressed count, a dash for none."""
    if field in row.get("suppressed", ()):
        return export.SUPPRESSED
    value = row.get(field)
    if value is None:
        return "–"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return formats.number(lang, value)
    return str(value)


def _charts(tables: MonthTables, registry: Registry, lang: str) -> dict[str, Markup]:
    t = {k: v[lang] for k, v in texts().items()}
    charts: dict[str, Markup] = {}

    def site_name(site: str) -> str:
        return getattr(registry.sites[site].name, lang)
    weekday_rows = tables.rows["utilisation_by_weekday"]
    parts = []
    for site, entry in registry.sites.items():
        for room in entry.rooms:
            by_day = {r["period"]: r for r in weekday_rows if (r["site"], r["room"]) ==
                      (site, room)}
            days = [d for d in WEEKDAYS if by_day.get(d, {}).get("open_min")]
            if not any(by_day[d][f] for d in days for f in PCT):
                continue  # nothing to draw: the table says it
            names = [t[f"weekday.{d}"] for d in days]
            parts.append(bar_chart(
                f"{getattr(entry.name, lang)} · {room}: {t['utilisation_by_weekday']}", names,
                [(t[f], [by_day[d][f] for d in days]) for f in PCT], unit=" %"))
    charts["utilisation"] = Markup("".join(parts))
    feedback = tables.rows["feedback"]
    givers = [g for g in ("customer", "expert") if any(r["giver"] == g for r in feedback)]
    if givers:
        def score(giver, s):
            rows = [r for r in feedback if r["giver"] == giver]
            if any(r[f"score_{s}"] is None and f"score_{s}" in r["suppressed"] for r in rows):
                return None
            return sum(r[f"score_{s}"] or 0 for r in rows)
        charts["feedback"] = Markup(bar_chart(
            t["feedback_distribution"], [str(s) for s in figures.SCORES],
            [(t[g], [score(g, s) for s in figures.SCORES]) for g in givers]))
    calls = tables.rows["calls"]
    if calls:
        charts["calls"] = Markup(bar_chart(
            t["calls_response"], [f"{site_name(r['site'])} · {r['room']}" for r in calls],
            [(t[f], [r[f] for r in calls]) for f in ("ack_p50_s", "ack_p90_s", "ack_max_s")],
            unit=" s"))
    incidents = tables.rows["incidents"]
    if incidents:
        parties = sorted({r["party"] for r in incidents})

        def opened(party):
            rows = [r for r in incidents if r["party"] == party]
            return None if any(r["opened"] is None for r in rows) else sum(
                r["opened"] for r in rows)
        party_names = display_names(registry, lang)["party"]
        charts["incidents"] = Markup(bar_chart(
            t["incidents_by_party"], [party_names.get(p, p) for p in parties],
            [(t["opened"], [opened(p) for p in parties])]))
    return charts


def display_names(registry: Registry, lang: str) -> dict[str, dict[str, str]]:
    """What a reader calls the report's codes, per column: sites and authorities from the
    registry, the advisors' tasks as the task-time log names them, support parties as the
    responsibility matrix names them."""
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
        body = [[names[d].get(r[d], r[d]) if d in names else
                 t.get(f"code_{r[d]}", r[d]) for d in by]
                + [_cell(r, FIELD_OF.get(c, c), lang) for c in shown]
                for r in tables.rows[key]]
        sections.append({"key": key, "title": t[key], "heads": heads, "rows": body,
                         "numeric_from": len(by)})
    return env.get_template("stats_report.html").render(
        t=t, lang=lang, sections=sections, charts=_charts(tables, registry, lang),
        first=tables.first, period=f"{formats.day_text(tables.first)} – "
                                   f"{formats.day_text(tables.last)}",
        generated=formats.moment(now))


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
