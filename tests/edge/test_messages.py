"""The agent's own message builders produce exactly the bytes of the protocol vectors, and
cannot produce the invalid ones."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from edge import messages
from protocol.codec import Rejected, decode
from protocol.payloads import Event
from protocol.topics import TopicError, parse_topic, topic
from protocol.vectors import load_vectors

VECTORS = load_vectors()
PRODUCED = set(messages.BUILDERS)  # kinds the agent sends: all but commands


def _kind(vector) -> str | None:
    try:
        return parse_topic(vector.topic).kind
    except TopicError:
        return vector.topic.split("/")[5] if vector.topic.count("/") >= 5 else None


def _build_topic(vector) -> str:
    _, _, site, room, device, kind = vector.topic.split("/")[:6]
    return topic(site, room, device, kind)


VALID = [v for v in VECTORS if v.valid and _kind(v) in PRODUCED]
INVALID = [v for v in VECTORS if not v.valid and v.payload is not None and _kind(v) in PRODUCED]


def test_the_agent_produces_every_kind_but_commands():
    assert {_kind(v) for v in VALID} == {"status", "health", "telemetry", "event", "ack"}


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v.name)
def test_agent_builder_gives_the_vector_bytes(vector):
    fields = dict(vector.payload)
    assert fields.pop("v") == 1  # the builders always write the one version they know
    built = messages.BUILDERS[_kind(vector)](**fields)
    assert built == vector.wire
    assert _build_topic(vector) == vector.topic


@pytest.mark.parametrize("vector", INVALID, ids=lambda v: v.name)
def test_agent_builder_cannot_produce_an_invalid_vector(vector):
    fields = dict(vector.payload)
    version = fields.pop("v", None)
    try:
        built = messages.BUILDERS[_kind(vector)](**fields)
        built_topic = _build_topic(vector)
    except (ValidationError, TypeError, Rejected, TopicError):
        return
    # what was built is valid, and not the vector: only the version can differ
    assert version != 1
    assert built != vector.wire
    decode(built_topic, built)


def test_event_ids_are_unique_sortable_and_match_the_identifier_pattern():
    ids = [messages.new_event_id(1764500000000 + n) for n in range(1000)]
    assert len(set(ids)) == 1000
    assert ids == sorted(ids)
    for event_id in ids[:10]:
        Event(ts=1, seq=1, id=event_id, data={"type": "button_press"})


def test_details_are_clipped_to_what_the_contract_allows():
    detail = messages.clip_detail("x" * 500)
    assert len(detail) == 200
    messages.health(ts=1, seq=1, state="fault", code="frozen", detail=detail)
