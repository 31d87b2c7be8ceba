"""``etapalvelu cloud``: the cloud's processes. Settings come from ``ETP_*`` variables."""
from __future__ import annotations

import logging
import signal
import threading

import click

from cloud.db import migrate
from cloud.registry import load_registry
from cloud.settings import CloudSettings


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)


@click.group()
@click.option("--log-level", default="info", show_default=True)
def cloud(log_level: str) -> None:
    """The cloud: ingest workers, API, database migrations."""
    _setup_logging(log_level)


@cloud.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema (every domain)."""
    settings = CloudSettings()
    migrate(settings.database_url)
    click.echo("database is at the newest revision")


@cloud.command()
@click.option("--name", help="worker name (unique per process; default from ETP_INGEST_NAME)")
def ingest(name: str | None) -> None:
    """Run one ingest worker until SIGTERM/SIGINT."""
    from cloud.ingest.worker import IngestWorker, tune_garbage_collector

    tune_garbage_collector()
    settings = CloudSettings(**({"ingest_name": name} if name else {}))
    worker = IngestWorker(settings, load_registry(settings.registry_file)).start()
    _wait_for_signal()
    worker.stop()


@cloud.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True)
def api(host: str, port: int) -> None:
    """Serve the REST API, the status page and /metrics."""
    from cloud.web.app import create_app
    from cloud.web.serve import serve

    serve(create_app(CloudSettings()), host=host, port=port)


@cloud.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True)
def run(host: str, port: int) -> None:
    """Migrate, then run every background service and the API in one process (a small
    installation or a trial)."""
    from cloud.services import start_services, stop_services
    from cloud.web.app import create_app
    from cloud.web.serve import serve

    settings = CloudSettings()
    migrate(settings.database_url)
    services = start_services(settings, load_registry(settings.registry_file))
    try:
        serve(create_app(settings), host=host, port=port)
    finally:
        stop_services(services)


def _mount_domain_groups() -> None:
    from cloud.accounts.cli import accounts

    cloud.add_command(accounts)


_mount_domain_groups()


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
