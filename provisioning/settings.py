"""Settings of a fleet: where the broker is, how many cloud workers run, where files go on hosts.

Kept in ``fleet.yaml`` inside the fleet folder (the output of the generator), so that ``plan``,
``apply`` and the playbooks all read one source. Nothing in here is secret.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

SETTINGS_FILE = "fleet.yaml"


class CloudWorkers(BaseModel):
    """How many processes of each cloud worker run; each gets an identity of its own."""

    model_config = ConfigDict(extra="forbid")
    ingest: int = Field(2, ge=1, le=64)
    api: int = Field(1, ge=1, le=64)
    # the booking schedule: its escalation round publishes the call alerts on the live bus
    schedule: int = Field(1, ge=1, le=4)


class FleetSettings(BaseModel):
    """Everything the generator needs besides the registry."""

    model_config = ConfigDict(extra="forbid")
    registry: Path = Path("registry.yaml")
    broker_host: str = "broker.example.invalid"
    # the pair: the standby broker(s), tried in this order after broker_host; every agent,
    # device and cloud process lists them all, the broker role deploys each the same way
    broker_standby_hosts: list[str] = Field(default_factory=list)
    broker_port: int = Field(8883, ge=1, le=65535)
    broker_bind: str = ""  # address the TLS listener binds; empty: every interface
    # extra names and addresses in the broker's server certificate
    broker_alt_names: list[str] = Field(default_factory=list)
    # "tls": mutual TLS only (production); "plain": also a loopback plaintext listener (demo)
    broker_profile: str = Field("tls", pattern="^(tls|plain)$")
    broker_plain_port: int = Field(1883, ge=1, le=65535)
    # folder of the broker's files on the broker host; the generated conf names files in it
    broker_dir: str = "/etc/mosquitto/etapalvelu"
    dynsec_plugin: str = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
    agent_dir: str = "/etc/etapalvelu"
    agent_state_dir: str = "/var/lib/etapalvelu"
    agent_host_domain: str = "rooms.example.invalid"
    cloud_hosts: list[str] = Field(default_factory=lambda: ["cloud.example.invalid"])
    # the cloud's public address, where each room's agent probes its link (edge.probe)
    cloud_url: str = Field("https://cloud.example.invalid", pattern=r"^https?://[^/]+")
    grafana_hosts: list[str] = Field(default_factory=lambda: ["grafana.example.invalid"])
    cloud_workers: CloudWorkers = CloudWorkers()
    cert_days: int = Field(825, ge=30)
    crl_days: int = Field(365, ge=7)
    renew_before_days: int = Field(30, ge=1)
    # rooms ("site/room") deployed first in a staged rollout
    canaries: list[str] = Field(default_factory=list)
    batch_size: int = Field(5, ge=1)


def load_settings(fleet_dir: Path) -> FleetSettings:
    """Read ``fleet.yaml`` of a fleet folder; defaults when it does not exist yet."""
    path = Path(fleet_dir) / SETTINGS_FILE
    if not path.is_file():
        return FleetSettings()
    return FleetSettings.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def save_settings(fleet_dir: Path, settings: FleetSettings) -> None:
    """Write ``fleet.yaml`` (only non-default values, so the file stays short)."""
    Path(fleet_dir).mkdir(parents=True, exist_ok=True)
    data = settings.model_dump(mode="json", exclude_defaults=True)
    (Path(fleet_dir) / SETTINGS_FILE).write_text(yaml.safe_dump(data, sort_keys=False),
                                                 encoding="utf-8")
