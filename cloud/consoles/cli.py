"""``etapalvelu consoles``: the pilot's monthly report of a site from the command line."""
from __future__ import annotations

from pathlib import Path

import click


@click.group()
def consoles() -> None:
    """The staff consoles' reports."""


@consoles.command("export")
@click.option("--month", required=True, help="the month, yyyy-mm (Helsinki calendar month)")
@click.option("--site", required=True, help="the site's id, e.g. porvoo")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx",
              show_default=True)
@click.option("--lang", type=click.Choice(["fi", "sv", "en"]), default="fi", show_default=True,
              help="language of the titles, headings and task names")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="the file to write (default: etapalvelu-<site>-<month>.<format>)")
def export(month: str, site: str, fmt: str, lang: str, output: Path | None) -> None:
    """Write the task-time report and booking figures of SITE for MONTH (ETP_DATABASE_URL)."""
    from cloud.consoles import exports
    from cloud.db import command_session
    from cloud.registry import load_registry
    from cloud.settings import CloudSettings

    first = exports.parse_month(month)
    if first is None:
        raise click.BadParameter("a month is yyyy-mm, e.g. 2026-11", param_hint="--month")
    settings = CloudSettings()
    registry = load_registry(settings.registry_file)
    if site not in registry.sites:
        raise click.BadParameter(f"no site {site!r}; one of {', '.join(registry.sites)}",
                                 param_hint="--site")
    with command_session(settings.database_url) as session:
        report = exports.monthly_report(session, registry=registry, site=site, month=first,
                                        lang=lang)
    body, _ = exports.encode(report, fmt)
    target = output or Path(f"etapalvelu-{site}-{month}.{fmt}")
    target.write_bytes(body)
    click.echo(f"wrote {target} ({len(body)} bytes)")
