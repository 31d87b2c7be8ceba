"""The ``etapalvelu fleet`` commands on a real fleet folder."""
from __future__ import annotations

import re

import yaml
from click.testing import CliRunner

from etapalvelu.cli import cli
from provisioning.generate import current_files
from tests.fleet.conftest import make_fleet

NEW_ROOM = ["porvoo.r2.agent", "porvoo.r2.callbutton", "porvoo.r2.occupancy"]


def fleet_cli(fleet, *args):
    result = CliRunner().invoke(cli, ["fleet", "--fleet-dir", str(fleet.folder), *args],
                                catch_exceptions=False)
    return result


def section(output: str, title: str) -> list[str]:
    """The ``+``/``-``/``~`` lines under a section title of the plan."""
    match = re.search(rf"^{title}:\n((?:  [+~-] .*\n)*)", output, re.MULTILINE)
    return match.group(1).splitlines() if match else []


def test_plan_of_a_generated_fleet_is_empty(tmp_path):
    fleet = make_fleet(tmp_path / "fleet")
    result = fleet_cli(fleet, "plan", "--exit-code")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "files: 0 would change"


def test_plan_after_add_room_shows_exactly_the_new_rooms_credentials_acl_inventory_config(
        tmp_path):
    fleet = make_fleet(tmp_path / "fleet")
    secrets = {p.name: p.read_text() for p in (fleet.folder / "secrets").iterdir()}
    added = fleet_cli(fleet, "add-room", "porvoo", "r2", "--name", "Toinen huone")
    assert added.exit_code == 0, added.output

    result = fleet_cli(fleet, "plan", "--exit-code")
    assert result.exit_code == 2
    out = result.output
    assert section(out, "credentials") == [f"  + {name}" for name in NEW_ROOM]
    acl = section(out, "acl")
    assert acl and all(line.startswith("  + porvoo.r2.") for line in acl)
    assert {line.split()[1] for line in acl} == set(NEW_ROOM)
    assert ("  + porvoo.r2.callbutton allow publishClientSend "
            "etp/v1/porvoo/r2/callbutton/event") in acl
    assert "  + porvoo.r2.agent allow publishClientSend etp/v1/porvoo/r2/agent/status" in acl
    assert section(out, "inventory") == ["  + porvoo-r2"]
    assert section(out, "configs") == ["  + agents/porvoo/r2/agent.yaml"]
    files = out.split("would change\n", 1)[1].split()
    assert sorted(files) == sorted(
        ["agents/porvoo/r2/agent.yaml", "broker/dynamic-security.json", "inventory/hosts.yml"]
        + [f"secrets/{n}.{ext}" for n in NEW_ROOM for ext in ("password", "key")]
        + [f"pki/certs/{n}.crt" for n in NEW_ROOM]
        + ["secrets/porvoo.r2.agent.probe-token"])
    for secret in secrets.values():  # no secret of the folder is ever printed
        assert secret.strip() not in out

    assert fleet_cli(fleet, "generate").exit_code == 0
    assert fleet_cli(fleet, "plan").output.strip() == "files: 0 would change"
    config = yaml.safe_load((fleet.folder / "agents/porvoo/r2/agent.yaml").read_text())
    assert config["broker"]["username"] == "porvoo.r2.agent"


def test_secrets_are_written_owner_only(tmp_path):
    fleet = make_fleet(tmp_path / "fleet")
    assert (fleet.folder / "secrets").stat().st_mode & 0o777 == 0o700
    for path, spec in current_files(fleet.folder).items():
        if spec.secret:
            assert spec.mode == 0o600, path


def test_rotate_changes_only_the_named_identity_and_revokes_its_old_certificate(tmp_path):
    fleet = make_fleet(tmp_path / "fleet")
    old = fleet.password("nurmes.r1.agent")
    result = fleet_cli(fleet, "rotate-credentials", "nurmes.r1.agent")
    assert result.exit_code == 0, result.output
    assert old not in result.output and fleet.password("nurmes.r1.agent") != old
    revoked = yaml.safe_load((fleet.folder / "pki/revoked.yaml").read_text())
    assert [e["identity"] for e in revoked["revoked"]] == ["nurmes.r1.agent"]
    assert revoked["disabled"] == []


def test_revoke_of_an_unknown_identity_is_refused(tmp_path):
    fleet = make_fleet(tmp_path / "fleet")
    result = CliRunner().invoke(cli, ["fleet", "--fleet-dir", str(fleet.folder), "revoke",
                                      "porvoo.r9.callbutton"])
    assert result.exit_code != 0 and "unknown identities" in result.output


def test_generated_agent_configs_validate_with_the_agents_own_check(tmp_path):
    fleet = make_fleet(tmp_path / "fleet")
    for config in sorted((fleet.folder / "agents").glob("*/*/agent.yaml")):
        result = CliRunner().invoke(cli, ["edge", "validate-config", str(config)])
        # the named key files live on the terminal, not here: only their absence may fail
        problems = [line for line in result.output.splitlines() if line.startswith("  - ")]
        assert all("not found" in line for line in problems), result.output


def test_init_then_generate_makes_a_fleet_folder_whose_plan_is_empty(tmp_path):
    from cloud.registry import PILOT_REGISTRY

    folder = tmp_path / "new-fleet"
    runner = CliRunner()
    base = ["fleet", "--fleet-dir", str(folder)]
    result = runner.invoke(cli, [*base, "init", "--registry", str(PILOT_REGISTRY),
                                 "--broker-host", "mqtt.example.invalid", "--canary",
                                 "porvoo/r1"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(cli, [*base, "generate"]).exit_code == 0
    assert runner.invoke(cli, [*base, "plan"]).output.strip() == "files: 0 would change"
    inventory = yaml.safe_load((folder / "inventory/hosts.yml").read_text())
    assert set(inventory["all"]["children"]["agents"]["children"]) == {
        "site_porvoo", "site_imatra", "site_nurmes"}


def test_revoke_by_topic_path_disables_the_device_until_it_is_rotated(tmp_path):
    fleet = make_fleet(tmp_path / "fleet")
    result = fleet_cli(fleet, "revoke", "porvoo/r1/callbutton")
    assert result.exit_code == 0, result.output
    assert not (fleet.folder / "secrets/porvoo.r1.callbutton.password").exists()
    dynsec = (fleet.folder / "broker/dynamic-security.json").read_text()
    assert "porvoo.r1.callbutton" not in dynsec
    assert fleet_cli(fleet, "plan").output.strip() == "files: 0 would change"

    result = fleet_cli(fleet, "rotate-credentials", "porvoo.r1.callbutton")
    assert result.exit_code == 0, result.output
    assert (fleet.folder / "secrets/porvoo.r1.callbutton.password").exists()
    revoked = yaml.safe_load((fleet.folder / "pki/revoked.yaml").read_text())
    assert revoked["disabled"] == [] and len(revoked["revoked"]) == 1


def test_a_room_taken_out_of_the_registry_loses_its_credentials_and_its_certificates(tmp_path):
    fleet = make_fleet(tmp_path / "fleet")
    registry = fleet.folder / "registry.yaml"
    data = yaml.safe_load(registry.read_text())
    del data["sites"]["nurmes"]
    registry.write_text(yaml.safe_dump(data, allow_unicode=True))
    out = fleet_cli(fleet, "plan").output
    assert section(out, "credentials") == [
        "  - nurmes.r1.agent", "  - nurmes.r1.callbutton", "  - nurmes.r1.occupancy"]
    assert section(out, "inventory") == ["  - nurmes-r1"]
    assert fleet_cli(fleet, "generate").exit_code == 0
    revoked = yaml.safe_load((fleet.folder / "pki/revoked.yaml").read_text())
    assert sorted(e["identity"] for e in revoked["revoked"]) == [
        "nurmes.r1.agent", "nurmes.r1.callbutton", "nurmes.r1.occupancy"]
    assert fleet_cli(fleet, "plan").output.strip() == "files: 0 would change"
