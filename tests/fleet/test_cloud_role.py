"""The cloud role run for real on this machine (``connection: local``) into a temporary root:
the virtual environment built from the project's own wheel, the settings files with their
modes, one systemd unit per process, the migrations run by the venv's own command. A second
run changes nothing, and ``systemd-analyze verify`` accepts the units where it exists.

What this cannot show (no systemd as PID 1 here): that the units start, that the watchdog and
restart policies act, that the service user and the hardening options let the processes
work; docs/fleet.md says so."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess

import pytest

from provisioning.runner import run_playbook
from tests.fleet.conftest import ONE_ROOM
from tests.fleet.test_playbooks import local_fleet, local_target

HOST = "cloud.example.invalid"
PROCESS_UNITS = ("etapalvelu-ingest@.service", "etapalvelu-api@.service",
                 "etapalvelu-engine.service", "etapalvelu-notify.service",
                 "etapalvelu-schedule@.service")


def cloud_vars(root, wheels) -> dict:
    """The folder target plus a real install: venv from the wheelhouse, migrations."""
    return {**local_target(root), "cloud_install": True, "cloud_run_migrations": True,
            "cloud_wheelhouse_src": str(wheels),
            "cloud_environment": {"ETP_INCIDENTS_PUBLIC_URL": "https://etp.example.invalid"}}


def mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_cloud_role_builds_the_venv_from_the_wheel_and_a_second_run_changes_nothing(
        tmp_path, cloud_wheelhouse):
    fleet = local_fleet(tmp_path, registry=ONE_ROOM, cloud_workers={"ingest": 2, "api": 1})
    database = tmp_path / "cloud.sqlite"
    (fleet.folder / "secrets/database-url").write_text(f"sqlite:///{database}\n")
    root = tmp_path / "target"
    first = run_playbook("cloud.yml", fleet.folder, extravars=cloud_vars(root, cloud_wheelhouse))
    assert first.ok, first.tail
    assert first.changed.get(HOST, 0) > 0

    host = root / HOST
    etc = host / "etc/etapalvelu-cloud"
    assert mode(etc / "cloud.env") == 0o640
    env = (etc / "cloud.env").read_text()
    assert f"ETP_DATABASE_URL=sqlite:///{database}" in env
    assert "ETP_INCIDENTS_PUBLIC_URL=https://etp.example.invalid" in env
    # the notify worker's SMS gateway and the feedback links' address (samples to override)
    assert "ETP_NOTIFY_SMS_URL=https://sms-gateway.example.invalid/send" in env
    assert "ETP_BOOKINGS_PUBLIC_URL=https://etapalvelu.example.invalid" in env
    for identity in ("cloud.ingest.1", "cloud.ingest.2", "cloud.api.1"):
        assert mode(etc / identity / "worker.env") == 0o640
        assert mode(etc / identity / "client.key") == 0o640
        assert f"ETP_BROKER_USERNAME={identity}" in (etc / identity / "worker.env").read_text()
    assert "ETP_API_PORT=8080" in (etc / "cloud.api.1/worker.env").read_text()
    for n in (1, 2):  # each ingest instance reads its own partition of the sites
        assert f"ETP_INGEST_PARTITION={n - 1}/2" in (etc / f"cloud.ingest.{n}/worker.env"
                                                     ).read_text()
    units = host / "etc/systemd/system"
    for unit in PROCESS_UNITS:
        text = (units / unit).read_text()
        assert "Type=notify" in text and "NoNewPrivileges=true" in text
        assert "ProtectSystem=strict" in text and "User=etapalvelu-cloud" in text
        assert "RestartPreventExitStatus=78" in text
    assert "cloud ingest --name cloud.ingest.%i" in (units / "etapalvelu-ingest@.service"
                                                     ).read_text()

    # the venv holds the wheel's command, and that command migrated the database
    executable = host / "opt/etapalvelu-cloud/venv/bin/etapalvelu"
    own_code_only = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    help_text = subprocess.run([str(executable), "cloud", "--help"], capture_output=True,
                               text=True, timeout=60, check=True, env=own_code_only).stdout
    assert all(command in help_text for command in ("ingest", "engine", "notify", "schedule"))
    with sqlite3.connect(database) as connection:
        tables = {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"runtime_heartbeat", "incident", "bookings_booking"} <= tables

    second = run_playbook("cloud.yml", fleet.folder,
                          extravars=cloud_vars(root, cloud_wheelhouse))
    assert second.ok, second.tail
    assert second.changed.get(HOST, 0) == 0, second.changed

    verify = shutil.which("systemd-analyze")
    if verify is None:
        pytest.skip("systemd-analyze is not installed: the units were not verified")
    # the units depend on the system's own (network-online.target, sysinit.target...)
    (host / "usr/lib/systemd").mkdir(parents=True)
    (host / "usr/lib/systemd/system").symlink_to("/usr/lib/systemd/system")
    result = subprocess.run([verify, "verify", f"--root={host}", "--man=no", "--generators=no",
                             *(str(units / u) for u in ("etapalvelu-ingest@1.service",
                                                        "etapalvelu-api@1.service",
                                                        *PROCESS_UNITS[2:]))],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    # a bad value is only a warning to verify: none may name our units
    assert [line for line in result.stderr.splitlines() if "etapalvelu" in line] == []
