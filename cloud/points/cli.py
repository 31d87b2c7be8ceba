"""``etapalvelu sites``: a point's entry in the Suomi.fi service catalogue (PTV), from the
hours the platform uses (database from ETP_DATABASE_URL, registry from ETP_REGISTRY_FILE)."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from cloud.db import command_session
from cloud.registry import load_registry
from cloud.settings import CloudSettings


@click.group()
def sites() -> None:
    """The remote-service points: their catalogue (PTV) entries."""


@sites.command("ptv")
@click.argument("site")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The first day of the four weeks whose exceptional days are listed "
                   "(YYYY-MM-DD; today at the point by default).")
def ptv(site: str, first: datetime | None) -> None:
    """Print SITE as one PTV service location channel (open API v11 JSON): its names,
    address, phone and service hours with the next four weeks' exceptional days."""
    from cloud.points.ptv import NotInCatalogue, service_location
    from cloud.points.service import first_day, hours_of

    settings = CloudSettings()
    registry = load_registry(settings.registry_file)
    if site not in registry.sites:
        raise click.BadParameter(f"no site {site!r}; known: {', '.join(registry.sites)}",
                                 param_hint="SITE")
    with command_session(settings.database_url) as session:
        day = first.date() if first else first_day(registry, site=site, now=datetime.now(UTC))
        hours = hours_of(session, registry=registry, site=site, first=day)
    try:
        document = service_location(registry, site=site, hours=hours)
    except NotInCatalogue as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))
