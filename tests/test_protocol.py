"""The wire contract: every vector is judged as it says, and valid ones re-encode to the same bytes."""
import json

import pytest
from jsonschema import Draft202012Validator

from protocol.cli import EXTRA_SCHEMAS, SCHEMA_DIR, schema_text
from protocol.codec import Rejected, decode, encode
from protocol.payloads import LINK_METRICS, MODEL_BY_KIND
from protocol.topics import TopicError, parse_topic, topic
from protocol.vectors import load_vectors

VECTORS = load_vectors()


@pytest.mark.parametrize("vector", [v for v in VECTORS if v.valid], ids=lambda v: v.name)
def test_valid_vector_is_accepted_and_reencodes_to_the_same_bytes(vector):
    message = decode(vector.topic, vector.wire)
    assert encode(message.payload) == vector.wire
    assert str(message.topic) == vector.topic


@pytest.mark.parametrize("vector", [v for v in VECTORS if not v.valid], ids=lambda v: v.name)
def test_invalid_vector_is_rejected_with_its_reason(vector):
    with pytest.raises(Rejected) as caught:
        decode(vector.topic, vector.wire)
    assert caught.value.reason == vector.reason


def test_vectors_cover_every_kind_and_every_drop_reason_but_registry():
    kinds = {parse_topic(v.topic).kind for v in VECTORS if v.valid}
    assert kinds == {"status", "health", "telemetry", "event", "cmd", "ack"}
    reasons = {v.reason for v in VECTORS if not v.valid}
    assert reasons == {"topic", "size", "malformed_json", "unknown_version", "schema"}


@pytest.mark.parametrize("level", ["a+b", "#", "a/b", "", "UPPER", "x" * 33])
def test_topic_levels_cannot_carry_wildcards_or_separators(level):
    with pytest.raises(TopicError):
        topic(level, "r1", "agent", "status")


def test_command_topic_round_trips():
    built = topic("imatra", "r1", "agent", "cmd", "restart_device")
    assert built == "etp/v1/imatra/r1/agent/cmd/restart_device"
    assert parse_topic(built).command == "restart_device"


@pytest.mark.parametrize("kind", sorted([*MODEL_BY_KIND, *EXTRA_SCHEMAS]))
def test_published_json_schemas_match_the_models(kind):
    stored = (SCHEMA_DIR / f"{kind}.json").read_text(encoding="utf-8")
    assert stored == schema_text(kind), "run: etapalvelu protocol schema --write"


# the topic, the size and the version are judged before the schema
SCHEMA_VECTORS = [v for v in VECTORS
                  if v.payload is not None and v.reason not in ("topic", "size", "unknown_version")]


@pytest.mark.parametrize("vector", SCHEMA_VECTORS, ids=lambda v: v.name)
def test_json_schema_agrees_with_the_parser_on_every_vector(vector):
    kind = parse_topic(vector.topic).kind
    schema = json.loads((SCHEMA_DIR / f"{kind}.json").read_text(encoding="utf-8"))
    errors = list(Draft202012Validator(schema).iter_errors(vector.payload))
    metrics = vector.payload.get("metrics") or {}
    if parse_topic(vector.topic).device == "network" and LINK_METRICS & metrics.keys():
        link = json.loads((SCHEMA_DIR / "link-figures.json").read_text(encoding="utf-8"))
        errors += list(Draft202012Validator(link).iter_errors(metrics))
    assert (not errors) == vector.valid, [e.message for e in errors]
