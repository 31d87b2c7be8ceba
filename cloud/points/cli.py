"""``etapalvelu sites``: a point's entry in the Suomi.fi service catalogue (PTV), from the
hours the platform uses (database from ETP_DATABASE_URL, registry from ETP_REGISTRY_FILE)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from cloud.db import make_engine, make_sessionmaker
from cloud.registry import load_registry
from cloud.settings import CloudSettings


@click.group()
def sites() -> None:
    """The remote-service points: their catalogue (PTV) entries."""


@sites.command("ptv")
@click.argument("site")
def ptv(site: str) -> None:
    """Print SITE as one PTV service location channel (open API v11 JSON): its names,
    address, phone and service hours with the next four weeks' exceptional days."""
    from cloud.points.ptv import NotInCatalogue, service_location
    from cloud.points.service import hours_of

    settings = CloudSettings()
    registry = load_registry(settings.registry_file)
    if site not in registry.sites:
        raise click.BadParameter(f"no site {site!r}; known: {', '.join(registry.sites)}",
                                 param_hint="SITE")
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            hours = hours_of(session, registry=registry, site=site, now=datetime.now(UTC))
    finally:
        engine.dispose()
    try:
        document = service_location(registry, site=site, hours=hours)
    except NotInCatalogue as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))
