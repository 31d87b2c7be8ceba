"""Device adapters: simulated faults and actions, and the Linux backends reading a machine."""
from __future__ import annotations

from pathlib import Path

import pytest

from edge.adapters import SIMULATED, AdapterError, make_adapters
from edge.adapters.agent import LinuxAgentSelf, max_temperature_c
from edge.adapters.callbutton import ExternalCallButton
from edge.adapters.doccam import LinuxDocCam
from edge.adapters.network import LinuxNetwork
from edge.adapters.terminal import LinuxTerminal
from edge.config import AgentConfig
from tests.servers import free_port


class Events(list):
    """Collects what adapters emit."""

    def __call__(self, device: str, data: dict) -> None:
        self.append((device, data))


@pytest.mark.parametrize("device, fault, state, code", [
    ("doccam", "unplugged", "missing", "unplugged"),
    ("terminal", "touch_failure", "fault", "touch_failure"),
    ("terminal", "camera_missing", "missing", "camera_missing"),
    ("network", "loss", "fault", "link_down"),
    ("network", "degraded", "degraded", "high_latency"),
    ("callbutton", "battery_low", "degraded", "battery_low"),
    ("agent", "disk_low", "degraded", "disk_low"),
])
def test_simulated_fault_sets_health_until_cleared(device, fault, state, code):
    adapter = SIMULATED[device](Events())
    assert adapter.read_health().state == "ok"
    adapter.inject(fault)
    reading = adapter.read_health()
    assert (reading.state, reading.code) == (state, code)
    adapter.inject("clear")
    assert adapter.read_health().state == "ok"


def test_worst_fault_wins_and_restart_repairs_only_what_it_can():
    doccam = SIMULATED["doccam"](Events())
    doccam.inject("frozen")
    doccam.inject("unplugged")
    assert doccam.read_health().code == "unplugged"
    with pytest.raises(AdapterError, match="still unplugged"):
        doccam.restart()
    assert doccam.read_health().code == "unplugged" and not doccam.has("frozen")
    doccam.inject("clear")
    doccam.inject("frozen")
    assert "repaired frozen" in doccam.restart()


def test_button_and_occupancy_actions_emit_events():
    events = Events()
    button, room = SIMULATED["callbutton"](events), SIMULATED["occupancy"](events)
    button.inject("press")
    button.inject("cancel")
    room.inject("occupied")
    assert room.inject("occupied") == "already occupied"  # no event without a change
    room.inject("vacant")
    assert events == [("callbutton", {"type": "button_press"}),
                      ("callbutton", {"type": "button_cancel"}),
                      ("occupancy", {"type": "occupancy", "occupied": True}),
                      ("occupancy", {"type": "occupancy", "occupied": False})]
    assert room.read_telemetry() == {"occupied": 0}


def test_unknown_fault_names_the_choices():
    with pytest.raises(AdapterError, match="one of battery_low, cancel, clear, press"):
        SIMULATED["callbutton"](Events()).inject("explode")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_linux_doccam_finds_its_v4l2_device_by_name(tmp_path):
    camera = LinuxDocCam(Events(), video_name="IPEVO", sys_root=tmp_path)
    assert camera.read_health().code == "unplugged"
    write(tmp_path / "class/video4linux/video0/name", "Integrated Webcam\n")
    assert camera.read_health().code == "unplugged"
    write(tmp_path / "class/video4linux/video2/name", "IPEVO V4K: IPEVO V4K\n")
    assert camera.read_health().state == "ok"
    assert camera.read_telemetry() == {"video_devices": 1}
    with pytest.raises(AdapterError, match="not a USB camera"):
        camera.restart()  # no USB device behind the fake node
    usb = tmp_path / "devices/usb1/1-1"
    write(usb / "authorized", "1")
    (usb / "1-1:1.0").mkdir()
    (tmp_path / "class/video4linux/video2/device").symlink_to(usb / "1-1:1.0")
    assert camera.restart() == "re-authorised 1-1"
    assert (usb / "authorized").read_text() == "1"


def test_linux_terminal_finds_the_touchscreen_among_input_devices(tmp_path):
    terminal = LinuxTerminal(Events(), proc_root=tmp_path)
    write(tmp_path / "bus/input/devices",
          'I: Bus=0011\nN: Name="AT Translated Set 2 keyboard"\n\n')
    assert terminal.read_health().code == "touch_missing"
    write(tmp_path / "bus/input/devices",
          'I: Bus=0011\nN: Name="AT Translated Set 2 keyboard"\n\n'
          'I: Bus=0003\nN: Name="eGalax Inc. eGalaxTouch EXC3000"\n\n')
    write(tmp_path / "uptime", "1234.5 999.0\n")
    assert terminal.read_health().state == "ok"
    assert terminal.read_telemetry() == {"input_devices": 2, "touch_ok": 1, "uptime_s": 1234}


def test_linux_terminal_reads_this_machine():
    metrics = LinuxTerminal(Events()).read_telemetry()
    assert metrics["uptime_s"] > 0


def test_linux_network_measures_the_broker_and_notices_it_gone(broker):
    link = LinuxNetwork(Events(), "127.0.0.1", broker.port, degraded_rtt_ms=500,
                        probe_every_s=0)
    assert link.read_health().state == "ok"
    metrics = link.read_telemetry()
    assert metrics["reachable"] == 1 and 0 < metrics["rtt_ms"] < 500
    gone = LinuxNetwork(Events(), "127.0.0.1", free_port(), timeout_s=0.5)
    assert gone.read_health().code == "link_down"
    assert gone.read_telemetry() == {"reachable": 0}


def test_linux_agent_reads_its_own_resources_and_the_hottest_zone(tmp_path):
    agent = LinuxAgentSelf(Events(), disk_path=tmp_path, sys_root=tmp_path)
    metrics = agent.read_telemetry()
    assert {"cpu_pct", "mem_pct", "rss_mb", "disk_free_mb"} <= set(metrics)
    assert metrics["rss_mb"] > 1 and metrics["disk_free_mb"] > 0
    assert "temp_c" not in metrics and max_temperature_c(tmp_path) is None
    write(tmp_path / "class/thermal/thermal_zone0/temp", "48000\n")
    write(tmp_path / "class/thermal/thermal_zone1/temp", "91500\n")
    assert agent.read_telemetry()["temp_c"] == 91.5
    assert agent.read_health().code == "overheat"


def test_real_devices_cannot_take_injected_faults_and_external_ones_report_nothing():
    config = AgentConfig(site="porvoo", room="r1", devices=[
        {"type": "doccam", "backend": "linux"}, {"type": "callbutton", "backend": "linux"}])
    adapters = make_adapters(config, Events())
    with pytest.raises(AdapterError, match="not simulated"):
        adapters["doccam"].inject("unplugged")
    assert isinstance(adapters["callbutton"], ExternalCallButton)
    assert adapters["callbutton"].read_health() is None
