"""``etapalvelu cloud``: the cloud's processes. Settings come from ``ETP_*`` variables.

One command per process (``ingest``, ``engine``, ``notify``, ``schedule``, ``api``) and ``run``
for all of them in one process; each logs ``key=value`` lines, beats (docs/operations.md),
stops cleanly on SIGTERM with status 0, and exits 78 (EX_CONFIG) on settings it cannot use.
"""
from __future__ import annotations

import sys

import click
from pydantic import ValidationError

from cloud.db import make_engine, make_sessionmaker, migrate
from cloud.registry import Registry, load_registry
from cloud.runtime.process import EX_CONFIG, run_until_stopped
from cloud.settings import CloudSettings
from etapalvelu.logs import setup_logging


def _settings(**overrides) -> CloudSettings:
    """The settings, or exit 78 with one line per problem (systemd does not restart it)."""
    try:
        return CloudSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            click.echo(f"configuration error: {where}: {error['msg']}", err=True)
        sys.exit(EX_CONFIG)


def _start(name: str, log_level: str) -> None:
    setup_logging(log_level, name)


def _support_parties(registry: Registry) -> list[str]:
    """The parties of the responsibility matrix the cloud routes incidents to: the staff
    import checks support agents against them (accounts does not import incidents)."""
    from cloud.incidents.settings import IncidentSettings

    return list(IncidentSettings().matrix(registry).data.parties)


@click.group()
@click.option("--log-level", default="info", show_default=True)
@click.pass_context
def cloud(ctx: click.Context, log_level: str) -> None:
    """The cloud: ingest workers, incident engine, notifications, booking schedule, API."""
    ctx.obj = {"log_level": log_level, "support_parties": _support_parties}


@cloud.command("migrate")
@click.pass_obj
def migrate_command(obj: dict) -> None:
    """Create or upgrade the database schema (every domain)."""
    settings = _settings()
    _start("migrate", obj["log_level"])
    before = _schema_heads(settings.database_url)
    migrate(settings.database_url)
    changed = _schema_heads(settings.database_url) != before
    click.echo("database upgraded to the newest revision" if changed
               else "database is at the newest revision")


def _schema_heads(url: str) -> set[str]:
    """The revisions the database is at (empty for a new one)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def _worker(obj: dict, kind: str, name: str | None, build, **overrides) -> None:
    """Run one worker process: ``build(settings, sessions, registry)`` starts its service."""
    from cloud.services import process_name

    settings = _settings(**overrides)
    _start(process_name(kind, name), obj["log_level"])
    sessions = make_sessionmaker(make_engine(settings.database_url, pool=settings.database_pool))
    registry = load_registry(settings.registry_file)

    def start():
        try:
            service, component = build(settings, sessions, registry)
        except (ValueError, OSError) as exc:  # a matrix with a gap, an unreadable file
            click.echo(f"configuration error: {exc}", err=True)
            sys.exit(EX_CONFIG)
        return [service], [component]

    sys.exit(run_until_stopped(start, sessions, heartbeat_s=settings.heartbeat_s))


@cloud.command()
@click.option("--name", help="worker name, unique per process (default: ETP_INGEST_NAME)")
@click.pass_obj
def ingest(obj: dict, name: str | None) -> None:
    """Run one ingest worker until SIGTERM (it processes what it received, then stops)."""
    from cloud.ingest.worker import tune_garbage_collector
    from cloud.services import ingest_service

    tune_garbage_collector()
    _worker(obj, "ingest", name, lambda s, _sessions, registry: ingest_service(s, registry),
            ingest_name=name)


@cloud.command("ingest-retire")
@click.argument("partitions", nargs=-1, required=True)
@click.pass_obj
def ingest_retire(obj: dict, partitions: tuple[str, ...]) -> None:
    """Remove the broker's sessions of former ingest partitions (``i/K``) after the number of
    workers changed (docs/operations.md, "Ingest partitions")."""
    from cloud.ingest.partition import Partition
    from cloud.ingest.worker import retire_partition

    settings = _settings()
    _start("ingest-retire", obj["log_level"])
    try:
        retiring = [Partition.parse(text) for text in partitions]
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    for partition in retiring:
        if not retire_partition(settings, partition):
            raise click.ClickException(f"the broker did not accept {partition.client_id}")
        click.echo(f"removed the session {partition.client_id}")


@cloud.command()
@click.option("--name", help="engine name, unique per process (default: engine@HOST)")
@click.pass_obj
def engine(obj: dict, name: str | None) -> None:
    """Run the incident engine: it leads by a lease or stands by; SIGTERM hands the lease
    back after the round in hand."""
    from cloud.services import engine_service

    _worker(obj, "engine", name, lambda s, sessions, registry: engine_service(
        sessions, registry, s, name=name))


@cloud.command()
@click.option("--name", help="worker name, unique per process (default: notify@HOST)")
@click.pass_obj
def notify(obj: dict, name: str | None) -> None:
    """Run one notification worker; SIGTERM lets the sends in flight finish."""
    from cloud.services import notify_service

    _worker(obj, "notify", name, lambda _s, sessions, _r: notify_service(sessions, name=name))


@cloud.command()
@click.option("--name", help="schedule name (default: schedule@HOST)")
@click.pass_obj
def schedule(obj: dict, name: str | None) -> None:
    """Run the booking schedule (reminders, readiness checks, purge of personal data) every
    ETP_SCHEDULE_PERIOD_S seconds."""
    from cloud.services import schedule_service

    _worker(obj, "schedule", name, lambda s, sessions, registry: schedule_service(
        sessions, registry, s, name=name))


@cloud.command()
@click.option("--host", help="address to listen on (default: ETP_API_HOST)")
@click.option("--port", type=int, help="port (default: ETP_API_PORT)")
@click.option("--name", help="replica name (default: api@HOST)")
@click.pass_obj
def api(obj: dict, host: str | None, port: int | None, name: str | None) -> None:
    """Serve the REST API, the consoles, /metrics, /healthz and /readyz."""
    from cloud.services import process_name

    settings = _settings(api_host=host, api_port=port)
    _start(process_name("api", name), obj["log_level"])
    sys.exit(_serve(settings, [], [], name))


@cloud.command()
@click.option("--host", help="address to listen on (default: ETP_API_HOST)")
@click.option("--port", type=int, help="port (default: ETP_API_PORT)")
@click.pass_obj
def run(obj: dict, host: str | None, port: int | None) -> None:
    """Migrate, then run every service and the API in one process (a small installation
    or a trial)."""
    from cloud.services import process_name, start_services

    settings = _settings(api_host=host, api_port=port)
    _start(process_name("run"), obj["log_level"])
    migrate(settings.database_url)
    registry = load_registry(settings.registry_file)
    services = start_services(settings, registry)
    sys.exit(_serve(settings, services, services.components, None, registry))


def _serve(settings: CloudSettings, services: list, components: list, name: str | None,
           registry: Registry | None = None) -> int:
    """Serve the API (uvicorn stops it gracefully on SIGTERM) beside ``services``, with one
    heartbeat for all; returns the exit status."""
    from cloud.runtime.heartbeat import Component, Health, Heartbeat
    from cloud.runtime.process import EX_FAILURE, EX_OK, StopSignal
    from cloud.services import process_name, stop_services
    from cloud.web.app import create_app
    from cloud.web.serve import check_port_free, make_server

    check_port_free(settings.api_host, settings.api_port)
    app = create_app(settings, registry=registry)
    server = make_server(app, host=settings.api_host, port=settings.api_port)
    died: list[str] = []

    def on_dead(component: str) -> None:
        died.append(component)
        server.should_exit = True

    api = Component(process_name("api", name), "api", lambda: Health(True, server.started))
    heartbeat = Heartbeat(app.state.sessionmaker, [*components, api],
                          interval_s=settings.heartbeat_s, on_dead=on_dead).start()
    # uvicorn stops gracefully on SIGTERM, then raises the signal again to the handlers it
    # found: these, so the heartbeat and the services still stop in order
    StopSignal().install()
    try:
        server.run()
    finally:
        heartbeat.stop()
        stop_services(services)
    if not server.started and not died:
        return EX_FAILURE  # e.g. the port is taken
    return EX_FAILURE if died else EX_OK


@cloud.command()
@click.option("--kind", help="only components of this kind (ingest, engine, ...)")
def status(kind: str | None) -> None:
    """Print every process component's heartbeat; exit 1 when one that has not been
    stopped on purpose is stale or not ready (a check for monitoring)."""
    from datetime import UTC, datetime, timedelta

    from cloud.runtime.heartbeat import process_status

    settings = _settings()
    with make_sessionmaker(make_engine(settings.database_url))() as session:
        rows = [r for r in process_status(session, now=datetime.now(UTC),
                                          stale_after=timedelta(seconds=settings.heartbeat_stale_s))
                if kind is None or r.kind == kind]
    bad = False
    for row in rows:
        state = ("stopped" if row.stopped else "ready" if row.fresh and row.ready
                 else "stale" if not row.fresh else "not-ready")
        bad = bad or state in ("stale", "not-ready")
        click.echo(f"{row.kind:9} {row.name:40} {state:9} age={row.age_s:.0f}s "
                   f"host={row.host} pid={row.pid} {row.detail}")
    if not rows:
        click.echo("no process has reported yet", err=True)
    sys.exit(1 if bad or not rows else 0)


def _mount_domain_groups() -> None:
    from cloud.accounts.cli import accounts
    from cloud.incidents.__main__ import check_matrix
    from cloud.probe.cli import probe_token

    cloud.add_command(accounts)
    cloud.add_command(check_matrix, "check-matrix")
    cloud.add_command(probe_token)


_mount_domain_groups()
