"""Staged rollout: canaries first, then batches; the health check reads the agents' retained
status from the real broker, and the first unhealthy batch stops the rollout."""
from __future__ import annotations

import time

import pytest

from protocol.codec import encode
from protocol.payloads import Status
from provisioning.rollout import MonitorLogin, batches, not_online, rollout
from tests.fleet.conftest import close, connect

PILOT = [("porvoo", "r1"), ("imatra", "r1"), ("nurmes", "r1"), ("porvoo", "r2"),
         ("imatra", "r2")]


def test_canaries_go_first_then_the_rest_in_batches_in_registry_order():
    assert batches(PILOT, [("nurmes", "r1"), ("nowhere", "r1")], 2) == [
        [("nurmes", "r1")], [("porvoo", "r1"), ("imatra", "r1")], [("porvoo", "r2"),
                                                                   ("imatra", "r2")]]
    assert batches(PILOT[:3], [], 5) == [PILOT[:3]]


def report_online(fleet, broker, site, room, version, state="online"):
    """Publish a room's retained agent status with the agent's own identity."""
    identity = f"{site}.{room}.agent"
    client, outcome = connect(broker.port, identity, fleet.password(identity),
                              fleet.tls_files(identity))
    assert outcome.connected.is_set(), outcome.reason
    status = Status(ts=int(time.time() * 1000), seq=1, state=state, version=version)
    client.publish(f"etp/v1/{site}/{room}/agent/status", encode(status), qos=1,
                   retain=True).wait_for_publish(5)
    close(client)


def test_a_failing_canary_stops_the_rollout_before_the_remaining_rooms(fleet, fleet_broker):
    fleet.settings.canaries = ["porvoo/r1", "imatra/r1"]
    login = MonitorLogin.from_fleet(fleet.folder, "127.0.0.1", fleet_broker.port)
    # porvoo's canary comes up with the new version; imatra's stays on the old one
    report_online(fleet, fleet_broker, "porvoo", "r1", "0.2.0")
    report_online(fleet, fleet_broker, "imatra", "r1", "0.1.0")
    report_online(fleet, fleet_broker, "nurmes", "r1", "0.2.0")
    deployed: list[list[tuple[str, str]]] = []

    def deploy(batch):
        deployed.append(batch)
        return True

    plan = batches([("porvoo", "r1"), ("imatra", "r1"), ("nurmes", "r1")],
                   [("porvoo", "r1"), ("imatra", "r1")], 5)
    started = time.monotonic()
    report = rollout(plan, deploy, lambda batch: not_online(login, batch, "0.2.0", timeout=2))
    assert not report.completed
    assert report.failed == [("imatra", "r1")]
    assert deployed == [[("porvoo", "r1"), ("imatra", "r1")]]  # nurmes never touched
    assert time.monotonic() - started < 10


def test_a_healthy_fleet_is_rolled_out_batch_by_batch(fleet, fleet_broker):
    login = MonitorLogin.from_fleet(fleet.folder, "127.0.0.1", fleet_broker.port)
    rooms = [("porvoo", "r1"), ("imatra", "r1"), ("nurmes", "r1")]
    deployed = []

    def deploy(batch):
        deployed.append(batch)
        for site, room in batch:  # the new agents come up and say so
            report_online(fleet, fleet_broker, site, room, "0.2.0")
        return True

    started = time.monotonic()
    report = rollout(batches(rooms, [("nurmes", "r1")], 1), deploy,
                     lambda batch: not_online(login, batch, "0.2.0", timeout=5))
    assert report.completed, report
    assert deployed == [[("nurmes", "r1")], [("porvoo", "r1")], [("imatra", "r1")]]
    assert time.monotonic() - started < 5 * 3  # healthy batches do not wait for the timeout


def test_an_offline_agent_with_the_new_version_is_not_healthy(fleet, fleet_broker):
    login = MonitorLogin.from_fleet(fleet.folder, "127.0.0.1", fleet_broker.port)
    report_online(fleet, fleet_broker, "porvoo", "r1", "0.2.0", state="offline")
    assert not_online(login, [("porvoo", "r1")], "0.2.0", timeout=1) == [("porvoo", "r1")]


@pytest.mark.soak
def test_staged_apply_deploys_the_canaries_through_ansible_and_stops_at_the_failing_one(
        fleet, fleet_broker, tmp_path):
    from click.testing import CliRunner

    from etapalvelu.cli import cli
    from provisioning.settings import save_settings
    from tests.fleet.test_playbooks import local_target

    fleet.settings.canaries = ["imatra/r1"]
    save_settings(fleet.folder, fleet.settings)
    report_online(fleet, fleet_broker, "porvoo", "r1", "0.2.0")  # others would be fine
    root = tmp_path / "target"
    extra = [arg for key, value in local_target(root).items()
             for arg in ("-e", f"{key}={value}")]
    result = CliRunner().invoke(cli, ["fleet", "--fleet-dir", str(fleet.folder), "apply",
                                      "--staged", "--version", "0.2.0", "--health-timeout", "2",
                                      *extra])
    assert result.exit_code != 0
    assert "rollout stopped" in result.output and "imatra/r1" in result.output
    assert (root / "imatra-r1" / "etc/etapalvelu/agent.yaml").is_file()
    assert not (root / "porvoo-r1").exists() and not (root / "nurmes-r1").exists()
