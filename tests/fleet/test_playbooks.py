"""The playbooks against a local target (a temporary root folder per host, no systemd): a
second run changes nothing, the placed files are the generator's, and an invalid agent config
never replaces the placed one. One room keeps the run short: Ansible is slow."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provisioning.generate import agent_placement, broker_placement
from provisioning.runner import ANSIBLE_DIR, run_playbook
from tests.fleet.conftest import ONE_ROOM, make_fleet

# the agent's config model check; the full `etapalvelu edge validate-config` also wants the
# named key and certificate files at their real paths, which a prefixed target does not have
MODEL_CHECK = (f"{sys.executable} -c \"import sys; from edge.config import load_config; "
               f"load_config(sys.argv[1])\" %s")


def local_target(root: Path) -> dict:
    """Extra variables that turn every inventory host into a folder under ``root``."""
    # modules need the standard library only; the system python starts faster than a venv
    python = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    return {"ansible_connection": "local", "ansible_python_interpreter": python,
            "etp_system": False, "etp_root": f"{root}/{{{{ inventory_hostname }}}}",
            "edge_agent_validate": MODEL_CHECK}


def assert_placed_files_are_the_generated_ones(fleet, root: Path) -> None:
    settings = fleet.settings
    for host, placement in (("localhost", broker_placement(settings)),
                            ("porvoo-r1", agent_placement(settings, "porvoo", "r1"))):
        for source, target in placement.items():
            placed = root / host / target.lstrip("/")
            assert placed.read_bytes() == (fleet.folder / source).read_bytes(), (host, target)
            if source.startswith("secrets/") or source.endswith(".json"):
                assert placed.stat().st_mode & 0o077 in (0, 0o040), (host, target)


def local_fleet(tmp_path, registry=ONE_ROOM, cloud_workers=None):
    """A fleet folder with the operator's files (database URL, admin token) in place."""
    fleet = make_fleet(tmp_path / "fleet", registry=registry,
                       cloud_workers=cloud_workers or {"ingest": 1, "api": 1})
    for name, value in (("database-url",
                         "postgresql+psycopg://etp:not-a-real-secret@db.example.invalid/etp"),
                        ("admin-token", "not-a-real-admin-token")):
        path = fleet.folder / "secrets" / name
        path.write_text(value + "\n")
        path.chmod(0o600)
    return fleet


def apply_twice(fleet, root: Path, limit: str | None, hosts: set[str]) -> None:
    """Apply site.yml twice: the first run changes things on every host, the second nothing."""
    seen: set[str] = set()
    first = run_playbook("site.yml", fleet.folder, extravars=local_target(root), limit=limit,
                         progress=lambda host, task, outcome, changed: seen.add(host))
    assert first.ok, first.tail
    assert seen == hosts and set(first.changed) == hosts
    assert all(first.changed.values())
    assert_placed_files_are_the_generated_ones(fleet, root)

    second = run_playbook("site.yml", fleet.folder, extravars=local_target(root), limit=limit)
    assert second.ok, second.tail
    assert not any(second.changed.values()), second.changed
    assert_placed_files_are_the_generated_ones(fleet, root)


def test_broker_and_agent_playbooks_applied_twice_change_nothing_the_second_time(tmp_path):
    fleet = local_fleet(tmp_path)
    root = tmp_path / "target"
    apply_twice(fleet, root, "broker:agents", {"localhost", "porvoo-r1"})

    # an invalid config is refused before it replaces the one in place
    placed = root / "porvoo-r1" / "etc/etapalvelu/agent.yaml"
    good = placed.read_bytes()
    config = fleet.folder / "agents/porvoo/r1/agent.yaml"
    config.write_text(config.read_text().replace("room: r1", "room: R+1"))
    third = run_playbook("agents.yml", fleet.folder, extravars=local_target(root),
                         tags="agent-config")
    assert not third.ok and third.failed == {"porvoo-r1": 1}
    assert placed.read_bytes() == good


@pytest.mark.soak
def test_every_playbook_applied_twice_to_the_pilot_changes_nothing_the_second_time(tmp_path):
    fleet = local_fleet(tmp_path, registry=None)
    apply_twice(fleet, tmp_path / "target", None,
                {"localhost", "porvoo-r1", "imatra-r1", "nurmes-r1", "cloud.example.invalid",
                 "grafana.example.invalid"})


@pytest.mark.soak
def test_ansible_lint_passes_offline_with_the_production_profile():
    lint = Path(sys.executable).with_name("ansible-lint")
    if not lint.exists():
        pytest.skip("ansible-lint is not installed (pip install '.[dev]')")
    env = {**os.environ, "PATH": f"{lint.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(lint), "--offline", "--nocolor"], cwd=ANSIBLE_DIR, env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
