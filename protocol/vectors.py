"""Loading of ``protocol/vectors/*.json``, the example messages every side is tested against."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import orjson

VECTOR_DIR = Path(__file__).parent / "vectors"


@dataclass(frozen=True)
class Vector:
    """One example message: ``wire`` is its exact bytes; ``reason`` is set when it is invalid."""

    name: str
    description: str
    topic: str
    wire: bytes
    payload: dict | None
    valid: bool
    reason: str | None


def load_vectors() -> list[Vector]:
    """All vectors, sorted by name. The wire bytes of a ``payload`` are its canonical encoding."""
    vectors = []
    for path in sorted(VECTOR_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        payload = data.get("payload")
        wire = data["raw"].encode() if "raw" in data else orjson.dumps(payload)
        vectors.append(Vector(path.stem, data["description"], data["topic"], wire, payload,
                              data["valid"], data.get("reason")))
    return vectors
