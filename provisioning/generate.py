"""The fleet folder: every file the playbooks place, computed from the registry and settings.

``build`` computes the wanted files and reuses what the folder already holds (secrets, password
hashes, certificates, the CRL) as long as it is still good, so building twice gives the same
bytes and a plan shows only real changes. ``write`` puts the files in place, secrets with mode
0600 in a 0700 folder. Secrets are never returned to a caller that prints.

Layout::

    fleet.yaml                      settings (no secrets)
    secrets/ca.key, broker.key      0600
    secrets/<identity>.password     0600  MQTT password
    secrets/<identity>.key          0600  TLS client key
    secrets/probe-secret            0600  the cloud's secret that room probe tokens derive from
    secrets/sessions-*-secret       0600  the video sessions' terminal and login-state secrets
    secrets/<agent>.probe-token     0600  a room's link-probe token
    pki/ca.crt, pki/crl.pem, pki/certs/<identity>.crt, pki/certs/broker.crt
    pki/revoked.yaml                revoked serials and disabled identities (state)
    broker/etapalvelu.conf, broker/dynamic-security.json (0600: hashes)
    inventory/hosts.yml             a group per site under ``agents``
    agents/<site>/<room>/agent.yaml the room agent's config
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from cloud.probe.tokens import room_token
from cloud.registry import Registry
from provisioning import pki
from provisioning.broker import (
    dynsec_config,
    entry_matches,
    mosquitto_conf,
    new_secret,
    password_entry,
    render_dynsec,
)
from provisioning.identities import Identity, agent_name, fleet_identities
from provisioning.settings import FleetSettings

CA_DAYS = 3650
SECRET = 0o600
PUBLIC = 0o644
DYNSEC = "broker/dynamic-security.json"
REVOKED = "pki/revoked.yaml"
INVENTORY = "inventory/hosts.yml"
PROBE_SECRET = "secrets/probe-secret"
# the video sessions' secrets: room terminal tokens derive from the first, the third
# parties' signed login state from the second (the API refuses development ones)
SESSION_SECRETS = ("secrets/sessions-terminal-secret", "secrets/sessions-state-secret")


@dataclass(frozen=True)
class FileSpec:
    """One file of the fleet folder: its bytes and mode; ``secret`` keeps it out of output."""

    data: bytes = field(repr=False)
    mode: int = PUBLIC
    secret: bool = False


@dataclass
class Revocations:
    """Revoked certificate serials (serial -> (identity, time)) and identities that stay
    disabled until their credentials are issued again."""

    serials: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    disabled: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, fleet_dir: Path) -> Revocations:
        """Read ``pki/revoked.yaml``; empty when the folder is new."""
        path = Path(fleet_dir) / REVOKED
        if not path.is_file():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        serials = {int(e["serial"]): (e["identity"], datetime.fromisoformat(e["at"]))
                   for e in data.get("revoked", [])}
        return cls(serials, set(data.get("disabled", [])))

    def render(self) -> bytes:
        """Stable YAML text of the state."""
        data = {"revoked": [{"serial": str(s), "identity": n, "at": at.isoformat()}
                            for s, (n, at) in sorted(self.serials.items())],
                "disabled": sorted(self.disabled)}
        return yaml.safe_dump(data, sort_keys=False).encode()


def _read(fleet_dir: Path, relpath: str) -> bytes | None:
    path = Path(fleet_dir) / relpath
    return path.read_bytes() if path.is_file() else None


def _ca(fleet_dir: Path, now: datetime, settings: FleetSettings) -> pki.Issued:
    key, cert = _read(fleet_dir, "secrets/ca.key"), _read(fleet_dir, "pki/ca.crt")
    if key and cert and pki.still_good(cert, key, cert, pki.CA_NAME, now,
                                       settings.renew_before_days):
        return pki.Issued(key, cert)
    return pki.new_ca(now, CA_DAYS)


def _certificate(fleet_dir: Path, ca: pki.Issued, name: str, now: datetime,
                 settings: FleetSettings, server_names: list[str] | None = None,
                 common_name: str | None = None) -> pki.Issued:
    key, cert = _read(fleet_dir, f"secrets/{name}.key"), _read(fleet_dir, f"pki/certs/{name}.crt")
    cn = common_name or name
    if key and cert and pki.still_good(cert, key, ca.cert_pem, cn, now,
                                       settings.renew_before_days, server_names):
        return pki.Issued(key, cert)
    return pki.issue(ca, cn, now, settings.cert_days, server_names)


def _passwords(fleet_dir: Path, identities: list[Identity]) -> tuple[dict, dict]:
    """Secrets (kept or new) and their hash entries (kept when they still match)."""
    stored = _read(fleet_dir, DYNSEC)
    old = {c["username"]: c for c in json.loads(stored).get("clients", [])} if stored else {}
    secrets, entries = {}, {}
    for identity in identities:
        secret = _kept_secret(fleet_dir, f"secrets/{identity.name}.password")
        entry = old.get(identity.name)
        secrets[identity.name] = secret
        entries[identity.name] = (
            {k: entry[k] for k in ("password", "salt", "iterations")}
            if entry and entry_matches(entry, secret) else password_entry(secret))
    return secrets, entries


def build(fleet_dir: Path, registry: Registry, settings: FleetSettings,
          now: datetime) -> dict[str, FileSpec]:
    """Every file the fleet folder should hold, keyed by path relative to the folder."""
    fleet_dir = Path(fleet_dir)
    revocations = Revocations.load(fleet_dir)
    identities = [i for i in fleet_identities(registry, settings)
                  if i.name not in revocations.disabled]
    _revoke_dropped(fleet_dir, {i.name for i in identities}, revocations, now)
    ca = _ca(fleet_dir, now, settings)
    files: dict[str, FileSpec] = {
        "secrets/ca.key": FileSpec(ca.key_pem, SECRET, True),
        "pki/ca.crt": FileSpec(ca.cert_pem),
        REVOKED: FileSpec(revocations.render()),
    }
    secrets, entries = _passwords(fleet_dir, identities)
    for identity in identities:
        issued = _certificate(fleet_dir, ca, identity.name, now, settings)
        files[f"secrets/{identity.name}.password"] = FileSpec(
            secrets[identity.name].encode() + b"\n", SECRET, True)
        files[f"secrets/{identity.name}.key"] = FileSpec(issued.key_pem, SECRET, True)
        files[f"pki/certs/{identity.name}.crt"] = FileSpec(issued.cert_pem)
    server = _certificate(fleet_dir, ca, "broker", now, settings,
                          [*broker_hosts(settings), *settings.broker_alt_names],
                          settings.broker_host)
    files["secrets/broker.key"] = FileSpec(server.key_pem, SECRET, True)
    files["pki/certs/broker.crt"] = FileSpec(server.cert_pem)
    files["pki/crl.pem"] = FileSpec(_crl(fleet_dir, ca, revocations, now, settings))
    files[DYNSEC] = FileSpec(render_dynsec(dynsec_config(identities, entries)), SECRET, True)
    files["broker/etapalvelu.conf"] = FileSpec(mosquitto_conf(settings).encode())
    files[INVENTORY] = FileSpec(render_inventory(registry, settings))
    probe_secret = _kept_secret(fleet_dir, PROBE_SECRET)
    files[PROBE_SECRET] = FileSpec(probe_secret.encode() + b"\n", SECRET, True)
    for relpath in SESSION_SECRETS:
        files[relpath] = FileSpec(_kept_secret(fleet_dir, relpath).encode() + b"\n", SECRET,
                                  True)
    for site, room_id, room in registry.rooms():
        files[f"agents/{site}/{room_id}/agent.yaml"] = FileSpec(
            render_agent_config(site, room_id, room.devices, settings))
        files[f"secrets/{agent_name(site, room_id)}.probe-token"] = FileSpec(
            room_token(probe_secret, site, room_id).encode() + b"\n", SECRET, True)
    return files


def _kept_secret(fleet_dir: Path, relpath: str) -> str:
    kept = _read(fleet_dir, relpath)
    return kept.decode().strip() if kept else new_secret()


def _revoke_dropped(fleet_dir: Path, wanted: set[str], revocations: Revocations,
                    now: datetime) -> None:
    """Certificates of identities that left the fleet (a room taken out of the registry) go on
    the CRL, so a terminal that is not wiped cannot come back."""
    for cert in sorted((Path(fleet_dir) / "pki" / "certs").glob("*.crt")):
        name = cert.name.removesuffix(".crt")
        if name != "broker" and name not in wanted:
            serial = pki.serial_of(cert.read_bytes())
            revocations.serials.setdefault(serial, (name, now))


def _crl(fleet_dir: Path, ca: pki.Issued, revocations: Revocations, now: datetime,
         settings: FleetSettings) -> bytes:
    revoked = {serial: at for serial, (_, at) in revocations.serials.items()}
    stored = _read(fleet_dir, "pki/crl.pem")
    if stored and not pki.crl_due(stored, ca.cert_pem, revoked, now, settings.renew_before_days):
        return stored
    return pki.make_crl(ca, revoked, now, settings.crl_days)


def host_name(site: str, room: str) -> str:
    """The inventory name of a room's terminal, e.g. ``porvoo-r1``."""
    return f"{site}-{room}"


def _cloud_workers(settings: FleetSettings) -> dict[str, list[dict]]:
    """Cloud worker identities spread round-robin over the cloud hosts; each becomes an
    instance of its service's systemd template unit (``etapalvelu-ingest@1``). Ingest worker
    ``n`` of ``K`` reads partition ``n-1/K`` of the sites (decision 80)."""
    ingest = settings.cloud_workers.ingest
    workers = [{"service": service, "identity": f"cloud.{service}.{i}",
                **({"partition": f"{i - 1}/{ingest}"} if service == "ingest" else {})}
               for service, count in (("ingest", ingest),
                                      ("api", settings.cloud_workers.api),
                                      ("schedule", settings.cloud_workers.schedule))
               for i in range(1, count + 1)]
    hosts: dict[str, list[dict]] = {h: [] for h in settings.cloud_hosts}
    for index, worker in enumerate(workers):
        hosts[settings.cloud_hosts[index % len(settings.cloud_hosts)]].append(worker)
    return hosts


def broker_hosts(settings: FleetSettings) -> list[str]:
    """The brokers of the fleet in order of preference: the active one, then the standby."""
    return [settings.broker_host, *settings.broker_standby_hosts]


def broker_urls(settings: FleetSettings) -> list[str]:
    """Every client's list of brokers, in the same order everywhere."""
    return [f"mqtts://{host}:{settings.broker_port}" for host in broker_hosts(settings)]


def render_inventory(registry: Registry, settings: FleetSettings) -> bytes:
    """The Ansible inventory: ``broker``, ``cloud``, ``grafana`` and ``agents`` with a child
    group ``site_<site>`` per site holding that site's room terminals."""
    sites: dict[str, dict] = {}
    for site, room, _ in registry.rooms():
        hosts = sites.setdefault(f"site_{site}", {"hosts": {}})["hosts"]
        hosts[host_name(site, room)] = {
            "ansible_host": f"{host_name(site, room)}.{settings.agent_host_domain}",
            "etp_site": site, "etp_room": room, "etp_identity": agent_name(site, room)}
    inventory = {"all": {"vars": {
        "etp_broker_dir": settings.broker_dir, "etp_agent_dir": settings.agent_dir,
        "etp_agent_state_dir": settings.agent_state_dir,
        "cloud_broker_url": ",".join(broker_urls(settings)),
    }, "children": {
        "broker": {"hosts": {host: {} for host in broker_hosts(settings)}},
        "cloud": {"hosts": {h: {"etp_cloud_workers": w}
                            for h, w in _cloud_workers(settings).items()}},
        "grafana": {"hosts": {h: {} for h in settings.grafana_hosts}},
        "agents": {"children": sites},
    }}}
    return yaml.safe_dump(inventory, sort_keys=False).encode()


def render_agent_config(site: str, room: str, devices: tuple[str, ...],
                        settings: FleetSettings) -> bytes:
    """A room agent's config file (valid for ``edge.config.load_config``); it names the
    password and key files on the terminal, never holds a secret itself."""
    d = settings.agent_dir
    urls = broker_urls(settings)
    config = {
        "site": site,
        "room": room,
        "broker": {
            "url": urls[0] if len(urls) == 1 else urls,
            "username": agent_name(site, room),
            "password_file": f"{d}/broker.password",
            "tls": {"ca_file": f"{d}/tls/ca.crt", "cert_file": f"{d}/tls/client.crt",
                    "key_file": f"{d}/tls/client.key"},
        },
        "outbox": {"path": f"{settings.agent_state_dir}/outbox.sqlite"},
        "devices": [{"type": device, "backend": "linux"} for device in devices],
    }
    if "network" in devices:  # the probe reports as the network device
        config["probe"] = {"url": settings.cloud_url, "token_file": f"{d}/probe.token"}
    return yaml.safe_dump(config, sort_keys=False).encode()


MANAGED = ("agents/", "pki/", "broker/", "inventory/")


def managed(relpath: str) -> bool:
    """Whether a file of the folder belongs to the generator (operator files are left alone)."""
    if relpath.startswith("secrets/"):
        return relpath.endswith((".password", ".key", ".probe-token")) \
            or relpath in (PROBE_SECRET, *SESSION_SECRETS)
    return relpath.startswith(MANAGED)


def current_files(fleet_dir: Path) -> dict[str, FileSpec]:
    """The generator's files as the folder holds them now."""
    fleet_dir = Path(fleet_dir)
    found = {}
    if not fleet_dir.is_dir():
        return found
    for path in sorted(fleet_dir.rglob("*")):
        relpath = path.relative_to(fleet_dir).as_posix()
        if path.is_file() and managed(relpath):
            found[relpath] = FileSpec(path.read_bytes(), path.stat().st_mode & 0o777,
                                      relpath.startswith("secrets/") or relpath == DYNSEC)
    return found


def write(fleet_dir: Path, files: dict[str, FileSpec]) -> list[str]:
    """Make the folder hold exactly ``files`` (plus operator files); return changed paths.

    Each file is written to a temporary name with its final mode and renamed, so a secret is
    never readable by others, not even for a moment."""
    fleet_dir = Path(fleet_dir)
    (fleet_dir / "secrets").mkdir(parents=True, exist_ok=True)
    os.chmod(fleet_dir / "secrets", 0o700)
    current = current_files(fleet_dir)
    changed = []
    for relpath, spec in sorted(files.items()):
        old = current.get(relpath)
        if old is not None and old.data == spec.data and old.mode == spec.mode:
            continue
        target = fleet_dir / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, spec.mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(spec.data)
        os.chmod(temporary, spec.mode)
        os.replace(temporary, target)
        changed.append(relpath)
    for relpath in sorted(set(current) - set(files)):
        (fleet_dir / relpath).unlink()
        changed.append(relpath)
    for folder in sorted((fleet_dir / "agents").glob("**/"), reverse=True):
        if folder != fleet_dir / "agents" and not any(folder.iterdir()):
            folder.rmdir()
    return changed


def broker_placement(settings: FleetSettings) -> dict[str, str]:
    """Where the broker role puts each fleet file on the broker host (file -> target path)."""
    d = settings.broker_dir
    return {"broker/etapalvelu.conf": "/etc/mosquitto/conf.d/etapalvelu.conf",
            DYNSEC: f"{d}/dynamic-security.json", "pki/ca.crt": f"{d}/ca.crt",
            "pki/certs/broker.crt": f"{d}/server.crt", "secrets/broker.key": f"{d}/server.key",
            "pki/crl.pem": f"{d}/crl.pem"}


def agent_placement(settings: FleetSettings, site: str, room: str) -> dict[str, str]:
    """Where the edge_agent role puts each fleet file on a room's terminal."""
    d, name = settings.agent_dir, agent_name(site, room)
    return {f"agents/{site}/{room}/agent.yaml": f"{d}/agent.yaml",
            f"secrets/{name}.password": f"{d}/broker.password", "pki/ca.crt": f"{d}/tls/ca.crt",
            f"pki/certs/{name}.crt": f"{d}/tls/client.crt",
            f"secrets/{name}.key": f"{d}/tls/client.key",
            f"secrets/{name}.probe-token": f"{d}/probe.token"}
