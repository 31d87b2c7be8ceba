"""Run a Grafana panel's InfluxQL against a real InfluxDB 1.x the way Grafana sends it, and
read its answer as figures keyed by the panel's grouping, so they compare with the seed and
with the statistics API."""
from __future__ import annotations

import json
import math
import re
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")
DASHBOARD_DIR = Path(__file__).resolve().parents[2] / "dashboards"
DATABASE = "etapalvelu"

Figures = dict[tuple[str, ...], dict[str, float]]


def dashboard(name: str) -> dict:
    """A dashboard of the project by file name (``calls`` for dashboards/calls.json)."""
    return json.loads((DASHBOARD_DIR / f"{name}.json").read_text(encoding="utf-8"))


def panel(name: str, title_part: str) -> dict:
    """The one panel of dashboard ``name`` whose title contains ``title_part``."""
    (found,) = [p for p in dashboard(name)["panels"] if title_part in p["title"]]
    return found


ALL = None  # the site variable's "All": its allValue, every site


def grafana_macros(query: str, start_ms: int, end_ms: int, sites: tuple[str, ...] | None) -> str:
    """What Grafana substitutes before sending a raw InfluxQL query: the time range, the
    interval, and ``$site`` (chosen sites, or ``ALL``: the variable's allValue ``.*``)."""
    chosen = ".*" if sites is ALL else f"({'|'.join(sites)})"
    return (query.replace("$timeFilter", f"time >= {start_ms}ms and time <= {end_ms}ms")
            .replace("$__interval", "1m").replace("/^$site$/", f"/^{chosen}$/"))


def influx(url: str, path: str, **params) -> dict:
    """POST a form to InfluxDB 1.x's HTTP API and decode its JSON answer."""
    data = urllib.parse.urlencode(params).encode()
    with urllib.request.urlopen(f"{url}{path}", data=data, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else {}


def write_lines(url: str, lines: list[str]) -> None:
    """Write line protocol (millisecond times) into the dashboards' database."""
    influx(url, "/query", q=f'CREATE DATABASE "{DATABASE}"')
    request = urllib.request.Request(f"{url}/write?db={DATABASE}&precision=ms",
                                     data="\n".join(lines).encode(), method="POST")
    urllib.request.urlopen(request, timeout=10).read()


def run_panel(url: str, query_panel: dict, start_ms: int, end_ms: int,
              sites: tuple[str, ...] | None = ALL) -> list[dict]:
    """The series InfluxDB answers for the panel's query over [start, end]."""
    query = grafana_macros(query_panel["targets"][0]["query"], start_ms, end_ms, sites)
    result = influx(url, "/query", db=DATABASE, q=query, epoch="ms")["results"][0]
    assert "error" not in result, (query_panel["title"], result.get("error"))
    return result.get("series", [])


def _grouping(query: str) -> tuple[list[str], bool]:
    """The tags of the outermost GROUP BY and whether the query groups by day (in a
    subquery, whose times the outer query keeps)."""
    clause = query.rsplit("GROUP BY", 1)[1]
    clause = re.split(r"\bfill\(|\btz\(", clause)[0]
    return re.findall(r'"(\w+)"', clause), "time(1d)" in query


def panel_figures(url: str, query_panel: dict, start_ms: int, end_ms: int,
                  sites: tuple[str, ...] | None = ALL) -> Figures:
    """The panel's answer as ``{(tag values in GROUP BY order[, local day]): {column: value}}``;
    rows without any value are left out."""
    tags, by_day = _grouping(query_panel["targets"][0]["query"])
    figures: Figures = {}
    for series in run_panel(url, query_panel, start_ms, end_ms, sites):
        key = tuple(series["tags"][tag] for tag in tags)
        for row in series["values"]:
            values = dict(zip(series["columns"][1:], row[1:], strict=True))
            if all(value is None for value in values.values()):
                continue
            day = datetime.fromtimestamp(row[0] / 1000, UTC).astimezone(HELSINKI)
            figures[(*key, day.date().isoformat()) if by_day else key] = values
    return figures


# Decimals the statistics API rounds a figure to (cloud/stats/figures.py); a panel's figure is
# rounded alike before the comparison. Columns not listed compare exactly (counts, sums).
API_DIGITS = {"booked_pct": 1, "realised_pct": 1, "occupied_pct": 1, "realised_avg_min": 1,
              "wait_avg_min": 1, "respond_avg_min": 1, "resolve_avg_min": 1, "avg_score": 2,
              "response_pct": 1,
              "ack_max_s": 0, "booked_min": 1, "realised_min": 1, "unavailable_min": 1}


def figures_from_api(rows: Sequence[Mapping], keys: Sequence[str],
                     columns: Sequence[str]) -> Figures:
    """Rows of ``/api/stats/<family>`` (``by`` = the panel's tags; ``period`` last for a
    panel by day) as ``panel_figures`` keys them, with the panel's columns."""
    return {tuple(str(row[k]) for k in keys): {c: row[c] for c in columns} for row in rows}


def assert_panel_equals_api(api_figures: Mapping[tuple[str, ...], Mapping[str, float]],
                            panel_figures_: Mapping[tuple[str, ...], Mapping[str, float]],
                            digits: Mapping[str, int] = API_DIGITS) -> None:
    """The statistics API's figures and a panel's, keyed alike (``panel_figures``' keys and
    the panel's column names), are the same: the same keys and columns, every value equal once
    the panel's is rounded as the API rounds it (``digits``), up to float rounding."""
    assert set(api_figures) == set(panel_figures_), (sorted(api_figures), sorted(panel_figures_))
    for key, api in api_figures.items():
        shown = panel_figures_[key]
        assert set(api) == set(shown), (key, sorted(api), sorted(shown))
        for column, value in api.items():
            figure = shown[column] if column not in digits else round(shown[column],
                                                                        digits[column])
            assert math.isclose(figure, value, rel_tol=1e-9, abs_tol=1e-9), (
                key, column, value, shown[column])
