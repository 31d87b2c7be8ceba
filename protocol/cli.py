"""``etapalvelu protocol``: JSON Schemas of the payloads and a check of the vectors."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from protocol.codec import Rejected, decode
from protocol.payloads import MODEL_BY_KIND, LinkFigures
from protocol.vectors import load_vectors

SCHEMA_DIR = Path(__file__).parent / "schemas"


@click.group()
def protocol() -> None:
    """The wire contract."""


# schemas beyond the payload kinds: the metrics of a network telemetry that carries a probe
EXTRA_SCHEMAS = {"link-figures": LinkFigures}


def schema_text(kind: str) -> str:
    """The JSON Schema of a payload kind (or of ``EXTRA_SCHEMAS``), as stored in
    ``protocol/schemas/``."""
    model = MODEL_BY_KIND.get(kind) or EXTRA_SCHEMAS[kind]
    return json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


@protocol.command()
@click.argument("kind", type=click.Choice(sorted([*MODEL_BY_KIND, *EXTRA_SCHEMAS])),
                required=False)
@click.option("--write", is_flag=True, help="rewrite protocol/schemas/*.json from the models")
def schema(kind: str | None, write: bool) -> None:
    """Print the JSON Schema of one payload kind (or all), or rewrite the schema files."""
    for name in [kind] if kind else sorted([*MODEL_BY_KIND, *EXTRA_SCHEMAS]):
        if write:
            (SCHEMA_DIR / f"{name}.json").write_text(schema_text(name), encoding="utf-8")
        else:
            click.echo(schema_text(name), nl=False)


@protocol.command("check-vectors")
def check_vectors() -> None:
    """Decode every vector and report any that the parser judges differently."""
    wrong = 0
    for vector in load_vectors():
        try:
            decode(vector.topic, vector.wire)
            verdict = None
        except Rejected as exc:
            verdict = exc.reason
        if verdict != vector.reason:
            wrong += 1
            click.echo(f"{vector.name}: expected {vector.reason or 'valid'}, got {verdict or 'valid'}")
    click.echo(f"{wrong} of {len(load_vectors())} vectors judged differently")
    sys.exit(1 if wrong else 0)
