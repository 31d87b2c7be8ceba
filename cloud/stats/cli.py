"""``etapalvelu stats``: the monthly pilot report (database from ETP_DATABASE_URL)."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from cloud.db import command_session
from cloud.registry import load_registry
from cloud.settings import CloudSettings
from etapalvelu.logs import setup_logging


@click.group()
def stats() -> None:
    """Statistics of the pilot: the monthly report."""


@stats.command("report")
@click.option("--month", required=True, help="The month, YYYY-MM (Europe/Helsinki).")
@click.option("--lang", type=click.Choice(["fi", "sv", "en"]), default="fi",
              show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="The directory to write into.")
def report(month: str, lang: str, out_dir: Path) -> None:
    """Write the month's report: HTML, XLSX and (with Chromium installed) PDF."""
    from cloud.stats.report import month_days, write_report
    from cloud.stats.sources import installed_sources

    try:
        month_days(month)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--month") from None
    setup_logging("info", "stats-report")
    settings = CloudSettings()
    with command_session(settings.database_url) as session:
        written = write_report(session, registry=load_registry(settings.registry_file),
                               sources=installed_sources(), month=month, lang=lang,
                               out_dir=out_dir, now=datetime.now(UTC))
    for kind, path in written.items():
        click.echo(f"{kind} {path}")
