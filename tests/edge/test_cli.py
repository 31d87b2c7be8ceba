"""``etapalvelu edge validate-config`` explains problems; ``etapalvelu sim`` drives a room."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from edge.cli import edge

ETAPALVELU = str(Path(sys.executable).parent / "etapalvelu")


def validate(tmp_path: Path, text: str):
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    return CliRunner().invoke(edge, ["validate-config", str(path)])


def test_valid_config_prints_a_short_summary(tmp_path):
    result = validate(tmp_path, """
site: porvoo
room: r1
broker: {url: "mqtt://broker.example.invalid:1883", keepalive_s: 10}
outbox: {path: /var/lib/etapalvelu/outbox.sqlite, max_bytes: 52428800}
devices:
  - {type: terminal, backend: linux, touch_name: eGalax}
  - {type: doccam, backend: linux}
  - {type: agent, backend: linux}
""")
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "porvoo/r1" in result.output
    assert "doccam (linux)" in result.output and "50.0 MB" in result.output


def test_invalid_config_lists_every_problem_readably(tmp_path):
    result = validate(tmp_path, """
site: Porvoo
room: r1
broker: {url: "http://broker.example.invalid", keepalive: 5}
devices:
  - {type: doccam, backend: usb}
  - {type: toaster}
""")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].endswith("5 problems")
    assert "  - site: site/room 'Porvoo' must match" in result.output
    assert "  - broker.url: broker url must look like mqtt://host:1883" in result.output
    assert "  - broker.keepalive: unknown setting" in result.output
    assert "  - devices[0].backend: Input should be 'sim' or 'linux'" in result.output
    assert "  - devices[1]: unknown device type 'toaster'" in result.output
    assert "Traceback" not in result.output and "pydantic" not in result.output


@pytest.mark.parametrize("text, message", [
    ("site: porvoo\nbroker: [1,\n", "not valid YAML at line 3"),
    ("- a\n- b\n", "must be a YAML mapping"),
    ("site: porvoo\nroom: r1\n", "devices: required, but missing"),
    ("site: porvoo\nroom: r1\ndevices: [{type: doccam}, {type: doccam}]\n",
     "each device type once per room"),
    (("site: porvoo\nroom: r1\nbroker: {url: 'mqtts://broker.example.invalid',"
      " tls: {ca_file: /nonexistent/ca.pem}}\ndevices: [{type: doccam}]\n"),
     "broker.tls.ca_file: file /nonexistent/ca.pem not found"),
])
def test_config_mistakes_are_explained(tmp_path, text, message):
    result = validate(tmp_path, text)
    assert result.exit_code == 1
    assert message in result.output


def test_missing_config_file_is_reported(tmp_path):
    result = CliRunner().invoke(edge, ["validate-config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1 and "not found" in result.output


def sim(*args: str, broker_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ETP_BROKER_URL": broker_url}
    return subprocess.run([ETAPALVELU, "sim", *args], capture_output=True, text=True, env=env,
                          timeout=30, check=False)


def test_sim_commands_reach_the_agent_and_print_its_answer(broker, subscriber, make_agent):
    agent = make_agent(broker.url)
    assert agent.wait_connected(10)
    result = sim("fault", "porvoo", "r1", "doccam", "unplugged", "--broker", broker.url,
                 broker_url="mqtt://127.0.0.1:1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "porvoo/r1 doccam unplugged: ok - unplugged injected"
    assert agent.adapters["doccam"].read_health().code == "unplugged"
    assert sim("clear", "porvoo", "r1", "doccam", broker_url=broker.url).returncode == 0
    assert agent.adapters["doccam"].read_health().state == "ok"
    assert sim("press", "porvoo", "r1", broker_url=broker.url).returncode == 0
    assert sim("occupancy", "porvoo", "r1", "occupied", broker_url=broker.url).returncode == 0
    subscriber.wait(lambda s: s.received("callbutton", "event")
                    and s.received("occupancy", "event"), 5, "press and occupancy events")
    assert subscriber.received("occupancy", "event")[0].payload["data"]["occupied"] is True
    refused = sim("fault", "porvoo", "r1", "doccam", "melt", broker_url=broker.url)
    assert refused.returncode == 1 and "refused - unknown fault 'melt'" in refused.stdout


def test_sim_command_to_a_room_without_agent_times_out_clearly(broker):
    result = sim("--timeout", "1", "press", "nurmes", "r1", broker_url=broker.url)
    assert result.returncode == 2
    assert "no answer from nurmes/r1 within 1 s" in result.stderr
