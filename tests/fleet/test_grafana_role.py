"""The Grafana role run for real (``connection: local``) into a temporary root: the rendered
data source is the one `etapalvelu dashboards push` sends, the dashboard provider points at the
placed dashboards, which are the project's files; a dashboard gone from the project goes from
the host, and a second run changes nothing."""
from __future__ import annotations

import json
from pathlib import Path

import yaml

from provisioning.grafana import DASHBOARD_DIR, FOLDER_UID, InfluxSource
from provisioning.runner import run_playbook
from tests.fleet.test_playbooks import local_fleet, local_target

HOST = "grafana.example.invalid"
PASSWORD = "not-a-real-influx-password"
INFLUX = "https://influxdb.example.invalid:8086"


def grafana_vars(root: Path) -> dict:
    return {**local_target(root), "grafana_influx_url": INFLUX}


def test_grafana_role_provisions_the_data_source_and_every_dashboard_and_a_rerun_changes_nothing(
        tmp_path):
    fleet = local_fleet(tmp_path)
    secret = fleet.folder / "secrets/grafana-influx-password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    root = tmp_path / "target"
    first = run_playbook("grafana.yml", fleet.folder, extravars=grafana_vars(root))
    assert first.ok, first.tail
    assert first.changed.get(HOST, 0) > 0

    etc = root / HOST / "etc/grafana/provisioning"
    (source,) = yaml.safe_load((etc / "datasources/etapalvelu.yaml").read_text())["datasources"]
    assert (etc / "datasources/etapalvelu.yaml").stat().st_mode & 0o077 in (0, 0o040)
    pushed = InfluxSource(INFLUX, password=PASSWORD).datasource()
    assert {k: v for k, v in source.items() if k != "editable"} == pushed

    (provider,) = yaml.safe_load((etc / "dashboards/etapalvelu.yaml").read_text())["providers"]
    assert (provider["type"], provider["folderUid"]) == ("file", FOLDER_UID)
    placed = root / HOST / provider["options"]["path"].lstrip("/")
    files = sorted(DASHBOARD_DIR.glob("*.json"))
    assert sorted(p.name for p in placed.glob("*.json")) == [p.name for p in files]
    for path in files:
        assert json.loads((placed / path.name).read_text()) == json.loads(path.read_text())

    # a dashboard file of an earlier release, no longer in the project, is removed
    (placed / "retired.json").write_text('{"uid": "etapalvelu-retired"}')
    second = run_playbook("grafana.yml", fleet.folder, extravars=grafana_vars(root))
    assert second.ok, second.tail
    assert not (placed / "retired.json").exists()

    third = run_playbook("grafana.yml", fleet.folder, extravars=grafana_vars(root))
    assert third.ok, third.tail
    assert not any(third.changed.values()), third.changed
