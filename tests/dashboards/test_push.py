"""``etapalvelu dashboards push`` against a local HTTP peer that answers as Grafana's HTTP API:
the data source, the folder and every dashboard of dashboards/ land there, a repeat updates
them in place, and a wrong token or an unreachable Grafana ends with a clear error."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from etapalvelu.cli import cli
from provisioning.grafana import DASHBOARD_DIR, DATASOURCE_UID, FOLDER_UID
from tests.dashboards.grafana_peer import GrafanaPeer
from tests.servers import free_port

TOKEN = "glsa_not-a-real-service-account-token"
INFLUX = "http://influxdb.example.invalid:8086"
FILES = {d["uid"]: d for d in (json.loads(p.read_text()) for p in DASHBOARD_DIR.glob("*.json"))}


@pytest.fixture
def grafana():
    with GrafanaPeer(TOKEN) as peer:
        yield peer


def push(url: str, token: str = TOKEN, *extra: str):
    return CliRunner().invoke(cli, ["dashboards", "push", "--url", url, "--token", token,
                                    "--influx-url", INFLUX, *extra])


def test_push_creates_the_data_source_the_folder_and_every_dashboard(grafana, tmp_path):
    password = tmp_path / "influx-password"
    password.write_text("not-a-real-password\n")
    result = push(grafana.url, TOKEN, "--influx-password-file", str(password))
    assert result.exit_code == 0, result.output

    source = grafana.datasources[DATASOURCE_UID]
    assert (source["type"], source["access"], source["url"]) == ("influxdb", "proxy", INFLUX)
    assert source["jsonData"] == {"dbName": "etapalvelu", "httpMode": "POST"}
    assert grafana.secrets == {"password": "not-a-real-password"}
    assert grafana.folders[FOLDER_UID]["title"] == "etapalvelu"
    assert set(grafana.dashboards) == set(FILES) >= {
        "etapalvelu-fleet", "etapalvelu-utilisation", "etapalvelu-incidents", "etapalvelu-calls"}
    for uid, saved in grafana.dashboards.items():
        assert saved["folderUid"] == FOLDER_UID
        assert saved["dashboard"]["panels"] == FILES[uid]["panels"]
        # every panel queries the data source the push put there
        assert {p["datasource"]["uid"] for p in saved["dashboard"]["panels"]} == {DATASOURCE_UID}
    assert grafana.paths()[:5] == [
        "GET /api/health", f"GET /api/datasources/uid/{DATASOURCE_UID}", "POST /api/datasources",
        f"GET /api/folders/{FOLDER_UID}", "POST /api/folders"]
    saves = [body for method, path, body in grafana.requests if path == "/api/dashboards/db"]
    assert len(saves) == len(FILES) and all(
        body["overwrite"] is True and body["dashboard"]["id"] is None for body in saves)
    assert "not-a-real-password" not in result.output


def test_a_second_push_updates_everything_in_place_and_overwrites_edits_made_in_grafana(grafana):
    assert push(grafana.url).exit_code == 0
    # someone edits a dashboard in Grafana's UI: it gets a new version
    grafana.dashboards["etapalvelu-calls"]["version"] += 1
    first = len(grafana.requests)

    result = push(grafana.url)
    assert result.exit_code == 0, result.output
    second = grafana.paths()[first:]
    assert f"PUT /api/datasources/uid/{DATASOURCE_UID}" in second
    assert "POST /api/datasources" not in second and "POST /api/folders" not in second
    assert len(grafana.datasources) == 1 and len(grafana.folders) == 1
    assert set(grafana.dashboards) == set(FILES)
    assert grafana.dashboards["etapalvelu-calls"]["version"] == 3
    assert grafana.dashboards["etapalvelu-calls"]["dashboard"]["panels"] == (
        FILES["etapalvelu-calls"]["panels"])
    assert "data source etapalvelu-influx updated" in result.output


def test_a_wrong_token_is_refused_with_a_clear_error_and_nothing_is_written(grafana):
    result = push(grafana.url, "glsa_wrong")
    assert result.exit_code == 1
    assert "refused the token (401)" in result.output and "service account token" in result.output
    assert not grafana.datasources and not grafana.folders and not grafana.dashboards
    assert "glsa_wrong" not in result.output


def test_an_unreachable_grafana_is_named_in_a_clear_error():
    url = f"http://127.0.0.1:{free_port()}"
    result = push(url)
    assert result.exit_code == 1
    assert f"cannot reach Grafana at {url}" in result.output


def test_a_data_source_provisioned_from_files_is_named_as_the_reason_of_a_refusal(grafana):
    assert push(grafana.url).exit_code == 0
    grafana.datasources[DATASOURCE_UID]["readOnly"] = True  # as the Ansible role leaves it
    result = push(grafana.url)
    assert result.exit_code == 1
    assert "Cannot modify read-only data source" in result.output
    assert "provisioned from files" in result.output
