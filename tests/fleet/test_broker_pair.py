"""The broker pair in the fleet folder: the inventory's ``broker`` group holds both hosts,
the broker role places the same files on each (one at a time), the server certificate names
both, and every agent's and cloud process's config lists both in the same order."""
from __future__ import annotations

import yaml
from cryptography import x509

from edge.config import load_config
from provisioning.generate import broker_placement
from provisioning.runner import run_playbook
from provisioning.settings import save_settings
from tests.fleet.conftest import ONE_ROOM, make_fleet
from tests.fleet.test_playbooks import local_target

PAIR = ["broker-a.example.invalid", "broker-b.example.invalid"]


def test_the_broker_role_deploys_the_pair_and_every_client_lists_both(tmp_path):
    fleet = make_fleet(tmp_path / "fleet", registry=ONE_ROOM, broker_port=8883)
    fleet.settings = fleet.settings.model_copy(update={"broker_host": PAIR[0],
                                                       "broker_standby_hosts": PAIR[1:]})
    save_settings(fleet.folder, fleet.settings)
    fleet.regenerate()
    inventory = yaml.safe_load((fleet.folder / "inventory/hosts.yml").read_text())["all"]
    assert list(inventory["children"]["broker"]["hosts"]) == PAIR
    urls = [f"mqtts://{host}:8883" for host in PAIR]
    assert inventory["vars"]["cloud_broker_url"] == ",".join(urls)
    agent = load_config(fleet.folder / "agents/porvoo/r1/agent.yaml")
    assert agent.broker.urls == urls
    cert = x509.load_pem_x509_certificate((fleet.folder / "pki/certs/broker.crt").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(PAIR) <= set(names.get_values_for_type(x509.DNSName))

    root = tmp_path / "target"
    result = run_playbook("broker.yml", fleet.folder, extravars=local_target(root))
    assert result.ok, result.tail
    assert set(result.changed) == set(PAIR)
    for host in PAIR:
        for source, target in broker_placement(fleet.settings).items():
            placed = root / host / target.lstrip("/")
            assert placed.read_bytes() == (fleet.folder / source).read_bytes(), (host, target)
        dropin = root / host / "etc/systemd/system/mosquitto.service.d/etapalvelu-pair.conf"
        assert "Restart=no" in dropin.read_text()  # a crashed broker does not come back alone
    again = run_playbook("broker.yml", fleet.folder, extravars=local_target(root))
    assert again.ok and not any(again.changed.values()), again.changed
