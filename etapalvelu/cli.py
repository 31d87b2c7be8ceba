"""The ``etapalvelu`` command. Each part registers a click group here, imported only when used,
so that a room agent with ``.[edge]`` installed never imports the cloud's libraries."""
from __future__ import annotations

import importlib

import click

# subcommand -> "module:attribute"; a part's module owns its own group.
SUBCOMMANDS = {
    "demo": ("etapalvelu.demo:demo", "Run the whole system locally: broker, cloud, three pilot rooms."),
    "edge": ("edge.cli:edge", "The room agent: run it, validate its config."),
    "cloud": ("cloud.cli:cloud", "The cloud: ingest workers, API, database migrations."),
    "consoles": ("cloud.consoles.cli:consoles", "Staff consoles: the pilot's monthly reports."),
    "sim": ("edge.sim_cli:sim", "Drive simulated rooms: inject faults, press buttons."),
    "bench": ("etapalvelu.bench:bench", "Benchmarks; each prints one JSON line."),
    "fleet": ("provisioning.cli:fleet", "Provisioning: credentials, ACLs, certificates, rollout."),
    "protocol": ("protocol.cli:protocol", "The wire contract: JSON Schemas, vector checks."),
    "dashboards": ("provisioning.grafana:dashboards",
                   "Grafana: push the dashboards and the InfluxDB data source."),
    "stats": ("cloud.stats.cli:stats", "Statistics of the pilot: the monthly report."),
    "sessions": ("cloud.sessions.cli:sessions", "Video sessions: a room terminal's address."),
    "sites": ("cloud.points.cli:sites", "Remote-service points: their catalogue (PTV) entry."),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in SUBCOMMANDS:
            return None
        module_name, attribute = SUBCOMMANDS[name][0].split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            return _missing(name, exc)
        return getattr(module, attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, SUBCOMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _missing(name: str, exc: ModuleNotFoundError) -> click.Command:
    @click.command(name, context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def unavailable(args: tuple[str, ...]) -> None:
        raise click.ClickException(
            f"'{name}' needs a part that is not installed here ({exc.name}); "
            "install the matching extra, e.g. pip install '.[cloud]'"
        )

    return unavailable


@click.group(cls=LazyGroup)
@click.version_option(package_name="etapalvelu")
def cli() -> None:
    """Platform of Finland's shared remote-service points (etäpalvelu)."""


def main() -> None:
    """Entry point of the console script."""
    cli()


if __name__ == "__main__":
    main()
