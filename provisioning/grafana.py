"""``etapalvelu dashboards push``: the project's dashboards and the InfluxDB (InfluxQL) data
source put into a running Grafana through its HTTP API (grafana-client).

Everything is keyed by uid, so a push is idempotent: the data source is created
(``POST /api/datasources``) or updated (``PUT /api/datasources/uid/<uid>``), the folder created
once (``POST /api/folders``), and every dashboard saved with ``overwrite`` into that folder
(``POST /api/dashboards/db``). The same data source and folder are what the Ansible role
provisions from files (ansible/roles/grafana), so either way Grafana shows the same thing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import click
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException, GrafanaUnauthorizedError

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboards"
DATASOURCE_UID = "etapalvelu-influx"  # every panel of dashboards/ names it
DATASOURCE_NAME = "etapalvelu InfluxDB"
FOLDER_UID = "etapalvelu"
FOLDER_TITLE = "etapalvelu"


class GrafanaPushError(click.ClickException):
    """Grafana could not be reached or refused the push; the message says what to fix."""


@dataclass(frozen=True)
class InfluxSource:
    """The InfluxDB that Grafana queries with InfluxQL (1.x, or 2.x/3.x through its v1 API)."""

    url: str
    database: str = "etapalvelu"
    user: str = "grafana"
    password: str = ""

    def datasource(self) -> dict:
        """The data source as Grafana's API and its provisioning files describe it."""
        return {"uid": DATASOURCE_UID, "name": DATASOURCE_NAME, "type": "influxdb",
                "access": "proxy", "url": self.url, "user": self.user,
                "jsonData": {"dbName": self.database, "httpMode": "POST"},
                "secureJsonData": {"password": self.password}}


@dataclass
class PushReport:
    """What a push did: ``created`` or ``updated`` per object, the dashboards' new versions."""

    datasource: str = ""
    folder: str = ""
    dashboards: dict[str, int] = field(default_factory=dict)


def load_dashboards(folder: Path = DASHBOARD_DIR) -> list[dict]:
    """The dashboards of ``folder`` (``*.json``), sorted by file name; a file without a uid
    is refused, since a push keyed by title would duplicate it."""
    dashboards = []
    for path in sorted(folder.glob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        if not dashboard.get("uid"):
            raise GrafanaPushError(f"{path.name}: a dashboard needs a uid")
        dashboards.append(dashboard)
    if not dashboards:
        raise GrafanaPushError(f"no dashboards (*.json) in {folder}")
    return dashboards


def push(api: GrafanaApi, dashboards: list[dict], source: InfluxSource) -> PushReport:
    """Create or update the data source, the folder and every dashboard in ``api``'s Grafana
    (a ``grafana_client.GrafanaApi``); errors are grafana-client's."""
    report = PushReport()
    body = source.datasource()
    try:
        api.datasource.get_datasource_by_uid(DATASOURCE_UID)
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
        api.datasource.create_datasource(body)
        report.datasource = "created"
    else:
        api.datasource.update_datasource_by_uid(DATASOURCE_UID, body)
        report.datasource = "updated"
    try:
        api.folder.get_folder(FOLDER_UID)
        report.folder = "exists"
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
        api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
        report.folder = "created"
    for dashboard in dashboards:
        # no id: Grafana matches by uid; overwrite: the project's file wins over edits in the UI
        saved = api.dashboard.update_dashboard({
            "dashboard": {**dashboard, "id": None}, "folderUid": FOLDER_UID,
            "overwrite": True, "message": "etapalvelu dashboards push"})
        report.dashboards[dashboard["uid"]] = saved.get("version", 0)
    return report


def push_to(url: str, token: str, dashboards: list[dict], source: InfluxSource,
            timeout: float = 10) -> PushReport:
    """``push`` to the Grafana at ``url`` with a service account token; every failure is a
    ``GrafanaPushError`` that names the cause (unreachable, wrong token, refused body)."""
    api = GrafanaApi.from_url(url, credential=token, timeout=timeout)
    try:
        api.health.check()  # unauthenticated: tells "unreachable" from "refused"
        return push(api, dashboards, source)
    except GrafanaUnauthorizedError as exc:
        raise GrafanaPushError(f"Grafana at {url} refused the token (401): give a service "
                               "account token with the Admin role") from exc
    except GrafanaClientError as exc:
        if exc.status_code == 403:
            raise GrafanaPushError(f"Grafana at {url} refused the push ({exc}): the token's "
                                   "account lacks the Admin role, or the object is provisioned "
                                   "from files") from exc
        raise GrafanaPushError(f"Grafana at {url} refused the push: {exc}") from exc
    except GrafanaException as exc:  # timeouts and 5xx
        raise GrafanaPushError(f"Grafana at {url} failed: {exc}") from exc
    except OSError as exc:  # connection refused, DNS, TLS: the HTTP library's errors are OSErrors
        raise GrafanaPushError(f"cannot reach Grafana at {url}: {type(exc).__name__}") from exc


@click.group()
def dashboards() -> None:
    """Grafana: push the dashboards and the InfluxDB data source."""


@dashboards.command("push")
@click.option("--url", required=True, envvar="ETP_GRAFANA_URL",
              help="Grafana's address, e.g. https://grafana.example.invalid")
@click.option("--token", required=True, envvar="ETP_GRAFANA_TOKEN",
              help="A service account token (Admin: data sources need it); or ETP_GRAFANA_TOKEN.")
@click.option("--influx-url", required=True, envvar="ETP_GRAFANA_INFLUX_URL",
              help="The InfluxDB Grafana queries, as Grafana reaches it.")
@click.option("--influx-database", default="etapalvelu", show_default=True)
@click.option("--influx-user", default="grafana", show_default=True)
@click.option("--influx-password-file", type=click.Path(exists=True, dir_okay=False,
                                                        path_type=Path),
              help="A file holding the InfluxDB user's password.")
@click.option("--dashboards-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=DASHBOARD_DIR, show_default="the project's dashboards/")
def push_command(url: str, token: str, influx_url: str, influx_database: str, influx_user: str,
                 influx_password_file: Path | None, dashboards_dir: Path) -> None:
    """Create or update the data source, the folder and every dashboard; a repeat updates."""
    password = influx_password_file.read_text().strip() if influx_password_file else ""
    source = InfluxSource(influx_url, influx_database, influx_user, password)
    report = push_to(url, token, load_dashboards(dashboards_dir), source)
    click.echo(f"data source {DATASOURCE_UID} {report.datasource}; folder {FOLDER_UID} "
               f"{report.folder}")
    for uid, version in report.dashboards.items():
        click.echo(f"dashboard {uid} saved, version {version}")
