"""``etapalvelu protocol``: JSON Schemas of the payloads and a check of the vectors."""
from __future__ import annotations

import json
import sys

import click

from protocol.codec import Rejected, decode
from protocol.payloads import MODEL_BY_KIND
from protocol.vectors import load_vectors


@click.group()
def protocol() -> None:
    """The wire contract."""


@protocol.command()
@click.argument("kind", type=click.Choice(sorted(MODEL_BY_KIND)), required=False)
def schema(kind: str | None) -> None:
    """Print the JSON Schema of one payload kind, or of all."""
    kinds = [kind] if kind else sorted(MODEL_BY_KIND)
    out = {k: MODEL_BY_KIND[k].model_json_schema() for k in kinds}
    click.echo(json.dumps(out[kind] if kind else out, indent=2, ensure_ascii=False))


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
