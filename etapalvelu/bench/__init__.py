"""``etapalvelu bench``: each benchmark prints one JSON line on stdout (logs go to stderr).

A benchmark lives in ``etapalvelu/bench/<name>.py`` as a click command named ``command``."""
from __future__ import annotations

import importlib
import pkgutil

import click


class BenchGroup(click.Group):
    """Finds the benchmark modules of this package."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.list_commands(ctx):
            return None
        return importlib.import_module(f"{__name__}.{name}").command


@click.group(cls=BenchGroup)
def bench() -> None:
    """Benchmarks of the platform; results and conditions belong in docs/performance.md."""
