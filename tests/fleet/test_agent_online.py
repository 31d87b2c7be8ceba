"""The real room agent, started with its generated config and files, comes online at the
broker started with the generated configuration, and the rollout's health check sees it."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import etapalvelu
from provisioning.generate import agent_placement
from provisioning.rollout import MonitorLogin, not_online
from tests.fleet.conftest import make_fleet, stage_broker
from tests.servers import free_port


def test_generated_agent_config_brings_the_real_agent_online(tmp_path, broker_factory):
    fleet = make_fleet(tmp_path / "fleet", broker_port=free_port(), broker_bind="127.0.0.1",
                       broker_dir=str(tmp_path / "broker-etc"),
                       agent_dir=str(tmp_path / "terminal/etc"),
                       agent_state_dir=str(tmp_path / "terminal/state"))
    server = broker_factory("fleet-broker", plain_listener=False,
                            extra_config=stage_broker(fleet))
    server.port = fleet.settings.broker_port
    server.start()
    for source, target in agent_placement(fleet.settings, "porvoo", "r1").items():
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(fleet.folder / source, target)
    Path(fleet.settings.agent_state_dir).mkdir(parents=True)
    config = Path(fleet.settings.agent_dir) / "agent.yaml"
    check = subprocess.run([Path(sys.executable).with_name("etapalvelu"), "edge",
                            "validate-config", str(config)], capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stdout + check.stderr

    with open(tmp_path / "agent.log", "wb") as log:
        agent = subprocess.Popen([Path(sys.executable).with_name("etapalvelu"), "edge", "run",
                                  "--config", str(config)], stdout=log,
                                 stderr=subprocess.STDOUT)
    try:
        login = MonitorLogin.from_fleet(fleet.folder, "127.0.0.1", server.port)
        version = etapalvelu.__version__  # what the agent reports
        assert not_online(login, [("porvoo", "r1")], version, timeout=20) == [], (
            (tmp_path / "agent.log").read_text()[-2000:])
        assert not_online(login, [("imatra", "r1")], version, timeout=0.5) == [("imatra", "r1")]
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(10)
