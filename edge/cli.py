"""``etapalvelu edge``: run the room agent, check its config before a deploy."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from edge.config import AgentConfig, ConfigError, load_config, missing_files
from etapalvelu.logs import setup_logging


@click.group()
def edge() -> None:
    """The room agent."""


def _load(path: Path) -> AgentConfig:
    """The config, or a readable list of its problems and exit status 1."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        _fail(path, exc.problems)
    problems = missing_files(config)
    if problems:
        _fail(path, problems)
    return config


def _fail(path: Path, problems: list[str]) -> None:
    click.echo(f"{path}: {len(problems)} problem{'s' if len(problems) > 1 else ''}", err=True)
    for problem in problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(1)


@edge.command("validate-config")
@click.argument("config_file", type=click.Path(path_type=Path))
def validate_config(config_file: Path) -> None:
    """Check an agent config file; exit 1 with the problems, 0 with a summary."""
    config = _load(config_file)
    devices = ", ".join(f"{d.type} ({d.backend})" for d in config.devices)
    click.echo(f"{config_file}: valid\n"
               f"  room     {config.site}/{config.room}\n"
               f"  broker   {', '.join(config.broker.urls)} (keep-alive {config.broker.keepalive_s} s"
               f"{', TLS' if config.broker.tls else ''}"
               f"{', user ' + config.broker.username if config.broker.username else ''})\n"
               f"  outbox   {config.outbox.path} (max {config.outbox.max_bytes / 2**20:.1f} MB)\n"
               f"  devices  {devices}")


@edge.command()
@click.option("--config", "config_file", required=True, type=click.Path(path_type=Path),
              help="the agent's YAML config file")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
def run(config_file: Path, log_level: str) -> None:
    """Run the room agent in the foreground until SIGTERM/SIGINT (stops cleanly)."""
    from edge.agent import Agent

    config = _load(config_file)
    setup_logging(log_level, f"agent@{config.site}/{config.room}")
    Agent(config).run_forever()
