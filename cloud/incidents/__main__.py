"""``etapalvelu cloud check-matrix [FILE] [--registry FILE]``: validate a
responsibility matrix against the registry before a deploy (exit status 1 on a gap)."""
from __future__ import annotations

import sys

import click

from cloud.incidents.matrix import CATEGORY_OWNERS, SAMPLE_MATRIX, MatrixError, load_matrix
from cloud.registry import PILOT_REGISTRY, load_registry


@click.group()
def main() -> None:
    """Incident engine tools."""


@main.command("check-matrix")
@click.argument("matrix", type=click.Path(exists=True, dir_okay=False), default=str(SAMPLE_MATRIX))
@click.option("--registry", "registry_file", type=click.Path(exists=True, dir_okay=False),
              default=str(PILOT_REGISTRY), show_default=True)
def check_matrix(matrix: str, registry_file: str) -> None:
    """Load MATRIX for the registry's sites; print the parties per site or the problems."""
    registry = load_registry(registry_file)
    try:
        loaded = load_matrix(matrix, list(registry.sites))
    except MatrixError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    for site in registry.sites:
        parties = sorted({loaded.party_id(category, site, owner)
                          for category, owners in CATEGORY_OWNERS.items() for owner in owners})
        click.echo(f"{site}: {', '.join(parties)}")


if __name__ == "__main__":
    main()
