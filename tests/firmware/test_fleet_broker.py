"""The firmware with the credentials the fleet provisions, against a broker configured by the
fleet: mutual TLS, a password bound to the device's client id, and the device's ACL."""
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloud.registry import PILOT_REGISTRY, load_registry
from provisioning.generate import broker_placement, build, write
from provisioning.settings import FleetSettings
from tests.firmware.harness import Firmware, Observer, device_config
from tests.servers import free_port

DEVICE = "porvoo.r1.callbutton"
CLOUD = "cloud.api.1"  # reads the whole tree and may send commands


@pytest.fixture
def fleet(tmp_path):
    """A fleet folder generated for the pilot registry, its broker on a loopback port."""
    folder = tmp_path / "fleet"
    settings = FleetSettings(registry=Path(PILOT_REGISTRY), broker_host="localhost",
                             broker_alt_names=["127.0.0.1"], broker_port=free_port(),
                             broker_bind="127.0.0.1", broker_dir=str(tmp_path / "broker-etc"))
    write(folder, build(folder, load_registry(PILOT_REGISTRY), settings, datetime.now(UTC)))
    return folder, settings


@pytest.fixture
def fleet_broker(fleet, broker_factory):
    """Mosquitto running the fleet's generated configuration with its files in place."""
    folder, settings = fleet
    for source, target in broker_placement(settings).items():
        if target.startswith(settings.broker_dir):
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(folder / source, target)
    server = broker_factory("fleet-broker", plain_listener=False,
                            extra_config=(folder / "broker/etapalvelu.conf").read_text()
                            .splitlines())
    server.port = settings.broker_port
    return server.start()


def install(folder: Path, root: Path, identity: str, broker) -> None:
    """What the installer copies to the board for ``identity``: CA, certificate, key, secret."""
    root.mkdir(parents=True)
    shutil.copy(folder / "pki/ca.crt", root / "ca.crt")
    shutil.copy(folder / f"pki/certs/{identity}.crt", root / "client.crt")
    shutil.copy(folder / f"secrets/{identity}.key", root / "client.key")
    password = (folder / f"secrets/{identity}.password").read_text().strip()
    (root / "secrets.json").write_text(json.dumps({"mqtt_password": password}))


def test_a_provisioned_button_connects_over_mutual_tls_and_its_press_arrives(
        fleet, fleet_broker, tmp_path):
    folder, settings = fleet
    root = tmp_path / "board"
    install(folder, root, DEVICE, fleet_broker)
    config = device_config(fleet_broker, "callbutton")
    config["broker"] = {"host": "127.0.0.1", "port": settings.broker_port, "tls": True}
    cloud = Observer(fleet_broker, client_id=CLOUD,
                     password=(folder / f"secrets/{CLOUD}.password").read_text().strip(),
                     tls=(str(folder / "pki/ca.crt"), str(folder / f"pki/certs/{CLOUD}.crt"),
                          str(folder / f"secrets/{CLOUD}.key")))
    device = Firmware(root, config)
    try:
        device.wait_line("hw sleep=deep")
        device.press()
        [event] = cloud.wait("event", 1, "callbutton")
        assert event.message.payload.data.type == "button_press"
    finally:
        device.stop()
        cloud.close()


def test_a_button_with_another_rooms_identity_is_refused(fleet, fleet_broker, tmp_path):
    folder, settings = fleet
    root = tmp_path / "board"
    install(folder, root, "imatra.r1.callbutton", fleet_broker)  # not porvoo's identity
    config = device_config(fleet_broker, "callbutton")
    config["broker"] = {"host": "127.0.0.1", "port": settings.broker_port, "tls": True}
    device = Firmware(root, config)
    try:
        device.wait_line("event=mqtt_connect_failed attempt=2")
        assert "event=mqtt_connected" not in device.output()
    finally:
        device.stop()
