"""``etapalvelu fleet``: plan, generate and apply the fleet; add rooms; rotate and revoke.

Every command works on a fleet folder (``--fleet-dir``, default ``./fleet``) whose
``fleet.yaml`` names the registry. Output names identities and files, never a secret.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import click
import yaml

from cloud.registry import Registry, load_registry
from provisioning.generate import build, current_files, host_name, write
from provisioning.identities import device_name, fleet_identities
from provisioning.plan import make_plan
from provisioning.settings import FleetSettings, load_settings, save_settings

log = logging.getLogger("etapalvelu.fleet")


def _now() -> datetime:
    return datetime.now(UTC)


def _registry_path(fleet_dir: Path, settings: FleetSettings) -> Path:
    return settings.registry if settings.registry.is_absolute() else fleet_dir / settings.registry


def _load(fleet_dir: Path) -> tuple[FleetSettings, Registry]:
    settings = load_settings(fleet_dir)
    path = _registry_path(fleet_dir, settings)
    if not path.is_file():
        raise click.ClickException(f"registry {path} not found; run `etapalvelu fleet init`")
    return settings, load_registry(path)


@click.group()
@click.option("--fleet-dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("fleet"), show_default=True, envvar="ETP_FLEET_DIR",
              help="The fleet folder: settings, generated files, secrets (0600).")
@click.pass_context
def fleet(ctx: click.Context, fleet_dir: Path) -> None:
    """Provisioning: credentials, ACLs, certificates, inventory, agent configs, rollout."""
    ctx.obj = fleet_dir


@fleet.command()
@click.option("--registry", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The registry file (sites, rooms, devices).")
@click.option("--broker-host", required=True, help="The broker's DNS name (certificate CN).")
@click.option("--broker-port", type=int, default=8883, show_default=True)
@click.option("--standby-broker-host", "standby_hosts", multiple=True, metavar="HOST",
              help="A standby broker of the pair, tried after --broker-host (repeatable).")
@click.option("--canary", "canaries", multiple=True, metavar="SITE/ROOM",
              help="A room deployed first in staged rollouts (repeatable).")
@click.pass_obj
def init(fleet_dir: Path, registry: Path, broker_host: str, broker_port: int,
         standby_hosts: tuple[str, ...], canaries: tuple[str, ...]) -> None:
    """Create the fleet folder's fleet.yaml."""
    settings = FleetSettings(registry=registry.resolve(), broker_host=broker_host,
                             broker_port=broker_port, broker_standby_hosts=list(standby_hosts),
                             canaries=list(canaries))
    load_registry(settings.registry)
    save_settings(fleet_dir, settings)
    click.echo(f"fleet folder {fleet_dir} ready; next: etapalvelu fleet plan")


@fleet.command()
@click.option("--exit-code", is_flag=True, help="Exit 2 when something would change.")
@click.pass_obj
def plan(fleet_dir: Path, exit_code: bool) -> None:
    """Show what generate/apply would change: credentials (names), ACL lines, inventory
    entries, agent configs."""
    settings, registry = _load(fleet_dir)
    result = make_plan(current_files(fleet_dir), build(fleet_dir, registry, settings, _now()))
    click.echo("\n".join(result.lines()))
    if exit_code and not result.empty:
        raise SystemExit(2)


def _generate(fleet_dir: Path) -> list[str]:
    settings, registry = _load(fleet_dir)
    changed = write(fleet_dir, build(fleet_dir, registry, settings, _now()))
    log.info("fleet generated files_changed=%d", len(changed))
    return changed


@fleet.command()
@click.pass_obj
def generate(fleet_dir: Path) -> None:
    """Write the generated files into the fleet folder (no host is touched)."""
    changed = _generate(fleet_dir)
    click.echo(f"{len(changed)} file(s) changed")
    for path in changed:
        click.echo(f"  {path}")


def _progress(host: str, task: str, outcome: str, changed: bool) -> None:
    mark = "changed" if changed and outcome == "ok" else outcome
    click.echo(f"{host:<28} {mark:<11} {task}")


@fleet.command()
@click.option("--limit", help="Ansible host pattern, e.g. site_porvoo or broker.")
@click.option("--playbook", default="site.yml", show_default=True,
              type=click.Choice(["site.yml", "broker.yml", "cloud.yml", "grafana.yml",
                                 "agents.yml"]))
@click.option("--staged", is_flag=True,
              help="Agents only, canaries first then batches; stop at the first unhealthy one.")
@click.option("--version", "version", help="The agent version a staged rollout installs.")
@click.option("--health-timeout", type=float, default=120, show_default=True,
              help="Seconds a batch's agents have to report online with the new version.")
@click.option("-e", "--extra-var", "extra", multiple=True, metavar="KEY=VALUE",
              help="Extra Ansible variable (repeatable).")
@click.pass_obj
def apply(fleet_dir: Path, limit: str | None, playbook: str, staged: bool, version: str | None,
          health_timeout: float, extra: tuple[str, ...]) -> None:
    """Generate, then run the playbooks through ansible-runner with progress per host."""
    from provisioning.runner import run_playbook

    _generate(fleet_dir)
    if any("=" not in item for item in extra):
        raise click.BadParameter("use KEY=VALUE", param_hint="--extra-var")
    extravars = dict(item.split("=", 1) for item in extra)
    if staged:
        if not version:
            raise click.UsageError("--staged needs --version")
        _staged(fleet_dir, version, health_timeout, extravars)
        return
    result = run_playbook(playbook, fleet_dir, limit=limit, extravars=extravars,
                          progress=_progress)
    for host in sorted(set(result.changed) | set(result.failed)):
        click.echo(f"{host}: changed={result.changed.get(host, 0)} "
                   f"failed={result.failed.get(host, 0)}")
    if not result.ok:
        click.echo(result.tail, err=True)  # tasks with secrets are censored (no_log)
        raise click.ClickException(f"playbook {playbook} failed ({result.status})")


def _staged(fleet_dir: Path, version: str, timeout: float, extravars: dict) -> None:
    from provisioning.rollout import MonitorLogin, batches, not_online, rollout
    from provisioning.runner import run_playbook

    settings, registry = _load(fleet_dir)
    rooms = [(site, room) for site, room, _ in registry.rooms()]
    canaries = [tuple(c.split("/", 1)) for c in settings.canaries]
    login = MonitorLogin.from_fleet(fleet_dir, settings.broker_host, settings.broker_port)

    def deploy(batch: list[tuple[str, str]]) -> bool:
        limit = ",".join(host_name(site, room) for site, room in batch)
        click.echo(f"deploying {version} to {limit}")
        return run_playbook("agents.yml", fleet_dir, limit=limit, progress=_progress,
                            extravars={**extravars, "etp_version": version}).ok

    report = rollout(batches(rooms, canaries, settings.batch_size), deploy,
                     lambda batch: not_online(login, batch, version, timeout))
    if not report.completed:
        failed = ", ".join(f"{s}/{r}" for s, r in report.failed)
        raise click.ClickException(f"rollout stopped: {report.reason}: {failed}")
    click.echo(f"rollout of {version} complete: {len(rooms)} room(s)")


@fleet.command("add-room")
@click.argument("site")
@click.argument("room")
@click.option("--name", required=True, help="The room's name, as the staff know it.")
@click.option("--device", "devices", multiple=True,
              help="A device of the room (repeatable); default: every device type.")
@click.pass_obj
def add_room(fleet_dir: Path, site: str, room: str, name: str, devices: tuple[str, ...]) -> None:
    """Add a room to the registry; `fleet plan` then shows what it brings."""
    settings = load_settings(fleet_dir)
    path = _registry_path(fleet_dir, settings)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if site not in data.get("sites", {}):
        raise click.ClickException(f"site {site} is not in the registry; add it there first")
    rooms = data["sites"][site].setdefault("rooms", {})
    if room in rooms:
        raise click.ClickException(f"room {site}/{room} already exists")
    rooms[room] = {"name": name, **({"devices": list(devices)} if devices else {})}
    Registry.model_validate(data)  # refuse a room the registry would not accept
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    click.echo(f"room {site}/{room} added to {path}; next: etapalvelu fleet plan")


def _known(fleet_dir: Path, names: tuple[str, ...]) -> list[str]:
    settings, registry = _load(fleet_dir)
    known = [i.name for i in fleet_identities(registry, settings)]
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise click.ClickException(f"unknown identities: {', '.join(unknown)}")
    return known


@fleet.command("rotate-credentials")
@click.argument("identities", nargs=-1)
@click.option("--all", "everyone", is_flag=True, help="Rotate every identity of the fleet.")
@click.pass_obj
def rotate_credentials(fleet_dir: Path, identities: tuple[str, ...], everyone: bool) -> None:
    """New password and certificate for IDENTITIES (old certificates are revoked); also
    re-enables a revoked identity. Then `fleet apply` places them."""
    from provisioning.lifecycle import rotate

    known = _known(fleet_dir, identities)
    names = known if everyone else list(identities)
    if not names:
        raise click.UsageError("name identities to rotate, or --all")
    rotate(fleet_dir, names, _now())
    _generate(fleet_dir)
    click.echo(f"rotated {len(names)} identit{'y' if len(names) == 1 else 'ies'}: "
               f"{', '.join(names)}; next: etapalvelu fleet apply")


@fleet.command()
@click.argument("identity")
@click.pass_obj
def revoke(fleet_dir: Path, identity: str) -> None:
    """Revoke IDENTITY (porvoo.r1.callbutton, or porvoo/r1/callbutton): its certificate
    goes on the CRL, its login and ACL are removed. Then `fleet apply --playbook broker.yml`."""
    from provisioning.lifecycle import revoke as revoke_identity

    if identity.count("/") == 2:
        identity = device_name(*identity.split("/"))
    _known(fleet_dir, (identity,))
    revoke_identity(fleet_dir, identity, _now())
    _generate(fleet_dir)
    click.echo(f"revoked {identity}; next: etapalvelu fleet apply --playbook broker.yml")
