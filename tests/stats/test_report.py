"""The monthly pilot report of the seeded month: the HTML (charts as inline SVG, in Finnish,
Swedish and English), the XLSX and the PDF hold the seed's figures, the purge leaves them
unchanged, and ``etapalvelu stats report`` writes them. The files are kept under
var/artefacts/stats/ for a reviewer to open."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import openpyxl

from cloud.flows.purge import purge_personal_data
from cloud.stats.daily import DailyStatistics
from cloud.stats.report import month_tables, pdf_tool, write_report
from cloud.twin.service import purge_events
from tests.pages import assert_accessible, at_both_widths, browser_page
from tests.stats import seed
from tests.stats.seams import SOURCES

ARTEFACTS = Path(os.environ.get("ETP_ARTEFACTS", Path(__file__).parents[2] / "var" /
                                "artefacts")) / "stats"


def cells_of(html: str, section: str) -> list[list[str]]:
    """The body cells of a section's table."""
    body = html.split(f'<section id="{section}">')[1].split("</section>")[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row)
            for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1])]


def test_the_report_of_the_seeded_month_holds_its_figures_in_finnish_and_swedish(seeded):
    _, sessions, registry = seeded
    with sessions() as s:
        written = {lang: write_report(s, registry=registry, sources=SOURCES, month="2026-11",
                                      lang=lang, out_dir=ARTEFACTS, now=seed.NOW)
                   for lang in ("fi", "sv", "en")}
    fi = written["fi"]["html"].read_text(encoding="utf-8")
    sv = written["sv"]["html"].read_text(encoding="utf-8")
    assert '<html lang="fi">' in fi and "Käyttöaste" in fi and "Användningsgrad" in sv
    assert "<script" not in fi and "http" not in fi.replace("http://www.w3.org/2000/svg", "")
    porvoo = next(r for r in cells_of(fi, "utilisation") if r[0] == "Porvoo-info")
    # numbers in the language's style: a no-break space groups thousands, a comma marks decimals
    assert porvoo[2:] == ["7\u00a0560,0", "300,0", "260,0", "270,0", "90,0", "4,0", "3,4", "3,6"]
    kela = next(r for r in cells_of(fi, "visits") if r[1] == "Kela")
    # visits, walk-ins, completed, no-shows, cancelled, moved: small counts suppressed
    assert kela[2:8] == ["8", "0", "7", "&lt;5", "&lt;5", "&lt;5"]
    assert next(r for r in cells_of(sv, "visits") if r[1] == "FPA")[2] == "8"
    # the charts: utilisation by weekday per room, feedback, calls, incidents by party
    assert fi.count("<svg") == 4 and "ma" in fi and "mån" in sv and "Median" in sv
    assert "Borgå-info · r1" in sv
    book = openpyxl.load_workbook(written["fi"]["xlsx"])
    table = list(book["calls"].iter_rows(values_only=True))
    assert dict(zip(table[0], table[1]))["ack_p90_s"] == seed.CALLS["ack_p90_s"]
    if pdf_tool():
        assert written["fi"]["pdf"].read_bytes().startswith(b"%PDF")


def test_the_reports_tables_are_the_same_after_the_purge(seeded):
    _, sessions, registry = seeded
    with sessions() as s:
        before = month_tables(s, registry=registry, sources=SOURCES, month="2026-11",
                              now=seed.NOW)
        daily = DailyStatistics(registry, SOURCES, write=None)
        for day in range(30):
            daily.run(s, now=seed.NOW - timedelta(days=day))
            s.commit()
        later = seed.NOW + timedelta(days=400)
        purge_personal_data(s, now=later, retention=timedelta(days=30))
        purge_events(db=s, before=later)
        s.commit()
        after = month_tables(s, registry=registry, sources=SOURCES, month="2026-11",
                             now=seed.NOW)
    assert after == before


def test_the_report_command_writes_the_html_and_the_xlsx(seeded, tmp_path):
    url, _, _ = seeded
    env = {**os.environ, "ETP_DATABASE_URL": url, "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, "-m", "etapalvelu.cli", "stats", "report",
                           "--month", "2026-11", "--lang", "sv", "--out", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    html = (tmp_path / "report-2026-11-sv.html").read_text(encoding="utf-8")
    assert "Distanstjänstpiloten" in html and "7\u00a0560,0" in html
    assert (tmp_path / "report-2026-11-sv.xlsx").exists()
    assert ("pdf=skipped" in done.stderr) == (pdf_tool() is None)
    bad = subprocess.run([sys.executable, "-m", "etapalvelu.cli", "stats", "report",
                          "--month", "11/2026"], env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr


def test_the_report_reads_in_a_browser_in_finnish_and_swedish_at_laptop_and_phone_width(
        seeded, chromium):
    _, sessions, registry = seeded
    for lang in ("fi", "sv"):
        with sessions() as s:
            html = write_report(s, registry=registry, sources=SOURCES, month="2026-11",
                                lang=lang, out_dir=ARTEFACTS, now=seed.NOW)["html"]
        with browser_page(chromium) as page:
            page.goto(html.resolve().as_uri())
            assert page.locator("svg.chart").count() == 4
            at_both_widths(page, f"stats/report-2026-11-{lang}")
            assert_accessible(page)
