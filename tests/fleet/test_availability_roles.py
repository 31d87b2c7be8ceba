"""The ``haproxy`` and ``postgres_ha`` roles run for real (``connection: local``) into a
temporary root, as the cloud role's test runs its role: HAProxy's config names every API
replica of the inventory's cloud hosts at its unit's port and HAProxy itself accepts it;
each database node gets a Patroni config that Patroni itself accepts, pointing at every etcd
member; every etcd member the same initial cluster; a second run changes nothing. That the
rendered configs work with real processes is the availability tests' part
(tests/availability/)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from provisioning.runner import run_playbook
from tests.fleet.test_playbooks import local_target
from tests.servers import binary

INVENTORY = {"all": {"children": {
    "cloud": {"hosts": {
        "cloud-a.example.invalid": {"ansible_host": "10.0.1.11", "etp_cloud_workers": [
            {"service": "api", "identity": "cloud.api.1"},
            {"service": "api", "identity": "cloud.api.2"},
            {"service": "ingest", "identity": "cloud.ingest.1"}]},
        "cloud-b.example.invalid": {"ansible_host": "10.0.1.12", "etp_cloud_workers": [
            {"service": "api", "identity": "cloud.api.3"}]}}},
    "loadbalancer": {"hosts": {"lb.example.invalid": {}}},
    "database": {"hosts": {"db-1.example.invalid": {"ansible_host": "10.0.2.11"},
                           "db-2.example.invalid": {"ansible_host": "10.0.2.12"}}},
    "etcd": {"hosts": {"db-1.example.invalid": {}, "db-2.example.invalid": {},
                       "quorum.example.invalid": {"ansible_host": "10.0.2.13"}}}}}}


def availability_fleet(tmp_path: Path) -> tuple[Path, Path]:
    """A fleet folder with the database passwords, and the inventory of the test."""
    fleet = tmp_path / "fleet"
    (fleet / "secrets").mkdir(parents=True)
    for name in ("postgres-superuser-password", "postgres-replication-password",
                 "postgres-rewind-password"):
        (fleet / "secrets" / name).write_text(f"not-a-real-{name}\n")
        (fleet / "secrets" / name).chmod(0o600)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump(INVENTORY))
    return fleet, inventory


def apply_twice(playbook: str, tmp_path: Path) -> Path:
    """Run ``playbook`` twice into a folder root; the first changes, the second does not."""
    fleet, inventory = availability_fleet(tmp_path)
    root = tmp_path / "target"
    first = run_playbook(playbook, fleet, inventory=inventory, extravars=local_target(root))
    assert first.ok, first.tail
    assert all(first.changed.values()) and first.changed
    second = run_playbook(playbook, fleet, inventory=inventory, extravars=local_target(root))
    assert second.ok, second.tail
    assert not any(second.changed.values()), second.changed
    return root


def test_haproxy_role_balances_every_api_replica_of_the_inventory_checked_by_readyz(tmp_path):
    root = apply_twice("haproxy.yml", tmp_path)
    config = root / "lb.example.invalid/etc/haproxy/haproxy.cfg"
    text = config.read_text()
    servers = sorted(line.split()[1:3] for line in text.splitlines()
                     if line.strip().startswith("server "))
    assert servers == [["cloud.api.1", "10.0.1.11:8080"],
                       ["cloud.api.2", "10.0.1.11:8081"],
                       ["cloud.api.3", "10.0.1.12:8082"]]
    assert "http-check send meth GET uri /readyz" in text
    assert "balance leastconn" in text and "timeout tunnel 1h" in text
    checked = subprocess.run([binary("haproxy"), "-c", "-f", str(config)], capture_output=True,
                             text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr + checked.stdout


def test_postgres_ha_role_gives_each_node_a_patroni_config_on_the_etcd_members(tmp_path):
    root = apply_twice("database.yml", tmp_path)
    for node, address in (("db-1", "10.0.2.11"), ("db-2", "10.0.2.12")):
        path = root / f"{node}.example.invalid/etc/patroni/config.yml"
        assert path.stat().st_mode & 0o777 == 0o640  # it holds the database passwords
        config = yaml.safe_load(path.read_text())
        assert config["name"] == f"{node}.example.invalid"
        assert config["postgresql"]["connect_address"] == f"{address}:5432"
        assert config["etcd3"]["hosts"] == "10.0.2.11:2379,10.0.2.12:2379,10.0.2.13:2379"
        assert config["bootstrap"]["dcs"]["synchronous_mode"] is True
        validated = subprocess.run([binary("patroni"), "--validate-config", str(path)],
                                   capture_output=True, text=True, timeout=60, check=False)
        # the addresses are the inventory's, not this machine's: Patroni finds them taken
        problems = [line for line in (validated.stdout + validated.stderr).splitlines()
                    if line.strip() and "is already in use" not in line]
        assert problems == [], problems
    assert not (root / "quorum.example.invalid/etc/patroni/config.yml").exists()
    members = {(root / f"{host}/etc/default/etcd").read_text().split("ETCD_INITIAL_CLUSTER=")[1]
               .splitlines()[0] for host in ("db-1.example.invalid", "db-2.example.invalid",
                                             "quorum.example.invalid")}
    assert members == {('"db-1.example.invalid=http://10.0.2.11:2380,'
                        'db-2.example.invalid=http://10.0.2.12:2380,'
                        'quorum.example.invalid=http://10.0.2.13:2380"')}
